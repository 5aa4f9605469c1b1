package bench

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/table"
)

// ScanFixture is one layout of the scan scenario's table, opened and
// checked, with the paths of the live files its plan reads: what both
// `strata bench scan` and package table's BenchmarkScan measure.
type ScanFixture struct {
	Layout Layout
	Rows   int
	Table  *table.Table
	// Files are the local paths of the live data files the latest
	// snapshot's plan reads, as DuckDB is given them.
	Files []string
	Shape tableShape
}

// ScanScenarios are the scenarios' names, in report order.
func ScanScenarios() []string {
	out := make([]string, len(scanScenarios))
	for i, sc := range scanScenarios {
		out[i] = sc.name
	}
	return out
}

// OpenScanFixture returns the layout of the table of rows rows in buckets
// buckets, generating both layouts under dataDir first unless an earlier
// run did.
func OpenScanFixture(ctx context.Context, dataDir string, rows, buckets int, seed uint64, l Layout, progress func(string)) (*ScanFixture, error) {
	if progress == nil {
		progress = func(string) {}
	}
	data, err := prepareScanData(ctx, dataDir, rows, buckets, seed, progress)
	if err != nil {
		return nil, err
	}
	return data.fixture(ctx, l)
}

// fixture opens the layout's table and checks that its plan has the
// layout's sorted runs in every bucket.
func (d *scanData) fixture(ctx context.Context, l Layout) (*ScanFixture, error) {
	tb, err := d.open(ctx, l)
	if err != nil {
		return nil, err
	}
	fx := &ScanFixture{Layout: l, Rows: d.Rows, Table: tb}
	if fx.Shape, err = inspect(ctx, tb); err != nil {
		return nil, err
	}
	want := 1
	if l == LayoutMergeOnRead {
		want = scanRuns
	}
	if sh := fx.Shape; sh.MinRuns != want || sh.MaxRuns != want || sh.Buckets != d.Buckets {
		return nil, fmt.Errorf("%s: the plan has %d–%d sorted runs in each of %d buckets, want %d in %d",
			l, sh.MinRuns, sh.MaxRuns, sh.Buckets, want, d.Buckets)
	}
	if fx.Files, err = planFiles(ctx, tb, d.warehouse(l)); err != nil {
		return nil, err
	}
	return fx, nil
}

// planFiles lists the paths of the files the latest snapshot's plan reads.
func planFiles(ctx context.Context, tb *table.Table, warehouse string) ([]string, error) {
	plan, err := tb.NewScan().Plan(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sp := range plan.Splits {
		pp, err := tb.PartitionPath(sp.Partition)
		if err != nil {
			return nil, err
		}
		for _, f := range sp.Files {
			if f.ExternalPath != nil {
				return nil, fmt.Errorf("file %s lives at an external path, which the benchmark does not read", f.FileName)
			}
			out = append(out, filepath.Join(warehouse, catalog.TablePath(scanTableID), pp, fmt.Sprintf("bucket-%d", sp.Bucket), f.FileName))
		}
	}
	return out, nil
}

// Options are the named scenario's scan options, or why Strata cannot run
// it yet.
func (fx *ScanFixture) Options(scenario string) (opts []table.ScanOption, skip string) {
	for _, sc := range scanScenarios {
		if sc.name != scenario {
			continue
		}
		if sc.columns != nil {
			opts = append(opts, table.WithProjection(sc.columns...))
		}
		if sc.keyRange {
			lo, hi := keyRange(fx.Rows)
			f, ok := keyRangeFilter(lo, hi)
			if !ok {
				return nil, "Strata has no filter API yet (table.WithFilter)"
			}
			opts = append(opts, f)
		}
		return opts, ""
	}
	return nil, fmt.Sprintf("no scenario %q", scenario)
}

// DuckFigure is one scenario's DuckDB figure.
type DuckFigure struct {
	Scenario string
	ScanFigure
}

// DuckDB measures every scenario's query with DuckDB on the fixture's
// files through duckDir's scan.mjs, with each of threads: runs timed runs
// after a warm-up, the result consumed as sink says. It returns the
// figures and DuckDB's version.
func (fx *ScanFixture) DuckDB(ctx context.Context, duckDir string, threads []int, runs int, sink string) ([]DuckFigure, string, error) {
	out, err := runDuckDBScan(ctx, duckDir, fx.duckSpec(threads, runs, sink))
	if err != nil {
		return nil, "", err
	}
	var figs []DuckFigure
	for _, r := range out.Results {
		figs = append(figs, DuckFigure{r.Name, newScanFigure(r.Threads, r.Rows, r.Seconds, fx.Shape.DataBytes)})
	}
	return figs, out.Version, nil
}

func (fx *ScanFixture) duckSpec(threads []int, runs int, sink string) duckScanSpec {
	spec := duckScanSpec{Runs: runs, Threads: threads, Sink: sink}
	for _, sc := range scanScenarios {
		spec.Queries = append(spec.Queries, duckQuery{Name: sc.name, SQL: duckScanSQL(sc, fx.Files, fx.Rows)})
	}
	return spec
}
