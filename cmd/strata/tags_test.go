package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tagTable makes shop.t with three snapshots; snapshot i upserts key i and
// sets key 0's v to "s<i>".
func tagTable(t *testing.T) cli {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "shop.t", "--schema", "id BIGINT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	for i := 1; i <= 3; i++ {
		c.ok(`{"id": 0, "v": "s`+strconv.Itoa(i)+`"}`+"\n"+`{"id": `+strconv.Itoa(i)+`, "v": "x"}`+"\n", "write", "shop.t")
		time.Sleep(2 * time.Millisecond) // distinct commit times for --as-of
	}
	return c
}

// commitMillis returns each snapshot's commit time, by id.
func commitMillis(t *testing.T, c cli) map[int64]int64 {
	out := map[int64]int64{}
	for _, line := range strings.Split(strings.TrimSpace(c.ok("", "snapshots", "shop.t", "--format", "jsonl")), "\n") {
		var s struct{ ID, TimeMillis int64 }
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatal(err)
		}
		out[s.ID] = s.TimeMillis
	}
	return out
}

func TestCLITags(t *testing.T) {
	c := tagTable(t)
	if out := c.ok("", "tag", "create", "shop.t", "first", "--snapshot", "1"); !strings.Contains(out, "tag first: snapshot 1") || !strings.Contains(out, "kept until deleted") {
		t.Errorf("tag create: %q", out)
	}
	if out := c.ok("", "tag", "create", "shop.t", "rel", "--retain", "7d"); !strings.Contains(out, "snapshot 3") || !strings.Contains(out, "retained 7d") {
		t.Errorf("tag create --retain: %q", out)
	}
	list := c.ok("", "tag", "list", "shop.t", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"name":"first","snapshotId":1`) ||
		!strings.Contains(lines[1], `"name":"rel","snapshotId":3`) || !strings.Contains(lines[1], `"timeRetained":"7d"`) ||
		strings.Contains(lines[0], "timeRetained") {
		t.Errorf("tag list:\n%s", list)
	}
	if table := c.ok("", "tag", "list", "shop.t"); !strings.HasPrefix(table, "NAME") || !strings.Contains(table, "7d") {
		t.Errorf("tag list table:\n%s", table)
	}
	if got, want := c.ok("", "scan", "shop.t", "--tag", "first", "--format", "jsonl"), c.ok("", "scan", "shop.t", "--snapshot", "1", "--format", "jsonl"); got != want || !strings.Contains(got, `"s1"`) {
		t.Errorf("scan --tag %q, --snapshot %q", got, want)
	}
	if got := c.ok("", "lookup", "shop.t", "0", "--tag", "first"); !strings.Contains(got, `"s1"`) {
		t.Errorf("lookup --tag: %q", got)
	}

	// Refusals: a taken name, a bad name, a bad retention, a missing tag.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tag", "create", "shop.t", "first"}, 1, "already exists"},
		{[]string{"tag", "create", "shop.t", "123"}, 2, "all digits"},
		{[]string{"tag", "create", "shop.t", "a/b"}, 2, "slash"},
		{[]string{"tag", "create", "shop.t", "x", "--retain", "soon"}, 2, "--retain"},
		{[]string{"tag", "create", "shop.t", "x", "--snapshot", "9"}, 1, "snapshot 9 not found"},
		{[]string{"tag", "delete", "shop.t", "nope"}, 1, `tag "nope" not found`},
		{[]string{"scan", "shop.t", "--tag", "nope"}, 1, "first, rel"},
		{[]string{"tag"}, 2, "subcommand"},
		{[]string{"tag", "frobnicate"}, 2, "frobnicate"},
	} {
		if _, errs, code := c.run("", tc.args...); code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("strata %v: exit %d, stderr %q; want exit %d naming %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	if out := c.ok("", "tag", "delete", "shop.t", "first"); !strings.Contains(out, "deleted tag first (snapshot 1)") {
		t.Errorf("tag delete: %q", out)
	}
	if list := c.ok("", "tag", "list", "shop.t", "--format", "jsonl"); strings.Contains(list, "first") {
		t.Errorf("deleted tag listed: %s", list)
	}
}

func TestCLIScanAsOf(t *testing.T) {
	c := tagTable(t)
	times := commitMillis(t, c)
	scanAt := func(flag ...string) string {
		return c.ok("", append([]string{"scan", "shop.t", "--format", "jsonl"}, flag...)...)
	}
	rfc := func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }
	for _, tc := range []struct {
		name, asOf string
		want       int64
	}{
		{"exact millis", strconv.FormatInt(times[2], 10), 2},
		{"exact RFC 3339", rfc(times[2]), 2},
		{"between", strconv.FormatInt(times[3]-1, 10), 2},
		{"after the latest", time.UnixMilli(times[3]).Add(time.Hour).Format(time.RFC3339), 3},
		{"zone offset", time.UnixMilli(times[1]).In(time.FixedZone("", 3600)).Format(time.RFC3339Nano), 1},
	} {
		if got, want := scanAt("--as-of", tc.asOf), scanAt("--snapshot", strconv.FormatInt(tc.want, 10)); got != want {
			t.Errorf("%s (--as-of %s): got %q, want snapshot %d's %q", tc.name, tc.asOf, got, tc.want, want)
		}
	}
	_, errs, code := c.run("", "scan", "shop.t", "--as-of", strconv.FormatInt(times[1]-1, 10))
	if code != 1 || !strings.Contains(errs, "the earliest, snapshot 1, was committed at "+rfc(times[1])[:19]) {
		t.Errorf("before the earliest: exit %d, %q", code, errs)
	}
	for _, args := range [][]string{
		{"--as-of", "yesterday"}, {"--as-of", "2024-01-31T12:00:00"}, {"--tag", "x", "--snapshot", "1"},
		{"--as-of", "1", "--tag", "x"}, {"--tag", " "}, {"--snapshot", "0"},
	} {
		if _, errs, code := c.run("", append([]string{"scan", "shop.t"}, args...)...); code != 2 {
			t.Errorf("scan %v: exit %d (%s), want a usage error", args, code, errs)
		}
	}
}

func TestCLIRollback(t *testing.T) {
	c := tagTable(t)
	c.ok("", "tag", "create", "shop.t", "two", "--snapshot", "2")
	c.ok("", "tag", "create", "shop.t", "three", "--snapshot", "3")
	want := c.ok("", "scan", "shop.t", "--snapshot", "2", "--format", "jsonl")
	out := c.ok("", "rollback", "shop.t", "--to", "2")
	if !strings.Contains(out, "rolled back to snapshot 2") || !strings.Contains(out, "deleted snapshots 3") || !strings.Contains(out, "deleted tags three") {
		t.Errorf("rollback: %q", out)
	}
	if got := c.ok("", "scan", "shop.t", "--format", "jsonl"); got != want {
		t.Errorf("after rollback: %q, want %q", got, want)
	}
	if list := c.ok("", "tag", "list", "shop.t", "--format", "jsonl"); strings.Contains(list, "three") || !strings.Contains(list, "two") {
		t.Errorf("tags after rollback: %s", list)
	}
	if out := c.ok(`{"id": 9, "v": "new"}`+"\n", "write", "shop.t"); !strings.Contains(out, "snapshot 3") {
		t.Errorf("the next commit: %q", out)
	}
	c.ok("", "rollback", "shop.t", "--tag", "two")
	if got := c.ok("", "scan", "shop.t", "--format", "jsonl"); got != want {
		t.Errorf("after rollback to a tag: %q", got)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"rollback", "shop.t"}, 2},
		{[]string{"rollback", "shop.t", "--to", "1", "--tag", "two"}, 2},
		{[]string{"rollback", "shop.t", "--to", "0"}, 2},
		{[]string{"rollback", "shop.t", "--to", "7"}, 1},
		{[]string{"rollback", "shop.t", "--tag", "three"}, 1},
	} {
		if _, errs, code := c.run("", tc.args...); code != tc.code {
			t.Errorf("strata %v: exit %d (%s), want %d", tc.args, code, errs, tc.code)
		}
	}
}
