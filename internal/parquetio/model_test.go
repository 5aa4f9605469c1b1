package parquetio

import (
	"flag"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

var writeSeed = flag.Uint64("write.seed", 0, "TestWriteModel: replay this seed (0: from the clock)")

// TestWriteModel writes random rows of every type, nested ones full of
// nulls, empty collections and null vectors, in random batch sizes, and
// reads them back with this package's reader, whose level assembly shares
// no code with the writer's.
func TestWriteModel(t *testing.T) {
	seed := *writeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -write.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	fields := allTypes()
	for round := range 5 {
		rows := make([]spec.Row, rng.IntN(3000))
		for i := range rows {
			rows[i] = make(spec.Row, len(fields))
			for j, f := range fields {
				rows[i][j] = randValue(rng, f.Type, 0)
			}
		}
		var opts []Option
		if rng.IntN(2) == 0 {
			opts = append(opts, WithRowGroupSize(int64(1+rng.IntN(64<<10))), WithPageSize(1+rng.IntN(8<<10)))
		}
		opts = append(opts, WithDictionary(rng.IntN(2) == 0))
		got := readAll(t, openBytes(t, writeFile(t, fields, rows, opts...)), fields)
		if len(got) != len(rows) {
			t.Fatalf("round %d: read %d rows, want %d", round, len(got), len(rows))
		}
		for i := range rows {
			if !equalValues(got[i], rows[i]) {
				t.Fatalf("round %d row %d:\n got %v\nwant %v", round, i, got[i], rows[i])
			}
		}
	}
}

// randValue draws a value of type t, null one time in five when t allows.
func randValue(rng *rand.Rand, t spec.DataType, depth int) any {
	if t.Nullable && rng.IntN(5) == 0 {
		return nil
	}
	n := rng.IntN(4)
	switch t.Root {
	case spec.TypeBoolean:
		return rng.IntN(2) == 0
	case spec.TypeTinyInt:
		return int8(rng.Uint32())
	case spec.TypeSmallInt:
		return int16(rng.Uint32())
	case spec.TypeInt:
		return int32(rng.Uint32())
	case spec.TypeBigInt:
		return int64(rng.Uint64())
	case spec.TypeFloat:
		return float32(rng.NormFloat64())
	case spec.TypeDouble:
		return rng.NormFloat64()
	case spec.TypeDecimal:
		digits := make([]byte, 1+rng.IntN(t.Precision))
		for i := range digits {
			digits[i] = byte('0' + rng.IntN(10))
		}
		u, _ := new(big.Int).SetString(string(digits), 10)
		if rng.IntN(2) == 0 {
			u.Neg(u)
		}
		return spec.Decimal{Unscaled: u, Scale: t.Scale}
	case spec.TypeChar, spec.TypeVarChar:
		return string([]rune{'a', 'ü', '中', 'z'}[:n])
	case spec.TypeBinary, spec.TypeVarBinary:
		return []byte{0, 0xff, 1}[:n]
	case spec.TypeDate:
		return spec.Date(rng.IntN(3_000_000) - 719_162)
	case spec.TypeTime:
		return spec.Time(rng.IntN(86_400_000))
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts := spec.Timestamp{Millis: rng.Int64N(253402300799999+62135596800000) - 62135596800000}
		switch {
		case t.Precision > 6:
			ts.NanoOfMilli = int32(rng.IntN(1_000_000))
		case t.Precision > 3:
			ts.NanoOfMilli = int32(rng.IntN(1000) * 1000)
		}
		return ts
	case spec.TypeArray, spec.TypeVector:
		if t.Root == spec.TypeVector {
			n = t.Length
		}
		out := make([]any, n)
		for i := range out {
			out[i] = randValue(rng, *t.Elem, depth+1)
		}
		return out
	case spec.TypeMap, spec.TypeMultiset:
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			v := spec.IntType.NotNull()
			kt, vt = t.Elem, &v
		}
		m := spec.Map{}
		for range n {
			m.Keys = append(m.Keys, randValue(rng, kt.NotNull(), depth+1))
			m.Values = append(m.Values, randValue(rng, *vt, depth+1))
		}
		return m
	case spec.TypeRow:
		r := make(spec.Row, len(t.Fields))
		for i, f := range t.Fields {
			r[i] = randValue(rng, f.Type, depth+1)
		}
		return r
	}
	panic("no generator for " + t.String())
}
