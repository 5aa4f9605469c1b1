package bench

import (
	"context"
	"testing"

	"github.com/stratalake/strata/spec"
)

// BenchmarkScanStrata is `strata bench scan`'s full scan of the compacted
// layout by Strata alone (100k rows, generated once into a temporary
// directory), for profiling; package table's BenchmarkScan covers the
// scenarios.
func BenchmarkScanStrata(b *testing.B) {
	ctx := context.Background()
	fx, err := OpenScanFixture(ctx, b.TempDir(), 100_000, 4, 1, LayoutCompacted, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := StrataScan(ctx, fx.Table, nil, 1, 16384); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// Both layouts hold the same rows: the latest version of every key, as the
// generator defines it; the merge-on-read one in exactly 5 runs per bucket.
func TestScanLayoutsHoldTheSameRows(t *testing.T) {
	ctx := context.Background()
	const rows = 3_000
	data, err := prepareScanData(ctx, t.TempDir(), rows, 2, 7, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	var written int64
	for c := range scanRuns {
		for i := range rows {
			if c == 0 || scanUpdated(7, c, scanKeyBase+int64(i)) {
				written++
			}
		}
	}
	if data.Written != written || written < rows*2 {
		t.Fatalf("written %d, want %d (at least twice the rows)", data.Written, written)
	}
	for _, l := range []Layout{LayoutCompacted, LayoutMergeOnRead} {
		tb, err := data.open(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := inspect(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		want := map[Layout]int{LayoutCompacted: 1, LayoutMergeOnRead: scanRuns}[l]
		if sh.MinRuns != want || sh.MaxRuns != want || sh.Buckets != 2 {
			t.Errorf("%s: %+v, want %d runs in each of 2 buckets", l, sh, want)
		}
		n := 0
		for row, err := range tb.NewScan().Rows(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			id := row[0].(int64)
			last := 0
			for c := 1; c < scanRuns; c++ {
				if scanUpdated(7, c, id) {
					last = c
				}
			}
			if w := scanRow(7, last, id); !equalRows(row, w) {
				t.Fatalf("%s: key %d is %v, want commit %d's %v", l, id, row, last, w)
			}
			n++
		}
		if n != rows {
			t.Errorf("%s: %d rows, want %d", l, n, rows)
		}
	}
}

func equalRows(a, b spec.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || spec.CompareValues(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}

// The DuckDB queries read the plan's files with the scenario's columns and
// range.
func TestDuckScanSQL(t *testing.T) {
	files := []string{"/d/a.parquet", "/d/it's.parquet"}
	for _, tc := range []struct {
		sc   scanScenario
		want string
	}{
		{scanScenarios[0], "SELECT * FROM read_parquet(['/d/a.parquet', '/d/it''s.parquet'])"},
		{scanScenarios[1], "SELECT user_id, credit_score, pd_score FROM read_parquet(['/d/a.parquet', '/d/it''s.parquet'])"},
		{scanScenarios[2], "SELECT * FROM read_parquet(['/d/a.parquet', '/d/it''s.parquet']) WHERE user_id >= 100100000 AND user_id < 100102000"},
	} {
		if got := duckScanSQL(tc.sc, files, 200_000); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.sc.name, got, tc.want)
		}
	}
}
