package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tinyAllConfig is every step at a size that runs in seconds, with Redis
// and DuckDB missing and Java not asked for.
func tinyAllConfig(t *testing.T) AllConfig {
	cfg := QuickAllConfig(t.TempDir())
	cfg.OutDir, cfg.Command, cfg.Dir = filepath.Join(t.TempDir(), "out"), "strata bench --test", t.TempDir()
	cfg.Write = WriteConfig{Rows: 5000, KeySpace: 2000, Buckets: 2, CommitEvery: 1000, Seed: 1}
	l := &cfg.Lookup
	l.Rows, l.Sample, l.Buckets, l.Shapes, l.Duration = 500, 50, 2, []Shape{ShapeCompacted}, 10*time.Millisecond
	l.Rates, l.RateDuration, l.Workers, l.Conns = []int{200}, 30*time.Millisecond, 2, 2
	l.Refresh, l.FreshEvery, l.FreshDuration = 20*time.Millisecond, 20*time.Millisecond, 100*time.Millisecond
	l.RedisServer, l.S3 = "strata-test-no-such-redis-server", false
	s := &cfg.Scan
	s.Rows, s.Buckets, s.Layouts, s.Readers, s.Runs = 1000, 2, []Layout{LayoutCompacted}, []int{1}, 1
	s.DuckDBDir = filepath.Join(t.TempDir(), "no-duckdb")
	cfg.Plan = PlanConfig{Files: planPartitions * planBuckets, Runs: 1}
	cfg.Compact = CompactConfig{Rows: 5000, KeySpace: 2000, Buckets: 2, Runs: 3, Seed: 1}
	cfg.Maintain = MaintainConfig{Snapshots: 4, RowsPerCommit: 200, Buckets: 2, KeySpace: 2000, Orphans: 3, Seed: 1}
	return cfg
}

// Every step runs at a tiny size; the missing baselines are skipped and
// said so; the report is written as Markdown, JSON that parses back, and
// SVG charts that are XML naming their series.
func TestRunAllTiny(t *testing.T) {
	cfg := tinyAllConfig(t)
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := RunAll(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	for _, s := range rep.Steps {
		want := StepOK
		if s.Step == "java" {
			want = StepSkipped
		}
		if s.Status != want {
			t.Errorf("step %s: %s (%s), want %s", s.Step, s.Status, s.Reason, want)
		}
	}
	scenarios := map[string]bool{}
	for _, r := range rep.Summary {
		scenarios[r.Scenario] = true
		scenarios[strings.SplitN(r.Scenario, ",", 2)[0]] = true
		if r.Strata <= 0 || (r.Skipped == "" && (r.BaselineValue <= 0 || r.Ratio <= 0)) {
			t.Errorf("summary row %+v: a figure is missing", r)
		}
		if strings.HasPrefix(r.Baseline, "Redis") && !strings.Contains(r.Skipped, "not installed") {
			t.Errorf("Redis row %+v: want skipped as not installed", r)
		}
		if strings.HasPrefix(r.Baseline, "DuckDB") && !strings.Contains(r.Skipped, "node") {
			t.Errorf("DuckDB row %+v: want skipped for node or its modules", r)
		}
	}
	for _, want := range []string{"write", "write, write-only", "write, uncompressed", "write, write-only, uncompressed",
		"lookup", "lookup over HTTP", "freshness", "scan", "planning", "compaction", "maintenance"} {
		if !scenarios[want] {
			t.Errorf("no summary row of %s (have %v)", want, scenarios)
		}
	}
	for _, want := range []string{"== write (1/7)", "  lookup: ", "== java: skipped", "report: "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	checkReportFiles(t, cfg.OutDir)
}

// checkReportFiles checks what RunAll wrote into dir.
func checkReportFiles(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var back AllReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if back.Command != "strata bench --test" || back.Machine.Cores == 0 || back.Machine.GoVersion == "" || back.Started.IsZero() ||
		len(back.Summary) == 0 || back.Write == nil || back.Lookup == nil || back.Plan == nil {
		t.Errorf("results.json lacks the run's description or figures: %.400s", b)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| scenario | metric | Strata | baseline | ratio |", "`strata bench --test`", "| write | upserts/s, 5,000 rows |",
		"Redis GET: skipped (", "| java | skipped | ", "![throughput](throughput.svg)", "![latency](latency.svg)", "## Maintenance"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for file, series := range map[string][]string{ThroughputFile: {"Strata", "pebble"}, LatencyFile: {"Strata, in process", "pebble, in process", "Strata over HTTP"}} {
		checkSVG(t, filepath.Join(dir, file), series)
	}
}

// checkSVG checks that path is well-formed XML with an svg root whose text
// names every series.
func checkSVG(t *testing.T, path string, series []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	var root string
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", path, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
		case xml.CharData:
			texts = append(texts, strings.TrimSpace(string(el)))
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", path, root)
	}
	for _, s := range series {
		if !slices.Contains(texts, s) {
			t.Errorf("%s: no series %q in its text %q", path, s, texts)
		}
	}
}

// With --require-baselines a missing baseline fails the run before any
// step starts, naming it.
func TestRunAllRequireBaselines(t *testing.T) {
	cfg := tinyAllConfig(t)
	cfg.RequireBaselines, cfg.Only = true, []string{"lookup", "scan"}
	_, err := RunAll(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "Redis: strata-test-no-such-redis-server not found") || !strings.Contains(err.Error(), "DuckDB: ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(cfg.OutDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run left %s (%v)", cfg.OutDir, err)
	}
}

// A failing step is named in the error and the report; the other steps
// still run. An interrupted run reports the steps it did not run and still
// writes its report.
func TestRunAllFailureAndInterrupt(t *testing.T) {
	cfg := tinyAllConfig(t)
	cfg.Only = []string{"scan", "plan"}
	cfg.Scan.DataDir = filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(cfg.Scan.DataDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := RunAll(context.Background(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "scan: ") {
		t.Fatalf("err = %v, want the scan step's", err)
	}
	if len(rep.Steps) != 2 || rep.Steps[0].Status != StepFailed || rep.Steps[1].Status != StepOK {
		t.Errorf("steps %+v", rep.Steps)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg = tinyAllConfig(t)
	cfg.Only = []string{"write", "plan"}
	rep, err = RunAll(ctx, cfg)
	if !errors.Is(err, context.Canceled) || rep == nil {
		t.Fatalf("a run interrupted before it started: %v, want an error wrapping context.Canceled and the report", err)
	}
	for _, s := range rep.Steps {
		if s.Status != StepInterrupted {
			t.Errorf("step %s: %s, want interrupted", s.Step, s.Status)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.OutDir, ReportFile)); err != nil {
		t.Errorf("no report after the interruption: %v", err)
	}
}

// The progress writer prefixes whole lines and keeps only the last state
// of a line rewritten in place.
func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	w := newLineWriter(&out, "> ")
	io.WriteString(w, "a\rb: 1/3\rb: 3/3   \nnext line\npartial")
	w.Flush()
	if got, want := out.String(), "> b: 3/3\n> next line\n> partial\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The full and the quick configurations are valid as they stand.
func TestAllConfigsValid(t *testing.T) {
	for name, cfg := range map[string]AllConfig{"full": DefaultAllConfig(t.TempDir()), "quick": QuickAllConfig(t.TempDir()),
		"large": LargeAllConfig(t.TempDir())} {
		cfg.OutDir = t.TempDir()
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if j := DefaultJavaPeerConfig(); j.Write.Validate() != nil || j.LookupRows <= 0 || j.LookupSample <= 0 || j.LookupDuration <= 0 {
		t.Errorf("java %+v: %v", j, j.Write.Validate())
	}
}

// A chart that cannot be saved does not cost the report: report.md and
// results.json are written, the report says which chart is missing, and
// the error names it.
func TestReportWrittenWhenAChartFails(t *testing.T) {
	dir := t.TempDir()
	// A directory where the chart's file should go: saving it fails.
	if err := os.Mkdir(filepath.Join(dir, ThroughputFile), 0o755); err != nil {
		t.Fatal(err)
	}
	tenths := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	rep := &AllReport{Command: "strata bench --test", Write: &WriteReport{Rows: 10,
		Strata: WriteResult{Engine: "strata", TenthsPerSec: tenths}, Pebble: WriteResult{Engine: "pebble", TenthsPerSec: tenths}}}
	err := WriteAllReport(dir, rep)
	if err == nil || !strings.Contains(err.Error(), ThroughputFile) {
		t.Fatalf("WriteAllReport: %v, want an error naming %s", err, ThroughputFile)
	}
	md, rerr := os.ReadFile(filepath.Join(dir, ReportFile))
	if rerr != nil {
		t.Fatalf("report.md not written: %v", rerr)
	}
	if !strings.Contains(string(md), "Charts not drawn: chart "+ThroughputFile) || strings.Contains(string(md), "![throughput]") {
		t.Errorf("report.md does not say the chart is missing:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, ResultsFile)); err != nil {
		t.Errorf("results.json not written: %v", err)
	}
}
