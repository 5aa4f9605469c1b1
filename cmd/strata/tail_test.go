package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestCLITail(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1", "-o", "changelog-producer=lookup")
	c.ok("{\"id\": 1, \"v\": \"a\"}\n{\"id\": 2, \"v\": \"b\"}\n", "write", "db.t")
	c.ok("{\"id\": 1, \"v\": \"a2\"}\n{\"id\": 2, \"_kind\": \"-D\"}\n{\"id\": 3, \"v\": \"c\"}\n", "write", "db.t")

	changes := `{"_kind":"+I","id":1,"v":"a"}
{"_kind":"+I","id":2,"v":"b"}
{"_kind":"-U","id":1,"v":"a"}
{"_kind":"+U","id":1,"v":"a2"}
{"_kind":"-D","id":2,"v":"b"}
{"_kind":"+I","id":3,"v":"c"}
`
	if got := c.ok("", "tail", "db.t", "--from", "earliest"); got != changes {
		t.Fatalf("tail --from earliest:\n%s\nwant:\n%s", got, changes)
	}
	if got := c.ok("", "tail", "db.t", "--from", "3", "--with-snapshot"); got != strings.Join([]string{
		`{"_kind":"-U","_snapshot":4,"id":1,"v":"a"}`, `{"_kind":"+U","_snapshot":4,"id":1,"v":"a2"}`,
		`{"_kind":"-D","_snapshot":4,"id":2,"v":"b"}`, `{"_kind":"+I","_snapshot":4,"id":3,"v":"c"}`, ""}, "\n") {
		t.Fatalf("tail --with-snapshot: %q", got)
	}
	if got := c.ok("", "tail", "db.t"); got != "" {
		t.Fatalf("tail (from latest, not following): %q", got)
	}
	full := "{\"_kind\":\"+I\",\"id\":1,\"v\":\"a2\"}\n{\"_kind\":\"+I\",\"id\":3,\"v\":\"c\"}\n"
	if got := c.ok("", "tail", "db.t", "--full"); got != full {
		t.Fatalf("tail --full: %q", got)
	}
	// A consumer resumes after what it printed.
	if got := c.ok("", "tail", "db.t", "--from", "1", "--until", "2", "--consumer", "x"); got != strings.Join(strings.SplitAfter(changes, "\n")[:2], "") {
		t.Fatalf("tail --until: %q", got)
	}
	if got := c.ok("", "tail", "db.t", "--from", "1", "--consumer", "x"); got != strings.Join(strings.SplitAfter(changes, "\n")[2:], "") {
		t.Fatalf("tail --consumer resumed: %q", got)
	}
	if got := c.ok("", "tail", "db.t", "--consumer", "x"); got != "" {
		t.Fatalf("tail --consumer at the end: %q", got)
	}
	if got := c.ok("", "tail", "db.t", "--from", "earliest", "--consumer", "x", "--ignore-progress"); got != changes {
		t.Fatalf("tail --ignore-progress: %q", got)
	}
	// strata write reads tail's output: replaying it rebuilds the table.
	c.ok("", "create", "db.copy", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	c.ok(changes, "write", "db.copy")
	if a, b := c.ok("", "scan", "db.t", "--format", "jsonl"), c.ok("", "scan", "db.copy", "--format", "jsonl"); a != b {
		t.Fatalf("replayed copy: %q, table: %q", b, a)
	}

	for _, bad := range [][]string{
		{"--from", "0"}, {"--from", "yesterday"}, {"--from", "2024-01-31T00:00:00Z", "--full"},
		{"--ignore-progress"}, {"--consumer", "a/b"}, {"--until", "-1"}, {"--follow", "--poll", "0s"},
	} {
		if _, errs, code := c.run("", append([]string{"tail", "db.t"}, bad...)...); code != 2 {
			t.Errorf("tail %v: exit %d (%s), want 2", bad, code, errs)
		}
	}
	if _, errs, code := c.run("", "tail", "db.nope"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("tail of a missing table: exit %d: %s", code, errs)
	}
}

// tail --follow prints commits as they land and stops cleanly, exit 0,
// when its context ends (SIGINT and SIGTERM cancel it).
func TestCLITailFollow(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan int)
	go func() {
		var errb bytes.Buffer
		done <- run(ctx, []string{"--warehouse", c.wh, "tail", "db.t", "--follow", "--poll", "5ms", "--consumer", "f"}, strings.NewReader(""), out, &errb)
	}()
	c.ok("{\"id\": 1, \"v\": \"a\"}\n", "write", "db.t")
	c.ok("{\"id\": 1, \"_kind\": \"-D\"}\n", "write", "db.t")
	want := "{\"_kind\":\"+I\",\"id\":1,\"v\":\"a\"}\n{\"_kind\":\"-D\",\"id\":1,\"v\":null}\n"
	for deadline := time.Now().Add(20 * time.Second); out.String() != want; {
		if time.Now().After(deadline) {
			t.Fatalf("tail --follow printed %q, want %q", out.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("tail --follow stopped with exit %d", code)
	}
	if got := c.ok("", "tail", "db.t", "--consumer", "f"); got != "" {
		t.Fatalf("the consumer did not store its progress: %q", got)
	}
}
