package paimonpy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// pypaimon reads a small table Strata wrote, and reports a missing table
// as a command error.
func TestReadsStrataTable(t *testing.T) {
	d := ForTest(t)
	ctx := context.Background()
	wh := t.TempDir()
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := spec.ParseColumns("id INT NOT NULL, s STRING, n BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "t"}, schema)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []spec.Row{{int32(2), nil, int64(-5)}, {int32(1), "ü", nil}} {
		if err := w.WriteRow(ctx, spec.RowKindInsert, r); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	got, err := d.Read(ctx, wh, "db.t", 1)
	want := []string{`{"id":1,"s":"ü","n":null}`, `{"id":2,"s":null,"n":-5}`}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("pypaimon read %q, %v; want %q", got, err, want)
	}
	_, err = d.Read(ctx, wh, "db.missing", 0)
	var ce *paimonjava.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("reading a missing table: %v, want a command error", err)
	}
}
