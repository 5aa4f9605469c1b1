package textrow

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

var errFields = []spec.DataField{
	field("id", spec.IntType.NotNull()),
	field("name", varchar(5)),
	field("t", spec.TinyIntType),
	field("d", spec.DateType),
	field("ts", spec.TimestampType(3)),
	field("ltz", withPrecision(spec.TypeTimestampLTZ, 3)),
	field("tm", withPrecision(spec.TypeTime, 0)),
	field("amt", spec.DecimalType(5, 2)),
	field("f", spec.FloatType),
	field("b", spec.BytesType),
	field("ok", spec.BooleanType),
	field("tags", arrayOf(spec.IntType.NotNull())),
	field("v", vec3),
	field("m", mapOf(spec.IntType.NotNull(), spec.IntType)),
	field("r", spec.RowType(field("a", spec.IntType.NotNull()))),
	field("ms", mset),
}

// wantInputError checks err is an *InputError wrapping ErrBadInput at the
// given line and column, mentioning msg.
func wantInputError(t *testing.T, err error, line int, col, msg string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("got %v, want an *InputError", err)
	}
	if ie.Line != line || ie.Column != col || !strings.Contains(ie.Msg, msg) {
		t.Fatalf("got line %d column %q msg %q; want line %d column %q msg containing %q",
			ie.Line, ie.Column, ie.Msg, line, col, msg)
	}
}

func TestJSONErrors(t *testing.T) {
	cases := []struct {
		line, col, msg string
	}{
		{`{"id":"abc"}`, "id", `invalid INT "abc"`},
		{`{"id":1.5}`, "id", "not an integer"},
		{`{"id":1e10}`, "id", "out of range"},
		{`{"id":99999999999999999999999}`, "id", "out of range"},
		{`{"id":true}`, "id", "want INT, got boolean"},
		{`{"id":01}`, "id", "want ',' or '}', got number"},
		{`{"id":-}`, "id", "invalid number"},
		{`{"id":1,"t":300}`, "t", "out of range for TINYINT"},
		{`{"id":1,"t":-129}`, "t", "out of range"},
		{`{"id":null}`, "id", "null is not allowed"},
		{`{"name":"x"}`, "id", "missing value for NOT NULL column"},
		{`{"id":1,"zzz":1}`, "zzz", "unknown column"},
		{`{"id":1,"id":2}`, "id", "duplicate key"},
		{`{"id":1,`, "", "want a quoted key, got end of input"},
		{`{"id":1`, "id", "want ',' or '}', got end of input"},
		{`{id:1}`, "", "want a quoted key"},
		{`[1,2]`, "", "want a JSON object, got array"},
		{`"x"`, "", "want a JSON object, got string"},
		{`{"id":1} {}`, "", "unexpected object after the object"},
		{`{"id":1,"_kind":"+X"}`, "_kind", "unknown row kind"},
		{`{"id":1,"_kind":5}`, "_kind", "want a string"},
		{`{"id":1,"_kind":"-D","_kind":"-D"}`, "_kind", "duplicate key"},
		{`{"id":1,"name":"toolong"}`, "name", "longer than VARCHAR(5)"},
		{`{"id":1,"name":5}`, "name", "want VARCHAR(5), got number"},
		{`{"id":1,"name":"a\x"}`, "name", `invalid escape '\x'`},
		{`{"id":1,"name":"a\u12"}`, "name", `invalid \u escape`},
		{"{\"id\":1,\"name\":\"a\tb\"}", "name", "control character"},
		{`{"id":1,"name":"abc`, "name", "unterminated string"},
		{`{"id":1,"d":"2024-02-30"}`, "d", `invalid DATE "2024-02-30"`},
		{`{"id":1,"d":"2023-02-29"}`, "d", "invalid DATE"},
		{`{"id":1,"d":"24-01-01"}`, "d", "invalid DATE"},
		{`{"id":1,"d":"2024-01-01T00:00:00"}`, "d", "invalid DATE"},
		{`{"id":1,"d":19000}`, "d", "want DATE, got number"},
		{`{"id":1,"ts":"2024-01-31T12:00:00Z"}`, "ts", "invalid TIMESTAMP(3)"},
		{`{"id":1,"ts":"2024-01-31T12:00:00.1234"}`, "ts", "more fractional digits"},
		{`{"id":1,"ts":"2024-01-31T24:00:00"}`, "ts", "invalid TIMESTAMP(3)"},
		{`{"id":1,"ts":"2024-01-31X12:00:00"}`, "ts", "invalid TIMESTAMP(3)"},
		{`{"id":1,"ltz":"2024-01-31T12:00:00+25:00"}`, "ltz", "invalid TIMESTAMP(3) WITH LOCAL TIME ZONE"},
		{`{"id":1,"tm":"12:00:00.5"}`, "tm", "more fractional digits than TIME(0)"},
		{`{"id":1,"tm":"12:60:00"}`, "tm", "invalid TIME"},
		{`{"id":1,"amt":1.234}`, "amt", "more than 2 fractional digits"},
		{`{"id":1,"amt":1234}`, "amt", "does not fit DECIMAL(5, 2)"},
		{`{"id":1,"amt":"1.2.3"}`, "amt", "invalid DECIMAL(5, 2)"},
		{`{"id":1,"amt":[]}`, "amt", "want DECIMAL(5, 2), got array"},
		{`{"id":1,"f":"1e99"}`, "f", "out of range for FLOAT"},
		{`{"id":1,"f":"0x10"}`, "f", "invalid FLOAT"},
		{`{"id":1,"f":"inf"}`, "f", "invalid FLOAT"},
		{`{"id":1,"b":"!!"}`, "b", "invalid base64"},
		{`{"id":1,"ok":tru}`, "ok", "invalid literal"},
		{`{"id":1,"ok":1}`, "ok", "want BOOLEAN, got number"},
		{`{"id":1,"ok":"maybe"}`, "ok", "invalid BOOLEAN"},
		{`{"id":1,"tags":[1,null]}`, "tags[1]", "null is not allowed (INT NOT NULL)"},
		{`{"id":1,"tags":[1,"x"]}`, "tags[1]", "invalid INT"},
		{`{"id":1,"tags":[1,]}`, "tags[1]", "want INT, got character ']'"},
		{`{"id":1,"tags":[1 2]}`, "tags", "want ',' or ']', got number"},
		{`{"id":1,"tags":{}}`, "tags", "want ARRAY<INT NOT NULL>, got object"},
		{`{"id":1,"v":[1,2]}`, "v", "needs 3 elements, got 2"},
		{`{"id":1,"m":{"1":"x"}}`, "m[\"1\"]", "invalid INT"},
		{`{"id":1,"m":{"x":1}}`, "m[\"x\"]", "invalid INT \"x\""},
		{`{"id":1,"m":{"1":1,"01":2}}`, "m[\"1\"]", "duplicate key"},
		{`{"id":1,"r":{}}`, "r.a", "missing value for NOT NULL field"},
		{`{"id":1,"r":{"b":1}}`, "r.b", "unknown field"},
		{`{"id":1,"r":{"a":1,"a":2}}`, "r.a", "duplicate field"},
		{`{"id":1,"r":{"a":"q"}}`, "r.a", "invalid INT"},
		{`{"id":1,"ms":{"a":-1}}`, `ms["a"]`, "negative MULTISET count"},
		{`{"id":1,"ms":{"a":null}}`, `ms["a"]`, "null is not allowed"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			// A good row and a blank line first, so the bad row is line 3.
			in := `{"id":0}` + "\n\n" + c.line + "\n" + `{"id":4}` + "\n"
			d := NewJSONDecoder(strings.NewReader(in), errFields)
			if _, _, err := d.Next(); err != nil {
				t.Fatal(err)
			}
			_, _, err := d.Next()
			wantInputError(t, err, 3, c.col, c.msg)
			// The decoder carries on with the next line.
			row, _, err := d.Next()
			if err != nil || row[0] != int32(4) {
				t.Fatalf("after the error: %v, %v", row, err)
			}
		})
	}
}

// TestJSONAccepts lists inputs near the error cases that must pass.
func TestJSONAccepts(t *testing.T) {
	for _, line := range []string{
		`{"id":"1"}`,
		`{"id":-0}`,
		`{"id":2147483647,"t":-128}`,
		`{"id":1E+2}`,
		` { "id" : 1 , "name" : null } `,
		`{"id":1,"name":"äöüßé"}`,
		`{"id":1,"ltz":"2024-01-31T12:00:00.123-08:00"}`,
		`{"id":1,"tm":"12:00"}`,
		`{"id":1,"amt":"+999.990"}`,
		`{"id":1,"amt":-0.00}`,
		`{"id":1,"f":3.4e38}`,
		`{"id":1,"f":"-Infinity"}`,
		`{"id":1,"m":{"1":null,"-2":3}}`,
		`{"id":1,"ms":[null,"a",null]}`,
		`{"id":1,"r":{"a":1}}`,
		`{"id":1,"r":"{\"a\":1}"}`,
		`{}` + "\r", // rejected only for the missing id, see below
	} {
		_, _, err := NewJSONDecoder(strings.NewReader(line), errFields).Next()
		if line == "{}\r" {
			wantInputError(t, err, 1, "id", "missing value")
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

func TestCSVErrors(t *testing.T) {
	fields := []spec.DataField{
		field("id", spec.IntType.NotNull()), field("s", spec.StringType),
		field("d", spec.DateType), field("a", arrayOf(spec.IntType)),
	}
	cases := []struct {
		name, in string
		line     int
		col, msg string
	}{
		{"unknown header", "id,zz\n1,2\n", 1, "zz", "unknown column in header"},
		{"duplicate header", "id,s,s\n", 1, "s", "duplicate column in header"},
		{"duplicate kind", "id,_kind,_kind\n", 1, "_kind", "duplicate column in header"},
		{"missing not null", "s,d\n", 1, "id", "NOT NULL column missing from header"},
		{"bad int", "id,s\n1,a\nx,b\n", 3, "id", `invalid INT "x"`},
		{"null not null", "id,s\n1,a\n,b\n", 3, "id", "null is not allowed"},
		{"field count", "id,s\n1,a\n2\n", 3, "", "record has 1 fields, header has 2"},
		{"too many", "id,s\n1,a,b\n", 2, "", "record has 3 fields, header has 2"},
		{"bad date after multiline", "id,s,d\n1,\"x\ny\nz\",2024-13-01\n", 4, "d", "invalid DATE"},
		{"bad cell on later line", "id,s,d\n1,\"x\ny\",\n2,a,bad\n", 4, "d", "invalid DATE"},
		{"bare quote", "id,s\n1,a\"b\n", 2, "", "bare \" in unquoted field"},
		{"text after quote", "id,s\n1,\"a\"b\n", 2, "", `unexpected "b" after a quoted field`},
		{"unterminated", "id,s\n1,a\n2,\"abc\n\n", 3, "", "unterminated quoted field"},
		{"bad kind", "id,_kind\n1,+I\n2,XX\n", 3, "_kind", "unknown row kind"},
		{"bad array", "id,a\n1,\"[1,\"\"x\"\"]\"\n", 2, "a[1]", "invalid INT"},
		{"array trailing", "id,a\n1,[1] x\n", 2, "a", "unexpected character 'x' after ARRAY<INT> value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewCSVDecoder(strings.NewReader(c.in), fields)
			var err error
			for err == nil {
				_, _, err = d.Next()
			}
			wantInputError(t, err, c.line, c.col, c.msg)
		})
	}
	// Header errors stick; row errors do not.
	d := NewCSVDecoder(strings.NewReader("id,zz\n"), fields)
	_, _, err1 := d.Next()
	_, _, err2 := d.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("header error not sticky: %v, %v", err1, err2)
	}
	d = NewCSVDecoder(strings.NewReader("id\nx\n2\n"), fields)
	if _, _, err := d.Next(); err == nil {
		t.Fatal("want an error")
	}
	if row, _, err := d.Next(); err != nil || row[0] != int32(2) {
		t.Fatalf("after a row error: %v, %v", row, err)
	}
	if _, _, err := d.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestInputErrorString(t *testing.T) {
	err := &InputError{Line: 3, Column: "age", Msg: `invalid INT "abc"`}
	if got, want := err.Error(), `textrow: bad input: line 3, column "age": invalid INT "abc"`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := (&InputError{Line: 1, Msg: "x"}).Error(); got != "textrow: bad input: line 1: x" {
		t.Fatalf("got %s", got)
	}
}
