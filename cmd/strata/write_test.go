package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// A row the merge engine refuses deep inside a batch is still named by its
// line: the batch is written again row by row to find it.
func TestCLIWriteRefusalInLargeBatch(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, a INT", "--primary-key", "id",
		"-o", "bucket=2", "-o", "merge-engine=partial-update")
	var in strings.Builder
	for i := 1; i <= 6000; i++ {
		if i == 5001 {
			in.WriteString("\n") // a blank line: line numbers are not row numbers
		}
		fmt.Fprintf(&in, "{\"id\":%d,\"a\":%d}\n", i, i)
	}
	in.WriteString("{\"id\":3,\"_kind\":\"-D\"}\n")
	_, errs, code := c.run(in.String(), "write", "t")
	if code != 1 || !strings.Contains(errs, "nothing committed: line 6002:") || !strings.Contains(errs, "retraction not supported") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if out := c.ok("", "snapshots", "t", "--format", "jsonl"); out != "" {
		t.Fatalf("something was committed: %s", out)
	}
}

// A TIMESTAMP(9) beyond Arrow's nanoseconds (2262) goes through the row
// API, in order with the batches around it.
func TestCLIWriteRowBeyondArrow(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, ts TIMESTAMP(9)", "--primary-key", "id", "-o", "bucket=1")
	c.ok(`{"id":1,"ts":"2024-01-31T12:00:00.000000001"}
{"id":2,"ts":"3000-01-01T00:00:00.000000002"}
{"id":1,"ts":"1000-01-01T00:00:00.000000003"}
`, "write", "t")
	want := `{"id":1,"ts":"1000-01-01T00:00:00.000000003"}
{"id":2,"ts":"3000-01-01T00:00:00.000000002"}
`
	if got := c.ok("", "scan", "t", "--format", "jsonl"); got != want {
		t.Fatalf("scan:\n%s\nwant:\n%s", got, want)
	}
}

func TestCLIWriteCommitEvery(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	rows := func(from, to int, bad int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			if i == bad {
				b.WriteString("{\"id\":\"bad\"}\n")
				continue
			}
			fmt.Fprintf(&b, "{\"id\":%d,\"v\":\"r%d\"}\n", i, i)
		}
		return b.String()
	}
	out := c.ok(rows(1, 10, 0), "write", "t", "--commit-every", "4")
	for _, want := range []string{
		"snapshot 1: wrote 4 rows (lines 1-4)\n", "snapshot 2: wrote 4 rows (lines 5-8)\n",
		"snapshot 3: wrote 2 rows (lines 9-10)\n", "wrote 10 rows in 3 commits",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output %q lacks %q", out, want)
		}
	}
	if got := c.ok("", "scan", "t", "--format", "csv", "--select", "id"); strings.Count(got, "\n") != 11 {
		t.Fatalf("scan: %q", got)
	}

	// A bad line stops the stream: the commits before it stand.
	out, errs, code := c.run(rows(11, 20, 16), "write", "t", "--commit-every", "2")
	if code != 1 || strings.Count(out, "wrote 2 rows") != 2 ||
		!strings.Contains(errs, "committed up to line 4 (snapshot 5), nothing after it: textrow: bad input: line 6") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if got := c.ok("", "scan", "t", "--format", "csv", "--select", "id", "--where", "id > 10"); got != "id\n11\n12\n13\n14\n" {
		t.Fatalf("scan after a failed stream: %q", got)
	}
}

// With a checkpoint, a stream run again on the same input goes on after
// the rows the earlier run committed, and commits nothing twice.
func TestCLIWriteCommitEveryResumes(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, n INT", "--primary-key", "id", "-o", "bucket=1",
		"-o", "merge-engine=aggregation", "-o", "fields.n.aggregate-function=sum")
	input := func(bad int) string {
		var b strings.Builder
		for i := 1; i <= 7; i++ {
			if i == bad {
				b.WriteString("{\"id\":1,\"n\":\"x\"}\n")
				continue
			}
			b.WriteString("{\"id\":1,\"n\":1}\n") // every row adds 1: a row written twice shows
		}
		return b.String()
	}
	args := []string{"write", "t", "--commit-every", "3", "--commit-user", "job", "--checkpoint", "100"}
	if _, errs, code := c.run(input(6), args...); code != 1 || !strings.Contains(errs, "committed up to line 3 (snapshot 1, checkpoint 103)") {
		t.Fatalf("first run: exit %d, %q", code, errs)
	}
	out, errs, code := c.run(input(0), args...)
	if code != 0 || !strings.Contains(errs, "committed the first 3 rows: skipped them (up to line 3)") ||
		!strings.Contains(out, "wrote 3 rows (lines 4-6)") || !strings.Contains(out, "wrote 1 rows (lines 7-7)") {
		t.Fatalf("second run: exit %d, %q, %q", code, out, errs)
	}
	if out := c.ok(input(0), args...); !strings.Contains(out, "no rows after line 7: nothing committed") {
		t.Fatalf("third run: %q", out)
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,n\n1,7\n" {
		t.Fatalf("scan: %q", got)
	}
	snaps := c.ok("", "snapshots", "t", "--format", "jsonl")
	for _, id := range []string{`"commitIdentifier":103`, `"commitIdentifier":106`, `"commitIdentifier":107`} {
		if !strings.Contains(snaps, id) {
			t.Fatalf("snapshots lack %s:\n%s", id, snaps)
		}
	}
	if _, _, code := c.run("", "write", "t", "--commit-every", "-1"); code != 2 {
		t.Fatalf("negative --commit-every: exit %d", code)
	}
}

// chunkReader returns one chunk per Read, calling between before the
// second one.
type chunkReader struct {
	chunks  []string
	between func()
	reads   int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.reads >= len(r.chunks) {
		return 0, io.EOF
	}
	if r.reads == 1 {
		r.between()
	}
	n := copy(p, r.chunks[r.reads])
	r.reads++
	return n, nil
}

// A stream commit that conflicts with another writer is written again from
// the latest snapshot with the rows it kept.
func TestCLIWriteCommitEveryConflict(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	in := &chunkReader{
		chunks: []string{"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"a\"}\n", "{\"id\":3,\"v\":\"a\"}\n{\"id\":4,\"v\":\"a\"}\n"},
		// The input is decoded ahead of the writer: wait for its first
		// commit, then commit the same key as another writer.
		between: func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if out, _, _ := c.run("", "snapshots", "t", "--format", "jsonl"); out != "" {
					break
				}
			}
			c.run("{\"id\":3,\"v\":\"other\"}\n", "write", "t", "--commit-user", "other")
		},
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--warehouse", c.wh, "write", "t", "--commit-every", "2"}, in, &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "concurrent writer") || !strings.Contains(errb.String(), "writing lines 3-4 again") ||
		!strings.Contains(out.String(), "wrote 4 rows in 2 commits") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n1,a\n2,a\n3,a\n4,a\n" {
		t.Fatalf("scan: %q", got)
	}
}
