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
	shared := string(buf)
	for _, useShared := range []bool{true, false} {
		var a RowArena
		a.Reset(arenaTypes, 8) // 12 rows: the last 4 fall back to plain boxing
		var got []Row
		off := 0
		for i, b := range encoded {
			s := ""
			if useShared {
				s = shared[off : off+len(b)]
			}
			row, kind, err := a.Decode(buf[off:off+len(b)], s)
			if err != nil {
				t.Fatal(err)
			}
			if kind != RowKind(i%4) {
				t.Fatalf("row %d kind %v", i, kind)
			}
			got = append(got, row)
			off += len(b)
		}
		for i := range got {
			plain, _, err := DecodeBinaryRow(arenaTypes, encoded[i])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got[i]), normalize(plain)) || !rowsEqual(got[i], want[i]) {
				t.Fatalf("shared %v, row %d:\n got %#v\nwant %#v", useShared, i, got[i], plain)
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
	shared := string(buf)
	allocs := testing.AllocsPerRun(20, func() {
		var a RowArena
		a.Reset(types, len(ends))
		from := 0
		for _, to := range ends {
			if _, _, err := a.Decode(buf[from:to], shared[from:to]); err != nil {
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
	var a RowArena
	a.Reset(arenaTypes, 1)
	b, _ := EncodeBinaryRow(arenaTypes, arenaRow(1), RowKindInsert)
	if _, _, err := a.Decode(b[:20], ""); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short row: %v", err)
	}
	bad := bytes.Clone(b)
	bad[BinaryRowHeaderSize(len(arenaTypes))+8+6] = 0x7f // the string's offset points far outside
	if _, _, err := a.Decode(bad, string(bad)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad offset: %v", err)
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
