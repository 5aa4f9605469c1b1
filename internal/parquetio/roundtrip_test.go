package parquetio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

func ptr(t spec.DataType) *spec.DataType { return &t }

func arrayOf(e spec.DataType) spec.DataType {
	return spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &e}
}

func mapOf(k, v spec.DataType) spec.DataType {
	return spec.DataType{Root: spec.TypeMap, Nullable: true, Key: &k, Value: &v}
}

func writeFile(t testing.TB, fields []spec.DataField, rows []spec.Row, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, fields, opts...)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func openBytes(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f
}

// TestWriteMatchesJavaSchema rewrites the fixture tables' rows and checks
// that the footer schema equals the Java-written one, element for element
// (field ids, converted and logical types), as this package's reader and as
// arrow-go's decode it.
func TestWriteMatchesJavaSchema(t *testing.T) {
	for _, tc := range []struct {
		table string
		value []spec.DataField
	}{
		{"test_pk_global_index_golden", globalIndexValue},
		{"test_pk_vector_golden", vectorValue},
	} {
		fields := KVFields(globalIndexKey, tc.value)
		javaPath := fixtureFiles(t, tc.table)[0]
		java := openFile(t, javaPath)
		rows := readAll(t, java, fields)
		b := writeFile(t, fields, rows)
		got := openBytes(t, b)
		if !reflect.DeepEqual(got.elems, java.elems) {
			t.Errorf("%s: schema differs from Java's:\n%s\nwant\n%s", tc.table, got.SchemaString(), java.SchemaString())
		}
		if g, w := describeSchema(arrowOpen(t, b)), describeSchema(arrowOpenPath(t, javaPath)); g != w {
			t.Errorf("%s: arrow-go decodes our schema as\n%s\nand Java's as\n%s", tc.table, g, w)
		}
		if out := readAll(t, got, fields); !equalRows(out, rows) {
			t.Errorf("%s: rows %v, want %v", tc.table, out, rows)
		}
		if cb := arrowOpen(t, b).MetaData().GetCreatedBy(); cb != CreatedBy {
			t.Errorf("created_by %q", cb)
		}
	}
}

// allTypes is one column of every type, most nullable, some nested.
func allTypes() []spec.DataField {
	inner := []spec.DataField{
		{ID: 100, Name: "a", Type: spec.IntType},
		{ID: 101, Name: "b", Type: arrayOf(spec.StringType)},
	}
	vector := spec.DataType{Root: spec.TypeVector, Nullable: true, Length: 3, Elem: ptr(spec.FloatType.NotNull())}
	multiset := spec.DataType{Root: spec.TypeMultiset, Nullable: true, Elem: ptr(spec.StringType)}
	ltz := func(p int) spec.DataType {
		return spec.DataType{Root: spec.TypeTimestampLTZ, Nullable: true, Precision: p}
	}
	return []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "bool", Type: spec.BooleanType},
		{ID: 2, Name: "tiny", Type: spec.TinyIntType},
		{ID: 3, Name: "small", Type: spec.SmallIntType},
		{ID: 4, Name: "big", Type: spec.BigIntType},
		{ID: 5, Name: "float", Type: spec.FloatType},
		{ID: 6, Name: "double", Type: spec.DoubleType},
		{ID: 7, Name: "dec9", Type: spec.DecimalType(9, 2)},
		{ID: 8, Name: "dec18", Type: spec.DecimalType(18, 4)},
		{ID: 9, Name: "dec38", Type: spec.DecimalType(38, 10)},
		{ID: 10, Name: "char", Type: spec.DataType{Root: spec.TypeChar, Nullable: true, Length: 3}},
		{ID: 11, Name: "str", Type: spec.StringType},
		{ID: 12, Name: "bin", Type: spec.DataType{Root: spec.TypeBinary, Nullable: true, Length: 2}},
		{ID: 13, Name: "bytes", Type: spec.BytesType},
		{ID: 14, Name: "date", Type: spec.DateType},
		{ID: 15, Name: "time", Type: spec.DataType{Root: spec.TypeTime, Nullable: true, Precision: 3}},
		{ID: 16, Name: "ts3", Type: spec.TimestampType(3)},
		{ID: 17, Name: "ts6", Type: spec.TimestampType(6)},
		{ID: 18, Name: "ts9", Type: spec.TimestampType(9)},
		{ID: 19, Name: "ltz3", Type: ltz(3)},
		{ID: 20, Name: "ltz6", Type: ltz(6)},
		{ID: 21, Name: "ltz9", Type: ltz(9)},
		{ID: 22, Name: "arr", Type: arrayOf(spec.IntType)},
		{ID: 23, Name: "arr2", Type: arrayOf(arrayOf(spec.BigIntType))},
		{ID: 24, Name: "map", Type: mapOf(spec.StringType, spec.DoubleType)},
		{ID: 25, Name: "mapArr", Type: mapOf(spec.IntType.NotNull(), arrayOf(spec.StringType))},
		{ID: 26, Name: "row", Type: spec.RowType(inner...)},
		{ID: 27, Name: "arrRow", Type: arrayOf(spec.RowType(inner...))},
		{ID: 28, Name: "vec", Type: vector},
		{ID: 29, Name: "multiset", Type: multiset},
		{ID: 30, Name: "reqRow", Type: spec.RowType(spec.DataField{ID: 102, Name: "x", Type: spec.BigIntType.NotNull()}).NotNull()},
	}
}

func dec(s string, scale int) spec.Decimal {
	u, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return spec.Decimal{Unscaled: u, Scale: scale}
}

func allTypesRows() []spec.Row {
	full := spec.Row{
		int32(1), true, int8(-128), int16(32767), int64(-1 << 63), float32(1.5), float64(-2.25),
		dec("-999999999", 2), dec("999999999999999999", 4), dec("-99999999999999999999999999999999999999", 10),
		"abc", "héllo wörld", []byte{0, 1}, []byte{0xff, 0, 0x7f},
		spec.Date(-719162), spec.Time(86399999),
		spec.Timestamp{Millis: 1700000000123}, spec.Timestamp{Millis: -1, NanoOfMilli: 999000},
		spec.Timestamp{Millis: -86400001, NanoOfMilli: 123456}, spec.Timestamp{Millis: 0},
		spec.Timestamp{Millis: 1700000000123, NanoOfMilli: 456000}, spec.Timestamp{Millis: 253402300799999, NanoOfMilli: 999999},
		[]any{int32(1), nil, int32(3)},
		[]any{[]any{int64(1)}, []any{}, nil, []any{int64(2), nil, int64(3)}},
		spec.Map{Keys: []any{"a", "b"}, Values: []any{1.0, nil}},
		spec.Map{Keys: []any{int32(7)}, Values: []any{[]any{"x", nil}}},
		spec.Row{int32(5), []any{"p", "q"}},
		[]any{spec.Row{int32(1), nil}, nil, spec.Row{nil, []any{}}},
		[]any{float32(1), float32(2), float32(3)},
		spec.Map{Keys: []any{"k"}, Values: []any{int32(2)}},
		spec.Row{int64(42)},
	}
	empty := spec.Row{int32(2)}
	for range len(full) - 2 {
		empty = append(empty, nil)
	}
	empty = append(empty, spec.Row{int64(0)})
	// Empty collections and rows of nulls differ from null.
	zeros := spec.Row{
		int32(3), false, int8(0), int16(0), int64(0), float32(0), float64(0),
		dec("0", 2), dec("-1", 4), dec("1", 10),
		"", "", []byte{}, []byte{},
		spec.Date(0), spec.Time(0),
		spec.Timestamp{}, spec.Timestamp{}, spec.Timestamp{Millis: -1}, spec.Timestamp{}, spec.Timestamp{}, spec.Timestamp{Millis: -1, NanoOfMilli: 1},
		[]any{}, []any{[]any{}}, spec.Map{Keys: []any{}, Values: []any{}}, spec.Map{Keys: []any{int32(0)}, Values: []any{[]any{}}},
		spec.Row{nil, nil}, []any{}, nil, spec.Map{Keys: []any{}, Values: []any{}},
		spec.Row{int64(-1)},
	}
	return []spec.Row{full, empty, zeros}
}

func TestRoundTripAllTypes(t *testing.T) {
	fields := allTypes()
	rows := allTypesRows()
	for _, c := range []Compression{CompressionZstd, CompressionSnappy, CompressionNone} {
		for _, dict := range []bool{true, false} {
			t.Run(fmt.Sprintf("codec%d/dict=%t", c, dict), func(t *testing.T) {
				b := writeFile(t, fields, rows, WithCompression(c), WithDictionary(dict))
				f := openBytes(t, b)
				want, err := SchemaString(fields)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.SchemaString(); got != want {
					t.Errorf("schema\n%s\nwant\n%s", got, want)
				}
				got := readAll(t, f, fields)
				if len(got) != len(rows) {
					t.Fatalf("read %d rows, want %d", len(got), len(rows))
				}
				for i := range rows {
					for j := range fields {
						if !equalValues(got[i][j], rows[i][j]) {
							t.Errorf("row %d column %s: got %#v, want %#v", i, fields[j].Name, got[i][j], rows[i][j])
						}
					}
				}
			})
		}
	}
}

func TestSchemaMapping(t *testing.T) {
	got, err := SchemaString(allTypes())
	if err != nil {
		t.Fatal(err)
	}
	// Expected output follows ParquetSchemaConverter; ids of nested nodes
	// follow SpecialFields (536870911 ± id*1024 ± depth).
	for _, line := range []string{
		"required int32 id = 0;",
		"optional boolean bool = 1;",
		"optional int32 tiny (INTEGER(8,true)) = 2;",
		"optional int32 small (INTEGER(16,true)) = 3;",
		"optional int64 big = 4;",
		"optional float float = 5;",
		"optional double double = 6;",
		"optional int32 dec9 (DECIMAL(9,2)) = 7;",
		"optional int64 dec18 (DECIMAL(18,4)) = 8;",
		"optional fixed_len_byte_array(16) dec38 (DECIMAL(38,10)) = 9;",
		"optional binary char (STRING) = 10;",
		"optional binary bin = 12;",
		"optional int32 date (DATE) = 14;",
		"optional int32 time (TIME(MILLIS,true)) = 15;",
		"optional int64 ts3 (TIMESTAMP(MILLIS,false)) = 16;",
		"optional int64 ts6 (TIMESTAMP(MICROS,false)) = 17;",
		"optional int96 ts9 = 18;",
		"optional int64 ltz3 (TIMESTAMP(MILLIS,true)) = 19;",
		"optional int64 ltz6 (TIMESTAMP(MICROS,true)) = 20;",
		"optional int96 ltz9 = 21;",
		"optional group arr (LIST) = 22 {",
		"optional int32 element = 536893440;",
		"optional group element (LIST) = 536894464 {",
		"optional int64 element = 536894465;",
		"optional group map (MAP) = 24 {",
		"repeated group key_value {",
		"required binary key (STRING) = 536846334;",
		"optional double value = 536895488;",
		"optional group row = 26 {",
		"optional int32 a = 100;",
		"optional group b (LIST) = 101 {",
		"optional binary element (STRING) = 536974336;",
		"optional group vec (LIST) = 28 {",
		"required float element = 536899584;",
		"required int32 value = 536900608;",
		"required group reqRow = 30 {",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("schema lacks %q:\n%s", line, got)
		}
	}
}

func TestDecimalBytes(t *testing.T) {
	// Java's computeMinBytesForDecimalPrecision.
	for p, want := range map[int]int{1: 1, 2: 1, 3: 2, 9: 4, 10: 5, 18: 8, 19: 9, 20: 9, 28: 12, 38: 16} {
		if got := decimalBytes(p); got != want {
			t.Errorf("decimalBytes(%d) = %d, want %d", p, got, want)
		}
	}
	// arrow-go cuts decimals to its own DecimalSize, which must agree.
	for p := 1; p <= maxDecimalPrecision; p++ {
		if got, want := int(pqarrow.DecimalSize(int32(p))), decimalBytes(p); got != want {
			t.Errorf("pqarrow.DecimalSize(%d) = %d, Java's %d", p, got, want)
		}
	}
}

// TestInt96 checks the INT96 form of timestamps written from rows: the
// nanosecond of the day in [0, 86400e9) with the day adjusted, as arrow-go
// writes Arrow timestamps and as Java, DuckDB and pyarrow read them.
func TestInt96(t *testing.T) {
	for _, ts := range []spec.Timestamp{
		{Millis: -1, NanoOfMilli: 500000}, {}, {Millis: -86400001, NanoOfMilli: 123456},
		{Millis: 253402300799999, NanoOfMilli: 999999}, {Millis: -62135596800000, NanoOfMilli: 1},
	} {
		b := arrowconv.AppendInt96(nil, ts)
		var x [3]uint32
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		if nanos := int64(uint64(x[0]) | uint64(x[1])<<32); nanos < 0 || nanos >= 86_400_000_000_000 {
			t.Errorf("%v: nanos of day %d", ts, nanos)
		}
		if back := timestampFromInt96(x); back != ts {
			t.Errorf("round trip %v -> %v", ts, back)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "v", Type: spec.DataType{Root: spec.TypeVector, Nullable: true, Length: 2, Elem: ptr(spec.FloatType)}},
		{ID: 2, Name: "m", Type: mapOf(spec.StringType, spec.IntType)},
		{ID: 3, Name: "d", Type: spec.DecimalType(5, 2)},
	}
	for name, row := range map[string]spec.Row{
		"null in NOT NULL": {nil, nil, nil, nil},
		"wrong Go type":    {int64(1), nil, nil, nil},
		"vector length":    {int32(1), []any{float32(1)}, nil, nil},
		"null map key":     {int32(1), nil, spec.Map{Keys: []any{nil}, Values: []any{int32(1)}}, nil},
		"decimal overflow": {int32(1), nil, nil, dec("100000", 2)},
		"decimal scale":    {int32(1), nil, nil, dec("1", 3)},
		"short row":        {int32(1)},
	} {
		w, err := NewWriter(new(bytes.Buffer), fields)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write([]spec.Row{row})
		if !errors.Is(err, spec.ErrSchemaMismatch) {
			t.Errorf("%s: got %v, want ErrSchemaMismatch", name, err)
		}
		if cerr := w.Close(); cerr == nil {
			t.Errorf("%s: Close after a failed Write succeeded", name)
		}
	}
	if _, err := NewWriter(new(bytes.Buffer), []spec.DataField{{Name: "x", Type: spec.DecimalType(39, 0)}}); !errors.Is(err, spec.ErrSchemaMismatch) {
		t.Errorf("DECIMAL(39) accepted: %v", err)
	}
}

func TestEmptyFileAndRowGroups(t *testing.T) {
	fields := KVFields(globalIndexKey, globalIndexValue)
	f := openBytes(t, writeFile(t, fields, nil))
	if f.NumRows() != 0 || len(readAll(t, f, fields)) != 0 {
		t.Errorf("empty file has rows")
	}
	var rows []spec.Row
	for i := range 5000 {
		rows = append(rows, spec.Row{int32(i), int64(i), int8(i % 4), int32(i), strings.Repeat("x", i%50), nil})
	}
	f = openBytes(t, writeFile(t, fields, rows, WithRowGroupSize(16<<10), WithPageSize(4<<10)))
	if f.NumRowGroups() < 2 {
		t.Errorf("%d row groups, want several", f.NumRowGroups())
	}
	if got := readAll(t, f, fields); !equalRows(got, rows) {
		t.Errorf("multi row group round trip differs")
	}
	// Early stop of the iterator.
	n := 0
	for _, err := range f.ReadRows(fields) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
}

// TestDictionaryFallback writes more distinct strings than the dictionary
// may hold, so the column switches to PLAIN pages mid-chunk.
func TestDictionaryFallback(t *testing.T) {
	fields := []spec.DataField{{ID: 0, Name: "s", Type: spec.StringType}, {ID: 1, Name: "d", Type: spec.DecimalType(30, 0)}}
	var rows []spec.Row
	for i := range 60_000 {
		rows = append(rows, spec.Row{fmt.Sprintf("%040d", i), spec.NewDecimal(int64(i), 0)})
	}
	f := openBytes(t, writeFile(t, fields, rows))
	got := readAll(t, f, fields)
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	bad := 0
	for i := range rows {
		if !equalValues(got[i], rows[i]) {
			if bad++; bad < 5 {
				t.Errorf("row %d: got %v, want %v", i, got[i], rows[i])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d rows differ after dictionary fallback", bad)
	}
}

// equalValues compares Go values like reflect.DeepEqual, except that
// decimals compare by value and scale (big.Int's internal form varies).
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case spec.Decimal:
		y, ok := b.(spec.Decimal)
		return ok && x.Scale == y.Scale && x.Cmp(y) == 0
	case spec.Row:
		y, ok := b.(spec.Row)
		return ok && equalSlices(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && equalSlices(x, y)
	case spec.Map:
		y, ok := b.(spec.Map)
		return ok && equalSlices(x.Keys, y.Keys) && equalSlices(x.Values, y.Values)
	}
	return reflect.DeepEqual(a, b)
}

func equalSlices(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValues(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalRows(a, b []spec.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValues(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestPageIndexes checks that every column has an offset index and every
// column whose values have an order a column index, as parquet-mr writes
// them, and that decimal bounds are ordered as signed numbers.
func TestPageIndexes(t *testing.T) {
	fields := allTypes()
	var rows []spec.Row
	for range 1000 {
		rows = append(rows, allTypesRows()...)
	}
	b := writeFile(t, fields, rows, WithRowGroupSize(4<<10), WithPageSize(1<<10))
	r := arrowOpen(t, b)
	if r.NumRowGroups() < 2 {
		t.Fatalf("want several row groups, got %d", r.NumRowGroups())
	}
	pir := r.GetPageIndexReader()
	sc := r.MetaData().Schema
	for g := range r.NumRowGroups() {
		rg, err := pir.RowGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		for c := range sc.NumColumns() {
			col := sc.Column(c)
			oi, err := rg.GetOffsetIndex(c)
			if err != nil || oi == nil || len(oi.GetPageLocations()) == 0 {
				t.Errorf("row group %d column %s: no offset index (%v)", g, col.Path(), err)
			}
			ci, err := rg.GetColumnIndex(c)
			if err != nil {
				t.Fatal(err)
			}
			// INT96 has no defined order: no statistics, no column index.
			if want := col.PhysicalType() != parquet.Types.Int96; (ci != nil) != want {
				t.Errorf("row group %d column %s: column index %v, want one: %v", g, col.Path(), ci != nil, want)
			}
		}
	}
	if got := readAll(t, openBytes(t, b), fields); !equalRows(got, rows) {
		t.Error("rows differ")
	}

	// Negative decimals must be the minimum.
	decFields := []spec.DataField{{ID: 0, Name: "d", Type: spec.DecimalType(38, 0)}}
	b = writeFile(t, decFields, []spec.Row{{dec("5", 0)}, {dec("-7", 0)}, {dec("3", 0)}})
	r = arrowOpen(t, b)
	stats, err := r.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stats.Statistics()
	if err != nil || st == nil || !st.HasMinMax() {
		t.Fatalf("no decimal statistics: %v", err)
	}
	enc, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fromTwosComplement(enc.Min), big.NewInt(-7); got.Cmp(want) != 0 {
		t.Errorf("decimal min %v, want %v", got, want)
	}
	if got, want := fromTwosComplement(enc.Max), big.NewInt(5); got.Cmp(want) != 0 {
		t.Errorf("decimal max %v, want %v", got, want)
	}
}

// TestNestedProjection reads a ROW column through a different ROW type:
// fields match by name, a missing nested field reads as null, and an
// unrequested one is not returned.
func TestNestedProjection(t *testing.T) {
	fields := allTypes()
	b := writeFile(t, fields, allTypesRows())
	f := openBytes(t, b)
	req := []spec.DataField{
		{ID: 26, Name: "row", Type: spec.RowType(
			spec.DataField{ID: 101, Name: "b", Type: arrayOf(spec.StringType)},
			spec.DataField{ID: 200, Name: "missing", Type: spec.IntType},
		)},
		{ID: 27, Name: "arrRow", Type: arrayOf(spec.RowType(spec.DataField{ID: 300, Name: "gone", Type: spec.IntType}))},
	}
	got := readAll(t, f, req)
	want := []spec.Row{
		{spec.Row{[]any{"p", "q"}, nil}, []any{spec.Row{nil}, nil, spec.Row{nil}}},
		{nil, nil},
		{spec.Row{nil, nil}, []any{}},
	}
	if !equalRows(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []spec.DataField{
		{Name: "row", Type: spec.IntType},
		{Name: "arr", Type: mapOf(spec.IntType, spec.IntType)},
		{Name: "map", Type: arrayOf(spec.IntType)},
		{Name: "str", Type: spec.DecimalType(5, 0)},
	} {
		for _, err := range f.ReadRows([]spec.DataField{bad}) {
			if !errors.Is(err, spec.ErrSchemaMismatch) {
				t.Errorf("reading %s as %s: got %v, want ErrSchemaMismatch", bad.Name, bad.Type, err)
			}
			break
		}
	}
}

// TestConcurrentReads reads one File from several goroutines at once.
func TestConcurrentReads(t *testing.T) {
	fields := allTypes()
	var rows []spec.Row
	for range 50 {
		rows = append(rows, allTypesRows()...)
	}
	f := openBytes(t, writeFile(t, fields, rows, WithRowGroupSize(4<<10)))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var got []spec.Row
			for row, err := range f.ReadRows(fields) {
				if err != nil {
					errs <- err
					return
				}
				got = append(got, row)
			}
			if !equalRows(got, rows) {
				errs <- errors.New("rows differ")
				return
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
