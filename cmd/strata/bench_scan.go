package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/bench"
)

const benchScanHelp = `Batch scans of a feature table by Strata into Arrow record batches, next to
DuckDB reading the very same Parquet files in the same run.

Data: --rows rows of ~144 bytes, a risk feature table (user_id BIGINT primary
key, dt, credit_score, six DOUBLE and three BIGINT features, country,
segment and a 40-character device_id; income and utilization sometimes
null) in --buckets buckets, in two layouts (--layouts):
  merge-on-read  every key written in a first commit, then 20%, 30%, 40% and
                 50% of the keys rewritten in four more, with write-only=true
                 (no compaction): 5 sorted runs per bucket, which the
                 benchmark checks in the plan before measuring;
  compacted      a copy of that table after a full compaction: 1 sorted run
                 per bucket.
Generating 10M rows takes minutes, so the tables are kept under --data (one
directory per --rows, --buckets and --seed) and reused by later runs; delete
the directory to generate again.

Scenarios, each on both layouts:
  full        every column;
  projection  user_id, credit_score, pd_score;
  filter-1%   a user_id range holding 1% of the rows (user_id is the
              primary key, so the range is contiguous in every sorted run).
Strata reads through table.Scan.ToArrowRecords, each scenario with 1 and
with 2 splits read at once (--readers, table.WithParallelism). DuckDB (integration/duckdb,
scan.mjs through Node) runs the same scenario as SQL over read_parquet of the
files the plan lists, with SET threads to each of --readers, consuming the
result with CREATE TEMP TABLE AS (--duckdb-sink table: every column of every
row decoded and stored, no conversion to JavaScript) or by streaming and
counting its chunks (--duckdb-sink chunks). DuckDB does not merge: on the
merge-on-read layout it returns every row version.

Every figure is the fastest of --runs timed runs after a warm-up run, as
rows/s and MB/s, where MB are the Parquet bytes of the layout's live files
(whole files, whatever a projection or filter skips): both engines read the
same files, so the MB/s ratio Strata ÷ DuckDB is DuckDB's time ÷ Strata's.
The issue's targets are shown beside: a compacted full scan ≥ 0.5× DuckDB's
2-thread rate, merge-on-read ≥ 0.25×, a 1% filter ≥ 10× faster than the full
scan.

DuckDB needs Node.js and ` + "`cd integration/duckdb && npm ci`" + `; without them the
DuckDB figures are skipped and the output says so, unless --require-duckdb
(default: on when $CI is set). Prints the run's conditions (date, command,
machine, load, git revision) and a Markdown table; --json FILE also
writes the raw numbers.`

// newBenchScanCmd is `strata bench scan`.
func newBenchScanCmd(e *env) *cobra.Command {
	cfg := bench.DefaultScanConfig()
	var layouts, readers, jsonPath, cpuProfile string
	skipDuckDB := false
	requireDuckDB := os.Getenv("CI") != ""
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Batch scans into Arrow (full, projection, 1% filter) on two layouts; baseline DuckDB",
		Long:  benchScanHelp,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if cfg.Layouts, cfg.Readers, err = parseLayoutsReaders(layouts, readers); err != nil {
				return err
			}
			if cfg.DataDir == "" {
				if cfg.DataDir, err = defaultScanDataDir(); err != nil {
					return err
				}
			}
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			if err := resolveDuckDB(&cfg, skipDuckDB, requireDuckDB); err != nil {
				return err
			}
			cfg.Progress = e.stderr
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			started, machine := time.Now(), bench.DescribeMachine()
			rep, err := bench.RunScan(cmd.Context(), cfg)
			if perr := stop(); err == nil {
				err = perr
			}
			if err != nil {
				return err
			}
			if jsonPath != "" {
				if err := bench.WriteScanJSON(jsonPath, rep); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n\n%s", bench.CommandConditions(started, commandLine(cmd), machine), bench.ScanMarkdown(rep))
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Rows, "rows", cfg.Rows, "rows in the table (keys)")
	f.IntVar(&cfg.Buckets, "buckets", cfg.Buckets, "table buckets")
	f.StringVar(&layouts, "layouts", "compacted,merge-on-read", "layouts to measure: compacted, merge-on-read")
	f.StringVar(&readers, "readers", "1,2", "splits Strata reads at once (table.WithParallelism) and DuckDB threads, comma-separated")
	f.IntVar(&cfg.Runs, "runs", cfg.Runs, "timed runs per figure (after one warm-up run); a figure is the fastest")
	f.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "most rows per Arrow record batch (table.WithBatchRows)")
	f.StringVar(&cfg.DataDir, "data", "", "directory of the generated tables, reused across runs (default: strata-bench-scan in the user cache directory)")
	f.StringVar(&cfg.DuckDBDir, "duckdb", "", "integration/duckdb directory with node_modules (default: found from the working directory upwards)")
	f.BoolVar(&skipDuckDB, "skip-duckdb", false, "do not measure DuckDB")
	f.BoolVar(&requireDuckDB, "require-duckdb", requireDuckDB, "fail when DuckDB cannot run instead of skipping it (default: on when $CI is set)")
	f.StringVar(&cfg.DuckDBSink, "duckdb-sink", cfg.DuckDBSink, "how DuckDB consumes results: table (CREATE TEMP TABLE AS) or chunks (streamed and counted)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of the generated values")
	f.StringVar(&jsonPath, "json", "", "also write the raw numbers as JSON to this file")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark's process to this file")
	return cmd
}

// defaultScanDataDir is strata-bench-scan in the user's cache directory.
func defaultScanDataDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", usagef("no user cache directory (%v): pass --data DIR to strata bench scan, --scan-data DIR to strata bench", err)
	}
	return filepath.Join(d, "strata-bench-scan"), nil
}

// resolveDuckDB sets cfg.DuckDBDir, or DuckDBSkipped when DuckDB cannot
// run and is not required.
func resolveDuckDB(cfg *bench.ScanConfig, skip, require bool) error {
	if skip {
		cfg.DuckDBDir, cfg.DuckDBSkipped = "", "--skip-duckdb"
		return nil
	}
	dir, problem := bench.LocateDuckDB(cfg.DuckDBDir)
	if problem != "" && require {
		return fmt.Errorf("DuckDB baseline: %s (--require-duckdb)", problem)
	}
	cfg.DuckDBDir, cfg.DuckDBSkipped = dir, problem
	return nil
}

// parseLayoutsReaders parses --layouts and --readers.
func parseLayoutsReaders(layouts, readers string) ([]bench.Layout, []int, error) {
	var ls []bench.Layout
	for _, s := range strings.Split(layouts, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ls = append(ls, bench.Layout(s))
		}
	}
	var rs []int
	for _, r := range strings.Split(readers, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		n, err := strconv.Atoi(r)
		if err != nil {
			return nil, nil, usagef("--readers: %q is not a number", r)
		}
		rs = append(rs, n)
	}
	return ls, rs, nil
}
