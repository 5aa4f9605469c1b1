package arrowconv

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

var gatherSeed = flag.Uint64("gather.seed", 0, "replay TestGather with this seed")

// TestGather checks Gather against Value on random picks from several
// sources of every kind of column, sliced sources and nulls included.
func TestGather(t *testing.T) {
	seed := *gatherSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -gather.seed)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	intT := spec.IntType
	fields := []spec.DataField{
		{ID: 0, Name: "i64", Type: spec.BigIntType},
		{ID: 1, Name: "i8", Type: spec.TinyIntType},
		{ID: 2, Name: "b", Type: spec.BooleanType},
		{ID: 3, Name: "s", Type: spec.StringType},
		{ID: 4, Name: "bin", Type: spec.BytesType},
		{ID: 5, Name: "d", Type: spec.DecimalType(20, 2)},
		{ID: 6, Name: "ts", Type: spec.TimestampType(6)},
		{ID: 7, Name: "arr", Type: spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &intT}},
		{ID: 8, Name: "f", Type: spec.DoubleType},
	}
	value := func(i int) any {
		if rng.IntN(5) == 0 {
			return nil
		}
		switch i {
		case 0:
			return rng.Int64()
		case 1:
			return int8(rng.IntN(256) - 128)
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return string(make([]byte, rng.IntN(20)))
		case 4:
			return []byte{byte(rng.IntN(256)), 1}
		case 5:
			return spec.NewDecimal(rng.Int64N(1e9), 2)
		case 6:
			return spec.Timestamp{Millis: rng.Int64N(1e12), NanoOfMilli: int32(rng.IntN(1000)) * 1000}
		case 7:
			return []any{int32(rng.IntN(9)), nil}
		default:
			return rng.Float64()
		}
	}
	b, err := NewBuilder(mem, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	var srcs []arrow.RecordBatch
	for range 1 + rng.IntN(4) {
		for range 1 + rng.IntN(50) {
			row := make(spec.Row, len(fields))
			for i := range row {
				row[i] = value(i)
			}
			if err := b.Append(row); err != nil {
				t.Fatal(err)
			}
		}
		rec := b.NewBatch()
		if rec.NumRows() > 2 && rng.IntN(2) == 0 { // a slice: offsets not zero
			s := rec.NewSlice(1, rec.NumRows()-1)
			rec.Release()
			rec = s
		}
		srcs = append(srcs, rec)
	}
	defer func() {
		for _, r := range srcs {
			r.Release()
		}
	}()
	picks := make([]Pick, rng.IntN(200))
	for i := range picks {
		s := rng.IntN(len(srcs))
		picks[i] = Pick{Src: uint32(s), Row: uint32(rng.Int64N(srcs[s].NumRows()))}
	}
	for c, f := range fields {
		cols := make([]arrow.Array, len(srcs))
		for i, r := range srcs {
			cols[i] = r.Column(c)
		}
		got, err := Gather(mem, cols, picks)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if got.Len() != len(picks) {
			t.Fatalf("%s: %d rows, want %d", f.Name, got.Len(), len(picks))
		}
		for i, p := range picks {
			want, err := Value(cols[p.Src], int(p.Row), f.Type)
			if err != nil {
				t.Fatal(err)
			}
			have, err := Value(got, i, f.Type)
			if err != nil {
				t.Fatal(err)
			}
			if spec.CompareValues(want, have) != 0 || (want == nil) != (have == nil) {
				t.Fatalf("%s row %d (source %d row %d): %v, want %v", f.Name, i, p.Src, p.Row, have, want)
			}
		}
		got.Release()
	}
}
