package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// BenchmarkWriteUpserts writes 150-byte upserts over a 10M-key space into a
// 4-bucket table with compaction on, committing every 100k rows: through
// Write in Arrow record batches of 1,024 rows (cut at commits), and row by
// row through WriteRow. It reports rows/s and write amplification (bytes of
// the data files live at the end per byte of input rows).
func BenchmarkWriteUpserts(b *testing.B) {
	b.Run("arrow", func(b *testing.B) { benchmarkWriteUpserts(b, true) })
	b.Run("rows", func(b *testing.B) { benchmarkWriteUpserts(b, false) })
}

func benchmarkWriteUpserts(b *testing.B, arrow bool) {
	const (
		rowBytes    = 150
		batchRows   = 1024
		commitEvery = 100_000
	)
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
	asc, err := arrowconv.Schema(fields)
	if err != nil {
		b.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	defer rb.Release()
	cols := rb.Fields()
	flush := func() {
		if cols[0].Len() == 0 {
			return
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		if err := w.Write(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	payload := "................................................................................"
	var account []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := rng.Int64N(10_000_000)
		account = fmt.Appendf(account[:0], "acct-%08d", id%1000000)
		amount, risk := rng.Float64()*1000, rng.Float64()
		if arrow {
			cols[0].(*array.Int64Builder).Append(id)
			cols[1].(*array.StringBuilder).BinaryBuilder.Append(account)
			cols[2].(*array.Float64Builder).Append(amount)
			cols[3].(*array.StringBuilder).Append("EUR")
			cols[4].(*array.StringBuilder).Append("merchant-42")
			cols[5].(*array.Float64Builder).Append(risk)
			cols[6].(*array.StringBuilder).Append(payload)
			if cols[0].Len() == batchRows {
				flush()
			}
		} else {
			row := spec.Row{id, string(account), amount, "EUR", "merchant-42", risk, payload}
			if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
				b.Fatal(err)
			}
		}
		if (i+1)%commitEvery == 0 || i+1 == b.N {
			flush()
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
