package bench

import (
	"context"
	"testing"
)

// BenchmarkWriteStrata is the `strata bench write` scenario for Strata alone
// (b.N rows), for profiling.
func BenchmarkWriteStrata(b *testing.B) {
	res, err := RunWriteStrata(context.Background(), WriteConfig{Rows: b.N, KeySpace: 10_000_000, Buckets: 4,
		CommitEvery: 100_000, Dir: b.TempDir(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.RowsPerSec, "rows/s")
	b.ReportMetric(res.WriteAmp, "write-amp")
}

// The scenario runs end to end on a small scale, both engines.
func TestRunWriteSmall(t *testing.T) {
	s, p, err := RunWrite(context.Background(), WriteConfig{Rows: 20_000, KeySpace: 5_000, Buckets: 2, CommitEvery: 5_000, Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 20_000 || p.Rows != 20_000 || s.BytesWritten <= 0 || p.BytesWritten <= 0 || s.WriteAmp <= 0 {
		t.Fatalf("results %+v %+v", s, p)
	}
}
