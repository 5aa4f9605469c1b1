package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Comparing runs: does a run (typically --quick) reproduce another's
// ratios (the full run BENCHMARKS.md quotes)? A ratio's noise is what the
// runs compared show of it: each ratio of the reference must lie within
// the runs' range widened by their own spread (the largest over the
// smallest), and at least by MinNoise, this machine's run-to-run noise
// for steady figures. One run alone is widened by MinNoise only.

// MinNoise is the least relative widening of the runs' range: the
// run-to-run noise of steady figures (throughput, sizes) on the project's
// shared 2-core machine.
const MinNoise = 1.15

// ReadAllReport reads a run's results.json.
func ReadAllReport(path string) (*AllReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep AllReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: not a strata bench results.json: %w", path, err)
	}
	if rep.Sizes == "" {
		// Written before runs named their sizes: "quick", or the full
		// run, whose sizes were --large's then.
		var old struct {
			Quick bool `json:"quick"`
		}
		if json.Unmarshal(b, &old) == nil {
			rep.Sizes = SizesLarge
			if old.Quick {
				rep.Sizes = SizesQuick
			}
		}
	}
	if len(rep.Summary) == 0 {
		return nil, fmt.Errorf("%s: no summary rows (not a strata bench results.json, or every step failed)", path)
	}
	return &rep, nil
}

// ComparedRow is one reference ratio next to the runs' ratios of the same
// figure.
type ComparedRow struct {
	SummaryRow
	// Runs are the runs' ratios of the same figure (0: not measured there).
	Runs []float64 `json:"runs"`
	// Low and High bound the ratios that count as reproduced.
	Low, High float64
	// Within says the reference ratio lies in [Low, High]; Missing that no
	// run measured the figure.
	Within, Missing bool
}

// CompareRuns compares each of ref's ratios with the same figure's in
// runs: scenario, metric and baseline must match (the same sizes).
func CompareRuns(ref *AllReport, runs []*AllReport) []ComparedRow {
	type key struct{ scenario, metric, baseline string }
	byKey := make([]map[key]float64, len(runs))
	for i, r := range runs {
		byKey[i] = map[key]float64{}
		for _, s := range r.Summary {
			byKey[i][key{s.Scenario, s.Metric, s.Baseline}] = s.Ratio
		}
	}
	var out []ComparedRow
	for _, s := range ref.Summary {
		if s.Ratio == 0 {
			continue
		}
		row := ComparedRow{SummaryRow: s, Runs: make([]float64, len(runs))}
		lo, hi := 0.0, 0.0
		for i := range runs {
			v := byKey[i][key{s.Scenario, s.Metric, s.Baseline}]
			row.Runs[i] = v
			if v <= 0 {
				continue
			}
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
		if hi == 0 {
			row.Missing = true
			out = append(out, row)
			continue
		}
		widen := max(MinNoise, hi/lo)
		row.Low, row.High = lo/widen, hi*widen
		row.Within = s.Ratio >= row.Low && s.Ratio <= row.High
		out = append(out, row)
	}
	return out
}

// CompareMarkdown renders the comparison as a Markdown table headed by
// the runs' names, and a line counting the ratios reproduced.
func CompareMarkdown(rows []ComparedRow, refName string, runNames []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | metric | baseline | %s | %s | reproduced within |\n|---|---|---|---:|", mdCell(refName),
		mdCell(strings.Join(runNames, " / ")))
	b.WriteString("---|---|\n")
	within, measured := 0, 0
	for _, r := range rows {
		runs := make([]string, len(r.Runs))
		for i, v := range r.Runs {
			runs[i] = "-"
			if v > 0 {
				runs[i] = fmt.Sprintf("%.3f×", v)
			}
		}
		verdict := "not measured"
		switch {
		case r.Missing:
		case r.Within:
			verdict = fmt.Sprintf("yes (%.3f×–%.3f×)", r.Low, r.High)
		default:
			verdict = fmt.Sprintf("**no** (%.3f×–%.3f×)", r.Low, r.High)
		}
		if !r.Missing {
			measured++
			if r.Within {
				within++
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.3f× | %s | %s |\n", mdCell(r.Scenario), mdCell(r.Metric), mdCell(r.Baseline),
			r.Ratio, strings.Join(runs, " / "), verdict)
	}
	fmt.Fprintf(&b, "\n%d of %d ratios of %s reproduced within noise (each within the runs' range widened by their own spread, at least %.0f%%)",
		within, measured, refName, (MinNoise-1)*100)
	if missing := len(rows) - measured; missing > 0 {
		fmt.Fprintf(&b, "; %d not measured by any run", missing)
	}
	b.WriteString(".\n")
	return b.String()
}
