package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// ScanMarkdown renders the report as Markdown: per layout, each scenario's
// Strata figures next to DuckDB's on the same files, with the ratio of
// Strata's best figure to each DuckDB figure and the targets.
func ScanMarkdown(rep *ScanReport) string {
	var b strings.Builder
	c := rep.Config
	fmt.Fprintf(&b, "## strata bench scan\n\n%s rows of ~%d B (a risk feature table keyed by user_id BIGINT, %d columns) in %d buckets; "+
		"GOMAXPROCS %d; each figure is the fastest of %d timed runs after a warm-up run. "+
		"MB/s = Parquet bytes of the layout's live files (whole files, whatever a projection or filter skips) "+
		"per second, in 10^6 B; both engines read the same files, so the MB/s ratio is DuckDB's time ÷ Strata's. "+
		"Strata ÷ DuckDB compares Strata with as many readers as DuckDB has threads (else Strata's fastest). "+
		"The merge-on-read layout holds %s row versions (every key, then 20%%, 30%%, 40%% and 50%% of them rewritten).\n\n",
		count(int64(c.Rows)), scanRowBytes, 15, c.Buckets, rep.GOMAXPROCS, c.Runs, count(rep.Written))
	fmt.Fprintf(&b, "Strata: table.Scan.ToArrowRecords into Arrow record batches of up to %d rows, every batch counted and released; "+
		"readers = table.WithParallelism (splits read at once). ", c.BatchSize)
	if rep.DuckDBSkipped != "" {
		fmt.Fprintf(&b, "DuckDB: skipped: %s.\n\n", rep.DuckDBSkipped)
	} else {
		fmt.Fprintf(&b, "DuckDB %s (integration/duckdb/scan.mjs, @duckdb/node-api): read_parquet over the files the plan lists, "+
			"no merge (on merge-on-read it returns every row version), consumed by %s.\n\n", rep.DuckDBVersion, duckSinkDesc(c.DuckDBSink))
	}
	for _, lr := range rep.Layouts {
		writeScanLayout(&b, lr)
	}
	return b.String()
}

func duckSinkDesc(sink string) string {
	if sink == "chunks" {
		return "streaming the result and counting its chunks (one call into Node per 2048 rows)"
	}
	return "CREATE TEMP TABLE AS <query>, which decodes and stores every column of every row in memory on all its threads " +
		"without converting values for Node (rows counted afterwards, untimed)"
}

// writeScanLayout renders one layout's table.
func writeScanLayout(b *strings.Builder, lr ScanLayoutReport) {
	fmt.Fprintf(b, "### %s: %d sorted run(s) per bucket, %d files, %s\n\n", lr.Layout, lr.Table.MaxRuns, lr.Table.Files, bytesStr(lr.Table.DataBytes))
	fmt.Fprintln(b, "| scenario | engine | rows | time | rows/s | MB/s | Strata ÷ DuckDB |")
	fmt.Fprintln(b, "|---|---|---:|---:|---:|---:|---:|")
	var full []ScanFigure // Strata's full scans
	for _, sr := range lr.Scenarios {
		best := bestFigure(sr.Strata)
		if sr.Scenario == "full" {
			full = sr.Strata
		}
		name := sr.Scenario
		switch {
		case sr.Columns != nil:
			name += " (" + strings.Join(sr.Columns, ", ") + ")"
		case sr.Where != "":
			name += " (" + sr.Where + ")"
		}
		for _, f := range sr.Strata {
			cell := ""
			if sr.Where != "" && f.Skipped == "" {
				if fs := sameReaders(full, f.Readers, nil); fs != nil {
					// Time, not rows/s: the filter returns 1% of the rows.
					cell = fmt.Sprintf("%s faster than the full scan (target ≥ 10×)", ratio(fs.Best, f.Best))
				}
				if st := f.Stats; st != nil {
					cell += fmt.Sprintf("; read %s rows of %d/%d files", count(st.RowsRead), st.FilesRead, st.FilesPlanned+st.FilesSkippedKeyStats+st.FilesSkippedValueStats)
				}
			}
			scanLine(b, name, "Strata, "+plural(f.Readers, "reader"), f, cell)
		}
		for _, f := range sr.DuckDB {
			cell := "–"
			if s := sameReaders(sr.Strata, f.Readers, best); s != nil {
				cell = ratio(s.MBPerSec, f.MBPerSec)
				if t := scanTarget(lr.Layout, sr.Scenario, f.Readers); t != "" {
					cell += " (target ≥ " + t + ")"
				}
			}
			scanLine(b, name, "DuckDB, "+plural(f.Readers, "thread"), f, cell)
		}
	}
	fmt.Fprintln(b)
}

// scanTarget is the target for Strata ÷ DuckDB, if any.
func scanTarget(l Layout, scenario string, threads int) string {
	if scenario != "full" || threads != 2 {
		return ""
	}
	if l == LayoutCompacted {
		return "0.5×"
	}
	return "0.25×"
}

func scanLine(b *strings.Builder, scenario, engine string, f ScanFigure, cell string) {
	if f.Skipped != "" {
		fmt.Fprintf(b, "| %s | %s | skipped: %s | | | | |\n", scenario, engine, f.Skipped)
		return
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %.1f | %s |\n", scenario, engine, count(f.Rows),
		time.Duration(f.Best*float64(time.Second)).Round(time.Millisecond), rateStr(f.RowsPerSec), f.MBPerSec, cell)
}

// sameReaders is the measured Strata figure with readers readers, else
// best.
func sameReaders(fs []ScanFigure, readers int, best *ScanFigure) *ScanFigure {
	for i := range fs {
		if fs[i].Readers == readers && fs[i].Skipped == "" {
			return &fs[i]
		}
	}
	return best
}

// bestFigure is the measured figure with the most rows/s, nil if none.
func bestFigure(fs []ScanFigure) *ScanFigure {
	var best *ScanFigure
	for i := range fs {
		if fs[i].Skipped == "" && (best == nil || fs[i].RowsPerSec > best.RowsPerSec) {
			best = &fs[i]
		}
	}
	return best
}

// WriteScanJSON writes the report's raw numbers to path.
func WriteScanJSON(path string, rep *ScanReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
