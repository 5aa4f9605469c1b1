package lookupfile

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the random key tests (0: from the clock)")

// testSeed returns the seed to use, logging it so a failure can be replayed
// with -seed.
func testSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return seed
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// keyTypes are the types the random tests draw key fields from.
func keyTypes() []spec.DataType {
	return []spec.DataType{
		spec.BooleanType, spec.TinyIntType, spec.SmallIntType, spec.IntType,
		spec.BigIntType, spec.FloatType, spec.DoubleType,
		spec.DecimalType(5, 2), spec.DecimalType(18, 4), spec.DecimalType(19, 0),
		spec.DecimalType(38, 10), spec.DecimalType(38, 38),
		{Root: spec.TypeChar, Length: 4}, {Root: spec.TypeVarChar, Length: 10}, spec.StringType,
		{Root: spec.TypeBinary, Length: 4}, {Root: spec.TypeVarBinary, Length: 10}, spec.BytesType,
		spec.DateType, {Root: spec.TypeTime, Precision: 3},
		spec.TimestampType(0), spec.TimestampType(3), spec.TimestampType(6), spec.TimestampType(9),
		{Root: spec.TypeTimestampLTZ, Precision: 3}, {Root: spec.TypeTimestampLTZ, Precision: 9},
	}
}

// randValue returns a random value of t: often an edge case, sometimes
// null, from a small enough space that equal values are common.
func randValue(rng *rand.Rand, t spec.DataType) any {
	if rng.IntN(12) == 0 {
		return nil
	}
	switch t.Root {
	case spec.TypeBoolean:
		return rng.IntN(2) == 1
	case spec.TypeTinyInt:
		return int8(randInt(rng, math.MinInt8, math.MaxInt8))
	case spec.TypeSmallInt:
		return int16(randInt(rng, math.MinInt16, math.MaxInt16))
	case spec.TypeInt:
		return int32(randInt(rng, math.MinInt32, math.MaxInt32))
	case spec.TypeBigInt:
		return randInt(rng, math.MinInt64, math.MaxInt64)
	case spec.TypeDate:
		return spec.Date(randInt(rng, math.MinInt32, math.MaxInt32))
	case spec.TypeTime:
		return spec.Time(randInt(rng, 0, 86399999))
	case spec.TypeFloat:
		return float32(randFloat(rng, true))
	case spec.TypeDouble:
		return randFloat(rng, false)
	case spec.TypeDecimal:
		return randDecimal(rng, t)
	case spec.TypeChar, spec.TypeVarChar:
		return string(randBytes(rng))
	case spec.TypeBinary, spec.TypeVarBinary:
		return randBytes(rng)
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts := spec.Timestamp{Millis: randInt(rng, math.MinInt64, math.MaxInt64)}
		if t.Precision > 3 {
			ts.NanoOfMilli = int32(randInt(rng, 0, 999999))
		}
		return ts
	}
	panic("no generator for " + t.String())
}

// randInt returns lo, hi, a small number or a uniform one in [lo, hi].
func randInt(rng *rand.Rand, lo, hi int64) int64 {
	switch rng.IntN(6) {
	case 0:
		return lo
	case 1:
		return hi
	case 2, 3:
		return max(lo, min(hi, int64(rng.IntN(7)-3)))
	}
	if span := uint64(hi - lo); span != math.MaxUint64 {
		return lo + int64(rng.Uint64N(span+1))
	}
	return int64(rng.Uint64())
}

var nanBits = []uint64{0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0xFFFFFFFFFFFFFFFF}

// randFloat returns an edge case (±0, ±Inf, NaNs with various payloads,
// extremes) or a random float.
func randFloat(rng *rand.Rand, single bool) float64 {
	switch rng.IntN(10) {
	case 0:
		return math.Copysign(0, -1)
	case 1:
		return 0
	case 2:
		if single {
			return float64(math.Float32frombits(uint32(0x7FC00000) | uint32(rng.IntN(2))<<31 | uint32(rng.IntN(3))))
		}
		return math.Float64frombits(nanBits[rng.IntN(len(nanBits))])
	case 3:
		return math.Inf(1 - 2*rng.IntN(2))
	case 4:
		if single {
			return float64(float32(math.MaxFloat32) * float32(1-2*rng.IntN(2)))
		}
		return math.MaxFloat64 * float64(1-2*rng.IntN(2))
	case 5:
		return float64(rng.IntN(5) - 2)
	}
	f := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
	if single {
		f = float64(float32(f))
	}
	return f
}

// randDecimal returns a decimal that fits t, sometimes at a smaller scale
// than t's (the same number, fewer digits), as values cast from another
// decimal type may be.
func randDecimal(rng *rand.Rand, t spec.DataType) spec.Decimal {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)
	var u *big.Int
	switch rng.IntN(5) {
	case 0:
		u = new(big.Int).Sub(limit, big.NewInt(1))
	case 1:
		u = big.NewInt(int64(rng.IntN(7) - 3))
	default:
		var b [17]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		u = new(big.Int).SetBytes(b[:rng.IntN(len(b))+1])
		u.Mod(u, limit)
	}
	if rng.IntN(2) == 0 {
		u.Neg(u)
	}
	d := spec.Decimal{Unscaled: u, Scale: t.Scale}
	if rng.IntN(4) == 0 && t.Scale > 0 { // same value at a smaller scale, if exact
		q, r := new(big.Int).QuoRem(u, big.NewInt(10), new(big.Int))
		if r.Sign() == 0 {
			d = spec.Decimal{Unscaled: q, Scale: t.Scale - 1}
		}
	}
	return d
}

// randBytes returns a concatenation of pieces chosen to stress the
// escaping: zero bytes, 0x01 and 0xFF (the escape and terminator bytes),
// prefixes of one another.
func randBytes(rng *rand.Rand) []byte {
	pieces := [][]byte{{}, {0}, {0, 0}, {1}, {0xFF}, {0, 1}, {0, 0xFF}, []byte("a"), []byte("ab"), []byte("é")}
	var b []byte
	for range rng.IntN(4) {
		b = append(b, pieces[rng.IntN(len(pieces))]...)
	}
	return b
}

// checkOrder asserts that the encodings of a and b order as spec.CompareRows.
func checkOrder(t *testing.T, types []spec.DataType, a, b spec.Row) {
	t.Helper()
	ea, err := EncodeKey(nil, types, a)
	if err != nil {
		t.Fatalf("EncodeKey(%v): %v", a, err)
	}
	eb, err := EncodeKey(nil, types, b)
	if err != nil {
		t.Fatalf("EncodeKey(%v): %v", b, err)
	}
	if got, want := sign(bytes.Compare(ea, eb)), sign(spec.CompareRows(a, b)); got != want {
		t.Fatalf("types %v\n a = %#v\n b = %#v\nbytes.Compare(%x, %x) = %d, CompareRows = %d",
			types, a, b, ea, eb, got, want)
	}
}

// TestEncodeKeyOrderSingleField compares random pairs of one-field keys of
// every type.
func TestEncodeKeyOrderSingleField(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 1))
	for _, typ := range keyTypes() {
		types := []spec.DataType{typ}
		for range 3000 {
			checkOrder(t, types, spec.Row{randValue(rng, typ)}, spec.Row{randValue(rng, typ)})
		}
	}
}

// TestEncodeKeyOrderComposite compares random pairs of composite keys of
// random types; the second key often shares a prefix of fields with the
// first, so later fields decide.
func TestEncodeKeyOrderComposite(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 2))
	all := keyTypes()
	for range 20000 {
		types := make([]spec.DataType, 1+rng.IntN(4))
		for i := range types {
			types[i] = all[rng.IntN(len(all))]
		}
		a, b := make(spec.Row, len(types)), make(spec.Row, len(types))
		shared := rng.IntN(len(types) + 1)
		for i, typ := range types {
			a[i] = randValue(rng, typ)
			if i < shared {
				b[i] = a[i]
			} else {
				b[i] = randValue(rng, typ)
			}
		}
		checkOrder(t, types, a, b)
	}
}

// TestEncodeKeySortsLikeKeys sorts many random keys by their encodings and
// checks the result is sorted by CompareRows.
func TestEncodeKeySortsLikeKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	types := []spec.DataType{spec.StringType, spec.DoubleType, spec.TimestampType(6)}
	type kv struct {
		enc []byte
		key spec.Row
	}
	keys := make([]kv, 5000)
	for i := range keys {
		k := spec.Row{randValue(rng, types[0]), randValue(rng, types[1]), randValue(rng, types[2])}
		enc, err := EncodeKey(nil, types, k)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = kv{enc, k}
	}
	slices.SortFunc(keys, func(x, y kv) int { return bytes.Compare(x.enc, y.enc) })
	for i := 1; i < len(keys); i++ {
		if spec.CompareRows(keys[i-1].key, keys[i].key) > 0 {
			t.Fatalf("sorted by encoding, %#v comes before %#v", keys[i-1].key, keys[i].key)
		}
	}
}

func TestEncodeKeyGolden(t *testing.T) {
	dec := func(u int64, s int) spec.Decimal { return spec.NewDecimal(u, s) }
	cases := []struct {
		types []spec.DataType
		key   spec.Row
		want  string
	}{
		{[]spec.DataType{spec.IntType}, spec.Row{int32(1)}, "0180000001"},
		{[]spec.DataType{spec.IntType}, spec.Row{nil}, "00"},
		{[]spec.DataType{spec.BigIntType}, spec.Row{int64(-1)}, "017fffffffffffffff"},
		{[]spec.DataType{spec.BooleanType}, spec.Row{true}, "0101"},
		{[]spec.DataType{spec.TinyIntType, spec.SmallIntType}, spec.Row{int8(-128), int16(256)}, "0100018100"},
		{[]spec.DataType{spec.StringType}, spec.Row{"a\x00b"}, "016100ff620001"},
		{[]spec.DataType{spec.BytesType}, spec.Row{[]byte{}}, "010001"},
		{[]spec.DataType{spec.DoubleType}, spec.Row{math.Copysign(0, -1)}, "017fffffffffffffff"},
		{[]spec.DataType{spec.DoubleType}, spec.Row{0.0}, "018000000000000000"},
		{[]spec.DataType{spec.DoubleType}, spec.Row{math.NaN()}, "01fff8000000000000"},
		{[]spec.DataType{spec.FloatType}, spec.Row{float32(-1.5)}, "01403fffff"},
		{[]spec.DataType{spec.DecimalType(10, 2)}, spec.Row{dec(123, 2)}, "01800000000000007b"},
		{[]spec.DataType{spec.DecimalType(10, 2)}, spec.Row{dec(5, 0)}, "0180000000000001f4"},
		{[]spec.DataType{spec.DecimalType(20, 2)}, spec.Row{dec(-1, 2)}, "017fffffffffffffffffffffffffffffff"},
		{[]spec.DataType{spec.DateType}, spec.Row{spec.Date(19000)}, "0180004a38"},
		{[]spec.DataType{spec.TimestampType(3)}, spec.Row{spec.Timestamp{Millis: 1}}, "018000000000000001"},
		{[]spec.DataType{spec.TimestampType(6)}, spec.Row{spec.Timestamp{Millis: 1, NanoOfMilli: 2}}, "01800000000000000180000002"},
		{
			[]spec.DataType{spec.IntType, spec.StringType, spec.BigIntType},
			spec.Row{int32(5), "k", nil},
			"0180000005016b000100",
		},
	}
	for _, c := range cases {
		got, err := EncodeKey([]byte{0xAA}, c.types, c.key)
		if err != nil {
			t.Fatalf("EncodeKey(%v): %v", c.key, err)
		}
		if got[0] != 0xAA || hex.EncodeToString(got[1:]) != c.want {
			t.Errorf("EncodeKey(%v, %#v) = %x, want aa%s", c.types, c.key, got, c.want)
		}
	}
}

func TestEncodeKeyErrors(t *testing.T) {
	intArray := spec.DataType{Root: spec.TypeArray, Elem: &spec.IntType}
	big40 := new(big.Int).Exp(big.NewInt(10), big.NewInt(39), nil)
	cases := []struct {
		name        string
		types       []spec.DataType
		key         spec.Row
		unsupported bool
	}{
		{"array", []spec.DataType{intArray}, spec.Row{[]any{int32(1)}}, true},
		{"null array", []spec.DataType{intArray}, spec.Row{nil}, true},
		{"map", []spec.DataType{{Root: spec.TypeMap}}, spec.Row{spec.Map{}}, true},
		{"row", []spec.DataType{{Root: spec.TypeRow}}, spec.Row{spec.Row{}}, true},
		{"decimal(40)", []spec.DataType{spec.DecimalType(40, 0)}, spec.Row{spec.NewDecimal(1, 0)}, true},
		{"field count", []spec.DataType{spec.IntType}, spec.Row{int32(1), int32(2)}, false},
		{"go type", []spec.DataType{spec.IntType}, spec.Row{int64(1)}, false},
		{"float for double", []spec.DataType{spec.DoubleType}, spec.Row{float32(1)}, false},
		{"string for bytes", []spec.DataType{spec.BytesType}, spec.Row{"x"}, false},
		{"decimal digits", []spec.DataType{spec.DecimalType(10, 2)}, spec.Row{spec.NewDecimal(1234, 3)}, false},
		{"decimal overflow", []spec.DataType{spec.DecimalType(18, 0)}, spec.Row{spec.Decimal{Unscaled: big40}}, false},
		{"decimal128 overflow", []spec.DataType{spec.DecimalType(38, 0)}, spec.Row{spec.Decimal{Unscaled: new(big.Int).Mul(big40, big40)}}, false},
		{"huge rescale", []spec.DataType{spec.DecimalType(38, 2)}, spec.Row{spec.Decimal{Unscaled: big.NewInt(1), Scale: -1000000000}}, false},
		{"timestamp(3) nanos", []spec.DataType{spec.TimestampType(3)}, spec.Row{spec.Timestamp{NanoOfMilli: 5}}, false},
	}
	for _, c := range cases {
		dst := []byte("prefix")
		got, err := EncodeKey(dst, c.types, c.key)
		if !errors.Is(err, spec.ErrSchemaMismatch) || errors.Is(err, ErrUnsupportedKeyType) != c.unsupported {
			t.Errorf("%s: err = %v, want ErrSchemaMismatch (unsupported: %v)", c.name, err, c.unsupported)
		}
		if string(got) != "prefix" {
			t.Errorf("%s: dst became %q on error", c.name, got)
		}
	}
	// Decimal rescaling that is exact is fine, across scales both ways.
	for _, d := range []spec.Decimal{spec.NewDecimal(1200, 4), spec.NewDecimal(12, 0), spec.NewDecimal(0, -7)} {
		if _, err := EncodeKey(nil, []spec.DataType{spec.DecimalType(10, 2)}, spec.Row{d}); err != nil {
			t.Errorf("EncodeKey(%s as DECIMAL(10, 2)): %v", d, err)
		}
	}
}

// FuzzEncodeKey checks, for two-field keys (a value of a fuzzed type, then
// a string), that encoding never panics and that encodings order as
// spec.CompareRows whenever both keys encode.
func FuzzEncodeKey(f *testing.F) {
	f.Add(uint8(0), uint8(0), int64(1), int64(2), 1.0, -1.0, "a", "a\x00")
	f.Add(uint8(5), uint8(3), int64(-1), int64(0), math.NaN(), math.Copysign(0, -1), "", "\x00")
	f.Add(uint8(7), uint8(30), int64(math.MaxInt64), int64(math.MinInt64), math.Inf(1), 0.0, "\xff", "\x00\x01")
	f.Add(uint8(14), uint8(6), int64(1<<40), int64(3), 2.5, 2.5, "ab", "a")
	f.Fuzz(func(t *testing.T, root, prec uint8, x, y int64, fx, fy float64, s, u string) {
		typ, a, b := fuzzValues(root, prec, x, y, fx, fy, s, u)
		types := []spec.DataType{typ, spec.StringType}
		ka, kb := spec.Row{a, s}, spec.Row{b, u}
		ea, errA := EncodeKey(nil, types, ka)
		eb, errB := EncodeKey(nil, types, kb)
		if errA != nil || errB != nil {
			return // e.g. a decimal that does not fit; only panics matter
		}
		if got, want := sign(bytes.Compare(ea, eb)), sign(spec.CompareRows(ka, kb)); got != want {
			t.Fatalf("%v: %#v vs %#v: bytes %d, CompareRows %d (%x, %x)", types, ka, kb, got, want, ea, eb)
		}
	})
}

// fuzzValues makes a type and two values of it from fuzz input.
func fuzzValues(root, prec uint8, x, y int64, fx, fy float64, s, u string) (spec.DataType, any, any) {
	roots := []spec.TypeRoot{
		spec.TypeBoolean, spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
		spec.TypeFloat, spec.TypeDouble, spec.TypeDecimal, spec.TypeChar, spec.TypeVarBinary,
		spec.TypeDate, spec.TypeTime, spec.TypeTimestamp, spec.TypeTimestampLTZ, spec.TypeArray,
	}
	typ := spec.DataType{Root: roots[int(root)%len(roots)], Precision: int(prec % 10)}
	switch typ.Root {
	case spec.TypeBoolean:
		return typ, x&1 == 1, y&1 == 1
	case spec.TypeTinyInt:
		return typ, int8(x), int8(y)
	case spec.TypeSmallInt:
		return typ, int16(x), int16(y)
	case spec.TypeInt:
		return typ, int32(x), int32(y)
	case spec.TypeBigInt:
		return typ, x, y
	case spec.TypeFloat:
		return typ, float32(fx), float32(fy)
	case spec.TypeDouble:
		return typ, fx, fy
	case spec.TypeDecimal:
		typ.Precision, typ.Scale = 1+int(prec)%40, int(prec/40)%5
		// Scales around the type's, and products for 128-bit values.
		a := spec.Decimal{Unscaled: big.NewInt(x), Scale: typ.Scale - int(y&1)}
		b := spec.Decimal{Unscaled: new(big.Int).Mul(big.NewInt(x), big.NewInt(y)), Scale: typ.Scale + int(x&1)}
		return typ, a, b
	case spec.TypeChar:
		return typ, s + u, u + s
	case spec.TypeVarBinary:
		return typ, []byte(u), []byte(s)
	case spec.TypeDate:
		return typ, spec.Date(x), spec.Date(y)
	case spec.TypeTime:
		return typ, spec.Time(x), spec.Time(y)
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		return typ, spec.Timestamp{Millis: x, NanoOfMilli: int32(y)}, spec.Timestamp{Millis: y, NanoOfMilli: int32(x >> 32)}
	}
	return spec.DataType{Root: spec.TypeArray, Elem: &spec.IntType}, []any{x}, []any{y}
}
