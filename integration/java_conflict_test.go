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
	"github.com/stratalake/strata/integration/paimonjava/javatest"
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
	r := newConflictRun(t)
	strataConflict := func(err error) bool { return errors.Is(err, spec.ErrConflict) }

	// Strata's APPEND, prepared before Java's append to the bucket.
	r.javaWrite(1, 6, "j1")
	srows := conflictRows(4, 8, "s1")
	tb, msgs := r.strataPrepare(srows, false)
	r.javaWrite(5, 7, "j2")
	before := r.snapshots()
	_, err := tb.NewCommit("strata").Commit(r.ctx, 1, msgs)
	r.refused("Strata's append after Java's", before, err, strataConflict)
	tb, msgs = r.strataPrepare(srows, false)
	if _, err := tb.NewCommit("strata").Commit(r.ctx, 1, msgs); err != nil {
		t.Fatalf("strata's second try: %v", err)
	}
	for _, row := range srows {
		r.model[row[0].(int32)] = "s1"
	}
	r.check("after Strata's second try")

	// Strata's COMPACT, prepared before Java's full compaction.
	r.javaWrite(9, 10, "j3")
	tb, msgs = r.strataPrepare(nil, true)
	if _, err := r.d.Compact(r.ctx, r.wh, javaTable, true, "", 0); err != nil {
		t.Fatalf("java compact: %v", err)
	}
	before = r.snapshots()
	_, err = tb.NewCommit("strata-compact").Commit(r.ctx, 1, msgs)
	r.refused("Strata's compaction after Java's", before, err, strataConflict)
	r.check("after Java's compaction")

	// Java's COMPACT, prepared before Strata's full compaction.
	r.javaWrite(2, 3, "j4")
	if err := r.d.Hold(r.ctx, r.wh, javaTable, "java-compact", true, true, ""); err != nil {
		t.Fatalf("java compact --hold: %v", err)
	}
	if _, err := r.open().Compact(r.ctx, true, "strata-compact", nil); err != nil {
		t.Fatalf("strata compact: %v", err)
	}
	before = r.snapshots()
	_, err = r.d.CommitHeld(r.ctx, r.wh, javaTable, "java-compact")
	r.refused("Java's compaction after Strata's", before, err, func(err error) bool {
		var ce *paimonjava.CommandError
		return errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Message), "conflict")
	})
	r.check("after Strata's compaction")
	r.checkAllSnapshots()
}

// conflictRun is a table both engines commit to, with its model.
type conflictRun struct {
	t      *testing.T
	ctx    context.Context
	d      *paimonjava.Driver
	wh     string
	cat    *catalog.Catalog
	schema *spec.TableSchema
	model  map[int32]string
}

func newConflictRun(t *testing.T) *conflictRun {
	r := &conflictRun{t: t, ctx: context.Background(), d: javatest.ForTest(t), wh: t.TempDir(), model: map[int32]string{}}
	c := &javaCell{Name: "conflicts", Columns: "id INT NOT NULL, v STRING", PK: "id", Options: map[string]string{"bucket": "1"}}
	var err error
	if r.schema, err = c.schema(); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Create(r.ctx, r.wh, javaTable, spec.EncodeSchema(r.schema)); err != nil {
		t.Fatal(err)
	}
	fs, err := storage.Open(r.ctx, r.wh)
	if err != nil {
		t.Fatal(err)
	}
	r.cat = catalog.New(fs)
	return r
}

func (r *conflictRun) open() *table.Table {
	r.t.Helper()
	tb, err := r.cat.GetTable(r.ctx, catalog.Identifier{Database: "db", Table: "t"})
	if err != nil {
		r.t.Fatal(err)
	}
	return tb
}

func conflictRows(from, to int32, v string) []spec.Row {
	var rs []spec.Row
	for i := from; i <= to; i++ {
		rs = append(rs, spec.Row{i, v})
	}
	return rs
}

// javaWrite commits ids from..to with value v as a Java batch write.
func (r *conflictRun) javaWrite(from, to int32, v string) {
	r.t.Helper()
	var jl strings.Builder
	for _, row := range conflictRows(from, to, v) {
		fmt.Fprintf(&jl, "{\"id\": %d, \"v\": %q}\n", row[0], v)
		r.model[row[0].(int32)] = v
	}
	if _, err := r.d.Write(r.ctx, r.wh, javaTable, "", 0, jl.String()); err != nil {
		r.t.Fatalf("java write: %v", err)
	}
}

// strataPrepare writes rows (or fully compacts) with a Strata writer on
// the latest snapshot and returns its commit messages, not committed.
func (r *conflictRun) strataPrepare(rows []spec.Row, compact bool) (*table.Table, []table.CommitMessage) {
	r.t.Helper()
	tb := r.open()
	w, err := tb.NewWrite(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(w.Close)
	for _, row := range rows {
		if err := w.WriteRow(r.ctx, spec.RowKindInsert, row); err != nil {
			r.t.Fatal(err)
		}
	}
	if compact {
		if err := w.Compact(r.ctx, true, nil); err != nil {
			r.t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return tb, msgs
}

func (r *conflictRun) snapshots() []int64 {
	r.t.Helper()
	ids, err := r.open().Snapshots().IDs(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return ids
}

// refused checks that a commit failed as a conflict and published nothing.
func (r *conflictRun) refused(what string, before []int64, err error, isConflict func(error) bool) {
	r.t.Helper()
	if err == nil || !isConflict(err) {
		r.t.Fatalf("%s: got %v, want a conflict", what, err)
	}
	if after := r.snapshots(); !slices.Equal(before, after) {
		r.t.Fatalf("%s was refused but snapshots %v became %v", what, before, after)
	}
}

// lines reads snapshot (0: the latest) with Strata (java false) or Java,
// as sorted lines in Strata's form.
func (r *conflictRun) lines(snapshot int64, java bool) ([]string, error) {
	if java {
		raw, err := r.d.Read(r.ctx, r.wh, javaTable, snapshot)
		if err != nil {
			return nil, err
		}
		return canonical(r.schema.Fields, raw, false)
	}
	var opts []table.ScanOption
	if snapshot > 0 {
		opts = append(opts, table.WithSnapshot(snapshot))
	}
	var rows []spec.Row
	for row, err := range r.open().NewScan(opts...).Rows(r.ctx) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return encodeLines(r.schema.Fields, rows)
}

// check compares both engines' reads of the latest snapshot with the model.
func (r *conflictRun) check(when string) {
	r.t.Helper()
	var want []spec.Row
	for id, v := range r.model {
		want = append(want, spec.Row{id, v})
	}
	wl, err := encodeLines(r.schema.Fields, want)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, java := range []bool{false, true} {
		got, err := r.lines(0, java)
		if err != nil {
			r.t.Fatalf("%s: reading (java %v): %v", when, java, err)
		}
		if diff := diffLines(wl, got); diff != "" {
			r.t.Fatalf("%s: the read (java %v, +) differs from the model (-):\n%s", when, java, diff)
		}
	}
}

// checkAllSnapshots: every snapshot reads alike in both engines.
func (r *conflictRun) checkAllSnapshots() {
	r.t.Helper()
	for _, id := range r.snapshots() {
		s, err := r.lines(id, false)
		if err != nil {
			r.t.Fatal(err)
		}
		j, err := r.lines(id, true)
		if err != nil {
			r.t.Fatal(err)
		}
		if diff := diffLines(s, j); diff != "" {
			r.t.Errorf("snapshot %d: java read (+) differs from strata scan (-):\n%s", id, diff)
		}
	}
}
