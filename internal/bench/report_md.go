package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files RunAll writes into its output directory.
const (
	ReportFile     = "report.md"
	ResultsFile    = "results.json"
	ThroughputFile = "throughput.svg"
	LatencyFile    = "latency.svg"
)

// WriteAllReport writes the report as Markdown and JSON into dir, with the
// charts its figures allow.
func WriteAllReport(dir string, rep *AllReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	// A chart that fails is said in the report, which is written anyway:
	// the figures matter more than their pictures.
	charts, cerr := WriteCharts(dir, rep)
	md := AllMarkdown(rep, charts)
	if cerr != nil {
		md += fmt.Sprintf("\nCharts not drawn: %s\n", strings.ReplaceAll(cerr.Error(), "\n", "; "))
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return cerr
}

// AllMarkdown renders the report: the run's conditions, the summary table,
// each step's outcome, the charts (file names in dir) and every step's
// detailed figures.
func AllMarkdown(rep *AllReport, charts []string) string {
	var b strings.Builder
	b.WriteString("# strata bench\n\n")
	b.WriteString(RunConditions(rep))
	b.WriteString("\n\n")
	b.WriteString(SummaryMarkdown(rep))
	b.WriteString("\n| step | status | time | notes |\n|---|---|---:|---|\n")
	for _, s := range rep.Steps {
		notes := strings.Join(s.Notes, "; ")
		if s.Reason != "" {
			notes = strings.TrimPrefix(s.Reason+"; "+notes, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f s | %s |\n", s.Step, s.Status, s.Seconds, mdCell(strings.TrimSuffix(notes, "; ")))
	}
	b.WriteString("\n")
	for _, c := range charts {
		fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(c, filepath.Ext(c)), c)
	}
	writeDetails(&b, rep)
	return b.String()
}

// RunConditions is a paragraph saying when, where and how the run was
// made.
func RunConditions(rep *AllReport) string {
	what := fmt.Sprintf("`%s` (%s sizes)", rep.Command, orUnknown(string(rep.Sizes)))
	return conditions(rep.Started, rep.Seconds, what, rep.Machine, rep.LoadEnd)
}

// CommandConditions is RunConditions for one scenario's command (`strata
// bench write`, `lookup`, `scan`) that started at started on machine m
// (DescribeMachine then) and ends now.
func CommandConditions(started time.Time, command string, m Machine) string {
	return conditions(started.UTC(), time.Since(started).Seconds(), "`"+command+"`", m, loadAverage())
}

func conditions(started time.Time, seconds float64, what string, m Machine, loadEnd string) string {
	rev := orUnknown(m.GitRevision)
	if base, dirty, _ := strings.Cut(rev, "-"); len(base) > 12 {
		rev = base[:12]
		if dirty != "" {
			rev += "-" + dirty
		}
	}
	return fmt.Sprintf("Run %s, %s, %s. Machine: %s, %d cores (GOMAXPROCS %d), %s memory, %s; %s; git %s. "+
		"Load average (1, 5, 15 min): %s at the start, %s at the end.",
		started.Format("2006-01-02 15:04 UTC"), what, time.Duration(seconds*float64(time.Second)).Round(time.Second),
		orUnknown(m.CPU), m.Cores, m.GOMAXPROCS, bytesStr(m.MemoryBytes), m.OS, m.GoVersion, rev, orUnknown(m.Load), orUnknown(loadEnd))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// SummaryMarkdown is the summary table: every headline figure of Strata's
// next to its baseline's, measured in the same run, and their ratio.
func SummaryMarkdown(rep *AllReport) string {
	var b strings.Builder
	b.WriteString("Ratio = Strata ÷ baseline, both measured in this run: for rates (/s) above 1× favours Strata, " +
		"for times, latencies, sizes and write amplification below 1× does.\n\n")
	b.WriteString("| scenario | metric | Strata | baseline | ratio |\n|---|---|---:|---|---:|\n")
	for _, r := range rep.Summary {
		base := r.Baseline + " " + unitStr(r.Unit, r.BaselineValue)
		ratioCell := "–"
		if r.Skipped != "" {
			base = r.Baseline + ": skipped (" + r.Skipped + ")"
		} else if r.Ratio > 0 {
			ratioCell = fmt.Sprintf("%.2f×", r.Ratio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Scenario, r.Metric, unitStr(r.Unit, r.Strata), mdCell(base), ratioCell)
	}
	return b.String()
}

// unitStr renders a value in its unit.
func unitStr(unit string, v float64) string {
	switch unit {
	case "µs":
		return latStr(v)
	case "s":
		return secStr(v)
	case "B":
		return bytesStr(int64(v))
	case "×":
		return fmt.Sprintf("%.2f", v)
	case "MB/s":
		return fmt.Sprintf("%.1f MB/s", v)
	}
	return rateStr(v) + " " + unit
}

// secStr renders seconds with three significant digits.
func secStr(s float64) string {
	if s < 1 {
		return latStr(s * 1e6)
	}
	return fmt.Sprintf("%.3g s", s)
}

// mdCell keeps text inside one Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// writeDetails renders every step's full figures.
func writeDetails(b *strings.Builder, rep *AllReport) {
	if rep.Write != nil {
		fmt.Fprintf(b, "## Write\n\n```text\n%s```\n\n", rep.Write.Text())
		writeVariants(b, rep)
	}
	if rep.Lookup != nil {
		b.WriteString(demote(LookupMarkdown(rep.Lookup)))
	}
	if rep.Scan != nil {
		b.WriteString(demote(ScanMarkdown(rep.Scan)))
	}
	if p := rep.Plan; p != nil {
		fmt.Fprintf(b, "## Scan planning\n\n%s live files in %s (%s), %d partitions × %d buckets, built in %.1f s; "+
			"each plan by a freshly opened table (no manifest decoded yet); seconds per run, %d runs after a warm-up.\n\n",
			count(int64(p.Config.Files)), plural(p.Manifests, "manifest"), bytesStr(p.ManifestBytes), planPartitions, planBuckets, p.BuildSeconds, p.Config.Runs)
		b.WriteString("| | best | median | count |\n|---|---:|---:|---:|\n")
		for _, f := range []struct {
			name string
			fig  PlanFigure
		}{{"decode every manifest (baseline; entries)", p.Decode}, {"plan the whole table (splits)", p.All}, {"plan one partition (splits)", p.Partition}} {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", f.name, secStr(f.fig.Best), secStr(f.fig.Median), count(int64(f.fig.Count)))
		}
		b.WriteString("\n")
	}
	if c := rep.Compact; c != nil {
		writeCompactDetails(b, c)
	}
	if m := rep.Maintain; m != nil {
		writeMaintainDetails(b, m)
	}
	if rep.Java != nil {
		fmt.Fprintf(b, "## Java Paimon peer figures\n\n%s\n", rep.Java.Markdown())
	}
}

func writeCompactDetails(b *strings.Builder, c *CompactReport) {
	fmt.Fprintf(b, "## Compaction\n\n%s upserts of %d-byte rows (%s keys) in %d buckets, written in %d commits "+
		"(pebble: %d flushes) and compacted fully.\n\n", count(int64(c.Config.Rows)), rowBytes, count(c.Config.KeySpace),
		c.Config.Buckets, c.Config.Runs, c.Config.Runs)
	b.WriteString("| engine | load | runs before | files before → after | compaction | rows/s | bytes written |\n|---|---:|---:|---|---:|---:|---:|\n")
	for _, f := range []CompactFigure{c.Strata, c.Pebble} {
		fmt.Fprintf(b, "| %s | %s | %d | %d → %d | %s | %s | %s |\n", f.Engine, secStr(f.LoadSeconds), f.RunsBefore,
			f.FilesBefore, f.FilesAfter, secStr(f.Seconds), rateStr(f.RowsPerSec), bytesStr(f.BytesWritten))
	}
	b.WriteString("\n")
}

func writeMaintainDetails(b *strings.Builder, m *MaintainReport) {
	c := m.Config
	fmt.Fprintf(b, "## Maintenance\n\n%d commits of %s upserts into a write-only table of %d buckets (loaded in %s), "+
		"%d orphan files; %d files before the job.%s\n\n", c.Snapshots, count(int64(c.RowsPerCommit)), c.Buckets,
		secStr(m.LoadSeconds), c.Orphans, m.FilesBefore, roundsNote(c.Rounds))
	b.WriteString("| step | Strata | files | baseline | baseline time | ratio |\n|---|---:|---:|---|---:|---:|\n")
	for _, s := range []struct {
		name string
		st   MaintainStep
	}{{"full compaction", m.Compact}, {"expire", m.Expire}, {"orphan cleaning", m.Orphans}} {
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s |\n", s.name, secStr(s.st.Seconds), s.st.Files, s.st.Baseline,
			secStr(s.st.BaselineSeconds), ratio(s.st.Seconds, s.st.BaselineSeconds))
	}
	strata, base := m.Total()
	fmt.Fprintf(b, "| all three | %s | | | %s | %s |\n\n", secStr(strata), secStr(base), ratio(strata, base))
}

// demote turns a scenario report's headings into subsections.
func demote(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	return strings.Join(lines, "\n")
}

// writeVariants renders the write variants next to the same run's
// defaults and pebble.
func writeVariants(b *strings.Builder, rep *AllReport) {
	if len(rep.WriteVariants) == 0 {
		return
	}
	p, s := rep.Write.Pebble, rep.Write.Strata
	b.WriteString("The same stream into Strata's table with other table options (pebble as above):\n\n")
	b.WriteString("| Strata's table options | upserts/s | ÷ pebble | ÷ the defaults | CPU s | write amplification | peak RSS |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	line := func(name string, r WriteResult) {
		fmt.Fprintf(b, "| %s | %s | %.2f× | %.2f× | %.1f | %.2f | %s |\n", mdCell(name), count(int64(r.RowsPerSec)),
			ratioOf(r.RowsPerSec, p.RowsPerSec), ratioOf(r.RowsPerSec, s.RowsPerSec), r.CPUSeconds, r.WriteAmp, bytesStr(r.PeakRSS))
	}
	line("the defaults", s)
	for _, v := range rep.WriteVariants {
		var kv []string
		for i := 0; i+1 < len(v.Options); i += 2 {
			kv = append(kv, v.Options[i]+"="+v.Options[i+1])
		}
		line(strings.Join(kv, ", "), v.Strata)
	}
	b.WriteString("\n")
}

// roundsNote says that the maintenance times are medians, when they are.
func roundsNote(rounds int) string {
	if rounds <= 1 {
		return ""
	}
	return fmt.Sprintf(" Each time is the median of %d rounds, each on a fresh copy of the table.", rounds)
}
