package textrow

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

var benchFields = []spec.DataField{
	field("id", spec.BigIntType.NotNull()),
	field("name", spec.StringType),
	field("score", spec.DoubleType),
	field("ts", spec.TimestampType(3)),
	field("ok", spec.BooleanType),
}

func benchInput(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","score":%d.5,"ts":"2024-01-31T12:00:%02d","ok":true}`+"\n", i, i, i%1000, i%60)
	}
	return b.Bytes()
}

func benchCSVInput(n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,score,ts,ok\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,user-%d,%d.5,2024-01-31T12:00:%02d,true\n", i, i, i%1000, i%60)
	}
	return b.Bytes()
}

// BenchmarkJSONDecoder reports rows/s for small rows; the write path wants
// more than 300k rows/s per core.
func BenchmarkJSONDecoder(b *testing.B) {
	in := benchInput(10000)
	b.SetBytes(int64(len(in)) / 10000)
	b.ReportAllocs()
	var d *JSONDecoder
	for i := 0; i < b.N; i++ {
		if i%10000 == 0 {
			d = NewJSONDecoder(bytes.NewReader(in), benchFields)
		}
		if _, _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVDecoder(b *testing.B) {
	in := benchCSVInput(10000)
	b.ReportAllocs()
	var d *CSVDecoder
	for i := 0; i < b.N; i++ {
		if i%10000 == 0 {
			d = NewCSVDecoder(bytes.NewReader(in), benchFields)
		}
		if _, _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkJSONEncoder(b *testing.B) {
	row := spec.Row{int64(12345), "user-12345", 12.5, spec.Timestamp{Millis: 1706702400000}, true}
	e := NewJSONEncoder(io.Discard, benchFields)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := e.Write(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// ingestFields are the columns of `strata bench write`'s rows.
var ingestFields = []spec.DataField{
	field("id", spec.BigIntType.NotNull()),
	field("account", spec.StringType),
	field("amount", spec.DoubleType),
	field("currency", spec.StringType),
	field("merchant", spec.StringType),
	field("risk_score", spec.DoubleType),
	field("note", spec.StringType),
}

// ingestInput makes n JSON lines of about 200 bytes in the shape:
// {"id":123,"account":"acct-0000123","amount":1234.56,"currency":"EUR",
// "merchant":"merchant-042","risk_score":0.123,"note":"<99 random chars>"}.
func ingestInput(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b bytes.Buffer
	var note [99]byte
	for i := range n {
		for j := range note {
			note[j] = letters[rng.IntN(len(letters))]
		}
		fmt.Fprintf(&b, `{"id":%d,"account":"acct-%07d","amount":%d.%02d,"currency":"EUR","merchant":"merchant-%03d","risk_score":0.%03d,"note":"%s"}`+"\n",
			i, i%10_000_000, rng.IntN(10000), rng.IntN(100), rng.IntN(1000), rng.IntN(1000), note[:])
	}
	return b.Bytes()
}

// BenchmarkJSONBatchDecoder reports rows/s of JSON Lines into Arrow
// batches, for the ingest rows above; issue 12 wants well over 1M rows/s
// per core. BenchmarkJSONIngestRows is the row decoder on the same input.
func BenchmarkJSONBatchDecoder(b *testing.B) {
	in := ingestInput(100_000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	rows, cpu := 0, cpuTime()
	for b.Loop() {
		d, err := NewJSONBatchDecoder(bytes.NewReader(in), ingestFields)
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := d.Next(0)
			if batch != nil {
				rows += batch.Len()
				batch.Release()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		d.Release()
	}
	reportRows(b, rows, cpu)
}

func BenchmarkJSONIngestRows(b *testing.B) {
	in := ingestInput(100_000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	rows, cpu := 0, cpuTime()
	for b.Loop() {
		d := NewJSONDecoder(bytes.NewReader(in), ingestFields)
		for {
			_, _, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	reportRows(b, rows, cpu)
}

// BenchmarkCSVBatchDecoder is BenchmarkJSONBatchDecoder's rows as CSV.
func BenchmarkCSVBatchDecoder(b *testing.B) {
	var csv bytes.Buffer
	e := NewCSVEncoder(&csv, ingestFields)
	d := NewJSONDecoder(bytes.NewReader(ingestInput(100_000)), ingestFields)
	for {
		row, _, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil || e.Write(row) != nil {
			b.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	in := csv.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	rows, cpu := 0, cpuTime()
	for b.Loop() {
		d, err := NewCSVBatchDecoder(bytes.NewReader(in), ingestFields)
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := d.Next(0)
			if batch != nil {
				rows += batch.Len()
				batch.Release()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		d.Release()
	}
	reportRows(b, rows, cpu)
}

// reportRows reports rows per second of wall time and per CPU second
// (all threads, the garbage collector's included) since cpu.
func reportRows(b *testing.B, rows int, cpu time.Duration) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(rows)/used.Seconds(), "rows/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}
