package table_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratalake/strata/internal/bench"
)

var (
	scanBenchRows    = flag.Int("scan-rows", 1_000_000, "rows of BenchmarkScan's table")
	scanBenchReaders = flag.Int("scan-readers", 1, "splits BenchmarkScan reads at once (table.WithParallelism)")
	scanBenchData    = flag.String("scan-data", "", "directory of BenchmarkScan's generated tables, reused across runs (default: strata-bench-scan in the user cache directory, as `strata bench scan`)")
)

// BenchmarkScan is `strata bench scan` as Go benchmarks: full scans,
// 3-column projections and 1% key-range filters into Arrow record batches
// (-scan-readers splits at once, 1 by default), on the compacted and the merge-on-read layout (5 sorted runs
// per bucket) of a -scan-rows risk feature table, generated once and kept
// under -scan-data. Each sub-benchmark reports rows/s and MB/s (Parquet
// bytes of the live files); unless STRATA_SKIP_DUCKDB=1 or
// integration/duckdb has no node_modules, DuckDB reads the same files with
// 2 threads in the same run (best of 3 after a warm-up, before the
// layout's sub-benchmarks), reported as duckdb-rows/s and x-duckdb
// (Strata ÷ DuckDB by time on the same files).
func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	dir := *scanBenchData
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			b.Fatalf("no user cache directory (%v): pass -scan-data", err)
		}
		dir = filepath.Join(cache, "strata-bench-scan")
	}
	duckDir := "../integration/duckdb"
	if _, err := os.Stat(filepath.Join(duckDir, "node_modules", "@duckdb", "node-api")); err != nil || os.Getenv("STRATA_SKIP_DUCKDB") == "1" {
		b.Logf("DuckDB baseline skipped (STRATA_SKIP_DUCKDB=1, or run `cd integration/duckdb && npm ci`)")
		duckDir = ""
	}
	for _, l := range []bench.Layout{bench.LayoutCompacted, bench.LayoutMergeOnRead} {
		fx, err := bench.OpenScanFixture(ctx, dir, *scanBenchRows, 4, 1, l, func(s string) { b.Log(s) })
		if err != nil {
			b.Fatal(err)
		}
		duck := map[string]bench.DuckFigure{}
		if duckDir != "" {
			figs, _, err := fx.DuckDB(ctx, duckDir, []int{2}, 3, "table")
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range figs {
				duck[f.Scenario] = f
			}
		}
		for _, sc := range bench.ScanScenarios() {
			b.Run(string(l)+"/"+sc, func(b *testing.B) {
				opts, skip := fx.Options(sc)
				if skip != "" {
					b.Skip(skip)
				}
				var rows int64
				for b.Loop() {
					n, _, err := bench.StrataScan(ctx, fx.Table, opts, *scanBenchReaders, 16384)
					if err != nil {
						b.Fatal(err)
					}
					rows += n
				}
				secs := b.Elapsed().Seconds()
				b.ReportMetric(float64(rows)/secs, "rows/s")
				b.ReportMetric(float64(fx.Shape.DataBytes)*float64(b.N)/1e6/secs, "MB/s")
				if d, ok := duck[sc]; ok {
					b.ReportMetric(d.RowsPerSec, "duckdb-rows/s")
					b.ReportMetric(d.Best/(secs/float64(b.N)), "x-duckdb")
				}
			})
		}
	}
}
