package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/table"
)

// ScanConfig is the batch-scan scenario (`strata bench scan`): a risk
// feature table of Rows rows of about 150 bytes in Buckets buckets, in each
// of Layouts, scanned by Strata into Arrow record batches and, in the same
// run, its live Parquet files read by DuckDB.
type ScanConfig struct {
	Rows    int      `json:"rows"`
	Buckets int      `json:"buckets"`
	Layouts []Layout `json:"layouts"`
	// Readers are the reader goroutines (Strata) and threads (DuckDB's SET
	// threads) measured.
	Readers []int `json:"readers"`
	// Runs is the number of timed runs per figure, after one untimed
	// warm-up run; a figure is the fastest run.
	Runs int `json:"runs"`
	// BatchSize caps the rows per Arrow record batch of Strata's scans
	// (table.WithBatchRows).
	BatchSize int `json:"batch_size"`
	// DataDir holds the generated tables, one directory per parameter set,
	// reused by later runs.
	DataDir string `json:"-"`
	// DuckDBDir is integration/duckdb with its node_modules installed; ""
	// skips the DuckDB baseline, for the reason DuckDBSkipped gives.
	DuckDBDir     string `json:"-"`
	DuckDBSkipped string `json:"-"`
	// DuckDBSink is how DuckDB consumes a query's result (scan.mjs):
	// "table" (CREATE TEMP TABLE AS) or "chunks" (streamed chunks counted).
	DuckDBSink string    `json:"duckdb_sink"`
	Seed       uint64    `json:"seed"`
	Progress   io.Writer `json:"-"` // nil: quiet
}

// DefaultScanConfig is the scenario: 10M rows, both layouts, 1 and
// 2 readers.
func DefaultScanConfig() ScanConfig {
	return ScanConfig{Rows: 10_000_000, Buckets: 4, Layouts: []Layout{LayoutCompacted, LayoutMergeOnRead},
		Readers: []int{1, 2}, Runs: 3, BatchSize: 16384, DuckDBSink: "table", Seed: 1}
}

// Validate reports the first setting that cannot run.
func (c ScanConfig) Validate() error {
	switch {
	case c.Rows < 100 || c.Buckets <= 0 || c.Runs <= 0 || c.BatchSize <= 0:
		return fmt.Errorf("rows (≥ 100), buckets, runs and batch size must be positive")
	case len(c.Layouts) == 0 || len(c.Readers) == 0:
		return fmt.Errorf("no layout or no reader count to measure")
	case c.DataDir == "":
		return fmt.Errorf("no data directory")
	case c.DuckDBSink != "table" && c.DuckDBSink != "chunks":
		return fmt.Errorf("DuckDB sink %q: want table or chunks", c.DuckDBSink)
	}
	for _, l := range c.Layouts {
		if l != LayoutCompacted && l != LayoutMergeOnRead {
			return fmt.Errorf("layout %q: want %q or %q", l, LayoutCompacted, LayoutMergeOnRead)
		}
	}
	for _, r := range c.Readers {
		if r <= 0 {
			return fmt.Errorf("readers must be positive")
		}
	}
	return nil
}

// scanScenario is one kind of scan, measured on every layout.
type scanScenario struct {
	name    string
	columns []string // nil: every column
	// keyRange keeps user_id in [lo, hi): 1% of the keys, contiguous in
	// every bucket's sorted runs.
	keyRange bool
}

// scanProjection is the 3-column projection: what a drift check of one
// feature reads.
var scanProjection = []string{"user_id", "credit_score", "pd_score"}

var scanScenarios = []scanScenario{
	{name: "full"},
	{name: "projection", columns: scanProjection},
	{name: "filter-1%", keyRange: true},
}

// keyRange is the 1% filter's user_id range [lo, hi).
func keyRange(rows int) (lo, hi int64) {
	lo = scanKeyBase + int64(rows/2)
	return lo, lo + int64(max(1, rows/100))
}

// ScanReport is everything one run measured.
type ScanReport struct {
	Config     ScanConfig `json:"config"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	Started    time.Time  `json:"started"`
	// Written is the row versions the merge-on-read layout holds.
	Written int64 `json:"written"`
	// GenSeconds is the time to generate the tables, or to find them.
	GenSeconds    float64 `json:"gen_seconds"`
	DuckDBVersion string  `json:"duckdb_version,omitempty"`
	// DuckDBSkipped says why there are no DuckDB figures.
	DuckDBSkipped string             `json:"duckdb_skipped,omitempty"`
	Layouts       []ScanLayoutReport `json:"layouts"`
}

// ScanLayoutReport is one layout's figures.
type ScanLayoutReport struct {
	Layout    Layout               `json:"layout"`
	Table     tableShape           `json:"table"`
	Scenarios []ScanScenarioReport `json:"scenarios"`
}

// ScanScenarioReport is one scenario's figures on one layout: Strata per
// reader count, DuckDB per thread count.
type ScanScenarioReport struct {
	Scenario string       `json:"scenario"`
	Columns  []string     `json:"columns,omitempty"`
	Where    string       `json:"where,omitempty"`
	Strata   []ScanFigure `json:"strata"`
	DuckDB   []ScanFigure `json:"duckdb,omitempty"`
}

// ScanFigure is one measured scan.
type ScanFigure struct {
	Readers int       `json:"readers"`
	Rows    int64     `json:"rows"`    // rows the scan returned
	Seconds []float64 `json:"seconds"` // every timed run
	Best    float64   `json:"best_seconds"`
	// RowsPerSec and MBPerSec are of the fastest run; MB are the Parquet
	// bytes of the layout's live files (whole files, whatever a
	// projection or filter skips), in 10^6 bytes.
	RowsPerSec float64 `json:"rows_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	// Stats are Strata's scan counters of the last run (what was pruned
	// and read); nil for DuckDB.
	Stats *table.ScanStats `json:"stats,omitempty"`
	// Skipped says why the figure was not measured.
	Skipped string `json:"skipped,omitempty"`
}

// newScanFigure summarizes timed runs of a scan of bytes live bytes.
func newScanFigure(readers int, rows int64, secs []float64, bytes int64) ScanFigure {
	f := ScanFigure{Readers: readers, Rows: rows, Seconds: secs, Best: slices.Min(secs)}
	if f.Best > 0 {
		f.RowsPerSec, f.MBPerSec = float64(rows)/f.Best, float64(bytes)/1e6/f.Best
	}
	return f
}

// RunScan generates (or reuses) the tables and measures every scenario on
// every layout, Strata and then DuckDB.
func RunScan(ctx context.Context, cfg ScanConfig) (*ScanReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	say := progressFunc(cfg.Progress)
	rep := &ScanReport{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0), Started: time.Now().UTC(), DuckDBSkipped: cfg.DuckDBSkipped}
	if cfg.DuckDBDir == "" && rep.DuckDBSkipped == "" {
		rep.DuckDBSkipped = "no DuckDB directory given"
	}
	start := time.Now()
	data, err := prepareScanData(ctx, cfg.DataDir, cfg.Rows, cfg.Buckets, cfg.Seed, say)
	if err != nil {
		return nil, err
	}
	rep.GenSeconds, rep.Written = time.Since(start).Seconds(), data.Written
	for _, l := range cfg.Layouts {
		lr, err := runScanLayout(ctx, cfg, data, l, rep, prefixed(say, string(l)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l, err)
		}
		rep.Layouts = append(rep.Layouts, lr)
	}
	return rep, nil
}

// runScanLayout measures the layout's scenarios.
func runScanLayout(ctx context.Context, cfg ScanConfig, data *scanData, l Layout, rep *ScanReport, say func(string)) (ScanLayoutReport, error) {
	lr := ScanLayoutReport{Layout: l}
	fx, err := data.fixture(ctx, l)
	if err != nil {
		return lr, err
	}
	lr.Table = fx.Shape
	for _, sc := range scanScenarios {
		sr := ScanScenarioReport{Scenario: sc.name, Columns: sc.columns}
		want := int64(cfg.Rows)
		if sc.keyRange {
			lo, hi := keyRange(cfg.Rows)
			sr.Where, want = fmt.Sprintf("user_id >= %d AND user_id < %d", lo, hi), hi-lo
		}
		for _, readers := range cfg.Readers {
			fig, err := measureStrata(ctx, cfg, fx, sc, readers, want, say)
			if err != nil {
				return lr, fmt.Errorf("strata %s: %w", sc.name, err)
			}
			sr.Strata = append(sr.Strata, fig)
		}
		lr.Scenarios = append(lr.Scenarios, sr)
	}
	if cfg.DuckDBDir == "" {
		return lr, nil
	}
	say("DuckDB on the same files")
	figs, version, err := fx.DuckDB(ctx, cfg.DuckDBDir, cfg.Readers, cfg.Runs, cfg.DuckDBSink)
	if err != nil {
		return lr, err
	}
	rep.DuckDBVersion = version
	for i := range lr.Scenarios {
		for _, f := range figs {
			if f.Scenario == lr.Scenarios[i].Scenario {
				lr.Scenarios[i].DuckDB = append(lr.Scenarios[i].DuckDB, f.ScanFigure)
			}
		}
	}
	for _, f := range figs {
		say(fmt.Sprintf("duckdb %s, %s: %.0f rows/s", f.Scenario, plural(f.Readers, "thread"), f.RowsPerSec))
	}
	return lr, nil
}

// measureStrata times one scenario: a warm-up run, then cfg.Runs timed
// ones, each checked to return want rows.
func measureStrata(ctx context.Context, cfg ScanConfig, fx *ScanFixture, sc scanScenario, readers int, want int64, say func(string)) (ScanFigure, error) {
	opts, skip := fx.Options(sc.name)
	if skip != "" {
		say(fmt.Sprintf("strata %s, %s: skipped: %s", sc.name, plural(readers, "reader"), skip))
		return ScanFigure{Readers: readers, Skipped: skip}, nil
	}
	var secs []float64
	var stats table.ScanStats
	for i := range cfg.Runs + 1 {
		start := time.Now()
		n, st, err := StrataScan(ctx, fx.Table, opts, readers, cfg.BatchSize)
		d := time.Since(start).Seconds()
		if err != nil {
			return ScanFigure{}, err
		}
		if n != want {
			return ScanFigure{}, fmt.Errorf("the scan returned %d rows, want %d", n, want)
		}
		if i > 0 {
			secs = append(secs, d)
		}
		stats = st
	}
	fig := newScanFigure(readers, want, secs, fx.Shape.DataBytes)
	fig.Stats = &stats
	say(fmt.Sprintf("strata %s, %s: %.0f rows/s", sc.name, plural(readers, "reader"), fig.RowsPerSec))
	return fig, nil
}

// keyRangeFilter is the scan option that keeps user_id in [lo, hi), and
// whether Strata has one.
func keyRangeFilter(lo, hi int64) (table.ScanOption, bool) {
	return table.WithFilter(predicate.And(predicate.GreaterOrEqual("user_id", lo), predicate.LessThan("user_id", hi))), true
}

// StrataScan is the scan the benchmark times, the one place to switch when
// the scan API changes: the table's scan with opts into Arrow record
// batches of up to batchRows rows (table.Scan.ToArrowRecords) reading
// readers splits at once, every batch counted and released. It returns the
// rows read and the scan's counters.
func StrataScan(ctx context.Context, tb *table.Table, opts []table.ScanOption, readers, batchRows int) (int64, table.ScanStats, error) {
	opts = append(slices.Clip(opts), table.WithParallelism(readers), table.WithBatchRows(batchRows))
	s := tb.NewScan(opts...)
	_, batches, err := s.ToArrowRecords(ctx)
	if err != nil {
		return 0, table.ScanStats{}, err
	}
	var n int64
	for rec, err := range batches {
		if err != nil {
			return n, s.Stats(), err
		}
		n += rec.NumRows()
		rec.Release()
	}
	return n, s.Stats(), nil
}
