package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fails runs a command that must fail with code and returns its stderr.
func (c cli) fails(code int, stdin string, args ...string) string {
	c.t.Helper()
	out, errs, got := c.run(stdin, args...)
	if got != code {
		c.t.Fatalf("strata %v: exit %d (want %d), stdout %q, stderr %q", args, got, code, out, errs)
	}
	return errs
}

// listTree lists every path under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		out = append(out, p)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// Commands that need an existing table create nothing when it is missing,
// and say what exists.
func TestCLIMissingWarehouseCreatesNothing(t *testing.T) {
	root := t.TempDir()
	c := cli{t, filepath.Join(root, "typo")}
	for _, args := range [][]string{
		{"scan", "db.t"}, {"snapshots", "db.t"}, {"schema", "db.t"}, {"compact", "db.t", "--full"},
		{"write", "db.t"},
	} {
		errs := c.fails(1, "{\"id\":1}\n", args...)
		if !strings.Contains(errs, "table db.t not found in warehouse "+c.wh+": the warehouse directory does not exist") {
			t.Errorf("%v: %q", args, errs)
		}
		if _, err := os.Stat(c.wh); !os.IsNotExist(err) {
			t.Fatalf("%v created the warehouse (%v)", args, err)
		}
	}

	c = cli{t, root}
	c.ok("", "create", "shop.orders", "--schema", "id INT NOT NULL", "--primary-key", "id")
	c.ok("", "create", "shop.items", "--schema", "id INT NOT NULL", "--primary-key", "id")
	before := listTree(t, root)
	errs := c.fails(1, "", "scan", "shop.order")
	if !strings.Contains(errs, "table shop.order not found in warehouse "+root) || !strings.Contains(errs, "tables in shop: items, orders") {
		t.Errorf("missing table: %q", errs)
	}
	errs = c.fails(1, "", "snapshots", "shopp.orders")
	if !strings.Contains(errs, "table shopp.orders not found") || !strings.Contains(errs, "no database shopp (databases: shop)") {
		t.Errorf("missing database: %q", errs)
	}
	for _, args := range [][]string{{"write", "shop.nope"}, {"compact", "nope.nope"}, {"schema", "shop.x"}} {
		c.fails(1, "{\"id\":1}\n", args...)
	}
	if after := listTree(t, root); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("read-only commands changed the warehouse:\n%v\n%v", before, after)
	}
}

// Every error prints on one line with one "strata:" prefix.
func TestCLIErrorPrefixOnce(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1")
	c.ok("{\"id\":1}\n", "write", "t")
	cases := [][]string{
		{"scan", "nope"},
		{"scan", "t", "--snapshot", "99"},
		{"create", "u", "--schema", "id INT", "-o", "bucket=0"},
		{"create", "t", "--schema", "id INT"},
		{"create", "u", "--schema", "id INT", "-o", "bucket=x"},
		{"write", "t", "--format", "csv"},
		{"scan", "t", "--format", "xml"},
	}
	for _, args := range cases {
		_, errs, code := c.run("id\nx\n", args...)
		if code == 0 || strings.Count(errs, "strata:") != 1 || !strings.HasPrefix(errs, "strata: ") ||
			strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// A missing snapshot names the range that exists; --snapshot takes ids
// from 1 only.
func TestCLISnapshotFlag(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1")
	if errs := c.fails(1, "", "scan", "t", "--snapshot", "1"); !strings.Contains(errs, "snapshot 1 not found: the table has no snapshots yet") {
		t.Errorf("empty table: %q", errs)
	}
	c.ok("{\"id\":1,\"v\":1}\n", "write", "t")
	c.ok("{\"id\":1,\"v\":2}\n", "write", "t")
	if errs := c.fails(1, "", "scan", "t", "--snapshot", "99"); !strings.Contains(errs, "snapshot 99 not found: the table has snapshots 1..2") {
		t.Errorf("missing snapshot: %q", errs)
	}
	for _, bad := range []string{"0", "-1"} {
		if errs := c.fails(2, "", "scan", "t", "--snapshot", bad); !strings.Contains(errs, "snapshot ids start at 1") {
			t.Errorf("--snapshot %s: %q", bad, errs)
		}
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n1,2\n" {
		t.Errorf("latest: %q", got)
	}
	if got := c.ok("", "scan", "t", "--snapshot", "1", "--format", "csv"); got != "id,v\n1,1\n" {
		t.Errorf("snapshot 1: %q", got)
	}
	out, _, _ := c.run("", "scan", "--help")
	if !strings.Contains(out, "default: the latest") || !strings.Contains(out, "ids start at 1") {
		t.Errorf("help does not document --snapshot: %s", out)
	}
}

// Replaying a committed checkpoint names the snapshot that committed it,
// not the commit user's newest one.
func TestCLICheckpointNamesItsSnapshot(t *testing.T) {
	c := cli{t, t.TempDir()}
	// full-compaction.delta-commits=1 adds a COMPACT snapshot after each APPEND.
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=1",
		"-o", "full-compaction.delta-commits=1")
	in := "{\"id\":1,\"v\":1}\n"
	c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "5") // snapshots 1 (APPEND) and 2 (COMPACT)
	c.ok(in, "write", "t", "--commit-user", "other")                    // snapshots 3, 4
	c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "6") // snapshots 5, 6
	if out := c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "5"); !strings.Contains(out, "checkpoint 5 of job is already committed (snapshot 1)") {
		t.Errorf("replay of 5: %q", out)
	}
	if out := c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "6"); !strings.Contains(out, "checkpoint 6 of job is already committed (snapshot 5)") {
		t.Errorf("replay of 6: %q", out)
	}
	// Checkpoint 4 was never a snapshot of its own: it is covered by 6.
	if out := c.ok(in, "write", "t", "--commit-user", "job", "--checkpoint", "4"); !strings.Contains(out, "already committed") ||
		!strings.Contains(out, "up to checkpoint 6, snapshot 5") {
		t.Errorf("replay of 4: %q", out)
	}
}
