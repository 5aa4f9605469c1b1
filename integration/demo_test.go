package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// demoSummary is the part of strata demo --json's summary checked here.
type demoSummary struct {
	Table           string `json:"table"`
	Warehouse       string `json:"warehouse"`
	RowsWritten     int64  `json:"rows_written"`
	Payments        int64  `json:"payments"`
	Logins          int64  `json:"logins"`
	CreditReports   int64  `json:"credit_reports"`
	Users           int64  `json:"users"`
	Commits         int64  `json:"commits"`
	LatestSnapshot  int64  `json:"latest_snapshot"`
	Compactions     int64  `json:"compactions"`
	Lookups         int64  `json:"lookups"`
	ChangesStreamed int64  `json:"changes_streamed"`
	PaymentsFlagged int64  `json:"payments_flagged"`
	RiskyUsers      int64  `json:"risky_users"`
	Checks          string `json:"checks"`
	Next            []string
}

// The README's first command as a newcomer runs it: strata demo in a new
// directory, on the default warehouse (./warehouse), here for a few
// seconds with --json. What its summary says is then checked against the
// table it left, through other commands of the same binary: the scan's
// rows, counters and risky users, lookups of users (and of one that does
// not exist), and the snapshots.
func TestDemoProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build strata: %v\n%s", err, out)
	}
	dir := t.TempDir()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_WAREHOUSE=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, "demo", "--duration", "4s", "--users", "400", "--rate", "1500", "--maintain-every", "500ms", "--json")
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("strata demo: %v\n%s", err, stderr.String())
	}
	var sum demoSummary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("demo summary %q: %v", out, err)
	}
	t.Logf("demo summary: %+v", sum)
	if !strings.HasPrefix(sum.Checks, "passed") || sum.Warehouse != "warehouse" || sum.Table != "strata_demo.risk_features" ||
		!strings.Contains(stderr.String(), "rows/s") || !strings.Contains(stderr.String(), "Try:") {
		t.Fatalf("summary %+v\nstderr:\n%s", sum, stderr.String())
	}
	if sum.Commits < 2 || sum.Compactions < 1 || sum.Lookups != sum.Payments || sum.RowsWritten != sum.Payments+sum.Logins+sum.CreditReports {
		t.Fatalf("summary %+v", sum)
	}
	strata := func(args ...string) string {
		t.Helper()
		c := exec.Command(bin, append([]string{"--warehouse", filepath.Join(dir, "warehouse")}, args...)...)
		var errb bytes.Buffer
		c.Stderr = &errb
		out, err := c.Output()
		if err != nil {
			t.Fatalf("strata %v: %v\n%s", args, err, errb.String())
		}
		return string(out)
	}
	rows := checkDemoScan(t, strata(append([]string{"scan", sum.Table}, "--format", "jsonl")...), sum)
	risky := strata("scan", sum.Table, "--where", "flagged_count > 0", "--format", "jsonl")
	if n := int64(strings.Count(risky, "\n")); n != sum.RiskyUsers {
		t.Fatalf("scan where flagged_count > 0: %d rows, summary says %d risky users", n, sum.RiskyUsers)
	}
	checkDemoLookups(t, strata, sum, rows, risky)
	snaps := strings.Split(strings.TrimSpace(strata("snapshots", sum.Table, "--format", "jsonl")), "\n")
	var last struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(snaps[len(snaps)-1]), &last); err != nil || last.ID != sum.LatestSnapshot {
		t.Fatalf("latest snapshot %d (%v), summary says %d", last.ID, err, sum.LatestSnapshot)
	}
}

// checkDemoScan checks the scan's rows against the summary's counts and
// returns each user's line.
func checkDemoScan(t *testing.T, scan string, sum demoSummary) map[int64]string {
	t.Helper()
	rows := map[int64]string{}
	var txns, logins, flagged, scored int64
	sc := bufio.NewScanner(strings.NewReader(scan))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			User    int64  `json:"user_id"`
			Txns    *int64 `json:"txn_count"`
			Logins  *int64 `json:"login_count"`
			Flagged *int64 `json:"flagged_count"`
			Score   *int32 `json:"credit_score"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("scan line %q: %v", sc.Text(), err)
		}
		rows[r.User] = sc.Text()
		for _, c := range []struct{ n, v *int64 }{{&txns, r.Txns}, {&logins, r.Logins}, {&flagged, r.Flagged}} {
			if c.v != nil {
				*c.n += *c.v
			}
		}
		if r.Score != nil {
			scored++
		}
	}
	// The backfill gave every user one login and one credit report.
	if int64(len(rows)) != sum.Users || txns != sum.Payments || logins != sum.Logins+sum.Users ||
		flagged != sum.PaymentsFlagged || scored != sum.Users {
		t.Fatalf("scan: %d users, %d payments, %d logins, %d flagged, %d scored; summary %+v",
			len(rows), txns, logins, flagged, scored, sum)
	}
	return rows
}

// checkDemoLookups looks up the risky users and a few others, and one
// user that does not exist, with strata lookup: each answer is the scan's
// line, the missing one null.
func checkDemoLookups(t *testing.T, strata func(...string) string, sum demoSummary, rows map[int64]string, risky string) {
	t.Helper()
	var keys []int64
	for line := range strings.Lines(risky) {
		var r struct {
			User int64 `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.User)
	}
	keys = append(keys[:min(len(keys), 20)], 1, sum.Users/2, sum.Users, sum.Users+1)
	args := []string{"lookup", sum.Table}
	for _, k := range keys {
		args = append(args, fmt.Sprint(k))
	}
	got := strings.Split(strings.TrimSuffix(strata(args...), "\n"), "\n")
	if len(got) != len(keys) {
		t.Fatalf("lookup of %d keys: %d lines", len(keys), len(got))
	}
	for i, k := range keys {
		want, ok := rows[k]
		if !ok {
			want = "null"
		}
		if got[i] != want {
			t.Fatalf("lookup of user %d: %s\nscan: %s", k, got[i], want)
		}
	}
}
