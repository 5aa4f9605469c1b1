package table

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Concurrent alters each land in their own schema-N: the losers of a race
// re-apply their change to the winner's schema.
func TestAlterConcurrent(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine opens its own table, as separate processes would.
			t2, err := Open(ctx, fs, tb.Path())
			if err == nil {
				_, err = t2.Alter(ctx, spec.AddColumn{Name: fmt.Sprint("c", i), Type: spec.IntType})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("alter %d: %v", i, err)
		}
	}
	latest, err := tb.Schemas().Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest.ID != n || len(latest.Fields) != 3+n || latest.HighestFieldID != 2+n {
		t.Fatalf("schema %d with %v, highest %d", latest.ID, latest.FieldNames(), latest.HighestFieldID)
	}
	for i := range n {
		if _, ok := latest.Field(fmt.Sprint("c", i)); !ok {
			t.Fatalf("column c%d lost: %v", i, latest.FieldNames())
		}
	}
}

// Option values are checked at alter as at create; a refused alter writes
// nothing.
func TestAlterRefusesBadOptions(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2)
	for _, c := range []spec.SchemaChange{
		spec.SetOption{Key: "num-levels", Value: "1"},
		spec.SetOption{Key: "file.format", Value: "orc"},
		spec.SetOption{Key: "write-buffer-size", Value: "lots"},
		spec.SetOption{Key: "fields.nope.aggregate-function", Value: "sum"},
		spec.SetOption{Key: "deletion-vectors.enabled", Value: "true"}, // fine without snapshots...
	} {
		_, err := tb.Alter(ctx, c)
		if c.(spec.SetOption).Key == "deletion-vectors.enabled" {
			if err != nil {
				t.Errorf("%v before any snapshot: %v", c, err)
			}
			continue
		}
		if !errors.Is(err, spec.ErrInvalidSchema) {
			t.Errorf("%v: got %v, want ErrInvalidSchema", c, err)
		}
	}
	if id, _ := tb.Schemas().LatestID(ctx); id != 1 {
		t.Fatalf("latest schema %d, want 1 (only the accepted alter)", id)
	}
	// ...and refused once the table has one.
	commitRows(t, tb, "u", 1, spec.Row{int64(1), "a", 1.0})
	for _, c := range []spec.SchemaChange{
		spec.SetOption{Key: "deletion-vectors.enabled", Value: "false"},
		spec.SetOption{Key: "merge-engine", Value: "first-row"},
		spec.SetOption{Key: "bucket", Value: "4"},
	} {
		if _, err := tb.Alter(ctx, c); !errors.Is(err, spec.ErrInvalidOption) {
			t.Errorf("%v with a snapshot: got %v, want ErrInvalidOption", c, err)
		}
	}
	_, warnings, err := tb.AlterWithWarnings(ctx, spec.SetOption{Key: "merge_engine", Value: "x"})
	if err != nil || len(warnings) != 1 {
		t.Fatalf("unknown key: %v, warnings %v", err, warnings)
	}
}

// A table another engine created with options Strata would not create is
// held to Paimon's rules only.
func TestAlterLenientForForeignTables(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("id INT NOT NULL, v STRING")
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1", "file.format", "orc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := newSchemas(fs, "db.db/orc").create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(ctx, fs, "db.db/orc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Alter(ctx, spec.AddColumn{Name: "w", Type: spec.IntType}); err != nil {
		t.Fatalf("alter of an ORC table: %v", err)
	}
	if _, err := tb.Alter(ctx, spec.SetOption{Key: "num-levels", Value: "x"}); !errors.Is(err, spec.ErrInvalidSchema) {
		t.Fatalf("bad value on an ORC table: %v", err)
	}
}

// A dropped column's values stay gone when a column of the same name is
// added back, through writes and a full compaction.
func TestAlterDropThenReAdd(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	commitRows(t, tb, "u", 1, spec.Row{int64(1), "old", 1.5}, spec.Row{int64(2), "old2", 2.5})
	if _, err := tb.Alter(ctx, spec.DropColumn{Name: "name"}); err != nil {
		t.Fatal(err)
	}
	s, err := tb.Alter(ctx, spec.AddColumn{Name: "name", Type: spec.StringType, Move: &spec.Move{Kind: spec.MoveAfter, Ref: "id"}})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Field("name"); f.ID != 3 || s.HighestFieldID != 3 {
		t.Fatalf("re-added column %+v, highest %d", f, s.HighestFieldID)
	}
	tb, err = Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	commitRows(t, tb, "u", 2, spec.Row{int64(2), "new", nil})
	want := "[[1 <nil> 1.5] [2 new <nil>]]"
	if got := fmt.Sprint(scanAll(t, tb)); got != want {
		t.Fatalf("scan %s, want %s", got, want)
	}
	if _, err := tb.Compact(ctx, true, "c", nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(scanAll(t, tb)); got != want {
		t.Fatalf("after full compaction %s, want %s", got, want)
	}
	if got := fmt.Sprint(scanAll(t, tb, WithSnapshot(1))); got != "[[1 <nil> 1.5] [2 <nil> 2.5]]" {
		t.Fatalf("snapshot 1 in the latest schema: %s", got)
	}
}
