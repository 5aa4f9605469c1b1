package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stratalake/strata/internal/bench"
)

const benchAllHelp = `Without a subcommand, strata bench runs every scenario with its baselines,
side by side in one invocation (each scenario's subcommand, where it has one,
measures it alone with more options):

  write     upserts with compaction on, vs pebble (bench write's scenario)
  lookup    point lookups in process vs pebble and Redis, over HTTP (strata
            serve as its own process) vs Redis, and freshness (commit →
            new value served) vs the refresh interval (bench lookup's)
  scan      batch scans into Arrow vs DuckDB on the same files (bench scan's)
  plan      scan planning over 1M live files vs decoding the manifests
  compact   full compaction of a table of 5 sorted runs per bucket vs
            pebble's manual compaction of the same stream
  maintain  the maintenance job on N snapshots: full compaction vs pebble,
            expiration vs deleting the same files, orphan cleaning vs
            listing the table and deleting the orphans
  java      Apache Paimon's Java writer and lookups on the same data (with
            --java; needs a JDK 17+ and Maven, and this repository's
            integration/java: the driver is built with Maven first)

A baseline that cannot run (redis-server not installed, Node.js or
integration/duckdb's packages missing, Java without --java) is skipped and
the report says why; --require-baselines fails the run instead. A scenario
that fails is reported with its error and the others still run; the command
then exits 1 naming it. Ctrl-C stops the run: the scenario running is cut
short, the others are reported as interrupted, and the report is written.

The full run measures the tables BENCHMARKS.md quotes: 2M upserts, and
with the same stream into tables set write-only, uncompressed or both (what
bounds the ratio to pebble), and strata write on the same rows as JSON
Lines; 1M-row lookups and scans, 1M-row compaction, planning over 1M live
files, maintenance on 100 snapshots (about seven minutes on 2 cores, the
first run a few more to generate the scan tables). --quick measures the
same tables, most figures for less time (a second a closed-loop lookup
figure instead of five, the best of two scans instead of three; open-loop
tails as long), within five minutes on 2 cores, Java included: it
reproduces the full run's ratios within the machine's noise (strata bench
compare checks). --large runs the slow scenarios at 10M rows and 1,000
snapshots (about twenty minutes): where a ratio depends on the size
(pebble's tree is deeper at 10M keys, DuckDB's fixed cost per query weighs
less, a 1% key-range filter gains more over a full scan) its figures differ.

Written into --out (default ./bench-results/<UTC time>): report.md (the
run's date, machine, load and command, the summary table of every headline
figure with its baseline and the ratio, each step's outcome, the charts and
every scenario's full figures), results.json (the same as raw numbers),
throughput.svg (the write scenario's upserts/s in each tenth of the stream,
Strata and pebble) and latency.svg (lookup hit percentiles p50 to p99.9).
Progress goes to stderr, the summary table to stdout. The scan tables are
generated once per size and kept in --scan-data.`

// benchAllFlags are the run-everything command's settings.
type benchAllFlags struct {
	quick, large, require, java bool
	httpProcess, cli            bool
	out, only, scanData, dir    string
	redis, duckdb, javaProject  string
	javaTuned                   string
}

// addBenchAllFlags adds the run-everything flags to the bench command.
func addBenchAllFlags(f *pflag.FlagSet, a *benchAllFlags) {
	f.BoolVar(&a.quick, "quick", false, "the full run's tables, each figure measured for less time: every scenario, Java included, within five minutes on 2 cores")
	f.BoolVar(&a.large, "large", false, "10M-row lookups, scans and compaction and 1,000 snapshots: about twenty minutes on 2 cores")
	f.BoolVar(&a.cli, "write-cli", true, "also time strata write (this binary) on the write scenario's rows as JSON Lines")
	f.StringVar(&a.out, "out", "", "output directory (default: ./bench-results/<UTC time>)")
	f.StringVar(&a.only, "only", "", "run only these steps, comma-separated: "+strings.Join(bench.Steps, ", "))
	f.BoolVar(&a.require, "require-baselines", false, "fail when a baseline (Redis, DuckDB, Java with --java) cannot run instead of skipping it")
	f.BoolVar(&a.java, "java", false, "also measure Apache Paimon's Java implementation (builds integration/java with Maven)")
	f.StringVar(&a.javaProject, "java-project", "", "integration/java directory (default: found from the working directory upwards)")
	f.StringVar(&a.javaTuned, "java-options", "", "with --java, then set these table options (k=v,...; e.g. lookup.cache-max-memory-size=1gb) on the lookup table through Java and measure both engines' lookups again")
	f.StringVar(&a.scanData, "scan-data", "", "directory of the scan scenario's generated tables, reused across runs (default: strata-bench-scan in the user cache directory)")
	f.StringVar(&a.dir, "dir", "", "scratch directory (default: a temporary one, removed afterwards)")
	f.StringVar(&a.redis, "redis-server", "redis-server", "redis-server binary")
	f.StringVar(&a.duckdb, "duckdb", "", "integration/duckdb directory with node_modules (default: found from the working directory upwards)")
	f.BoolVar(&a.httpProcess, "http-process", true, "run the HTTP lookup server as its own process (this binary's serve); false: in the benchmark's process")
}

// config builds the run's configuration from the flags.
func (a *benchAllFlags) config(cmd *cobra.Command) (bench.AllConfig, error) {
	scanData := a.scanData
	if scanData == "" {
		var err error
		if scanData, err = defaultScanDataDir(); err != nil {
			return bench.AllConfig{}, err
		}
	}
	cfg := bench.DefaultAllConfig(scanData)
	switch {
	case a.quick && a.large:
		return cfg, usagef("--quick and --large: choose one")
	case a.quick:
		cfg = bench.QuickAllConfig(scanData)
	case a.large:
		cfg = bench.LargeAllConfig(scanData)
	}
	java := bench.DefaultJavaPeerConfig() // a minute either way: --quick keeps it
	if a.javaTuned != "" && !a.java {
		return bench.AllConfig{}, fmt.Errorf("--java-options needs --java")
	}
	java.Tuned = a.javaTuned
	if a.java {
		cfg.Java, cfg.JavaProject = &java, a.javaProject
	}
	for _, s := range strings.Split(a.only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Only = append(cfg.Only, s)
		}
	}
	cfg.RequireBaselines, cfg.Dir, cfg.Lookup.RedisServer, cfg.Scan.DuckDBDir = a.require, a.dir, a.redis, a.duckdb
	httpProcess, writeCLI := a.httpProcess && cfg.Runs("lookup"), a.cli && cfg.Runs("write")
	if httpProcess || writeCLI {
		bin, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("this binary, for --http-process and --write-cli: %w", err)
		}
		if httpProcess {
			cfg.Lookup.ServeBinary = bin
		}
		if writeCLI {
			cfg.Write.CLI = bin
		}
	}
	cfg.OutDir = a.out
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join("bench-results", time.Now().UTC().Format("20060102-150405"))
	}
	cfg.Command = commandLine(cmd)
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("%v", err)
	}
	return cfg, nil
}

// commandLine is the command as given: its path and the flags set.
func commandLine(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" && f.Value.String() == "true" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, fmt.Sprintf("--%s=%s", f.Name, f.Value))
	})
	return strings.Join(parts, " ")
}

// runBenchAll is `strata bench` without a subcommand.
func runBenchAll(e *env, cmd *cobra.Command, a *benchAllFlags) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	cfg.Progress = e.stderr
	rep, err := bench.RunAll(cmd.Context(), cfg)
	if rep != nil {
		fmt.Fprintf(e.stdout, "%s\n\n%s\nReport, figures and charts: %s\n", bench.RunConditions(rep), bench.SummaryMarkdown(rep), cfg.OutDir)
	}
	return err
}
