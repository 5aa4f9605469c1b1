package integration

import (
	"fmt"
	"math"
	"math/big"
	mrand "math/rand"
	"math/rand/v2"

	"github.com/stratalake/strata/spec"
)

// genValue draws a value of type t: nulls (when t allows them), edge
// values and random ones. With small, numbers stay within ±1000 and
// strings are short words, so sums cannot overflow and concatenations
// stay readable.
func genValue(rng *rand.Rand, t *spec.DataType, small bool) any {
	if t.Nullable && rng.IntN(6) == 0 {
		return nil
	}
	pick := rng.IntN(4) == 0 // an edge value
	switch t.Root {
	case spec.TypeBoolean:
		return rng.IntN(2) == 0
	case spec.TypeTinyInt:
		if pick {
			return []int8{math.MinInt8, math.MaxInt8, 0, -1}[rng.IntN(4)]
		}
		return int8(rng.IntN(256) - 128)
	case spec.TypeSmallInt:
		if pick {
			return []int16{math.MinInt16, math.MaxInt16, 0}[rng.IntN(3)]
		}
		return int16(rng.IntN(65536) - 32768)
	case spec.TypeInt:
		if small {
			return int32(rng.IntN(2001) - 1000)
		}
		if pick {
			return []int32{math.MinInt32, math.MaxInt32, 0}[rng.IntN(3)]
		}
		return int32(rng.Uint32())
	case spec.TypeBigInt:
		if small {
			return int64(rng.IntN(2001) - 1000)
		}
		if pick {
			return []int64{math.MinInt64, math.MaxInt64, 0}[rng.IntN(3)]
		}
		return int64(rng.Uint64())
	case spec.TypeFloat:
		if pick {
			return []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
				float32(math.NaN()), math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-7}[rng.IntN(8)]
		}
		return float32(rng.NormFloat64() * 1000)
	case spec.TypeDouble:
		if small {
			return float64(rng.IntN(100)) / 4
		}
		if pick {
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
				math.MaxFloat64, math.SmallestNonzeroFloat64, 1e21, 1e-7}[rng.IntN(9)]
		}
		return rng.NormFloat64() * 1e6
	case spec.TypeDecimal:
		return genDecimal(rng, t, small)
	case spec.TypeChar, spec.TypeVarChar:
		if small {
			return []string{"a", "b", "c", "d", "e"}[rng.IntN(5)]
		}
		return genString(rng, t)
	case spec.TypeBinary, spec.TypeVarBinary:
		n := t.Length
		if t.Root == spec.TypeVarBinary {
			n = rng.IntN(min(t.Length, 12) + 1)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	case spec.TypeDate:
		if pick {
			// 0001-01-01, 1969-12-31, 1970-01-01, 9999-12-31
			return spec.Date([]int32{-719162, -1, 0, 2932896}[rng.IntN(4)])
		}
		return spec.Date(rng.IntN(80000) - 20000)
	case spec.TypeTime:
		ms := rng.IntN(86400000)
		unit := 1000 / pow10i(min(t.Precision, 3))
		return spec.Time(ms - ms%unit)
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		return genTimestamp(rng, t.Precision, pick)
	case spec.TypeArray:
		n := rng.IntN(4)
		a := make([]any, n)
		for i := range a {
			a[i] = genValue(rng, t.Elem, small)
		}
		return a
	case spec.TypeVector:
		a := make([]any, t.Length)
		e := *t.Elem
		e.Nullable = false
		for i := range a {
			a[i] = genValue(rng, &e, small)
		}
		return a
	case spec.TypeMap, spec.TypeMultiset:
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt = t.Elem
		}
		k := *kt
		k.Nullable = false // a null map key has no JSON form both sides agree on
		var m spec.Map
		for range rng.IntN(4) {
			key := genValue(rng, &k, small)
			dup := false
			for _, o := range m.Keys {
				dup = dup || spec.CompareValues(o, key) == 0
			}
			if dup {
				continue
			}
			m.Keys = append(m.Keys, key)
			if t.Root == spec.TypeMultiset {
				m.Values = append(m.Values, int32(1+rng.IntN(3)))
			} else {
				m.Values = append(m.Values, genValue(rng, vt, small))
			}
		}
		return m
	case spec.TypeRow:
		r := make(spec.Row, len(t.Fields))
		for i := range t.Fields {
			r[i] = genValue(rng, &t.Fields[i].Type, small)
		}
		return r
	}
	panic(fmt.Sprintf("genValue: unsupported type %v", t.Root))
}

func pow10i(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

func genDecimal(rng *rand.Rand, t *spec.DataType, small bool) spec.Decimal {
	if small {
		return spec.NewDecimal(int64(rng.IntN(200001)-100000), t.Scale)
	}
	digits := 1 + rng.IntN(t.Precision)
	if rng.IntN(4) == 0 {
		digits = t.Precision
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	u := new(big.Int).Rand(mrand.New(mrand.NewSource(rng.Int64())), limit)
	if rng.IntN(2) == 0 {
		u.Neg(u)
	}
	return spec.Decimal{Unscaled: u, Scale: t.Scale}
}

// genString draws a string no longer than t allows (CHAR too), with
// characters JSON and CSV must escape, non-ASCII letters, astral-plane
// characters and U+2028.
func genString(rng *rand.Rand, t *spec.DataType) string {
	alphabet := []rune{'a', 'b', 'Z', '0', ' ', '"', '\\', '\n', '\t', '/', ',', 'é', 'ü', '中', '😀', '\u2028', '\x01', '%', '='}
	n := rng.IntN(min(t.Length, 10) + 1) // CHAR(n) values too may be shorter

	r := make([]rune, n)
	for i := range r {
		r[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(r)
}

func genTimestamp(rng *rand.Rand, precision int, edge bool) spec.Timestamp {
	var millis int64
	if edge {
		// 0001-01-01, just before the epoch, the epoch, 9999-12-31T23:59:59.999
		millis = []int64{-62135596800000, -1, 0, 253402300799999}[rng.IntN(4)]
	} else {
		millis = rng.Int64N(8e12) - 2e12 // 1906..2223
	}
	nanos := int64(rng.IntN(1_000_000))
	// Keep exactly the digits the precision holds.
	total := millis*1_000_000 + nanos
	unit := int64(pow10i(9 - min(precision, 9)))
	total -= ((total % unit) + unit) % unit
	ms := floorDivInt(total, 1_000_000)
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(total - ms*1_000_000)}
}

func floorDivInt(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
