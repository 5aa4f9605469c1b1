package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Rounds run the scenario again on a fresh table each; the report keeps
// each time's median.
func TestRunMaintainRounds(t *testing.T) {
	var progress bytes.Buffer
	cfg := MaintainConfig{Snapshots: 3, RowsPerCommit: 100, Buckets: 2, KeySpace: 1000, Orphans: 2, Rounds: 3, Seed: 1,
		Dir: t.TempDir(), Progress: &progress}
	rep, err := RunMaintain(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "round 3 of 3") {
		t.Errorf("progress:\n%s", progress.String())
	}
	if rep.Orphans.Files != 2 || rep.Compact.Seconds <= 0 || rep.Expire.BaselineSeconds <= 0 {
		t.Errorf("report %+v", rep)
	}
	step := func(s, b float64) MaintainStep { return MaintainStep{Seconds: s, BaselineSeconds: b} }
	reps := []*MaintainReport{
		{LoadSeconds: 3, Compact: step(9, 1), Expire: step(1, 7), Orphans: step(5, 5), FilesBefore: 10},
		{LoadSeconds: 1, Compact: step(2, 3), Expire: step(3, 8), Orphans: step(4, 6), FilesBefore: 11},
		{LoadSeconds: 2, Compact: step(4, 2), Expire: step(2, 9), Orphans: step(6, 4), FilesBefore: 12},
	}
	m := medianReport(reps)
	if m.LoadSeconds != 2 || m.Compact != step(4, 2) || m.Expire != step(2, 8) || m.Orphans != step(5, 5) || m.FilesBefore != 10 {
		t.Errorf("median %+v", m)
	}
}
