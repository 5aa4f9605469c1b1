package bench

import (
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
	for _, want := range []string{"| steady | m | b | 1.00× | 0.90× / 0.95× | yes (", "| off | m | b | 1.50× | 1.00× / 1.10× | **no** (",
		"| gone | m | b | 1.00× | - / - | not measured |", "2 of 3 ratios of full reproduced"} {
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
	if _, err := ReadAllReport(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file read")
	}
}
