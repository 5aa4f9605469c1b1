package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bench lookup runs end to end on a tiny table; flags given explicitly win
// over --quick; Redis can be turned off and the output says so, as it says
// when minio is missing.
func TestCLIBenchLookupTiny(t *testing.T) {
	c := cli{t, t.TempDir()}
	js := filepath.Join(t.TempDir(), "lookup.json")
	out := c.ok("", "bench", "lookup", "--quick", "--rows", "500", "--sample", "50", "--buckets", "2", "--shapes", "runs",
		"--duration", "10ms", "--rates", "200", "--rate-duration", "30ms", "--fresh-duration", "0", "--redis-server", "",
		"--conns", "2", "--http-process=false", "--minio", filepath.Join(t.TempDir(), "no-minio"), "--dir", t.TempDir(), "--json", js)
	for _, want := range []string{"500 rows", "Redis turned off", "### runs: 5 sorted run(s) per bucket", "| Get miss p99, 1 client |",
		"| 200 req/s open loop", "### Strata HTTP lookup service vs Redis (runs table)", "| peak single-key requests/s, hits, 2 connections |",
		"Skipped: minio not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(js); err != nil || !strings.Contains(string(b), `"rows": 500`) {
		t.Errorf("json: %v %.300s", err, b)
	}
}

func TestCLIBenchLookupUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{{"--rates", "fast"}, {"--shapes", "square"}, {"--rows", "0"}, {"--duration", "0s"}, {"--cold-lookups", "0"}} {
		c.fails(2, "", append([]string{"bench", "lookup"}, args...)...)
	}
}

// bench scan runs end to end on a small table, both layouts, DuckDB
// included where integration/duckdb is installed (CI installs it; a missing
// installation fails there); a second run reuses the generated tables.
func TestCLIBenchScanSmall(t *testing.T) {
	c := cli{t, t.TempDir()}
	data, js := t.TempDir(), filepath.Join(t.TempDir(), "scan.json")
	args := []string{"bench", "scan", "--rows", "20000", "--runs", "1", "--data", data, "--json", js}
	_, err := os.Stat("../../integration/duckdb/node_modules/@duckdb/node-api")
	duck := err == nil && os.Getenv("STRATA_SKIP_DUCKDB") != "1"
	switch {
	case os.Getenv("STRATA_SKIP_DUCKDB") == "1":
		args = append(args, "--skip-duckdb")
	case !duck && os.Getenv("CI") != "":
		t.Fatal("CI without integration/duckdb's packages: run `cd integration/duckdb && npm ci` (or set STRATA_SKIP_DUCKDB=1)")
	case !duck:
		t.Log("integration/duckdb has no node_modules: DuckDB skipped (`cd integration/duckdb && npm ci` to include it)")
	}
	out, errs, code := c.run("", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := []string{"20,000 rows", "### compacted: 1 sorted run(s) per bucket", "### merge-on-read: 5 sorted run(s) per bucket",
		"| full | Strata, 1 reader | 20,000 |", "| full | Strata, 2 readers | 20,000 |", "| projection (user_id, credit_score, pd_score) | Strata, 1 reader | 20,000 |",
		"| filter-1% (user_id >= 100010000 AND user_id < 100010200) | Strata, 1 reader | 200 |", "faster than the full scan (target ≥ 10×)"}
	if duck {
		want = append(want, "| full | DuckDB, 2 threads | 20,000 |", "(target ≥ 0.25×)")
	} else {
		want = append(want, "DuckDB: skipped")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if b, err := os.ReadFile(js); err != nil || !strings.Contains(string(b), `"rows": 20000`) {
		t.Errorf("json: %v %.300s", err, b)
	}
	_, errs, code = c.run("", append(args, "--layouts", "compacted", "--readers", "1", "--skip-duckdb")...)
	if code != 0 || !strings.Contains(errs, "reusing the tables generated in") {
		t.Errorf("second run: exit %d, stderr:\n%s", code, errs)
	}
}

func TestCLIBenchScanUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{{"--readers", "two"}, {"--readers", "0"}, {"--layouts", "heap"}, {"--rows", "0"}, {"--runs", "0"},
		{"--duckdb-sink", "pipe"}} {
		c.fails(2, "", append([]string{"bench", "scan", "--data", t.TempDir()}, args...)...)
	}
}

// bench write runs end to end on a small stream, both APIs; --json - prints
// the raw numbers instead of the table.
func TestCLIBenchWriteSmall(t *testing.T) {
	c := cli{t, t.TempDir()}
	js := filepath.Join(t.TempDir(), "write.json")
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	out := c.ok("", "bench", "write", "--rows", "5000", "--keys", "2000", "--buckets", "2", "--commit-every", "1000",
		"--api", "rows", "--dir", t.TempDir(), "--json", js, "--cpuprofile", prof)
	// The output starts with when, where and how it ran.
	for _, want := range []string{"Run 20", "`strata bench write --api=rows", "Machine: ", "go1.", "5,000 upserts", "last/first",
		"strata  rows  local disk", "strata/pebble: throughput"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(js); err != nil || !strings.Contains(string(b), `"first_tenth_rows_per_sec"`) {
		t.Errorf("json: %v %.300s", err, b)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("cpu profile: %v", err)
	}
	out = c.ok("", "bench", "write", "--rows", "5000", "--keys", "2000", "--buckets", "2", "--commit-every", "1000",
		"--batch", "300", "--json", "-")
	if !strings.HasPrefix(out, "{") || !strings.Contains(out, `"api": "arrow"`) || !strings.Contains(out, `"batch_rows": 300`) {
		t.Errorf("--json -: %.300s", out)
	}
}

func TestCLIBenchWriteUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	for _, args := range [][]string{{"--rows", "0"}, {"--api", "columns"}, {"--storage", "s3"}, {"--batch", "-1"}, {"--commit-every", "0"}} {
		c.fails(2, "", append([]string{"bench", "write"}, args...)...)
	}
}

// bench without a subcommand runs the steps asked for and writes its
// report where --out says, recording the command as given; the Java step
// without --java is skipped and said so.
func TestCLIBenchAll(t *testing.T) {
	c := cli{t, t.TempDir()}
	out := filepath.Join(t.TempDir(), "results")
	stdout, stderr, code := c.run("", "bench", "--only", "java", "--out", out, "--scan-data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"`strata bench --only=java --out=" + out, "| scenario | metric | Strata | baseline | ratio |", "Report, figures and charts: " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "== java: skipped") || !strings.Contains(stderr, "--java") {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, f := range []string{"report.md", "results.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestCLIBenchAllUsage(t *testing.T) {
	c := cli{t, t.TempDir()}
	if errs := c.fails(2, "", "bench", "writ"); !strings.Contains(errs, `unknown bench subcommand "writ"`) {
		t.Errorf("stderr: %s", errs)
	}
	if errs := c.fails(2, "", "bench", "--only", "write,nope", "--scan-data", t.TempDir()); !strings.Contains(errs, `step "nope"`) {
		t.Errorf("stderr: %s", errs)
	}
	if errs := c.fails(2, "", "bench", "--quick", "--large", "--scan-data", t.TempDir()); !strings.Contains(errs, "--quick and --large") {
		t.Errorf("stderr: %s", errs)
	}
}

// bench compare reads runs' results.json (a directory or the file) and
// says which reference ratios the runs reproduce; a run of other sizes
// is warned about; a file that is not a run's results is refused.
func TestCLIBenchCompare(t *testing.T) {
	c := cli{t, t.TempDir()}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "results.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := `{"scenario": "write", "metric": "upserts/s", "baseline": "pebble", "ratio": %s}`
	ref := write("full", `{"sizes": "full", "summary": [`+fmt.Sprintf(row, "0.7")+`, {"scenario": "lookup", "metric": "p99", "baseline": "pebble", "ratio": 3}]}`)
	run := write("quick-1", `{"sizes": "quick", "summary": [`+fmt.Sprintf(row, "0.72")+`, {"scenario": "lookup", "metric": "p99", "baseline": "pebble", "ratio": 1}]}`)
	large := write("large", `{"sizes": "large", "summary": [`+fmt.Sprintf(row, "0.7")+`]}`)
	stdout, stderr, code := c.run("", "bench", "compare", ref, filepath.Join(run, "results.json"))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"| write | upserts/s | pebble | 0.700× | 0.720× | yes (", "| lookup | p99 | pebble | 3.000× | 1.000× | **no** (", "1 of 2 ratios"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if _, stderr, _ := c.run("", "bench", "compare", ref, large); !strings.Contains(stderr, "large sizes, the reference at full") {
		t.Errorf("no warning about sizes: %s", stderr)
	}
	if errs := c.fails(2, "", "bench", "compare", ref); !strings.Contains(errs, "at least one run") {
		t.Errorf("one argument: %s", errs)
	}
	bad := write("bad", `{"rows": 1}`)
	if errs := c.fails(1, "", "bench", "compare", ref, bad); !strings.Contains(errs, filepath.Join(bad, "results.json")) || !strings.Contains(errs, "no summary rows") {
		t.Errorf("bad file: %s", errs)
	}
}
