package spec

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// arenaTypes covers every type the arena keeps in its slots, and some it
// leaves to plain decoding.
var arenaTypes = []DataType{
	BigIntType.NotNull(), StringType, DoubleType, IntType, SmallIntType, FloatType, DateType,
	{Root: TypeTime, Nullable: true}, TimestampType(3), {Root: TypeTimestampLTZ, Nullable: true, Precision: 9},
	BooleanType, TinyIntType, DecimalType(10, 2), DecimalType(30, 3), BytesType, {Root: TypeChar, Nullable: true, Length: 3},
	{Root: TypeArray, Nullable: true, Elem: &StringType},
}

func arenaRow(i int) Row {
	return Row{int64(i) << 40, fmt.Sprintf("string number %d, longer than seven bytes", i), float64(i) / 3,
		int32(-i), int16(i), float32(i) / 7, Date(i), Time(i * 1000), Timestamp{Millis: int64(i)},
		Timestamp{Millis: int64(-i), NanoOfMilli: int32(i % 1000)}, i%2 == 0, int8(i), bigDec(fmt.Sprint(i), 2),
		bigDec(fmt.Sprint(i)+"123456789012345678901", 3), []byte{byte(i), 0, 1}, "ab", []any{"x", nil}}
}

// Rows decoded by an arena equal DecodeBinaryRow's, with and without a
// shared string, beyond the rows reserved, with nulls; and a row keeps its
// values while later rows are decoded.
func TestRowArenaDecodesAsDecodeBinaryRow(t *testing.T) {
	var encoded [][]byte
	var want []Row
	for i := range 12 {
		row := arenaRow(i)
		if i%3 == 1 {
			for j := range row {
				if arenaTypes[j].Nullable && j%2 == 1 {
					row[j] = nil
				}
			}
		}
		b, err := EncodeBinaryRow(arenaTypes, row, RowKind(i%4))
		if err != nil {
			t.Fatal(err)
		}
		encoded, want = append(encoded, b), append(want, row)
	}
	buf := bytes.Join(encoded, nil)
	for _, reserved := range []int{8, 12} { // 8: the last 4 rows fall back to plain boxing
		var a RowArena
		a.Reset(arenaTypes, reserved, buf)
		clear(buf) // the arena has its own copy
		var got []Row
		off := 0
		for i, b := range encoded {
			row, kind, err := a.Decode(off, off+len(b))
			if err != nil {
				t.Fatal(err)
			}
			if kind != RowKind(i%4) {
				t.Fatalf("row %d kind %v", i, kind)
			}
			got = append(got, row)
			off += len(b)
		}
		buf = bytes.Join(encoded, nil)
		for i := range got {
			plain, _, err := DecodeBinaryRow(arenaTypes, encoded[i])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got[i]), normalize(plain)) || !rowsEqual(got[i], want[i]) {
				t.Fatalf("%d reserved, row %d:\n got %#v\nwant %#v", reserved, i, got[i], plain)
			}
			for j, v := range got[i] {
				if v != nil && reflect.TypeOf(v) != reflect.TypeOf(plain[j]) {
					t.Fatalf("row %d field %d: %T, want %T", i, j, v, plain[j])
				}
				if x, ok := v.(int64); ok && x != int64(i)<<40 || v != nil && j < 12 && j != 1 && v != plain[j] {
					t.Fatalf("row %d field %d: %v != %v", i, j, v, plain[j])
				}
			}
		}
	}
}

// A batch of rows costs a few allocations, whatever its size.
func TestRowArenaAllocations(t *testing.T) {
	types := []DataType{BigIntType.NotNull(), StringType, DoubleType, StringType, IntType}
	var buf []byte
	var ends []int
	for i := range 100 {
		b, err := EncodeBinaryRow(types, Row{int64(i + 1000), "a string of some length", float64(i) + 0.5, "x", int32(i + 1000)}, RowKindInsert)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b...)
		ends = append(ends, len(buf))
	}
	allocs := testing.AllocsPerRun(20, func() {
		var a RowArena
		a.Reset(types, len(ends), buf)
		from := 0
		for _, to := range ends {
			if _, _, err := a.Decode(from, to); err != nil {
				t.Fatal(err)
			}
			from = to
		}
	})
	if !boxingWorks {
		t.Skip("interfaces are not laid out as the arena expects: plain boxing")
	}
	if allocs > 3 {
		t.Fatalf("%v allocations for 100 rows, want at most 3", allocs)
	}
}

func TestRowArenaCorrupt(t *testing.T) {
	b, _ := EncodeBinaryRow(arenaTypes, arenaRow(1), RowKindInsert)
	bad := bytes.Clone(b)
	bad[BinaryRowHeaderSize(len(arenaTypes))+8+6] = 0x7f // the string's offset points far outside
	var a RowArena
	a.Reset(arenaTypes, 2, append(bytes.Clone(b), bad...))
	for _, r := range [][2]int{{0, 20}, {-1, 30}, {0, 2*len(b) + 1}} {
		if _, _, err := a.Decode(r[0], r[1]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("rows [%d, %d): %v", r[0], r[1], err)
		}
	}
	if _, _, err := a.Decode(len(b), 2*len(b)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad offset: %v", err)
	}
	if _, _, err := a.Decode(0, len(b)); err != nil {
		t.Fatalf("good row after bad ones: %v", err)
	}
}

// EncodeBinaryRowInto writes the bytes EncodeBinaryRow writes, into the
// buffer given when it is large enough.
func TestEncodeBinaryRowInto(t *testing.T) {
	buf := make([]byte, 0, 512)
	for i := range 5 {
		row := arenaRow(i)
		want, err := EncodeBinaryRow(arenaTypes, row, RowKindInsert)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeBinaryRowInto(buf, arenaTypes, row, RowKindInsert)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("row %d: %x, want %x", i, got, want)
		}
		if &got[0] != &buf[:1][0] {
			t.Fatal("a large enough buffer was not reused")
		}
		buf = got // dirty: the next row must not see these bytes
	}
}
