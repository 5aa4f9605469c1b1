package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stratalake/strata/spec"
)

// benchFields is a typical primary-key table: a BIGINT key and about 150
// bytes of values per row.
var benchFields = KVFields(
	[]spec.DataField{{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()}},
	[]spec.DataField{
		{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 1, Name: "name", Type: spec.StringType},
		{ID: 2, Name: "category", Type: spec.StringType},
		{ID: 3, Name: "amount", Type: spec.DoubleType},
		{ID: 4, Name: "ts", Type: spec.TimestampType(3)},
		{ID: 5, Name: "note", Type: spec.StringType},
	},
)

var categories = []string{"books", "games", "garden", "music", "tools", "toys"}

// benchRows returns n rows of ~150 bytes of payload each.
func benchRows(n int) []spec.Row {
	rows := make([]spec.Row, n)
	for i := range rows {
		id := int64(i)
		rows[i] = spec.Row{
			id, id, int8(0), id,
			fmt.Sprintf("customer-%010d", i*7919%1000003),
			categories[i%len(categories)],
			float64(i%10000) / 100,
			spec.Timestamp{Millis: 1_700_000_000_000 + id},
			fmt.Sprintf("note %08d: the quick brown fox jumps over the lazy dog, again and again %04d", i, i%977),
		}
	}
	return rows
}

// rowBytes is the in-memory payload of rows: 8 bytes per fixed-width value,
// the length of strings. Benchmarks report MB/s of it.
func rowBytes(rows []spec.Row) int64 {
	var n int64
	for _, r := range rows {
		for _, v := range r {
			switch x := v.(type) {
			case string:
				n += int64(len(x))
			case int8:
				n++
			default:
				n += 8
			}
		}
	}
	return n
}

type discardCounter struct{ n int64 }

func (c *discardCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite1M writes one million ~150-byte rows per iteration.
func BenchmarkWrite1M(b *testing.B) {
	const n = 1_000_000
	rows := benchRows(n)
	payload := rowBytes(rows)
	for _, c := range []struct {
		name string
		opt  Compression
		dict bool
	}{
		{"zstd", CompressionZstd, true},
		// lsm's default: parquet.enable.dictionary is off.
		{"zstd-nodict", CompressionZstd, false},
		{"snappy", CompressionSnappy, true},
		{"none", CompressionNone, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(payload)
			var size int64
			for b.Loop() {
				out := new(discardCounter)
				w, err := NewWriter(out, benchFields, WithCompression(c.opt), WithDictionary(c.dict))
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < n; i += 4096 {
					if err := w.Write(rows[i:min(i+4096, n)]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = out.n
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(size), "file-bytes")
		})
	}
}

// BenchmarkRead1M reads back one million rows, all columns and a projection.
func BenchmarkRead1M(b *testing.B) {
	const n = 1_000_000
	var buf bytes.Buffer
	w, err := NewWriter(&buf, benchFields)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Write(benchRows(n)); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, c := range []struct {
		name   string
		fields []spec.DataField
	}{{"all", benchFields}, {"key+seq", benchFields[:2]}} {
		b.Run("arrow/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f, err := Open(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				count := int64(0)
				for batch, err := range f.ReadBatches(context.Background(), BatchRequest{Fields: c.fields}) {
					if err != nil {
						b.Fatal(err)
					}
					count += batch.Rec.NumRows()
					batch.Rec.Release()
				}
				if count != n {
					b.Fatalf("read %d rows", count)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run("rows/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f, err := Open(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				count := 0
				for _, err := range f.ReadRows(c.fields) {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if count != n {
					b.Fatalf("read %d rows", count)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

var _ io.Writer = (*discardCounter)(nil)
