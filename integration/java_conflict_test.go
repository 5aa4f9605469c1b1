package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// TestJavaStrataConflicts makes Java and Strata commit to one bucket
// concurrently, each preparing from a snapshot the other then moves past:
// Strata refuses its APPEND after Java appended to the bucket (their
// sequence numbers would collide) and its COMPACT after Java compacted the
// files it rewrote; Java refuses its COMPACT after Strata compacted them.
// A refused commit publishes nothing, and afterwards both engines read the
// table as the model says, at every snapshot alike.
func TestJavaStrataConflicts(t *testing.T) {
	d := paimonjava.ForTest(t)
	ctx := context.Background()
	wh := t.TempDir()
	c := &javaCell{Name: "conflicts", Columns: "id INT NOT NULL, v STRING", PK: "id", Options: map[string]string{"bucket": "1"}}
	schema, err := c.schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, wh, javaTable, spec.EncodeSchema(schema)); err != nil {
		t.Fatal(err)
	}
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(fs)
	id := catalog.Identifier{Database: "db", Table: "t"}
	open := func() *table.Table {
		tb, err := cat.GetTable(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	model := map[int32]string{}
	rows := func(from, to int32, v string) ([]spec.Row, string) {
		var rs []spec.Row
		var jl strings.Builder
		for i := from; i <= to; i++ {
			rs = append(rs, spec.Row{i, v})
			fmt.Fprintf(&jl, "{\"id\": %d, \"v\": %q}\n", i, v)
		}
		return rs, jl.String()
	}
	javaWrite := func(from, to int32, v string) {
		t.Helper()
		_, jl := rows(from, to, v)
		if _, err := d.Write(ctx, wh, javaTable, "", 0, jl); err != nil {
			t.Fatalf("java write: %v", err)
		}
		for i := from; i <= to; i++ {
			model[i] = v
		}
	}
	snapshots := func() []int64 {
		ids, err := open().Snapshots().IDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	refused := func(what string, before []int64, err error, isConflict func(error) bool) {
		t.Helper()
		if err == nil || !isConflict(err) {
			t.Fatalf("%s: got %v, want a conflict", what, err)
		}
		if after := snapshots(); !slices.Equal(before, after) {
			t.Fatalf("%s was refused but snapshots %v became %v", what, before, after)
		}
		t.Logf("%s refused: %.300s", what, err)
	}
	strataConflict := func(err error) bool { return errors.Is(err, spec.ErrConflict) }

	// Strata's APPEND, prepared before Java's append to the bucket.
	javaWrite(1, 6, "j1")
	tb := open()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	srows, _ := rows(4, 8, "s1")
	for _, r := range srows {
		if err := w.Write(ctx, spec.RowKindInsert, r); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	javaWrite(5, 7, "j2")
	before := snapshots()
	_, err = tb.NewCommit("strata").Commit(ctx, 1, msgs)
	refused("Strata's append after Java's", before, err, strataConflict)
	strataWrite(t, open(), 1, srows)
	for _, r := range srows {
		model[r[0].(int32)] = "s1"
	}
	checkConflictTable(t, d, wh, open(), schema, model, "after Strata's second try")

	// Strata's COMPACT, prepared before Java's full compaction.
	javaWrite(9, 10, "j3")
	tb = open()
	cw, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Close()
	if err := cw.Compact(ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	if msgs, err = cw.PrepareCommit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Compact(ctx, wh, javaTable, true, "", 0); err != nil {
		t.Fatalf("java compact: %v", err)
	}
	before = snapshots()
	_, err = tb.NewCommit("strata-compact").Commit(ctx, 1, msgs)
	refused("Strata's compaction after Java's", before, err, strataConflict)
	checkConflictTable(t, d, wh, open(), schema, model, "after Java's compaction")

	// Java's COMPACT, prepared before Strata's full compaction.
	javaWrite(2, 3, "j4")
	if err := d.Hold(ctx, wh, javaTable, "java-compact", true, true, ""); err != nil {
		t.Fatalf("java compact --hold: %v", err)
	}
	if _, err := open().Compact(ctx, true, "strata-compact", nil); err != nil {
		t.Fatalf("strata compact: %v", err)
	}
	before = snapshots()
	_, err = d.CommitHeld(ctx, wh, javaTable, "java-compact")
	refused("Java's compaction after Strata's", before, err, func(err error) bool {
		var ce *paimonjava.CommandError
		return errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Message), "conflict")
	})
	checkConflictTable(t, d, wh, open(), schema, model, "after Strata's compaction")

	// Every snapshot reads alike in both engines.
	for _, id := range snapshots() {
		s, err := scanLines(ctx, open(), schema, id)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := d.Read(ctx, wh, javaTable, id)
		if err != nil {
			t.Fatal(err)
		}
		j, err := canonical(schema.Fields, raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := diffLines(s, j); diff != "" {
			t.Errorf("snapshot %d: java read (+) differs from strata scan (-):\n%s", id, diff)
		}
	}
}

// strataWrite commits rows as Strata's commit identifier commitID.
func strataWrite(t *testing.T, tb *table.Table, commitID int64, rows []spec.Row) {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range rows {
		if err := w.Write(ctx, spec.RowKindInsert, r); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("strata").Commit(ctx, commitID, msgs); err != nil {
		t.Fatalf("strata commit: %v", err)
	}
}

// scanLines is Strata's scan of snapshot (0: the latest) as sorted lines.
func scanLines(ctx context.Context, tb *table.Table, schema *spec.TableSchema, snapshot int64) ([]string, error) {
	var opts []table.ScanOption
	if snapshot > 0 {
		opts = append(opts, table.WithSnapshot(snapshot))
	}
	var rows []spec.Row
	for row, err := range tb.NewScan(opts...).Rows(ctx) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return encodeLines(schema.Fields, rows)
}

// checkConflictTable compares both engines' reads of the latest snapshot
// with the model.
func checkConflictTable(t *testing.T, d *paimonjava.Driver, wh string, tb *table.Table, schema *spec.TableSchema, model map[int32]string, when string) {
	t.Helper()
	var want []spec.Row
	for id, v := range model {
		want = append(want, spec.Row{id, v})
	}
	wl, err := encodeLines(schema.Fields, want)
	if err != nil {
		t.Fatal(err)
	}
	s, err := scanLines(context.Background(), tb, schema, 0)
	if err != nil {
		t.Fatalf("%s: strata scan: %v", when, err)
	}
	if diff := diffLines(wl, s); diff != "" {
		t.Fatalf("%s: strata scan (+) differs from the model (-):\n%s", when, diff)
	}
	raw, err := d.Read(context.Background(), wh, javaTable, 0)
	if err != nil {
		t.Fatalf("%s: java read: %v", when, err)
	}
	j, err := canonical(schema.Fields, raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffLines(wl, j); diff != "" {
		t.Fatalf("%s: java read (+) differs from the model (-):\n%s", when, diff)
	}
}
