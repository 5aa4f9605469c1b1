package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stratalake/strata/spec"
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

// The baselines' timed reads decode their stored values; decodeRow must
// give back the rows encodeRow stored, and refuse bytes cut short.
func TestDecodeRowReversesEncodeRow(t *testing.T) {
	ds := newDataset(200, 1000, 3, 10)
	err := ds.generate(func(_ int, _ int64, row spec.Row) error {
		b := encodeRow(row)
		got, err := decodeRow(b)
		if err != nil {
			return err
		}
		if !bytes.Equal(encodeRow(got), b) {
			return fmt.Errorf("row %v decoded as %v", row, got)
		}
		if _, err := decodeRow(b[:len(b)-1]); err == nil {
			return fmt.Errorf("row %v: a value cut short decoded", row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
