package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// BenchmarkWriteUpserts writes 150-byte upserts over a 10M-key space into a
// 4-bucket table with compaction on, committing every 100k rows. It reports
// rows/s and write amplification (bytes written to data files per byte of
// input rows).
func BenchmarkWriteUpserts(b *testing.B) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, account STRING, amount DOUBLE, currency STRING, merchant STRING, risk_score DOUBLE, payload STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "4", "target-file-size", "16 mb"), nil)
	tb, err := Create(ctx, fs, "bench.db/t", sc)
	if err != nil {
		b.Fatal(err)
	}
	w, err := tb.NewWrite(ctx, WithWaitCompaction(false))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	payload := "................................................................................"
	const rowBytes = 150
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := rng.Int64N(10_000_000)
		row := spec.Row{id, fmt.Sprintf("acct-%08d", id%1000000), rng.Float64() * 1000, "EUR", "merchant-42", rng.Float64(), payload}
		if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
			b.Fatal(err)
		}
		if (i+1)%100_000 == 0 {
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tb.NewCommit("bench").Commit(ctx, int64(i), msgs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	var written int64
	infos, _ := fs.List(ctx, "bench.db/t", true)
	for _, fi := range infos {
		if len(fi.Path) > 8 && fi.Path[len(fi.Path)-8:] == ".parquet" {
			written += fi.Size
		}
	}
	b.ReportMetric(float64(written)/float64(int64(b.N)*rowBytes), "write-amp")
}
