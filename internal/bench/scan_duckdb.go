package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The DuckDB baseline: integration/duckdb's scan.mjs runs each scenario's
// query over the very Parquet files the layout's plan lists, with DuckDB's
// threads set to each of ScanConfig.Readers. DuckDB reads the raw files: no
// merge, so on the merge-on-read layout it returns every row version.

// duckScanSpec is scan.mjs's input.
type duckScanSpec struct {
	Runs    int         `json:"runs"`
	Threads []int       `json:"threads"`
	Sink    string      `json:"sink"`
	Queries []duckQuery `json:"queries"`
}

type duckQuery struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// duckScanOutput is scan.mjs's output.
type duckScanOutput struct {
	Version string `json:"version"`
	Sink    string `json:"sink"`
	Results []struct {
		Name    string    `json:"name"`
		Threads int       `json:"threads"`
		Rows    int64     `json:"rows"`
		Seconds []float64 `json:"seconds"`
	} `json:"results"`
}

// duckScanSQL is the scenario's query over files.
func duckScanSQL(sc scanScenario, files []string, rows int) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	cols := "*"
	if sc.columns != nil {
		cols = strings.Join(sc.columns, ", ")
	}
	sql := fmt.Sprintf("SELECT %s FROM read_parquet([%s])", cols, strings.Join(quoted, ", "))
	if sc.keyRange {
		lo, hi := keyRange(rows)
		sql += fmt.Sprintf(" WHERE user_id >= %d AND user_id < %d", lo, hi)
	}
	return sql
}

// runDuckDBScan runs scan.mjs in duckDir on spec.
func runDuckDBScan(ctx context.Context, duckDir string, spec duckScanSpec) (*duckScanOutput, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "scan.mjs")
	cmd.Dir = duckDir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node scan.mjs in %s: %w\n%s", duckDir, err, stderr.String())
	}
	var out duckScanOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("decode scan.mjs output: %w\n%.500s", err, stdout.String())
	}
	if len(out.Results) != len(spec.Threads)*len(spec.Queries) {
		return nil, fmt.Errorf("scan.mjs: %d results, want %d", len(out.Results), len(spec.Threads)*len(spec.Queries))
	}
	for _, r := range out.Results {
		if len(r.Seconds) == 0 {
			return nil, fmt.Errorf("scan.mjs: %s with %d threads has no timings", r.Name, r.Threads)
		}
	}
	return &out, nil
}

// FindDuckDB looks for integration/duckdb with its packages installed in
// dir and its parents; the error says how to install them.
func FindDuckDB(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "integration", "duckdb")
		if _, err := os.Stat(filepath.Join(p, "package.json")); err == nil {
			if _, err := os.Stat(filepath.Join(p, "node_modules", "@duckdb", "node-api")); err != nil {
				return "", fmt.Errorf("%s has no node_modules: run `cd %s && npm ci`", p, p)
			}
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no integration/duckdb in %s or its parents (pass --duckdb DIR)", dir)
		}
	}
}
