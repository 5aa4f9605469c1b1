package table

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// writeKinds writes rows with their kinds in one write and commits; it
// returns the commit's messages and the first write error, after which
// nothing is committed.
func writeKinds(t *testing.T, tb *Table, kinds []spec.RowKind, rows ...spec.Row) ([]CommitMessage, error) {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i, r := range rows {
		if err := w.WriteRow(ctx, kinds[i], r); err != nil {
			return nil, err
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("u").Commit(ctx, BatchCommitIdentifier, msgs); err != nil {
		t.Fatal(err)
	}
	return msgs, nil
}

func compactAndCommit(t *testing.T, tb *Table) error {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Compact(ctx, true, nil); err != nil {
		return err
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tb.NewCommit("c").Commit(ctx, BatchCommitIdentifier, msgs)
	return err
}

func scanErr(tb *Table) ([]spec.Row, error) {
	var rows []spec.Row
	for r, err := range tb.NewScan().Rows(context.Background()) {
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

var (
	ins = spec.RowKindInsert
	ub  = spec.RowKindUpdateBefore
	del = spec.RowKindDelete
)

// Issue 7: a -D for an existing key of a partial-update table (no delete
// option) used to be committed, after which every scan, write and
// compaction of the bucket failed. The write is now refused, nothing
// reaches the write buffer, and the table stays readable, writable and
// compactable.
func TestPartialUpdateDeleteRefusedAtWrite(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "merge-engine", "partial-update")
	if _, err := writeKinds(t, tb, []spec.RowKind{ins, ins},
		spec.Row{int64(1), "a", 1.0}, spec.Row{int64(2), "b", nil}); err != nil {
		t.Fatal(err)
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteRow(ctx, del, spec.Row{int64(2), nil, nil})
	if !errors.Is(err, spec.ErrSchemaMismatch) || !errors.Is(err, lsm.ErrRetractUnsupported) ||
		!strings.Contains(err.Error(), "partial-update.remove-record-on-delete") {
		t.Fatalf("write -D: %v, want a refusal naming the options", err)
	}
	if err := w.WriteRow(ctx, ub, spec.Row{int64(1), "a", nil}); !errors.Is(err, lsm.ErrRetractUnsupported) {
		t.Fatalf("write -U: %v", err)
	}
	if msgs, err := w.PrepareCommit(ctx); err != nil || len(msgs) != 0 {
		t.Fatalf("refused records reached the buffer: %d messages, %v", len(msgs), err)
	}
	w.Close()
	want := []spec.Row{{int64(1), "a", 1.0}, {int64(2), "b", nil}}
	if rows, err := scanErr(tb); err != nil || !slices.EqualFunc(rows, want, rowsEqual) {
		t.Fatalf("scan after refusal: %v, %v", rows, err)
	}
	// Still writable: a partial update of both keys, then a full compaction.
	if _, err := writeKinds(t, tb, []spec.RowKind{spec.RowKindUpdateAfter, ins},
		spec.Row{int64(2), nil, 2.0}, spec.Row{int64(3), "c", nil}); err != nil {
		t.Fatal(err)
	}
	if err := compactAndCommit(t, tb); err != nil {
		t.Fatalf("compact: %v", err)
	}
	want = []spec.Row{{int64(1), "a", 1.0}, {int64(2), "b", 2.0}, {int64(3), "c", nil}}
	if rows, err := scanErr(tb); err != nil || !slices.EqualFunc(rows, want, rowsEqual) {
		t.Fatalf("scan after compaction: %v, %v", rows, err)
	}
}

// The other engines that cannot take a retraction refuse it at write as
// well; the ones that can, or drop it, do not fail.
func TestRetractionsAtWritePerEngine(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		opts   []string
		kind   spec.RowKind
		refuse bool
	}{
		{"first-row -D", []string{"merge-engine", "first-row"}, del, true},
		{"first-row -U ignore-delete", []string{"merge-engine", "first-row", "ignore-delete", "true"}, ub, false},
		{"aggregation max -D", []string{"merge-engine", "aggregation", "fields.score.aggregate-function", "max"}, del, true},
		{"aggregation sum -U", []string{"merge-engine", "aggregation", "fields.score.aggregate-function", "sum"}, ub, false},
		{"aggregation max remove-record-on-delete", []string{"merge-engine", "aggregation", "fields.score.aggregate-function", "max",
			"aggregation.remove-record-on-delete", "true"}, del, false},
		{"deduplicate -D", nil, del, false},
		{"partial-update dynamic bucket", []string{"merge-engine", "partial-update"}, del, true},
		{"partial-update rowkind.field", []string{"merge-engine", "partial-update", "rowkind.field", "name"}, ins, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			buckets := 1
			if strings.Contains(tc.name, "dynamic") {
				buckets = -1
			}
			tb := newTestTable(t, storage.NewMemory(), buckets, tc.opts...)
			if _, err := writeKinds(t, tb, []spec.RowKind{ins}, spec.Row{int64(1), "+I", 5.0}); err != nil {
				t.Fatal(err)
			}
			before, _ := tb.Snapshots().Latest(ctx)
			_, err := writeKinds(t, tb, []spec.RowKind{tc.kind}, spec.Row{int64(1), "-D", 5.0})
			if tc.refuse != errors.Is(err, lsm.ErrRetractUnsupported) {
				t.Fatalf("write: %v, want refused=%v", err, tc.refuse)
			}
			if after, _ := tb.Snapshots().Latest(ctx); tc.refuse && after.ID != before.ID {
				t.Fatalf("latest snapshot %d after %d: the refused write committed something", after.ID, before.ID)
			}
			if _, err := scanErr(tb); err != nil {
				t.Fatalf("scan: %v", err)
			}
			if err := compactAndCommit(t, tb); err != nil {
				t.Fatalf("compact: %v", err)
			}
		})
	}
}

// A table that already holds a -D its engine cannot merge (written before
// the write-time check, or by another writer): Paimon fails on it too when
// a read or compaction merges it with the key's older record, so Strata
// does as well, but the error names the file and the key. A lone -D (no
// older record) passes through the merge as in Paimon and is read as a
// delete.
func TestExistingRetractionErrorNamesFileAndKey(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1, "merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true")
	if _, err := writeKinds(t, tb, []spec.RowKind{ins, ins},
		spec.Row{int64(1), "a", 1.0}, spec.Row{int64(2), "b", 2.0}); err != nil {
		t.Fatal(err)
	}
	msgs, err := writeKinds(t, tb, []spec.RowKind{del, del},
		spec.Row{int64(2), "b", 2.0}, spec.Row{int64(9), "z", nil})
	if err != nil {
		t.Fatal(err)
	}
	deleteFile := msgs[0].NewFiles[0].FileName
	// Drop the option, as a table written by another engine would look.
	sc := *tb.Schema()
	sc.ID, sc.Options = 1, *sc.Options.Clone()
	sc.Options.Set("partial-update.remove-record-on-delete", "false")
	if err := tb.Schemas().create(ctx, &sc); err != nil {
		t.Fatal(err)
	}
	if tb, err = Open(ctx, fs, tb.Path()); err != nil {
		t.Fatal(err)
	}
	_, err = scanErr(tb)
	if !errors.Is(err, lsm.ErrRetractUnsupported) || !strings.Contains(err.Error(), deleteFile) ||
		!strings.Contains(err.Error(), "key [2]") {
		t.Fatalf("scan: %v, want the error to name %s and key [2]", err, deleteFile)
	}
	err = compactAndCommit(t, tb)
	if !errors.Is(err, lsm.ErrRetractUnsupported) || !strings.Contains(err.Error(), deleteFile) ||
		!strings.Contains(err.Error(), "key [2]") {
		t.Fatalf("compact: %v, want the error to name %s and key [2]", err, deleteFile)
	}
}

// A lone -D of a key nothing else holds is read as a delete (Paimon's
// reducer passes it through) and compacts away.
func TestExistingLoneRetractionIsReadable(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1, "merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true")
	if _, err := writeKinds(t, tb, []spec.RowKind{ins, del},
		spec.Row{int64(1), "a", 1.0}, spec.Row{int64(9), "z", nil}); err != nil {
		t.Fatal(err)
	}
	sc := *tb.Schema()
	sc.ID, sc.Options = 1, *sc.Options.Clone()
	sc.Options.Set("partial-update.remove-record-on-delete", "false")
	if err := tb.Schemas().create(ctx, &sc); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Row{{int64(1), "a", 1.0}}
	if rows, err := scanErr(tb); err != nil || !slices.EqualFunc(rows, want, rowsEqual) {
		t.Fatalf("scan: %v, %v", rows, err)
	}
	if err := compactAndCommit(t, tb); err != nil {
		t.Fatalf("compact: %v", err)
	}
	if rows, err := scanErr(tb); err != nil || !slices.EqualFunc(rows, want, rowsEqual) {
		t.Fatalf("scan after compaction: %v, %v", rows, err)
	}
}

func rowsEqual(a, b spec.Row) bool { return spec.CompareRows(a, b) == 0 && len(a) == len(b) }
