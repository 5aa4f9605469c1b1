package javatest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/integration/paimonjava"
)

// The driver answers a failed command with a CommandError and keeps
// serving.
func TestDriverCommandErrors(t *testing.T) {
	d := ForTest(t)
	ctx := context.Background()
	_, err := d.Run(ctx, "", "no-such-command")
	var ce *paimonjava.CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "unknown command no-such-command") {
		t.Fatalf("unknown command: got %v", err)
	}
	_, err = d.Read(ctx, t.TempDir(), "db.missing", 0)
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "db.missing") {
		t.Fatalf("reading a missing table: got %v", err)
	}
	_, err = d.Run(ctx, "", "read", "/tmp", "db.t", "--bogus", "1")
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "--bogus") {
		t.Fatalf("an unknown flag: got %v", err)
	}
	// Still serving: a table round-trips.
	wh := t.TempDir()
	schema := `{"version":3,"id":0,"fields":[{"id":0,"name":"id","type":"INT NOT NULL"},{"id":1,"name":"v","type":"STRING"}],` +
		`"highestFieldId":1,"partitionKeys":[],"primaryKeys":["id"],"options":{"bucket":"1"},"timeMillis":0}`
	if err := d.Create(ctx, wh, "db.t", []byte(schema)); err != nil {
		t.Fatal(err)
	}
	c, err := d.Write(ctx, wh, "db.t", "u", 5, `{"id": 1, "v": "a"}`+"\n"+`{"id": 2, "v": "b"}`)
	if err != nil || c.Committed != 1 || c.Snapshot == nil || *c.Snapshot != 1 {
		t.Fatalf("write: %+v, %v", c, err)
	}
	if c, err := d.Write(ctx, wh, "db.t", "u", 5, `{"id": 3, "v": "c"}`); err != nil || c.Committed != 0 {
		t.Fatalf("replayed commit 5: %+v, %v (want nothing committed)", c, err)
	}
	rows, err := d.Read(ctx, wh, "db.t", 0)
	want := []string{`{"id":1,"v":"a"}`, `{"id":2,"v":"b"}`}
	if err != nil || strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read: %q, %v; want %q", rows, err, want)
	}
}

// A canceled context fails a command before it is sent; the driver goes
// on serving.
func TestRunCanceled(t *testing.T) {
	d := ForTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Run(ctx, "", "snapshots", "/nonexistent", "db.t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled run: got %v", err)
	}
	_, err := d.Run(context.Background(), "", "no-such-command")
	var ce *paimonjava.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("the driver stopped serving after a canceled command: %v", err)
	}
}
