package spec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bigDec(s string, scale int) Decimal {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return Decimal{Unscaled: x, Scale: scale}
}

// The nine vectors are Java's InternalRowSerializer.toBinaryRow(row).hashCode()
// as recorded in ../shared/spec/paimon-format.md §4.5.
func TestBinaryRowJavaVectors(t *testing.T) {
	ts3 := Timestamp{Millis: time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC).UnixMilli()}
	ts6 := Timestamp{Millis: ts3.Millis, NanoOfMilli: 456000}
	cases := []struct {
		name  string
		types []DataType
		row   Row
		hex   string
		hash  int32
	}{
		{"string-inline", []DataType{StringType}, Row{"hello"}, "0000000000000000 68656c6c6f000085", 243722546},
		{"string-var", []DataType{StringType}, Row{"hello-java"},
			"0000000000000000 0a00000010000000 68656c6c6f2d6a61 7661000000000000", -201703277},
		{"string-bigint", []DataType{StringType, BigIntType}, Row{"hello-java", int64(42)},
			"0000000000000000 0a00000018000000 2a00000000000000 68656c6c6f2d6a61 7661000000000000", -2066620165},
		{"decimal-compact", []DataType{DecimalType(10, 2)}, Row{NewDecimal(1234567, 2)},
			"0000000000000000 87d6120000000000", 754928256},
		{"decimal-big", []DataType{DecimalType(25, 2)}, Row{bigDec("1234567890123456789012345", 2)},
			"0000000000000000 0b00000010000000 01056e0f36a6443de2df790000000000", 1388205002},
		{"timestamp3", []DataType{TimestampType(3)}, Row{ts3},
			"0000000000000000 038da97c9b010000", -1766746798},
		{"timestamp6", []DataType{TimestampType(6)}, Row{ts6},
			"0000000000000000 40f5060010000000 038da97c9b010000", 1245041971},
		{"bytes-inline", []DataType{BytesType}, Row{[]byte{0, 1, 0xff, 0x7f}},
			"0000000000000000 0001ff7f00000084", 586821318},
		{"bytes-var", []DataType{BytesType}, Row{[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			"0000000000000000 0a00000010000000 0001020304050607 0809000000000000", 1822312655},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EncodeBinaryRow(c.types, c.row, RowKindInsert)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, c.hex); !bytes.Equal(got, want) {
				t.Fatalf("bytes\n got %x\nwant %x", got, want)
			}
			if h := HashBinaryRow(got); h != c.hash {
				t.Fatalf("hash %d, want %d", h, c.hash)
			}
			back, kind, err := DecodeBinaryRow(c.types, got)
			if err != nil {
				t.Fatal(err)
			}
			if kind != RowKindInsert || !rowsEqual(back, c.row) {
				t.Fatalf("decoded %v %v, want %v", kind, back, c.row)
			}
		})
	}
}

func rowsEqual(a, b Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if CompareValues(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}

// The golden manifest entry in the notes: an INT key and a stats row of
// (INT, STRING, STRING) with short strings inlined.
func TestBinaryRowGoldenStats(t *testing.T) {
	got, err := EncodeBinaryRow([]DataType{IntType.NotNull(), StringType, StringType}, Row{int32(3), "name-3", "even"}, RowKindInsert)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "0000000000000000 0300000000000000 6e616d652d330086 6576656e00000084")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	ser := SerializeBinaryRow(3, got)
	if !bytes.Equal(ser[:4], []byte{0, 0, 0, 3}) {
		t.Fatalf("arity prefix %x", ser[:4])
	}
	if !bytes.Equal(SerializedEmptyRow(), unhex(t, "00000000 0000000000000000")) {
		t.Fatal("empty row")
	}
}

func TestBinaryRowNulls(t *testing.T) {
	types := []DataType{IntType, StringType, DecimalType(20, 2), TimestampType(6), DecimalType(5, 1)}
	got, err := EncodeBinaryRow(types, Row{nil, nil, nil, nil, nil}, RowKindDelete)
	if err != nil {
		t.Fatal(err)
	}
	// Header: kind 3, null bits 8..12 set (byte 1 = 0x1f). Long decimal and
	// precise timestamp keep their reserved var space with offset in the slot.
	want := unhex(t, "03 1f 000000000000"+
		"0000000000000000 0000000000000000 0000000030000000 0000000040000000 0000000000000000"+
		"0000000000000000 0000000000000000 0000000000000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	back, kind, err := DecodeBinaryRow(types, got)
	if err != nil || kind != RowKindDelete {
		t.Fatal(err, kind)
	}
	for i, v := range back {
		if v != nil {
			t.Fatalf("field %d = %v", i, v)
		}
	}
}

func TestBinaryRowRoundTripNested(t *testing.T) {
	rowT := RowType(DataField{ID: 5, Name: "a", Type: IntType}, DataField{ID: 6, Name: "b", Type: StringType})
	types := []DataType{
		BooleanType, TinyIntType, SmallIntType, FloatType, DoubleType, DateType,
		{Root: TypeTime, Nullable: true}, {Root: TypeTimestampLTZ, Nullable: true, Precision: 9},
		{Root: TypeArray, Nullable: true, Elem: &StringType},
		{Root: TypeArray, Nullable: true, Elem: &IntType},
		{Root: TypeMap, Nullable: true, Key: &StringType, Value: &BigIntType},
		{Root: TypeMultiset, Nullable: true, Elem: &StringType},
		rowT,
		{Root: TypeVector, Nullable: true, Elem: &FloatType, Length: 3},
		DecimalType(38, 10),
	}
	row := Row{true, int8(-3), int16(300), float32(1.5), 2.25, Date(19723), Time(3723004),
		Timestamp{Millis: -5, NanoOfMilli: 999},
		[]any{"x", nil, "a longer string value"},
		[]any{int32(1), nil, int32(3)},
		Map{Keys: []any{"k1", "a-much-longer-key"}, Values: []any{int64(1), nil}},
		Map{Keys: []any{"m"}, Values: []any{int32(2)}},
		Row{int32(7), "nested string over 7"},
		[]any{float32(1), float32(0.5), float32(-2)},
		bigDec("-12345678901234567890123456789", 10),
	}
	b, err := EncodeBinaryRow(types, row, RowKindUpdateAfter)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%8 != 0 {
		t.Fatalf("size %d not a multiple of 8", len(b))
	}
	back, kind, err := DecodeBinaryRow(types, b)
	if err != nil {
		t.Fatal(err)
	}
	if kind != RowKindUpdateAfter {
		t.Fatal(kind)
	}
	if !reflect.DeepEqual(normalize(back), normalize(row)) {
		t.Fatalf("round trip\n got %#v\nwant %#v", back, row)
	}
}

// normalize makes decimals comparable with reflect.DeepEqual.
func normalize(r Row) Row {
	out := make(Row, len(r))
	for i, v := range r {
		if d, ok := v.(Decimal); ok {
			v = d.String()
		}
		out[i] = v
	}
	return out
}

func TestJavaBigIntBytes(t *testing.T) {
	for _, c := range []struct {
		v   int64
		hex string
	}{{0, "00"}, {1, "01"}, {127, "7f"}, {128, "0080"}, {-1, "ff"}, {-128, "80"}, {-129, "ff7f"}, {255, "00ff"}, {-256, "ff00"}} {
		got := javaBigIntBytes(big.NewInt(c.v))
		if hex.EncodeToString(got) != c.hex {
			t.Errorf("%d: got %x want %s", c.v, got, c.hex)
		}
		if back := bigIntFromJavaBytes(got); back.Int64() != c.v {
			t.Errorf("%d: back %v", c.v, back)
		}
	}
}

func TestBinaryRowMismatch(t *testing.T) {
	_, err := EncodeBinaryRow([]DataType{IntType}, Row{"x"}, RowKindInsert)
	if !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("err = %v", err)
	}
	_, _, err = DecodeBinaryRow([]DataType{StringType, StringType}, make([]byte, 16))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v", err)
	}
}

func TestBucket(t *testing.T) {
	if Bucket(-201703277, 4) != 1 || Bucket(243722546, 4) != 2 {
		t.Fatal(Bucket(-201703277, 4), Bucket(243722546, 4))
	}
}

func FuzzDecodeBinaryRow(f *testing.F) {
	rowT := RowType(DataField{ID: 5, Name: "a", Type: IntType}, DataField{ID: 6, Name: "b", Type: StringType})
	types := []DataType{StringType, DecimalType(25, 2), TimestampType(6),
		{Root: TypeArray, Nullable: true, Elem: &StringType},
		{Root: TypeMap, Nullable: true, Key: &StringType, Value: &BigIntType}, rowT,
		{Root: TypeVector, Nullable: true, Elem: &FloatType, Length: 2}}
	seed, _ := EncodeBinaryRow(types, Row{"hello-java", bigDec("1234", 2), Timestamp{Millis: 1, NanoOfMilli: 2},
		[]any{"a", "bbbbbbbbbbbb"}, Map{Keys: []any{"k"}, Values: []any{int64(1)}}, Row{int32(1), "xxxxxxxxxxxxxxx"},
		[]any{float32(1), float32(2)}}, RowKindInsert)
	f.Add(seed)
	f.Add(SerializedEmptyRow())
	f.Fuzz(func(t *testing.T, b []byte) {
		row, _, err := DecodeBinaryRow(types, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if len(row) != len(types) {
			t.Fatal("arity")
		}
		if _, _, err := DeserializeBinaryRow(b); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	})
}
