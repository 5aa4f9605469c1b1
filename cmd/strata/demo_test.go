package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// runDemoJSON runs strata demo with --json and returns its summary.
func runDemoJSON(t *testing.T, ctx context.Context, wh string, args ...string) (demoSummary, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"--warehouse", wh, "demo", "--json"}, args...), strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("strata demo %v: exit %d\n%s", args, code, errb.String())
	}
	var s demoSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	return s, errb.String()
}

// A short demo bounded by --rows writes exactly that many events, passes
// its checks, and adds up: every payment and login is counted in the
// table, the backfill's logins included. Running it again replaces the
// table.
func TestDemo(t *testing.T) {
	wh := t.TempDir()
	const users, rows = 300, 1500
	s, stderr := runDemoJSON(t, context.Background(), wh, "--users", "300", "--rows", "1500", "--rate", "1000",
		"--maintain-every", "300ms", "--seed", "7")
	if !strings.HasPrefix(s.Checks, "passed") || s.Interrupted {
		t.Fatalf("summary: %+v", s)
	}
	if s.RowsWritten != rows || s.Payments+s.Logins+s.CreditReports != rows || s.Users != users || s.Seed != 7 {
		t.Fatalf("counts: %+v", s)
	}
	if s.Lookups != s.Payments || s.Commits < 2 || s.Compactions < 1 || s.ChangesStreamed < users || s.LatestSnapshot < s.Commits {
		t.Fatalf("activity: %+v", s)
	}
	if s.RiskyUsers > s.PaymentsFlagged || s.LookupP50Ms <= 0 || s.LookupP99Ms < s.LookupP50Ms {
		t.Fatalf("risk and latency: %+v", s)
	}
	if len(s.Next) == 0 || !strings.Contains(s.Next[0], "scan strata_demo.risk_features --where") || !strings.Contains(stderr, "Try:") {
		t.Fatalf("next commands: %v\n%s", s.Next, stderr)
	}
	c := cli{t, wh}
	scan := c.ok("", "scan", "strata_demo.risk_features", "--format", "jsonl")
	if n := strings.Count(scan, "\n"); n != users {
		t.Fatalf("scan: %d rows, want %d", n, users)
	}
	again, stderr := runDemoJSON(t, context.Background(), wh, "--users", "50", "--rows", "100", "--rate", "1000")
	if again.Users != 50 || !strings.Contains(stderr, "dropped the previous strata_demo.risk_features") {
		t.Fatalf("second run: %+v\n%s", again, stderr)
	}
}

// A demo stopped by a signal (its context cancelled) still commits,
// checks and summarizes, and exits 0.
func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(3*time.Second, cancel)
	start := time.Now()
	s, _ := runDemoJSON(t, ctx, t.TempDir(), "--users", "100", "--rate", "500", "--duration", "5m")
	if !s.Interrupted || !strings.HasPrefix(s.Checks, "passed") || s.RowsWritten == 0 {
		t.Fatalf("summary: %+v", s)
	}
	if took := time.Since(start); took > time.Minute {
		t.Fatalf("the interrupted demo took %v", took)
	}
}

func TestDemoUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{
		{"--duration", "0s"}, {"--rows", "-1"}, {"--users", "0"}, {"--rate", "0"}, {"--checkers", "0"}, {"extra"},
	} {
		if _, errs, code := c.run("", append([]string{"demo"}, args...)...); code != 2 {
			t.Errorf("demo %v: exit %d, %s", args, code, errs)
		}
	}
}

// The model's checks catch a difference in any column, a missing user and
// an extra one, and lookups are compared byte for byte with the scan's
// JSON form.
func TestDemoModelChecks(t *testing.T) {
	m := newDemoModel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	events := []demoEvent{
		{source: sourceLogin, user: 1, at: now, ip: "10.0.0.1", device: "fp-a"},
		{source: sourceLogin, user: 1, at: now.Add(-time.Hour), ip: "10.0.0.9", device: "fp-old"}, // late
		{source: sourcePayment, user: 1, at: now, cents: 1250, flagged: true},
		{source: sourcePayment, user: 1, at: now.Add(-time.Minute), cents: 99_00}, // late: counts, no overwrite
		{source: sourceBureau, user: 2, at: now, score: 512},
	}
	for i := range events {
		m.apply(&events[i])
	}
	u1 := m.row(1)
	want := spec.Row{int64(1), spec.TimestampFromTime(now), "10.0.0.1", "fp-a", int64(2),
		spec.TimestampFromTime(now), spec.NewDecimal(1250, 2), int64(2), spec.NewDecimal(11150, 2), spec.NewDecimal(9900, 2), int64(1),
		nil, nil}
	if spec.CompareRows(u1, want) != 0 {
		t.Fatalf("user 1: %v\nwant %v", u1, want)
	}
	rows := map[int64]spec.Row{1: u1, 2: m.row(2)}
	if err := m.checkRows("scan", rows); err != nil {
		t.Fatal(err)
	}
	if got := m.risky(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("risky: %v, want [1]", got)
	}
	for col := range demoWidth {
		if col == colUser {
			continue
		}
		bad := append(spec.Row(nil), u1...)
		if bad[col] = nil; u1[col] == nil {
			bad[col] = int32(700)
		}
		if err := m.checkRows("scan", map[int64]spec.Row{1: bad, 2: m.row(2)}); err == nil || !strings.Contains(err.Error(), "user 1") {
			t.Errorf("column %d nulled: %v", col, err)
		}
	}
	if err := m.checkRows("scan", map[int64]spec.Row{1: u1}); err == nil || !strings.Contains(err.Error(), "user 2 is missing") {
		t.Errorf("missing user: %v", err)
	}
	extra := map[int64]spec.Row{1: u1, 2: m.row(2), 3: {int64(3)}}
	if err := m.checkRows("scan", extra); err == nil || !strings.Contains(err.Error(), "user 3 should not exist") {
		t.Errorf("extra user: %v", err)
	}
	fields, err := spec.ParseColumns(demoColumns)
	if err != nil {
		t.Fatal(err)
	}
	enc := textrow.NewJSONEncoder(nil, fields)
	good, err := enc.AppendRow(nil, u1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.checkJSON(enc, 1, good); err != nil {
		t.Fatal(err)
	}
	if err := m.checkJSON(enc, 9, []byte("null")); err != nil {
		t.Fatal(err)
	}
	if err := m.checkJSON(enc, 1, bytes.Replace(good, []byte(`"fp-a"`), []byte(`"fp-b"`), 1)); err == nil {
		t.Fatal("a changed device passed the lookup check")
	}
}

// The text summary has the JSON form's keys, in its order, one a line.
func TestDemoSummaryText(t *testing.T) {
	s := &demoSummary{Table: "strata_demo.risk_features", RowsWritten: 12, LookupP50Ms: 0.25, Checks: "passed", Next: []string{"x"}}
	var text, js bytes.Buffer
	s.writeText(&text)
	if err := s.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(text.String()), "\n") {
		k, _, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("line %q", line)
		}
		keys = append(keys, k)
	}
	var jsKeys []string
	dec := json.NewDecoder(&js)
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		jsKeys = append(jsKeys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if want := jsKeys[:len(jsKeys)-1]; !reflect.DeepEqual(keys, want) || jsKeys[len(jsKeys)-1] != "next" {
		t.Fatalf("text keys %v\njson keys %v", keys, jsKeys)
	}
	if !strings.Contains(text.String(), "rows_written:") || !strings.Contains(text.String(), " 12\n") || !strings.Contains(text.String(), " 0.25\n") {
		t.Fatalf("text:\n%s", text.String())
	}
}

// A window's percentiles cover the durations since the last window; the
// totals cover all of them.
func TestDemoLatencyWindowsAndFreshness(t *testing.T) {
	l := newLatencies()
	for _, d := range []time.Duration{5, 1, 4, 2, 3} {
		l.add(d)
	}
	if got := l.window(0, 0.5, 1); !reflect.DeepEqual(got, []time.Duration{1, 3, 5}) {
		t.Fatalf("first window: %v", got)
	}
	l.add(9)
	if got := l.window(0, 1); !reflect.DeepEqual(got, []time.Duration{9, 9}) {
		t.Fatalf("second window: %v", got)
	}
	if got := l.window(0.5); got[0] != 0 {
		t.Fatalf("empty window: %v", got)
	}
	if n, q := l.total(0, 1); n != 6 || !reflect.DeepEqual(q, []time.Duration{1, 9}) {
		t.Fatalf("total: %d %v", n, q)
	}
	f := newFreshness()
	f.committed(3, time.Now())
	f.committed(5, time.Now())
	f.observed(4) // sees 3, not 5
	if n, _ := f.commit.total(0.5); n != 1 {
		t.Fatalf("after snapshot 4: %d commits seen", n)
	}
	f.observed(4)
	f.observed(7)
	f.committed(6, time.Now()) // committed after a lookup saw it
	if n, _ := f.commit.total(0.5); n != 3 {
		t.Fatalf("after snapshot 7: %d commits seen", n)
	}
}

func TestDemoInsertTop(t *testing.T) {
	var top []spec.Row
	row := func(user, flagged int64) spec.Row {
		r := make(spec.Row, demoWidth)
		r[colUser], r[colFlagged] = user, flagged
		return r
	}
	for _, r := range []spec.Row{row(5, 1), row(2, 3), row(9, 3), row(1, 1), row(7, 2), row(3, 1)} {
		top = insertTop(top, r, 3)
	}
	var got []int64
	for _, r := range top {
		got = append(got, r[colUser].(int64))
	}
	if !reflect.DeepEqual(got, []int64{2, 9, 7}) {
		t.Fatalf("top: %v", got)
	}
	if shellQuote("flagged_count > 0") != "'flagged_count > 0'" || shellQuote("/tmp/wh") != "/tmp/wh" || shellQuote("it's") != `'it'\''s'` {
		t.Fatal("shellQuote")
	}
}

// The risky users the scan found are compared with the model's as sets:
// the same count with a different user fails, naming the user.
func TestDemoCheckRisky(t *testing.T) {
	for _, c := range []struct {
		got, want []int64
		err       string
	}{
		{[]int64{1, 5, 9}, []int64{1, 5, 9}, ""},
		{nil, nil, ""},
		{[]int64{1, 4, 9}, []int64{1, 5, 9}, "found user 4"},
		{[]int64{1, 6, 9}, []int64{1, 5, 9}, "missed user 5"},
		{[]int64{1, 5}, []int64{1, 5, 9}, "missed user 9"},
		{[]int64{1, 5, 9, 12}, []int64{1, 5, 9}, "found user 12"},
	} {
		err := checkRisky(c.got, c.want)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("checkRisky(%v, %v) = %v, want %q", c.got, c.want, err, c.err)
		}
	}
}

// A background job that fails says so at once (the demo then stops its
// stream), not only when it is stopped.
func TestDemoJobFailsAtOnce(t *testing.T) {
	boom := errors.New("boom")
	failed := make(chan error, 1)
	j := startJob(context.Background(), func(context.Context) error { return boom }, func(err error) { failed <- err })
	select {
	case err := <-failed:
		if !errors.Is(err, boom) {
			t.Fatalf("failed with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the job's failure was not reported while it ran")
	}
	if err := j.stop(); !errors.Is(err, boom) {
		t.Fatalf("stop: %v", err)
	}
	ok := startJob(context.Background(), func(ctx context.Context) error { <-ctx.Done(); return nil }, func(err error) { t.Errorf("failed(%v) for a job that stopped cleanly", err) })
	if err := ok.stop(); err != nil {
		t.Fatal(err)
	}
}
