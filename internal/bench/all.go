package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// `strata bench` with no subcommand: every scenario with its baselines,
// one after the other in one process, summarised in one table of ratios,
// written with the raw figures and charts into an output directory.

// Steps are the runner's steps in order, by the names --only takes; the
// lookup step measures three scenarios (in process, over HTTP and
// freshness) from one loaded table.
var Steps = []string{"write", "lookup", "scan", "plan", "compact", "maintain", "java"}

// Sizes name a run's scale.
type Sizes string

// The runs' scales: SizesFull and SizesQuick measure the same tables (the
// figures BENCHMARKS.md quotes, which --quick reproduces), the full run
// for longer and more often; SizesLarge runs the slow scenarios at 10M
// rows and 1,000 snapshots, where some ratios move with the size.
const (
	SizesFull  Sizes = "full"
	SizesQuick Sizes = "quick"
	SizesLarge Sizes = "large"
)

// AllConfig is a run of every scenario.
type AllConfig struct {
	// Sizes says which of the configurations below this is (recorded in
	// the report).
	Sizes Sizes `json:"sizes"`
	// Only are the steps to run (nil: all of Steps).
	Only []string `json:"only,omitempty"`
	// RequireBaselines fails the run before it starts when a baseline
	// (Redis, DuckDB, Java with Java set) cannot run, instead of skipping
	// it.
	RequireBaselines bool        `json:"require_baselines"`
	Write            WriteConfig `json:"write"`
	// WriteVariants run Strata's side of the write scenario again with
	// these table options, next to the same run's pebble: what bounds the
	// ratio (write-only skips compaction, file.compression=none zstd).
	WriteVariants []WriteVariant `json:"write_variants,omitempty"`
	Lookup        LookupConfig   `json:"lookup"`
	Scan          ScanConfig     `json:"scan"`
	Plan          PlanConfig     `json:"plan"`
	Compact       CompactConfig  `json:"compact"`
	Maintain      MaintainConfig `json:"maintain"`
	// Java is the Java peer step (nil: skipped, for the reason
	// JavaSkipped gives).
	Java        *JavaPeerConfig `json:"java,omitempty"`
	JavaSkipped string          `json:"-"`
	// JavaProject is integration/java ("": found from the working
	// directory); used when Java is set.
	JavaProject string `json:"-"`
	// OutDir receives report.md, results.json and the charts.
	OutDir string `json:"-"`
	// Command is the command line, recorded in the report.
	Command string `json:"-"`
	// Dir is the scratch directory (default: a temporary one, removed
	// after); the scan step's tables live in Scan.DataDir instead.
	Dir      string    `json:"-"`
	Progress io.Writer `json:"-"`
}

// WriteVariant is the write scenario with table options set on Strata's
// table.
type WriteVariant struct {
	Name    string   `json:"name"`
	Options []string `json:"options"` // key, value, key, value...
}

// DefaultWriteVariants are the full and quick runs' variants: without
// compaction, without compression, and without both.
func DefaultWriteVariants() []WriteVariant {
	return []WriteVariant{
		{Name: "write-only", Options: []string{"write-only", "true"}},
		{Name: "uncompressed", Options: []string{"file.compression", "none"}},
		{Name: "write-only, uncompressed", Options: []string{"write-only", "true", "file.compression", "none"}},
	}
}

// DefaultAllConfig is the full run: the tables BENCHMARKS.md quotes, each
// figure measured for longer and the best of more runs kept than
// QuickAllConfig's. Lookups read a 1M-row table with caches that hold it
// whole in both engines (at 256 MiB part of it would be read through the
// block cache, a different measurement); scans read 1M rows; compaction
// merges 1M rows; maintenance runs on 100 snapshots, three times (the
// median of each step kept). The scan tables go to scanData (reused across
// runs).
func DefaultAllConfig(scanData string) AllConfig {
	c := LargeAllConfig(scanData)
	c.Sizes = SizesFull
	c.Lookup.Rows, c.Lookup.Sample, c.Lookup.CacheMemory = 1_000_000, 20_000, 1<<30
	// Open-loop tails are measured as long in --quick: a p99 of a 2-second
	// run and one of a 10-second run catch different stalls.
	c.Lookup.RateDuration = 3 * time.Second
	c.Scan.Rows = 1_000_000
	c.Compact.Rows = 1_000_000
	c.Maintain.Snapshots, c.Maintain.Orphans, c.Maintain.Rounds = 100, 20, 3
	return c
}

// QuickAllConfig is `strata bench --quick`: the full run's tables, each
// closed-loop lookup figure measured for a second instead of five,
// freshness for 3 seconds instead of 10, and scans the best of two runs
// instead of three, to finish within five minutes on two cores.
func QuickAllConfig(scanData string) AllConfig {
	c := DefaultAllConfig(scanData)
	c.Sizes = SizesQuick
	c.Lookup.Duration, c.Lookup.FreshDuration = time.Second, 3*time.Second
	c.Scan.Runs = 2
	return c
}

// LargeAllConfig is `strata bench --large`: 10M-row lookups (3 GiB caches),
// scans and compaction, and maintenance on 1,000 snapshots; about twenty
// minutes on two cores, plus generating the scan tables once. Figures that
// depend on the size (pebble's deeper tree at 10M keys, DuckDB's fixed
// cost per query, a 1% filter's gain over a full scan) differ from the
// full run's.
func LargeAllConfig(scanData string) AllConfig {
	lookup := DefaultLookupConfig()
	lookup.S3, lookup.CacheMemory = false, 3<<30
	scan := DefaultScanConfig()
	scan.DataDir = scanData
	return AllConfig{
		Sizes:         SizesLarge,
		Write:         WriteConfig{Rows: 2_000_000, KeySpace: 10_000_000, Buckets: 4, CommitEvery: 100_000, API: APIArrow, Seed: 1},
		WriteVariants: DefaultWriteVariants(),
		Lookup:        lookup,
		Scan:          scan,
		Plan:          PlanConfig{Files: 1_000_000, Runs: 5},
		Compact:       CompactConfig{Rows: 10_000_000, KeySpace: 10_000_000, Buckets: 4, Runs: 5, Seed: 1},
		Maintain:      MaintainConfig{Snapshots: 1000, RowsPerCommit: 1000, Buckets: 4, KeySpace: 10_000_000, Orphans: 100, Seed: 1},
	}
}

// AllReport is a run of every scenario: the summary rows, each step's
// outcome and its full report.
type AllReport struct {
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Command string    `json:"command"`
	Sizes   Sizes     `json:"sizes"`
	Machine Machine   `json:"machine"`
	// LoadEnd is the machine's load average when the run ended
	// (Machine.Load is at the start).
	LoadEnd string       `json:"load_average_end"`
	Steps   []StepResult `json:"steps"`
	Summary []SummaryRow `json:"summary"`

	Write *WriteReport `json:"write,omitempty"`
	// WriteVariants are Strata's runs of WriteConfig's variants.
	WriteVariants []WriteVariantReport `json:"write_variants,omitempty"`
	Lookup        *LookupReport        `json:"lookup,omitempty"`
	Scan          *ScanReport          `json:"scan,omitempty"`
	Plan          *PlanReport          `json:"plan,omitempty"`
	Compact       *CompactReport       `json:"compact,omitempty"`
	Maintain      *MaintainReport      `json:"maintain,omitempty"`
	Java          *JavaPeerReport      `json:"java,omitempty"`
}

// Step outcomes.
const (
	StepOK          = "ok"
	StepSkipped     = "skipped"
	StepFailed      = "failed"
	StepInterrupted = "interrupted"
)

// StepResult is how one step went.
type StepResult struct {
	Step    string  `json:"step"`
	Status  string  `json:"status"`
	Reason  string  `json:"reason,omitempty"` // why skipped, failed or interrupted
	Seconds float64 `json:"seconds"`
	// Notes say which baselines were skipped and why, and what else the
	// step's figures depend on.
	Notes []string `json:"notes,omitempty"`
}

// SummaryRow is one figure of Strata's next to a baseline's measured in
// the same run.
type SummaryRow struct {
	Scenario string  `json:"scenario"`
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"` // rows/s, keys/s, req/s, µs, s, B
	Strata   float64 `json:"strata"`
	// Baseline names the baseline; its value is BaselineValue (0 with
	// Skipped set: not measured).
	Baseline      string  `json:"baseline"`
	BaselineValue float64 `json:"baseline_value"`
	// Ratio is Strata / baseline (0: not measured); HigherIsBetter says
	// which side of 1 favours Strata.
	Ratio          float64 `json:"ratio"`
	HigherIsBetter bool    `json:"higher_is_better"`
	Skipped        string  `json:"skipped,omitempty"`
}

// stepFunc runs one step into rep and returns its summary rows and notes.
type stepFunc func(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error)

var stepFuncs = map[string]stepFunc{
	"write": runAllWrite, "lookup": runAllLookup, "scan": runAllScan, "plan": runAllPlan,
	"compact": runAllCompact, "maintain": runAllMaintain, "java": runAllJava,
}

// Validate reports the first setting that cannot run.
func (c AllConfig) Validate() error {
	for _, s := range c.Only {
		if !slices.Contains(Steps, s) {
			return fmt.Errorf("step %q: want one of %s", s, strings.Join(Steps, ", "))
		}
	}
	if c.OutDir == "" {
		return errors.New("no output directory")
	}
	checks := map[string]func() error{"write": c.Write.Validate, "lookup": c.Lookup.Validate, "plan": c.Plan.Validate,
		"compact": c.Compact.Validate, "maintain": c.Maintain.Validate, "scan": func() error {
			if c.Scan.DataDir == "" {
				c.Scan.DataDir = "-" // resolved by the caller; only the sizes are checked here
			}
			return c.Scan.Validate()
		}}
	for _, s := range c.steps() {
		if check := checks[s]; check != nil {
			if err := check(); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	return nil
}

// Runs says whether the run includes step: every step unless Only names some.
func (c AllConfig) Runs(step string) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, step)
}

// steps are the steps to run, in order.
func (c AllConfig) steps() []string {
	return slices.DeleteFunc(slices.Clone(Steps), func(s string) bool { return !c.Runs(s) })
}

// RunAll runs every step, writes the report into cfg.OutDir and returns
// it. A step that fails is reported and the run goes on; the error then
// names every failed step. When ctx ends the steps left are reported as
// interrupted and the report is still written.
func RunAll(ctx context.Context, cfg AllConfig) (*AllReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	say := progressFunc(cfg.Progress)
	missing := checkBaselines(ctx, &cfg, say)
	if cfg.RequireBaselines && len(missing) > 0 {
		return nil, fmt.Errorf("baselines missing (--require-baselines): %s", strings.Join(missing, "; "))
	}
	for _, m := range missing {
		say("skipped baseline: " + m)
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "strata-bench-all-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	rep := &AllReport{Started: time.Now().UTC(), Command: cfg.Command, Sizes: cfg.Sizes, Machine: DescribeMachine()}
	steps := cfg.steps()
	var errs []error
	interrupted := false
	for i, name := range steps {
		res := StepResult{Step: name}
		if ctx.Err() != nil {
			res.Status, res.Reason = StepInterrupted, "interrupted before it started"
			rep.Steps = append(rep.Steps, res)
			if !interrupted {
				// Stopped between steps: the run still fails, as inside one.
				errs = append(errs, fmt.Errorf("%s: interrupted before it started (%w); the report has the steps that ran", name, ctx.Err()))
			}
			interrupted = true
			continue
		}
		say(fmt.Sprintf("== %s (%d/%d)", name, i+1, len(steps)))
		start := time.Now()
		rows, notes, err := runStep(ctx, name, &cfg, filepath.Join(dir, name), rep)
		res.Seconds, res.Notes = time.Since(start).Seconds(), notes
		switch {
		case errors.Is(err, errStepSkipped):
			res.Status, res.Reason = StepSkipped, strings.Join(notes, "; ")
			res.Notes = nil
		case err != nil && ctx.Err() != nil:
			res.Status, res.Reason = StepInterrupted, err.Error()
			errs = append(errs, fmt.Errorf("%s: interrupted (%w); the report has the steps that ran", name, ctx.Err()))
			interrupted = true
		case err != nil:
			res.Status, res.Reason = StepFailed, err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			rep.Summary = append(rep.Summary, rows...) // what the step measured before it failed
		default:
			res.Status = StepOK
			rep.Summary = append(rep.Summary, rows...)
		}
		rep.Steps = append(rep.Steps, res)
		say(fmt.Sprintf("== %s: %s in %.1f s%s", name, res.Status, res.Seconds, reasonSuffix(res.Reason)))
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.LoadEnd = loadAverage()
	if err := WriteAllReport(cfg.OutDir, rep); err != nil {
		errs = append(errs, err)
	}
	say("report: " + filepath.Join(cfg.OutDir, "report.md"))
	return rep, errors.Join(errs...)
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	if i := strings.IndexByte(r, '\n'); i >= 0 {
		r = r[:i]
	}
	return ": " + r
}

// errStepSkipped is a step's way of saying it did not run; its notes say
// why.
var errStepSkipped = errors.New("skipped")

// runStep runs one step with its scratch directory and its progress lines
// prefixed by its name.
func runStep(ctx context.Context, name string, cfg *AllConfig, dir string, rep *AllReport) ([]SummaryRow, []string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("scratch directory: %w", err)
	}
	c := *cfg
	pw := newLineWriter(cfg.Progress, "  "+name+": ")
	defer pw.Flush()
	c.Progress = pw
	c.Write.Dir, c.Write.Progress = dir, pw
	c.Lookup.Dir, c.Lookup.Progress = dir, pw
	c.Scan.Progress = pw
	c.Plan.Dir, c.Plan.Progress = dir, pw
	c.Compact.Dir, c.Compact.Progress = dir, pw
	c.Maintain.Dir, c.Maintain.Progress = dir, pw
	if c.Java != nil {
		j := *c.Java
		j.Dir, j.Progress = dir, pw
		c.Java = &j
	}
	return stepFuncs[name](ctx, &c, rep)
}

// checkBaselines finds the baselines that cannot run and turns them off in
// cfg (their steps then report them skipped); it returns what is missing.
func checkBaselines(ctx context.Context, cfg *AllConfig, say func(string)) []string {
	var missing []string
	steps := cfg.steps()
	if slices.Contains(steps, "lookup") && cfg.Lookup.RedisServer != "" {
		if _, err := exec.LookPath(cfg.Lookup.RedisServer); err != nil {
			missing = append(missing, fmt.Sprintf("Redis: %s not found (apt-get install redis-server)", cfg.Lookup.RedisServer))
		}
	}
	if slices.Contains(steps, "scan") && cfg.Scan.DuckDBSkipped == "" {
		dir, problem := LocateDuckDB(cfg.Scan.DuckDBDir)
		cfg.Scan.DuckDBDir, cfg.Scan.DuckDBSkipped = dir, problem
		if problem != "" {
			missing = append(missing, "DuckDB: "+problem)
		}
	}
	if slices.Contains(steps, "java") && cfg.Java != nil && cfg.Java.Java == nil {
		say("building the Java Paimon driver (integration/java, Maven)")
		java, err := JavaDriver(ctx, cfg.JavaProject)
		switch {
		case err != nil && ctx.Err() != nil:
			// Interrupted, not missing: the java step reports it.
			cfg.Java, cfg.JavaSkipped = nil, "interrupted while building the driver"
		case err != nil:
			missing = append(missing, "Java Paimon: "+err.Error())
			cfg.Java, cfg.JavaSkipped = nil, err.Error()
		default:
			cfg.Java.Java = java
		}
	}
	if cfg.Java == nil && cfg.JavaSkipped == "" {
		cfg.JavaSkipped = "not asked for (--java: needs a JDK 17+ and Maven, and the repository's integration/java)"
	}
	return missing
}

// LocateDuckDB returns integration/duckdb with its packages installed (dir,
// or found from the working directory upwards), or why DuckDB cannot run.
func LocateDuckDB(dir string) (string, string) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", "no node in PATH (DuckDB runs through Node.js)"
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err == nil {
			dir, err = FindDuckDB(wd)
		}
		if err != nil {
			return "", err.Error()
		}
		return dir, ""
	}
	if !fileExists(filepath.Join(dir, "node_modules", "@duckdb", "node-api")) {
		return "", fmt.Sprintf("%s has no node_modules: run `cd %s && npm ci`", dir, dir)
	}
	return dir, ""
}
