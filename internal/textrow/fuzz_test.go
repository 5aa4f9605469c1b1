package textrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/stratalake/strata/spec"
)

var notNullString = spec.StringType.NotNull()

// fuzzFields has a column of every type.
var fuzzFields = []spec.DataField{
	field("id", spec.BigIntType.NotNull()),
	field("b", spec.BooleanType),
	field("i8", spec.TinyIntType),
	field("i16", spec.SmallIntType),
	field("i32", spec.IntType),
	field("f", spec.FloatType),
	field("g", spec.DoubleType),
	field("d", spec.DecimalType(38, 4)),
	field("c", spec.DataType{Root: spec.TypeChar, Nullable: true, Length: 4}),
	field("s", spec.StringType),
	field("bin", spec.DataType{Root: spec.TypeBinary, Nullable: true, Length: 4}),
	field("by", spec.BytesType),
	field("dt", spec.DateType),
	field("tm", withPrecision(spec.TypeTime, 3)),
	field("ts", spec.TimestampType(9)),
	field("ltz", withPrecision(spec.TypeTimestampLTZ, 6)),
	field("arr", arrayOf(spec.IntType)),
	field("vec", vec3),
	field("m", mapOf(spec.StringType.NotNull(), arrayOf(spec.DoubleType))),
	field("mk", mapOf(spec.DateType, spec.StringType)),
	// String keys must be NOT NULL for a round trip: a null key prints as
	// "null", which a string key type reads as the string.
	field("ms", spec.DataType{Root: spec.TypeMultiset, Nullable: true, Elem: &notNullString}),
	field("r", spec.RowType(field("x", spec.IntType.NotNull()), field("y", mapOf(spec.IntType.NotNull(), rowXY)))),
}

func FuzzJSONDecoder(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"b":true,"i8":-1,"i16":300,"i32":1e3,"f":"NaN","g":-0.0,"d":"12.3400","c":"abcd","s":"a\"\u00e9\ud83d\ude00","bin":"AAE=","by":"","dt":"2024-02-29","tm":"23:59:59.999","ts":"2024-01-31 12:00:00.000000001","ltz":"2024-01-31T12:00:00+05:30","arr":[1,null],"vec":[1,2,3],"m":{"k":[1.5,null]},"mk":{"2024-01-01":"x","null":null},"ms":["a","a"],"r":{"x":1,"y":{"1":{"x":2,"y":"z"}}}}`,
		`{"id":2,"_kind":"-D"}` + "\n\n" + `{"id":3,"d":1e-4}`,
		"\ufeff{\"id\":-9223372036854775808,\"dt\":\"+10000-01-01\",\"ts\":\"-0001-01-01T00:00\"}\r\n",
		`{"id":1,"ms":{"q":3}}`,
		`{"id":"12","g":"-Infinity","f":3.4028235e38}`,
		`{"id":1,"r":"{\"x\":5}"}`,
		`{"id":1`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		d := NewJSONDecoder(bytes.NewReader(data), fuzzFields)
		var rows []spec.Row
		for n := 0; n <= len(lines); n++ {
			row, _, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || !errors.Is(err, ErrBadInput) {
					t.Fatalf("error is not an *InputError: %v", err)
				}
				if ie.Line < 1 || ie.Line > len(lines) {
					t.Fatalf("error line %d outside 1..%d", ie.Line, len(lines))
				}
				continue
			}
			// Whatever we accept, encoding/json accepts.
			line := bytes.TrimSuffix(lines[d.Line()-1], []byte("\r"))
			if d.Line() == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			if !json.Valid(line) {
				t.Fatalf("accepted invalid JSON %q", line)
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			return
		}
		// Encoding is total on decoded rows, and stable through a decode.
		var out bytes.Buffer
		e := NewJSONEncoder(&out, fuzzFields)
		for _, r := range rows {
			if err := e.Write(r); err != nil {
				t.Fatalf("encode: %v", err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		first := out.String()
		d2 := NewJSONDecoder(&out, fuzzFields)
		var out2 bytes.Buffer
		e2 := NewJSONEncoder(&out2, fuzzFields)
		for i, want := range rows {
			r, _, err := d2.Next()
			if err != nil {
				t.Fatalf("re-decode row %d: %v\n%s", i, err, first)
			}
			if !equal(r, want) {
				t.Fatalf("row %d changed: %#v vs %#v", i, r, want)
			}
			if err := e2.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := e2.Flush(); err != nil {
			t.Fatal(err)
		}
		if out2.String() != first {
			t.Fatalf("unstable encoding:\n%s\n%s", first, out2.String())
		}
		// And through CSV.
		var csvOut bytes.Buffer
		ce := NewCSVEncoder(&csvOut, fuzzFields)
		for _, r := range rows {
			if err := ce.Write(r); err != nil {
				t.Fatalf("csv encode: %v", err)
			}
		}
		if err := ce.Flush(); err != nil {
			t.Fatal(err)
		}
		cd := NewCSVDecoder(bytes.NewReader(csvOut.Bytes()), fuzzFields)
		for i, want := range rows {
			r, _, err := cd.Next()
			if err != nil || !equal(r, want) {
				t.Fatalf("csv row %d = %#v, %v; want %#v\n%s", i, r, err, want, csvOut.String())
			}
		}
		if err := NewTableEncoder(io.Discard, fuzzFields).Write(rows[0]); err != nil {
			t.Fatalf("table: %v", err)
		}
	})
}
