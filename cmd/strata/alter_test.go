package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// strata alter through each action, then reads in the new schema; refusals
// exit 2 and name what is wrong.
func TestCLIAlter(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "shop.orders", "--schema", "id INT NOT NULL, qty INT, note STRING, old STRING", "--primary-key", "id", "-o", "bucket=1")
	c.ok(`{"id": 1, "qty": 2, "note": "n", "old": "gone"}`+"\n", "write", "shop.orders")
	for i, args := range [][]string{
		{"add-column", "price", "DECIMAL(10, 2)", "--after", "qty", "--comment", "unit price"},
		{"drop-column", "old"},
		{"add-column", "old", "STRING", "--first"},
		{"rename-column", "note", "memo"},
		{"alter-column", "qty", "--type", "BIGINT", "--comment", "count"},
		{"alter-column", "memo", "--last"},
		{"set-option", "snapshot.num-retained.max=20", "num-sorted-run.compaction-trigger=3"},
		{"remove-option", "num-sorted-run.compaction-trigger"},
	} {
		out := c.ok("", append([]string{"alter", "shop.orders"}, args...)...)
		if want := "schema " + string(rune('1'+i)); !strings.Contains(out, want) {
			t.Fatalf("alter %v: %q, want %q", args, out, want)
		}
	}
	out := c.ok("", "scan", "shop.orders", "--format", "jsonl")
	if want := `{"old":null,"id":1,"qty":2,"price":null,"memo":"n"}`; strings.TrimSpace(out) != want {
		t.Fatalf("scan %q, want %q", out, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"drop-column", "id"}, "primary-key"},
		{[]string{"alter-column", "qty", "--type", "INT"}, "cannot change to"},
		{[]string{"add-column", "x", "INT NOT NULL"}, "NOT NULL"},
		{[]string{"set-option", "bucket=4"}, "rescale"},
		{[]string{"set-option", "num-levels=1"}, "num-levels"},
		{[]string{"alter-column", "qty"}, "nothing to change"},
		{[]string{"drop-column", "qty", "--first"}, "does not take --first"},
		{[]string{"frobnicate"}, "unknown action"},
	} {
		if errs := c.fails(2, "", append([]string{"alter", "shop.orders"}, tc.args...)...); !strings.Contains(errs, tc.want) {
			t.Errorf("alter %v: %q, want it to say %q", tc.args, errs, tc.want)
		}
	}
	if out := c.ok("", "schema", "shop.orders"); !strings.Contains(out, "unit price") {
		t.Errorf("schema: %s", out)
	}
}

// strata drop refuses without --yes and a missing table, then deletes the
// table directory.
func TestCLIDrop(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "shop.orders", "--schema", "id INT NOT NULL", "--primary-key", "id")
	dir := filepath.Join(c.wh, "shop.db", "orders")
	if errs := c.fails(2, "", "drop", "shop.orders"); !strings.Contains(errs, "without --yes") {
		t.Fatalf("drop without --yes: %q", errs)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("drop without --yes deleted the table: %v", err)
	}
	c.ok("", "drop", "shop.orders", "--yes")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left %v", entries)
	}
	if errs := c.fails(1, "", "drop", "shop.orders", "--yes"); !strings.Contains(errs, "not found") {
		t.Fatalf("drop of a dropped table: %q", errs)
	}
}
