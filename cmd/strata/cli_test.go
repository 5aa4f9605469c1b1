package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type cli struct {
	t  testing.TB
	wh string
}

func (c cli) run(stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--warehouse", c.wh}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func (c cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("strata %v: exit %d: %s", args, code, errs)
	}
	return out
}

func TestCLIRoundTrip(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "shop.orders", "--schema", "id BIGINT NOT NULL, customer STRING, amount DECIMAL(10, 2), day DATE, tags ARRAY<STRING>", "--primary-key", "id", "-o", "bucket=2")
	out := c.ok(`{"id": 1, "customer": "ann", "amount": "12.50", "day": "2024-01-31", "tags": ["a"]}
{"id": 2, "customer": "bob", "amount": 3}
{"id": 3, "customer": "cy"}
`, "write", "shop.orders")
	if !strings.Contains(out, "snapshot 1") || !strings.Contains(out, "3 rows") {
		t.Fatalf("write output %q", out)
	}
	c.ok("id,customer,_kind\n2,,-D\n3,cyd,+U\n", "write", "shop.orders", "--format", "csv")
	got := c.ok("", "scan", "shop.orders", "--format", "jsonl")
	want := `{"id":1,"customer":"ann","amount":"12.50","day":"2024-01-31","tags":["a"]}
{"id":3,"customer":"cyd","amount":null,"day":null,"tags":null}
`
	if got != want {
		t.Fatalf("scan:\n%s\nwant:\n%s", got, want)
	}
	if got := c.ok("", "scan", "shop.orders", "--snapshot", "1", "--select", "customer,id", "--format", "csv"); got != "customer,id\nann,1\nbob,2\ncy,3\n" {
		t.Fatalf("scan snapshot 1: %q", got)
	}
	if got := c.ok("", "scan", "shop.orders", "--limit", "1", "--format", "jsonl"); strings.Count(got, "\n") != 1 {
		t.Fatalf("limit: %q", got)
	}
	snaps := c.ok("", "snapshots", "shop.orders", "--format", "jsonl")
	if strings.Count(snaps, "\n") != 2 || !strings.Contains(snaps, `"commitKind":"APPEND"`) {
		t.Fatalf("snapshots: %q", snaps)
	}
	if s := c.ok("", "schema", "shop.orders"); !strings.Contains(s, `"primaryKeys" : [ "id" ]`) {
		t.Fatalf("schema: %s", s)
	}
}

// Bad input names its line and commits nothing.
func TestCLIWriteBadInput(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id")
	cases := []struct{ name, format, input, line, msg string }{
		{"unknown column", "jsonl", "{\"id\":1}\n{\"id\":2,\"w\":1}\n", "line 2", `"w"`},
		{"wrong type", "jsonl", "{\"id\":1,\"v\":\"abc\"}\n", "line 1", `"v"`},
		{"null key", "jsonl", "{\"id\":1}\n\n{\"id\":null}\n", "line 3", `"id"`},
		{"malformed", "jsonl", "{\"id\":1}\n{\"id\":\n", "line 2", ""},
		{"csv type", "csv", "id,v\n1,2\n3,x\n", "line 3", `"v"`},
		{"bad kind", "jsonl", "{\"id\":1,\"_kind\":\"+X\"}\n", "line 1", "_kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := c.run(tc.input, "write", "t", "--format", tc.format)
			if code == 0 || !strings.Contains(errs, tc.line) || !strings.Contains(errs, tc.msg) || !strings.Contains(errs, "nothing committed") {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
		})
	}
	if out := c.ok("", "snapshots", "t", "--format", "jsonl"); out != "" {
		t.Fatalf("something was committed: %s", out)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{
		{"create", "../x", "--schema", "id INT"},
		{"create", "t"},
		{"create", "t", "--schema", "id FOO"},
		{"scan"},
		{"scan", "t", "--format", "xml"},
		{"nosuchcmd"},
	} {
		if _, _, code := c.run("", args...); code == 0 {
			t.Errorf("strata %v succeeded", args)
		}
	}
	if _, errs, code := c.run("", "scan", "nope.nope"); code != 1 || !strings.Contains(errs, "table nope.nope not found") {
		t.Errorf("missing table: %d %q", code, errs)
	}
}

func TestCLICheckpointExactlyOnce(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id")
	in := "{\"id\":1,\"v\":1}\n"
	if out := c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "5"); !strings.Contains(out, "snapshot 1") {
		t.Fatal(out)
	}
	if out := c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "5"); !strings.Contains(out, "already committed") {
		t.Fatal(out)
	}
	if out := c.ok("{\"id\":2,\"v\":2}\n", "write", "t", "--commit-user", "job", "--checkpoint", "6"); !strings.Contains(out, "snapshot 2") {
		t.Fatal(out)
	}
	if _, _, code := c.run(in, "write", "t", "--checkpoint", "7"); code != 2 {
		t.Fatalf("--checkpoint without --commit-user: exit %d", code)
	}
	if out := c.ok("", "snapshots", "t", "--format", "jsonl"); strings.Count(out, "\n") != 2 {
		t.Fatalf("snapshots:\n%s", out)
	}
}

func TestCLIWhere(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "p", "--schema", "dt DATE NOT NULL, id INT NOT NULL, credit_score INT, name STRING", "--primary-key", "dt,id", "--partition", "dt", "-o", "bucket=2")
	c.ok("dt,id,credit_score,name\n2024-01-31,1,50,ann\n2024-01-31,2,70,bob\n2024-02-01,3,40,cy\n2024-02-01,4,,dee\n", "write", "p", "--format", "csv")
	for where, want := range map[string]string{
		"credit_score < 60 AND dt = '2024-01-31'":  "id\n1\n",
		"credit_score < 60":                        "id\n1\n3\n",
		"NOT credit_score < 60":                    "id\n2\n",
		"credit_score IS NULL OR name LIKE 'b%'":   "id\n2\n4\n",
		"id IN (3, 4) AND `name` <> 'cy'":          "id\n4\n",
		"dt BETWEEN '2024-02-01' AND '2024-12-31'": "id\n3\n4\n",
	} {
		out, errs, code := c.run("", "scan", "p", "--where", where, "--select", "id", "--format", "csv", "--stats")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		slices.Sort(lines[1:]) // buckets come in bucket order, not id order
		if out = strings.Join(lines, "\n") + "\n"; code != 0 || out != want || !strings.Contains(errs, "files read:") {
			t.Errorf("--where %q: exit %d, %q, stderr %q; want %q", where, code, out, errs, want)
		}
	}
	// The partition filter skips the other partition's file.
	if _, errs, _ := c.run("", "scan", "p", "--where", "dt = '2024-02-01'", "--stats"); !strings.Contains(errs, "1 by partition") {
		t.Errorf("partition pruning not reported: %s", errs)
	}
	for where, msg := range map[string]string{
		"credit_score < AND id = 1": "position 16: unexpected \"AND\": expected a literal",
		"name LIKE '%x'":            "only prefix patterns",
		"credit_score = 'x'":        "INT needs a number, not the string 'x'",
		"nope = 1":                  "no column \"nope\"",
		"id = NULL":                 "write id IS NULL",
	} {
		if _, errs, code := c.run("", "scan", "p", "--where", where); code != 2 || !strings.Contains(errs, msg) {
			t.Errorf("--where %q: exit %d, stderr %q, want %q", where, code, errs, msg)
		}
	}
}

func TestCLIPartitions(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "p", "--schema", "dt DATE NOT NULL, id INT NOT NULL, v STRING", "--primary-key", "dt,id", "--partition", "dt")
	c.ok("dt,id,v\n2024-01-01,1,a\n2024-01-02,1,b\n2024-01-02,2,c\n", "write", "p", "--format", "csv")
	if got := c.ok("", "scan", "p", "--partition", "dt=2024-01-02", "--format", "csv", "--select", "id,v"); got != "id,v\n1,b\n2,c\n" {
		t.Fatalf("partition scan: %q", got)
	}
	if _, errs, code := c.run("", "scan", "p", "--partition", "id=1"); code != 2 || !strings.Contains(errs, "not a partition column") {
		t.Fatalf("non-partition column: %d %s", code, errs)
	}
	// Legacy partition names: a DATE directory is its epoch day.
	entries, _ := os.ReadDir(filepath.Join(c.wh, "default.db", "p"))
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	if !slices.Contains(dirs, "dt=19723") {
		t.Fatalf("partition directories %v", dirs)
	}
}

func TestCLICompact(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1")
	c.ok("{\"id\":1,\"v\":1}\n{\"id\":2,\"v\":2}\n", "write", "t")
	c.ok("{\"id\":2,\"v\":3}\n", "write", "t")
	// Two level-0 runs are below the trigger: a plain compaction has nothing to do.
	if out := c.ok("", "compact", "t"); !strings.Contains(out, "nothing to compact") {
		t.Fatalf("compact: %q", out)
	}
	out, errs, code := c.run("", "compact", "t", "--full")
	if code != 0 || !strings.Contains(out, "compacted 2 files into 1") || !strings.Contains(errs, "compacted 1/1 buckets") {
		t.Fatalf("compact --full: %d %q %q", code, out, errs)
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n1,1\n2,3\n" {
		t.Fatalf("scan after compaction: %q", got)
	}
	if snaps := c.ok("", "snapshots", "t", "--format", "jsonl"); !strings.Contains(snaps, `"commitKind":"COMPACT"`) {
		t.Fatalf("snapshots: %s", snaps)
	}
	// Now every bucket is fully compacted: nothing to do, nothing committed.
	out, errs, code = c.run("", "compact", "t", "--full")
	if code != 0 || out != "nothing to compact: its bucket is fully compacted\n" || errs != "" {
		t.Fatalf("second compact --full: %d %q %q", code, out, errs)
	}
	if snaps := c.ok("", "snapshots", "t", "--format", "jsonl"); strings.Count(snaps, "\n") != 3 {
		t.Fatalf("snapshots after a no-op compaction: %s", snaps)
	}
}

// A retried write reads its whole input again: stdin, read in part on the
// first pass, is kept in a temporary file, which Close removes.
func TestReplayableStdin(t *testing.T) {
	r, err := openReplayable(strings.NewReader("line 1\nline 2\nline 3\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.open()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(first, buf); err != nil {
		t.Fatal(err)
	}
	for pass := 2; pass <= 3; pass++ {
		again, err := r.open()
		if err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(again)
		if err != nil || string(all) != "line 1\nline 2\nline 3\n" {
			t.Fatalf("pass %d read %q, %v", pass, all, err)
		}
	}
	name := r.tmp.Name()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatalf("temporary copy of stdin left behind: %v", err)
	}
}

// Issue 7: a -D that the partial-update engine cannot merge is refused with
// its input line number; nothing is committed and the table stays
// readable, writable and compactable.
func TestCLIWriteRefusesRetraction(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, a INT, b STRING", "--primary-key", "id",
		"-o", "bucket=1", "-o", "merge-engine=partial-update")
	c.ok("{\"id\":1,\"a\":1}\n{\"id\":2,\"b\":\"x\"}\n", "write", "t")
	for _, tc := range []struct{ format, input, line string }{
		{"jsonl", "{\"id\":1,\"b\":\"y\"}\n\n{\"id\":2,\"_kind\":\"-D\"}\n", "line 3:"},
		{"csv", "id,a,_kind\n1,5,+U\n2,,-U\n", "line 3:"},
	} {
		_, errs, code := c.run(tc.input, "write", "t", "--format", tc.format)
		if code != 1 || !strings.Contains(errs, "nothing committed: "+tc.line) ||
			!strings.Contains(errs, "retraction not supported") || !strings.Contains(errs, "partial-update.remove-record-on-delete") {
			t.Fatalf("%s: exit %d, stderr %q", tc.format, code, errs)
		}
	}
	if snaps := c.ok("", "snapshots", "t", "--format", "jsonl"); strings.Count(snaps, "\n") != 1 {
		t.Fatalf("a refused write committed something:\n%s", snaps)
	}
	want := "id,a,b\n1,1,\n2,,x\n"
	if got := c.ok("", "scan", "t", "--format", "csv"); got != want {
		t.Fatalf("scan after refusal: %q, want %q", got, want)
	}
	c.ok("{\"id\":2,\"a\":7}\n", "write", "t")
	if out := c.ok("", "compact", "t", "--full"); !strings.Contains(out, "compacted 2 files into 1") {
		t.Fatalf("compact --full: %q", out)
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,a,b\n1,1,\n2,7,x\n" {
		t.Fatalf("scan after compaction: %q", got)
	}
}

// strata expire keeps what the flags (or the table's options) retain, and
// a commit expires by the table's options on its own.
func TestCLIExpire(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1")
	for i := range 6 {
		c.ok(fmt.Sprintf("{\"id\":%d,\"v\":%d}\n", i, i), "write", "t")
	}
	if out := c.ok("", "expire", "t"); out != "nothing to expire: every snapshot is retained\n" {
		t.Fatalf("expire with the defaults (10 kept, 1 h): %q", out)
	}
	out := c.ok("", "expire", "t", "--retain-min", "2", "--older-than", "0 s")
	if !strings.HasPrefix(out, "expired snapshots 1..") || !strings.Contains(out, " data, ") {
		t.Fatalf("expire --retain-min 2: %q", out)
	}
	if snaps := c.ok("", "snapshots", "t", "--format", "jsonl"); strings.Count(snaps, "\n") != 2 {
		t.Fatalf("snapshots after expire --retain-min 2: %s", snaps)
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n0,0\n1,1\n2,2\n3,3\n4,4\n5,5\n" {
		t.Fatalf("scan after expiring: %q", got)
	}
	if _, errs, code := c.run("", "scan", "t", "--snapshot", "2"); code == 0 || !strings.Contains(errs, "snapshot 2 not found: the table has snapshots") {
		t.Fatalf("scan of an expired snapshot: %d %q", code, errs)
	}
	if _, errs, code := c.run("", "expire", "t", "--older-than", "soon"); code == 0 || !strings.Contains(errs, "--older-than") {
		t.Fatalf("expire --older-than soon: %d %q", code, errs)
	}
	// Options make each commit expire: keep at most 3.
	c.ok("", "create", "u", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1",
		"-o", "snapshot.num-retained.min=1", "-o", "snapshot.num-retained.max=3")
	for i := range 5 {
		c.ok(fmt.Sprintf("{\"id\":%d,\"v\":%d}\n", i, i), "write", "u")
	}
	if snaps := c.ok("", "snapshots", "u", "--format", "jsonl"); strings.Count(snaps, "\n") != 3 {
		t.Fatalf("snapshots after 5 commits keeping 3: %s", snaps)
	}
}

// strata orphans refuses a guard that could catch a writer's files, and
// with a day's guard keeps a fresh unreferenced file.
func TestCLIOrphans(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1")
	c.ok("{\"id\":1,\"v\":1}\n", "write", "t")
	if _, errs, code := c.run("", "orphans", "t", "--older-than", "5 min"); code == 0 || !strings.Contains(errs, "refusing a guard below 1h0m0s") {
		t.Fatalf("orphans --older-than 5 min: %d %q", code, errs)
	}
	stray := filepath.Join(c.wh, "default.db", "t", "bucket-0", "data-stray.parquet")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := c.run("", "orphans", "t", "--dry-run")
	if code != 0 || out != "" || !strings.Contains(errs, "would delete 0 orphan files (0 bytes); 1 unreferenced files younger than 1d kept") {
		t.Fatalf("orphans --dry-run: %d %q %q", code, out, errs)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stray, old, old); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "orphans", "t", "--dry-run"); !strings.HasSuffix(out, "bucket-0/data-stray.parquet\n") {
		t.Fatalf("orphans --dry-run of an old stray: %q", out)
	}
	c.ok("", "orphans", "t")
	if _, err := os.Stat(stray); err == nil {
		t.Fatal("the stray file survived")
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n1,1\n" {
		t.Fatalf("scan after cleaning: %q", got)
	}
}

// strata maintain runs one round over the named tables (or --all) and
// refuses bad flags.
func TestCLIMaintain(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1",
		"-o", "write-only=true", "-o", "snapshot.num-retained.min=1", "-o", "snapshot.time-retained=0 s")
	for i := range 4 {
		c.ok(fmt.Sprintf("{\"id\":%d,\"v\":%d}\n", i, i), "write", "t")
	}
	_, errs, code := c.run("", "maintain", "t", "--full-every", "1h")
	if code != 0 || !strings.Contains(errs, "msg=maintained table=default.t") || !strings.Contains(errs, "full=true") {
		t.Fatalf("maintain: %d %s", code, errs)
	}
	if snaps := c.ok("", "snapshots", "t", "--format", "jsonl"); strings.Count(snaps, "\n") != 1 || !strings.Contains(snaps, `"COMPACT"`) {
		t.Fatalf("snapshots after maintain: %s", snaps)
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n0,0\n1,1\n2,2\n3,3\n" {
		t.Fatalf("scan after maintain: %q", got)
	}
	for _, bad := range [][]string{{"maintain"}, {"maintain", "t", "--all"}, {"maintain", "t", "--orphans", "--orphan-age", "1m"},
		{"maintain", "t", "--log-format", "xml"}} {
		if _, errs, code := c.run("", bad...); code == 0 {
			t.Fatalf("strata %v: accepted (%s)", bad, errs)
		}
	}
}

// strata databases, tables, files and manifests describe the warehouse and
// a snapshot's files.
func TestCLIFilesManifestsTables(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "a.t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=2")
	c.ok("", "create", "b.u", "--schema", "id INT NOT NULL", "--primary-key", "id", "-o", "bucket=1")
	c.ok("{\"id\":1,\"v\":1}\n{\"id\":2,\"v\":2}\n{\"id\":3,\"v\":3}\n", "write", "a.t")
	c.ok("{\"id\":2,\"v\":20}\n", "write", "a.t")
	if got := c.ok("", "databases"); got != "a\nb\n" {
		t.Fatalf("databases: %q", got)
	}
	if got := c.ok("", "tables"); got != "a.t\nb.u\n" {
		t.Fatalf("tables: %q", got)
	}
	if got := c.ok("", "tables", "b"); got != "b.u\n" {
		t.Fatalf("tables b: %q", got)
	}
	// Two commits: level-0 files of 3 and 1 rows across the buckets.
	var rows int64
	lines := strings.Split(strings.TrimSpace(c.ok("", "files", "a.t", "--format", "jsonl")), "\n")
	for _, l := range lines {
		var f struct {
			Bucket, Level  int32
			RowCount       int64
			MinKey, MaxKey string
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		if f.Level != 0 || f.MinKey == "" || f.MaxKey < f.MinKey {
			t.Fatalf("file %s", l)
		}
		rows += f.RowCount
	}
	if rows != 4 {
		t.Fatalf("files hold %d rows, want 4: %v", rows, lines)
	}
	c.ok("", "compact", "a.t", "--full")
	out := c.ok("", "files", "a.t")
	if !strings.HasPrefix(out, "PARTITION") || strings.Count(out, "\n") != 3 || !strings.Contains(out, "  5  ") {
		t.Fatalf("files after a full compaction (2 buckets at level 5): %q", out)
	}
	if got := c.ok("", "files", "a.t", "--snapshot", "1", "--format", "jsonl"); strings.Count(got, "\n") == 0 {
		t.Fatalf("files --snapshot 1: %q", got)
	}
	man := c.ok("", "manifests", "a.t", "--format", "jsonl")
	if !strings.Contains(man, `"list":"base"`) || !strings.Contains(man, `"list":"delta"`) {
		t.Fatalf("manifests: %s", man)
	}
	for _, bad := range [][]string{{"files", "a.t", "--format", "xml"}, {"tables", "nope"}, {"files", "a.t", "--snapshot", "9"}} {
		if _, errs, code := c.run("", bad...); code == 0 {
			t.Fatalf("strata %v: accepted (%s)", bad, errs)
		}
	}
}
