package textrow

import (
	"bytes"
	"fmt"
	"io"
	"testing"

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
