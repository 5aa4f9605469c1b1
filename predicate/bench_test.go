package predicate

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// BenchmarkFilter measures Filter over a 64k-row batch of a BIGINT, a
// DOUBLE, a STRING and a DECIMAL column with some nulls, per filter.
func BenchmarkFilter(b *testing.B) {
	fields, _ := spec.ParseColumns("id BIGINT, score DOUBLE, name STRING, amount DECIMAL(12, 2)")
	bld, _ := arrowconv.NewBuilder(memory.DefaultAllocator, fields)
	const n = 1 << 16
	for i := 0; i < n; i++ {
		row := spec.Row{int64(i), float64(i%1000) / 10, fmt.Sprintf("name-%05d", i%5000), spec.NewDecimal(int64(i%100000), 2)}
		if i%17 == 0 {
			row[1], row[2] = nil, nil
		}
		if err := bld.Append(row); err != nil {
			b.Fatal(err)
		}
	}
	rec := bld.NewBatch()
	defer rec.Release()
	for _, where := range []string{
		"id < 30000",
		"score >= 50.5",
		"name = 'name-00042'",
		"name LIKE 'name-001%'",
		"amount > 500.00",
		"id IN (1, 5, 9, 100, 1000) OR score < 1 AND name IS NOT NULL",
	} {
		p, err := Parse(where, fields)
		if err != nil {
			b.Fatal(err)
		}
		bound, err := Bind(p, fields)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(where, func(b *testing.B) {
			var sel []bool
			for i := 0; i < b.N; i++ {
				if sel, err = bound.Filter(rec, sel); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}
