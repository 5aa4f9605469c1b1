package textrow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

func field(name string, t spec.DataType) spec.DataField {
	return spec.DataField{Name: name, Type: t}
}

func typ(root spec.TypeRoot) spec.DataType { return spec.DataType{Root: root, Nullable: true} }

func arrayOf(e spec.DataType) spec.DataType {
	return spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &e}
}

func mapOf(k, v spec.DataType) spec.DataType {
	return spec.DataType{Root: spec.TypeMap, Nullable: true, Key: &k, Value: &v}
}

func varchar(n int) spec.DataType {
	return spec.DataType{Root: spec.TypeVarChar, Nullable: true, Length: n}
}

func withPrecision(root spec.TypeRoot, p int) spec.DataType {
	return spec.DataType{Root: root, Nullable: true, Precision: p}
}

func dec(unscaled string, scale int) spec.Decimal {
	u, ok := new(big.Int).SetString(unscaled, 10)
	if !ok {
		panic(unscaled)
	}
	return spec.Decimal{Unscaled: u, Scale: scale}
}

func epochDay(s string) spec.Date {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return spec.Date(t.Unix() / 86400)
}

func ts(s string) spec.Timestamp {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return spec.TimestampFromTime(t)
}

// equal compares values of the value model; NaNs are equal to each other.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float32:
		y, ok := b.(float32)
		return ok && (x == y && math.Signbit(float64(x)) == math.Signbit(float64(y)) || x != x && y != y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || x != x && y != y)
	case spec.Decimal:
		y, ok := b.(spec.Decimal)
		return ok && x.Scale == y.Scale && x.Cmp(y) == 0
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case spec.Row:
		y, ok := b.(spec.Row)
		return ok && equal([]any(x), []any(y))
	case spec.Map:
		y, ok := b.(spec.Map)
		return ok && equal(x.Keys, y.Keys) && equal(x.Values, y.Values)
	}
	return a == b
}

var (
	rowXY = spec.RowType(field("x", spec.IntType), field("y", spec.StringType))
	vec3  = spec.DataType{Root: spec.TypeVector, Nullable: true, Length: 3, Elem: &spec.FloatType}
	mset  = spec.DataType{Root: spec.TypeMultiset, Nullable: true, Elem: &spec.StringType}
)

// typeCases cover every type: the JSON accepted, the value it gives, and the
// canonical JSON and CSV the encoders write for that value.
var typeCases = []struct {
	name    string
	t       spec.DataType
	in      string // JSON value
	want    any
	outJSON string
	outCSV  string
}{
	{"bool", spec.BooleanType, `true`, true, `true`, `true`},
	{"bool text", spec.BooleanType, `"false"`, false, `false`, `false`},
	{"tinyint", spec.TinyIntType, `-128`, int8(-128), `-128`, `-128`},
	{"smallint", spec.SmallIntType, `32767`, int16(32767), `32767`, `32767`},
	{"int", spec.IntType, `42`, int32(42), `42`, `42`},
	{"int integral float", spec.IntType, `1.0`, int32(1), `1`, `1`},
	{"int exponent", spec.IntType, `1e3`, int32(1000), `1000`, `1000`},
	{"int string", spec.IntType, `"-7"`, int32(-7), `-7`, `-7`},
	{"bigint max", spec.BigIntType, `9223372036854775807`, int64(math.MaxInt64), `9223372036854775807`, `9223372036854775807`},
	{"bigint min", spec.BigIntType, `-9223372036854775808`, int64(math.MinInt64), `-9223372036854775808`, `-9223372036854775808`},
	{"bigint string", spec.BigIntType, `"9223372036854775807"`, int64(math.MaxInt64), `9223372036854775807`, `9223372036854775807`},
	{"float", spec.FloatType, `1.5`, float32(1.5), `1.5`, `1.5`},
	{"float shortest", spec.FloatType, `0.1`, float32(0.1), `0.1`, `0.1`},
	{"float nan", spec.FloatType, `"NaN"`, float32(math.NaN()), `"NaN"`, `NaN`},
	{"double", spec.DoubleType, `0.1`, 0.1, `0.1`, `0.1`},
	{"double big", spec.DoubleType, `1e300`, 1e300, `1e+300`, `1e+300`},
	{"double small", spec.DoubleType, `0.0000001`, 1e-7, `1e-7`, `1e-7`},
	{"double whole", spec.DoubleType, `3`, 3.0, `3`, `3`},
	{"double inf", spec.DoubleType, `"Infinity"`, math.Inf(1), `"Infinity"`, `Infinity`},
	{"double -inf", spec.DoubleType, `"-Infinity"`, math.Inf(-1), `"-Infinity"`, `-Infinity`},
	{"decimal", spec.DecimalType(10, 2), `12.3`, dec("1230", 2), `"12.30"`, `12.30`},
	{"decimal string", spec.DecimalType(10, 2), `"-0.05"`, dec("-5", 2), `"-0.05"`, `-0.05`},
	{"decimal exponent", spec.DecimalType(10, 2), `1e2`, dec("10000", 2), `"100.00"`, `100.00`},
	{"decimal trailing zeros", spec.DecimalType(10, 2), `1.2300`, dec("123", 2), `"1.23"`, `1.23`},
	{"decimal 38", spec.DecimalType(38, 10), `"1234567890123456789012345678.1234567890"`,
		dec("12345678901234567890123456781234567890", 10),
		`"1234567890123456789012345678.1234567890"`, `1234567890123456789012345678.1234567890`},
	{"decimal 38 number", spec.DecimalType(38, 10), `-1234567890123456789012345678.123456789`,
		dec("-12345678901234567890123456781234567890", 10),
		`"-1234567890123456789012345678.1234567890"`, `-1234567890123456789012345678.1234567890`},
	{"decimal scale 0", spec.DecimalType(5, 0), `-99999`, dec("-99999", 0), `"-99999"`, `-99999`},
	{"char", spec.DataType{Root: spec.TypeChar, Nullable: true, Length: 3}, `"abc"`, "abc", `"abc"`, `abc`},
	{"varchar escapes", spec.StringType, `"h\u00e9 \"q\"\\\n\t\u0001/"`, "hé \"q\"\\\n\t\x01/",
		`"hé \"q\"\\\n\t\u0001/"`, "\"hé \"\"q\"\"\\\n\t\x01/\""},
	{"varchar surrogates", spec.StringType, `"\ud83d\ude00 😀"`, "😀 😀", `"😀 😀"`, `😀 😀`},
	{"varchar lone surrogate", spec.StringType, `"\ud83d!"`, "\ufffd!", `"` + "\ufffd" + `!"`, "\ufffd!"},
	{"varchar html", spec.StringType, `"<a&b>"`, "<a&b>", `"<a&b>"`, `<a&b>`},
	{"varchar empty", spec.StringType, `""`, "", `""`, `""`},
	{"varchar comma", spec.StringType, `"a,b"`, "a,b", `"a,b"`, `"a,b"`},
	{"varchar space", spec.StringType, `" a"`, " a", `" a"`, `" a"`},
	{"varchar(3) fits", varchar(3), `"äöü"`, "äöü", `"äöü"`, `äöü`},
	{"bytes", spec.BytesType, `"AAEC/w=="`, []byte{0, 1, 2, 255}, `"AAEC/w=="`, `AAEC/w==`},
	{"bytes unpadded", spec.BytesType, `"AAEC/w"`, []byte{0, 1, 2, 255}, `"AAEC/w=="`, `AAEC/w==`},
	{"bytes empty", spec.BytesType, `""`, []byte{}, `""`, `""`},
	{"binary", spec.DataType{Root: spec.TypeBinary, Nullable: true, Length: 2}, `"q80="`, []byte{0xab, 0xcd}, `"q80="`, `q80=`},
	{"date", spec.DateType, `"2024-01-31"`, epochDay("2024-01-31"), `"2024-01-31"`, `2024-01-31`},
	{"date epoch", spec.DateType, `"1970-01-01"`, spec.Date(0), `"1970-01-01"`, `1970-01-01`},
	{"date leap", spec.DateType, `"2000-02-29"`, epochDay("2000-02-29"), `"2000-02-29"`, `2000-02-29`},
	{"date old", spec.DateType, `"0001-01-01"`, epochDay("0001-01-01"), `"0001-01-01"`, `0001-01-01`},
	{"date far", spec.DateType, `"+10000-01-01"`, spec.Date(2932897), `"+10000-01-01"`, `+10000-01-01`},
	{"date negative year", spec.DateType, `"-0001-12-31"`, spec.Date(-719529), `"-0001-12-31"`, `-0001-12-31`},
	{"time", withPrecision(spec.TypeTime, 3), `"12:34:56.789"`, spec.Time(45296789), `"12:34:56.789"`, `12:34:56.789`},
	{"time whole", withPrecision(spec.TypeTime, 0), `"23:59:59"`, spec.Time(86399000), `"23:59:59"`, `23:59:59`},
	{"time padded fraction", withPrecision(spec.TypeTime, 3), `"00:00:00.500000"`, spec.Time(500), `"00:00:00.500"`, `00:00:00.500`},
	{"timestamp", spec.TimestampType(3), `"2024-01-31T12:00:00"`, ts("2024-01-31T12:00:00Z"), `"2024-01-31T12:00:00"`, `2024-01-31T12:00:00`},
	{"timestamp space", spec.TimestampType(3), `"2024-01-31 12:00:00.120"`, ts("2024-01-31T12:00:00.12Z"), `"2024-01-31T12:00:00.12"`, `2024-01-31T12:00:00.12`},
	{"timestamp no seconds", spec.TimestampType(0), `"2024-01-31T12:30"`, ts("2024-01-31T12:30:00Z"), `"2024-01-31T12:30:00"`, `2024-01-31T12:30:00`},
	{"timestamp date only", spec.TimestampType(0), `"2024-01-31"`, ts("2024-01-31T00:00:00Z"), `"2024-01-31T00:00:00"`, `2024-01-31T00:00:00`},
	{"timestamp nanos", spec.TimestampType(9), `"2024-01-31T12:00:00.123456789"`,
		spec.Timestamp{Millis: ts("2024-01-31T12:00:00.123Z").Millis, NanoOfMilli: 456789},
		`"2024-01-31T12:00:00.123456789"`, `2024-01-31T12:00:00.123456789`},
	{"timestamp before epoch", spec.TimestampType(6), `"1969-12-31T23:59:59.999999"`,
		spec.Timestamp{Millis: -1, NanoOfMilli: 999000}, `"1969-12-31T23:59:59.999999"`, `1969-12-31T23:59:59.999999`},
	{"ltz offset", withPrecision(spec.TypeTimestampLTZ, 6), `"2024-01-31T13:00:00+01:00"`, ts("2024-01-31T12:00:00Z"), `"2024-01-31T12:00:00.000000Z"`, `2024-01-31T12:00:00.000000Z`},
	{"ltz z", withPrecision(spec.TypeTimestampLTZ, 3), `"2024-01-31T12:00:00.5Z"`, ts("2024-01-31T12:00:00.5Z"), `"2024-01-31T12:00:00.500Z"`, `2024-01-31T12:00:00.500Z`},
	{"ltz compact offset", withPrecision(spec.TypeTimestampLTZ, 0), `"2024-01-31 07:00:00-0500"`, ts("2024-01-31T12:00:00Z"), `"2024-01-31T12:00:00Z"`, `2024-01-31T12:00:00Z`},
	{"ltz no zone", withPrecision(spec.TypeTimestampLTZ, 6), `"2024-01-31T12:00:00"`, ts("2024-01-31T12:00:00Z"), `"2024-01-31T12:00:00.000000Z"`, `2024-01-31T12:00:00.000000Z`},
	{"array", arrayOf(spec.IntType), `[1, null ,3]`, []any{int32(1), nil, int32(3)}, `[1,null,3]`, `"[1,null,3]"`},
	{"array empty", arrayOf(spec.IntType), `[]`, []any{}, `[]`, `[]`},
	{"array of arrays", arrayOf(arrayOf(spec.StringType)), `[["a"],[]]`, []any{[]any{"a"}, []any{}}, `[["a"],[]]`, `"[[""a""],[]]"`},
	{"array as text", arrayOf(spec.DateType), `"[\"2024-01-31\"]"`, []any{epochDay("2024-01-31")}, `["2024-01-31"]`, `"[""2024-01-31""]"`},
	{"vector", vec3, `[1,0.5,0]`, []any{float32(1), float32(0.5), float32(0)}, `[1,0.5,0]`, `"[1,0.5,0]"`},
	{"map", mapOf(spec.StringType, spec.IntType), `{"a":1,"b":null}`,
		spec.Map{Keys: []any{"a", "b"}, Values: []any{int32(1), nil}}, `{"a":1,"b":null}`, `"{""a"":1,""b"":null}"`},
	{"map int keys", mapOf(spec.IntType.NotNull(), spec.StringType), `{"2":"x","-1":"y"}`,
		spec.Map{Keys: []any{int32(2), int32(-1)}, Values: []any{"x", "y"}}, `{"2":"x","-1":"y"}`, `"{""2"":""x"",""-1"":""y""}"`},
	{"map date keys", mapOf(spec.DateType.NotNull(), arrayOf(spec.BooleanType)), `{"2024-01-31":[true]}`,
		spec.Map{Keys: []any{epochDay("2024-01-31")}, Values: []any{[]any{true}}}, `{"2024-01-31":[true]}`, `"{""2024-01-31"":[true]}"`},
	{"map empty", mapOf(spec.StringType, spec.IntType), `{}`, spec.Map{Keys: []any{}, Values: []any{}}, `{}`, `{}`},
	{"multiset array", mset, `["a","b","a"]`, spec.Map{Keys: []any{"a", "b"}, Values: []any{int32(2), int32(1)}}, `{"a":2,"b":1}`, `"{""a"":2,""b"":1}"`},
	{"multiset object", mset, `{"a":2}`, spec.Map{Keys: []any{"a"}, Values: []any{int32(2)}}, `{"a":2}`, `"{""a"":2}"`},
	{"row", rowXY, `{"y":"q","x":1}`, spec.Row{int32(1), "q"}, `{"x":1,"y":"q"}`, `"{""x"":1,""y"":""q""}"`},
	{"row missing field", rowXY, `{"x":1}`, spec.Row{int32(1), nil}, `{"x":1,"y":null}`, `"{""x"":1,""y"":null}"`},
	{"array of rows", arrayOf(rowXY), `[{"x":1,"y":"a"},null]`, []any{spec.Row{int32(1), "a"}, nil},
		`[{"x":1,"y":"a"},null]`, `"[{""x"":1,""y"":""a""},null]"`},
	{"null", spec.IntType, `null`, nil, `null`, ``},
}

func TestTypesJSON(t *testing.T) {
	for _, c := range typeCases {
		t.Run(c.name, func(t *testing.T) {
			fields := []spec.DataField{field("c", c.t)}
			d := NewJSONDecoder(strings.NewReader(`{"c":`+c.in+"}\n"), fields)
			row, kind, err := d.Next()
			if err != nil {
				t.Fatalf("decode %s: %v", c.in, err)
			}
			if kind != spec.RowKindInsert || !equal(row[0], c.want) {
				t.Fatalf("decode %s = %#v (%v), want %#v", c.in, row[0], kind, c.want)
			}
			if _, _, err := d.Next(); err != io.EOF {
				t.Fatalf("want EOF, got %v", err)
			}
			var out bytes.Buffer
			e := NewJSONEncoder(&out, fields)
			if err := e.Write(spec.Row{c.want}); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := `{"c":` + c.outJSON + "}\n"; out.String() != want {
				t.Fatalf("encode = %s, want %s", out.String(), want)
			}
		})
	}
}

func TestTypesCSV(t *testing.T) {
	for _, c := range typeCases {
		t.Run(c.name, func(t *testing.T) {
			fields := []spec.DataField{field("n", spec.IntType), field("c", c.t)}
			var out bytes.Buffer
			e := NewCSVEncoder(&out, fields)
			if err := e.Write(spec.Row{int32(1), c.want}); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := "n,c\n1," + c.outCSV + "\n"; out.String() != want {
				t.Fatalf("encode = %q, want %q", out.String(), want)
			}
			d := NewCSVDecoder(&out, fields)
			row, _, err := d.Next()
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equal(row[1], c.want) {
				t.Fatalf("decode = %#v, want %#v", row[1], c.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	fields := []spec.DataField{field("a", spec.IntType)}
	in := `{"a":1}
{"_kind":"-U","a":2}
{"a":3,"_kind":"+U"}
{"_kind":"-D"}
{"_kind":null,"a":5}
`
	want := []spec.RowKind{spec.RowKindInsert, spec.RowKindUpdateBefore, spec.RowKindUpdateAfter, spec.RowKindDelete, spec.RowKindInsert}
	d := NewJSONDecoder(strings.NewReader(in), fields)
	for i, w := range want {
		_, k, err := d.Next()
		if err != nil || k != w {
			t.Fatalf("row %d: kind %v, %v; want %v", i, k, err, w)
		}
	}
	csvIn := "_kind,a\n-D,1\n,2\n+U,3\n"
	cd := NewCSVDecoder(strings.NewReader(csvIn), fields)
	for i, w := range []spec.RowKind{spec.RowKindDelete, spec.RowKindInsert, spec.RowKindUpdateAfter} {
		_, k, err := cd.Next()
		if err != nil || k != w {
			t.Fatalf("csv row %d: kind %v, %v; want %v", i, k, err, w)
		}
	}
	// A column named _kind is data.
	shadow := []spec.DataField{field("_kind", spec.StringType)}
	row, k, err := NewJSONDecoder(strings.NewReader(`{"_kind":"-D"}`), shadow).Next()
	if err != nil || k != spec.RowKindInsert || row[0] != "-D" {
		t.Fatalf("shadowed _kind: %v %v %v", row, k, err)
	}
}

// TestCSVNulls checks the PostgreSQL convention: unquoted empty is null,
// quoted empty is the empty string (TestCSVEmptyNotNullString covers NOT
// NULL columns).
func TestCSVNulls(t *testing.T) {
	fields := []spec.DataField{
		field("s", spec.StringType), field("n", spec.IntType),
		field("req", spec.StringType.NotNull()), field("b", spec.BytesType.NotNull()),
	}
	in := "s,n,req,b\n,,\"\",\"\"\n\"\",\"\",\"\",\"\"\n"
	d := NewCSVDecoder(strings.NewReader(in), fields)
	row, _, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !equal(row, spec.Row{nil, nil, "", []byte{}}) {
		t.Fatalf("row 1 = %#v", row)
	}
	// A quoted empty INT is not null: it is an invalid INT.
	_, _, err = d.Next()
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 3 || ie.Column != "n" {
		t.Fatalf("row 2: %v", err)
	}
}

// TestCSVSingleColumnNull checks that a null in a one-column file, written
// as a blank line, reads back.
func TestCSVSingleColumnNull(t *testing.T) {
	fields := []spec.DataField{field("s", spec.StringType)}
	rows := []spec.Row{{"a"}, {nil}, {""}, {"x\ny"}}
	var out bytes.Buffer
	e := NewCSVEncoder(&out, fields)
	for _, r := range rows {
		if err := e.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "s\na\n\n\"\"\n\"x\ny\"\n"; out.String() != want {
		t.Fatalf("encoded %q, want %q", out.String(), want)
	}
	d := NewCSVDecoder(&out, fields)
	for i, want := range rows {
		row, _, err := d.Next()
		if err != nil || !equal(row, want) {
			t.Fatalf("row %d = %#v, %v; want %#v", i, row, err, want)
		}
	}
	if _, _, err := d.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestCSVQuoting(t *testing.T) {
	fields := []spec.DataField{field("a", spec.StringType), field("b", spec.IntType)}
	in := "\ufeffb,a\r\n1,\"x,\"\"y\"\"\r\nz\"\r\n\r\n2,plain\n3,\"\"\n4,"
	d := NewCSVDecoder(strings.NewReader(in), fields)
	want := []struct {
		row  spec.Row
		line int
	}{
		{spec.Row{"x,\"y\"\r\nz", int32(1)}, 2},
		{spec.Row{"plain", int32(2)}, 5},
		{spec.Row{"", int32(3)}, 6},
		{spec.Row{nil, int32(4)}, 7},
	}
	for i, w := range want {
		row, _, err := d.Next()
		if err != nil || !equal(row, w.row) || d.Line() != w.line {
			t.Fatalf("row %d = %#v at line %d, %v; want %#v at %d", i, row, d.Line(), err, w.row, w.line)
		}
	}
	if _, _, err := d.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestEmptyInputs(t *testing.T) {
	fields := []spec.DataField{field("a", spec.IntType)}
	for name, d := range map[string]Decoder{
		"json":       NewJSONDecoder(strings.NewReader(""), fields),
		"json blank": NewJSONDecoder(strings.NewReader("\n  \n\t\r\n"), fields),
		"csv":        NewCSVDecoder(strings.NewReader(""), fields),
		"csv header": NewCSVDecoder(strings.NewReader("a\n"), fields),
	} {
		if _, _, err := d.Next(); err != io.EOF {
			t.Errorf("%s: want EOF, got %v", name, err)
		}
	}
	// Encoders write their header even with no rows.
	var out bytes.Buffer
	e := NewCSVEncoder(&out, []spec.DataField{field("a", spec.IntType), field("b,c", spec.IntType)})
	if err := e.Flush(); err != nil || out.String() != "a,\"b,c\"\n" {
		t.Fatalf("csv header %q, %v", out.String(), err)
	}
}

func TestLongLine(t *testing.T) {
	fields := []spec.DataField{field("s", spec.StringType)}
	long := strings.Repeat("x", 200<<10)
	in := `{"s":"` + long + `"}` + "\n" + `{"s":"short"}`
	d := NewJSONDecoder(strings.NewReader(in), fields)
	for _, want := range []string{long, "short"} {
		row, _, err := d.Next()
		if err != nil || row[0] != want {
			t.Fatalf("got %d bytes, %v", len(fmt.Sprint(row[0])), err)
		}
	}
}

func TestEncoderTypeErrors(t *testing.T) {
	cases := []struct {
		t    spec.DataType
		v    any
		path string
	}{
		{spec.IntType, int64(1), "c"},
		{spec.StringType, []byte("x"), "c"},
		{spec.DecimalType(5, 2), 1.5, "c"},
		{arrayOf(spec.IntType), []any{int32(1), "x"}, "c[1]"},
		{rowXY, spec.Row{int32(1), 2}, "c.y"},
		{rowXY, spec.Row{int32(1)}, "c"},
		{mapOf(spec.StringType, spec.IntType), spec.Map{Keys: []any{"a"}, Values: []any{"b"}}, `c["a"]`},
		{mapOf(spec.StringType, spec.IntType), spec.Map{Keys: []any{"a"}}, "c"},
		{withPrecision(spec.TypeTime, 3), spec.Time(-1), "c"},
		{spec.TimestampType(3), spec.Timestamp{NanoOfMilli: 1e6}, "c"},
	}
	fields := func(t spec.DataType) []spec.DataField { return []spec.DataField{field("c", t)} }
	for _, c := range cases {
		for name, e := range map[string]Encoder{
			"json":  NewJSONEncoder(io.Discard, fields(c.t)),
			"csv":   NewCSVEncoder(io.Discard, fields(c.t)),
			"table": NewTableEncoder(io.Discard, fields(c.t)),
		} {
			err := e.Write(spec.Row{c.v})
			if !errors.Is(err, spec.ErrSchemaMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("column %q", c.path)) {
				t.Errorf("%s %s %#v: got %v, want schema mismatch at %s", name, c.t, c.v, err, c.path)
			}
		}
	}
	if err := NewJSONEncoder(io.Discard, fields(spec.IntType)).Write(spec.Row{}); !errors.Is(err, spec.ErrSchemaMismatch) {
		t.Errorf("short row: %v", err)
	}
}

func TestTableEncoder(t *testing.T) {
	fields := []spec.DataField{
		field("id", spec.IntType), field("name", spec.StringType),
		field("score", spec.DecimalType(5, 1)), field("tags", arrayOf(spec.StringType)),
	}
	var out bytes.Buffer
	e := NewTableEncoder(&out, fields)
	rows := []spec.Row{
		{int32(1), "alice", dec("15", 1), []any{"a"}},
		{int32(22), nil, dec("120", 1), nil},
		{int32(3), "line\nbreak", nil, []any{}},
	}
	for _, r := range rows {
		if err := e.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		" id | name        | score | tags\n" +
		"----+-------------+-------+-------\n" +
		"  1 | alice       |   1.5 | [\"a\"]\n" +
		" 22 | NULL        |  12.0 | NULL\n" +
		"  3 | line\\nbreak |  NULL | []\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestRoundTrip decodes JSON, encodes it and decodes again: the rows and
// the canonical text must be stable.
func TestRoundTrip(t *testing.T) {
	in := `{"id":1,"s":"a\"b","f":1.5,"d":"1.50","ts":"2024-01-31 12:00:00.5","arr":[1,2],"m":{"k":[{"x":1,"y":null}]},"ms":["z","z"],"b":"AQ=="}
{"id":2}
{"id":3,"f":"NaN","d":-0.01,"ts":"1900-01-01T00:00:00.000000001","arr":[],"m":{},"ms":{},"b":""}
`
	fields := []spec.DataField{
		field("id", spec.BigIntType.NotNull()), field("s", spec.StringType), field("f", spec.DoubleType),
		field("d", spec.DecimalType(10, 2)), field("ts", spec.TimestampType(9)), field("arr", arrayOf(spec.IntType)),
		field("m", mapOf(spec.StringType, arrayOf(rowXY))), field("ms", mset), field("b", spec.BytesType),
	}
	encode := func(rows []spec.Row) string {
		var out bytes.Buffer
		e := NewJSONEncoder(&out, fields)
		for _, r := range rows {
			if err := e.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	decode := func(s string) []spec.Row {
		var rows []spec.Row
		d := NewJSONDecoder(strings.NewReader(s), fields)
		for {
			r, _, err := d.Next()
			if err == io.EOF {
				return rows
			}
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
	}
	rows := decode(in)
	first := encode(rows)
	rows2 := decode(first)
	if second := encode(rows2); second != first {
		t.Fatalf("unstable:\n%s\n%s", first, second)
	}
	for i := range rows {
		if !equal(rows[i], rows2[i]) {
			t.Fatalf("row %d changed: %#v vs %#v", i, rows[i], rows2[i])
		}
	}
	// And through CSV.
	var csvOut bytes.Buffer
	ce := NewCSVEncoder(&csvOut, fields)
	for _, r := range rows {
		if err := ce.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := ce.Flush(); err != nil {
		t.Fatal(err)
	}
	cd := NewCSVDecoder(&csvOut, fields)
	for i := range rows {
		r, _, err := cd.Next()
		if err != nil || !equal(r, rows[i]) {
			t.Fatalf("csv row %d = %#v, %v; want %#v", i, r, err, rows[i])
		}
	}
}
