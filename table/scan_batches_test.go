package table

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// scanBatchesAsRows reads a scan through ToArrowRecords and turns the
// batches back into rows.
func scanBatchesAsRows(t testing.TB, s *Scan) []spec.Row {
	t.Helper()
	fields, err := s.Fields()
	if err != nil {
		t.Fatal(err)
	}
	_, batches, err := s.ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rows []spec.Row
	for rec, err := range batches {
		if err != nil {
			t.Fatal(err)
		}
		for r := range int(rec.NumRows()) {
			row := make(spec.Row, len(fields))
			for c, f := range fields {
				if row[c], err = arrowconv.Value(rec.Column(c), r, f.Type); err != nil {
					t.Fatal(err)
				}
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return rows
}

var _ = memory.DefaultAllocator

// checkBatchesMatchRows checks that the columnar scan returns the rows the
// row scan returned (in any order), with small batches read in parallel:
// every test that scans through scanAll checks both paths.
func checkBatchesMatchRows(t testing.TB, tb *Table, rows []spec.Row, opts ...ScanOption) {
	t.Helper()
	opts = append(slices.Clone(opts), WithBatchRows(61), WithParallelism(2))
	got := scanBatchesAsRows(t, tb.NewScan(opts...))
	want := slices.Clone(rows)
	slices.SortFunc(got, spec.CompareRows)
	slices.SortFunc(want, spec.CompareRows)
	if len(got) != len(want) {
		t.Fatalf("columnar scan: %d rows, row scan %d", len(got), len(want))
	}
	for i := range got {
		if spec.CompareRows(got[i], want[i]) != 0 {
			t.Fatalf("columnar scan: row %d = %v, row scan %v", i, got[i], want[i])
		}
	}
}

// TestReadSplitPaths checks each way ReadSplit reads a bucket against the
// row scan: several overlapping level-0 runs (merged batch by batch), the
// same compacted (one run, read raw), partial-update (merged row by row),
// deletes left as retractions in level 0, and a projection without the key.
func TestReadSplitPaths(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"dedup", []string{"num-sorted-run.compaction-trigger", "100", "num-sorted-run.stop-trigger", "200"}},
		{"partial-update", []string{"num-sorted-run.compaction-trigger", "100", "num-sorted-run.stop-trigger", "200",
			"merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestTable(t, storage.NewMemory(), 2, tc.extra...)
			model := map[int64]spec.Row{}
			for round := range int64(4) {
				var cs []change
				for id := round * 50; id < round*50+300; id++ {
					r := spec.Row{id, fmt.Sprintf("r%d-%d", round, id), float64(round)}
					cs = append(cs, change{spec.RowKindInsert, r})
					model[id] = r
				}
				if round == 3 {
					cs = append(cs, deletes(10, 19)...)
					for id := int64(10); id < 20; id++ {
						delete(model, id)
					}
				}
				if _, err := tb.NewCommit("u").Commit(ctx, round, writeAll(t, tb, cs, false)); err != nil {
					t.Fatal(err)
				}
				checkEqual(t, fmt.Sprintf("round %d", round), scanBatchesAsRows(t, tb.NewScan()), modelRows(model))
			}
			want := modelRows(model)
			checkEqual(t, "merged", scanBatchesAsRows(t, tb.NewScan(WithBatchRows(17))), want)
			checkEqual(t, "row scan", scanAll(t, tb), want)
			proj := scanBatchesAsRows(t, tb.NewScan(WithProjection("name")))
			if len(proj) != len(want) {
				t.Fatalf("projection without the key: %d rows, want %d", len(proj), len(want))
			}
			if _, err := tb.NewCommit("u").Commit(ctx, 9, writeAll(t, tb, nil, true)); err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "compacted", scanBatchesAsRows(t, tb.NewScan()), want)
		})
	}
}

// TestFilterSkipsPages checks that a selective filter on the key, which
// orders a compacted bucket, skips row groups' pages through the page
// index, in a raw split and in a merged one, and still returns exactly the
// rows a brute-force filter keeps.
func TestFilterSkipsPages(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "num-sorted-run.compaction-trigger", "100", "num-sorted-run.stop-trigger", "200")
	// 400k BIGINT keys make a few 1 MiB pages of the key column.
	pad := strings.Repeat("x", 20)
	var cs []change
	for id := int64(0); id < 400_000; id++ {
		cs = append(cs, change{spec.RowKindInsert, spec.Row{id, fmt.Sprintf("%s-%d", pad, id), float64(id % 1000)}})
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 1, writeAll(t, tb, cs, true)); err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantRows int) {
		t.Helper()
		s := tb.NewScan(WithFilter(predicate.And(predicate.GreaterOrEqual("id", 250_000), predicate.LessThan("id", 251_000))))
		rows := scanBatchesAsRows(t, s)
		if len(rows) != wantRows {
			t.Fatalf("%s: %d rows, want %d", what, len(rows), wantRows)
		}
		st := s.Stats()
		if st.PagesSkipped == 0 || st.PagesRead >= st.PagesSkipped {
			t.Fatalf("%s: pages read %d, skipped %d: the page index did not prune", what, st.PagesRead, st.PagesSkipped)
		}
		if st.RowsRead > 200_000 {
			t.Fatalf("%s: %d of 400000 rows decoded for a filter of 1000", what, st.RowsRead)
		}
	}
	check("compacted", 1000)
	// A second run over part of the range: the split is merged, and only
	// key conjuncts prune before the merge.
	cs = cs[:0]
	for id := int64(250_500); id < 250_600; id++ {
		cs = append(cs, change{spec.RowKindInsert, spec.Row{id, "new", 1.0}})
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 2, writeAll(t, tb, cs, false)); err != nil {
		t.Fatal(err)
	}
	check("merged", 1000)
	s := tb.NewScan(WithFilter(predicate.Equal("name", "new")))
	if got := len(scanBatchesAsRows(t, s)); got != 100 {
		t.Fatalf("value filter on a merged split: %d rows, want 100", got)
	}
}
