package table

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

// The in-place bucket hash of integer keys is the hash of the key's
// BinaryRow, nulls and extremes included.
func TestBucketHasherMatchesBinaryRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		typ spec.DataType
		col func() arrow.Array
	}{
		{spec.BigIntType, func() arrow.Array {
			b := array.NewInt64Builder(memory.DefaultAllocator)
			b.AppendValues([]int64{0, -1, math.MaxInt64, math.MinInt64, 42}, nil)
			b.AppendNull()
			for range 1000 {
				b.Append(rng.Int64())
			}
			return b.NewArray()
		}},
		{spec.IntType, func() arrow.Array {
			b := array.NewInt32Builder(memory.DefaultAllocator)
			b.AppendValues([]int32{0, -1, math.MaxInt32, math.MinInt32}, nil)
			b.AppendNull()
			for range 1000 {
				b.Append(int32(rng.Uint32()))
			}
			return b.NewArray()
		}},
	} {
		col := tc.col()
		bk := &bucketKey{idx: []int{0}, types: []spec.DataType{tc.typ}, buckets: 7}
		fast := newBucketHasher(bk, []arrow.Array{col})
		for r := range col.Len() {
			var v any
			if col.IsValid(r) {
				switch c := col.(type) {
				case *array.Int64:
					v = c.Value(r)
				case *array.Int32:
					v = c.Value(r)
				}
			}
			row, err := spec.EncodeBinaryRow(bk.types, spec.Row{v}, spec.RowKindInsert)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fast(r)
			if err != nil {
				t.Fatal(err)
			}
			if want := spec.HashBinaryRow(row); got != want {
				t.Fatalf("%s row %d (%v): hash %d, want %d", tc.typ, r, v, got, want)
			}
		}
		col.Release()
	}
}
