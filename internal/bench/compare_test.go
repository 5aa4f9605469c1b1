package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reference ratio is reproduced when it lies within the runs' range
// widened by their spread, at least by MinNoise; a figure no run measured
// says so; a steady figure outside the band is not reproduced.
func TestCompareRuns(t *testing.T) {
	row := func(scn string, ratio float64) SummaryRow {
		return SummaryRow{Scenario: scn, Metric: "m", Baseline: "b", Ratio: ratio, Strata: ratio, BaselineValue: 1}
	}
	ref := &AllReport{Summary: []SummaryRow{row("steady", 1.0), row("off", 1.5), row("tail", 3.0), row("gone", 1.0), row("skipped", 0)}}
	runs := []*AllReport{
		{Summary: []SummaryRow{row("steady", 0.9), row("off", 1.0), row("tail", 1.0)}},
		{Summary: []SummaryRow{row("steady", 0.95), row("off", 1.1), row("tail", 2.0)}},
	}
	got := map[string]ComparedRow{}
	for _, r := range CompareRuns(ref, runs) {
		got[r.Scenario] = r
	}
	if _, ok := got["skipped"]; ok {
		t.Errorf("a reference row without a ratio was compared")
	}
	for scn, want := range map[string]bool{"steady": true, "off": false, "tail": true} {
		if r := got[scn]; r.Within != want || r.Missing {
			t.Errorf("%s: %+v, want within=%v", scn, r, want)
		}
	}
	// The tail's runs spread 2×: its band is [1/2, 2×2].
	if r := got["tail"]; r.Low != 0.5 || r.High != 4 {
		t.Errorf("tail band [%v, %v], want [0.5, 4]", r.Low, r.High)
	}
	if r := got["gone"]; !r.Missing {
		t.Errorf("gone: %+v, want missing", r)
	}
	md := CompareMarkdown(CompareRuns(ref, runs), "full", []string{"q1", "q2"})
	for _, want := range []string{"| steady | m | b | 1.000× | 0.900× / 0.950× | yes (0.783×–1.092×)", "| off | m | b | 1.500× | 1.000× / 1.100× | **no** (0.870×–1.265×)",
		"| gone | m | b | 1.000× | - / - | not measured |", "2 of 3 ratios of full reproduced", "; 1 not measured by any run."} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// ReadAllReport reads what WriteAllReport wrote and refuses other JSON.
func TestReadAllReport(t *testing.T) {
	dir := t.TempDir()
	rep := &AllReport{Command: "strata bench", Sizes: SizesQuick, Summary: []SummaryRow{{Scenario: "s", Metric: "m", Ratio: 2}}}
	if err := WriteAllReport(dir, rep); err != nil {
		t.Fatal(err)
	}
	back, err := ReadAllReport(filepath.Join(dir, ResultsFile))
	if err != nil || back.Sizes != SizesQuick || len(back.Summary) != 1 || back.Summary[0].Ratio != 2 {
		t.Fatalf("read back %+v: %v", back, err)
	}
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte(`{"rows": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAllReport(other); err == nil || !strings.Contains(err.Error(), "no summary rows") {
		t.Errorf("other JSON: %v", err)
	}
	// A results.json from before runs named their sizes: its "quick" says.
	for quick, want := range map[bool]Sizes{true: SizesQuick, false: SizesLarge} {
		old := filepath.Join(dir, "old.json")
		body := fmt.Sprintf(`{"quick": %v, "summary": [{"scenario": "s", "metric": "m", "ratio": 2}]}`, quick)
		if err := os.WriteFile(old, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if r, err := ReadAllReport(old); err != nil || r.Sizes != want {
			t.Errorf("quick=%v: sizes %q (%v), want %q", quick, r.Sizes, err, want)
		}
	}
	if _, err := ReadAllReport(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file read")
	}
}
