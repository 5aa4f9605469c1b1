package textrow

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

// A quoted CSV field keeps its bytes: a CRLF inside it stays CRLF, an LF
// stays LF, whatever ends the records.
func TestCSVQuotedLineBreaksKept(t *testing.T) {
	fields := []spec.DataField{field("id", spec.IntType), field("s", spec.StringType)}
	in := "id,s\r\n1,\"a\r\nb\"\r\n2,\"c\nd\"\n3,\"e\r\n\r\nf\"\n4,\"g\r\"\n"
	d := NewCSVDecoder(strings.NewReader(in), fields)
	want := []struct {
		s    string
		line int
	}{{"a\r\nb", 2}, {"c\nd", 4}, {"e\r\n\r\nf", 6}, {"g\r", 9}}
	for i, w := range want {
		row, _, err := d.Next()
		if err != nil || row[1] != w.s || d.Line() != w.line {
			t.Fatalf("row %d = %q at line %d, %v; want %q at line %d", i, row, d.Line(), err, w.s, w.line)
		}
	}
	// What the encoder writes reads back byte for byte.
	rows := []spec.Row{{int32(1), "x\r\ny"}, {int32(2), "\r\n"}, {int32(3), "p\nq\r\n"}}
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
	d = NewCSVDecoder(&out, fields)
	for i, w := range rows {
		row, _, err := d.Next()
		if err != nil || !equal(row, w) {
			t.Fatalf("round trip row %d = %q, %v; want %q", i, row, err, w)
		}
	}
}

// Invalid UTF-8 is an error naming the line and column, never U+FFFD.
func TestInvalidUTF8(t *testing.T) {
	fields := []spec.DataField{
		field("id", spec.IntType), field("s", spec.StringType), field("tags", arrayOf(spec.StringType)),
		field("m", mapOf(spec.StringType.NotNull(), spec.IntType)),
	}
	jsonCases := []struct{ in, col string }{
		{"{\"id\":1,\"s\":\"a\xffb\"}", "s"},
		{"{\"id\":1,\"s\":\"\xc3\"}", "s"},
		{"{\"id\":1,\"s\":\"ok\\n\xed\xa0\x80\"}", "s"}, // an encoded surrogate
		{"{\"id\":1,\"tags\":[\"ok\",\"\xfe\"]}", "tags[1]"},
		{"{\"id\":1,\"m\":{\"k\xff\":1}}", "m"},
		{"{\"id\":1,\"s\xff\":\"x\"}", ""},
	}
	for _, c := range jsonCases {
		d := NewJSONDecoder(strings.NewReader("{\"id\":0}\n"+c.in+"\n"), fields)
		if _, _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
		_, _, err := d.Next()
		wantInputError(t, err, 2, c.col, "invalid UTF-8")
	}
	csvCases := []struct{ in, col string }{
		{"id,s\n1,ok\n2,a\xffb\n", "s"},
		{"id,s\n1,ok\n2,\"a\xff\nb\"\n", "s"},
		{"id,tags\n1,[]\n2,\"[\"\"\xff\"\"]\"\n", "tags[0]"},
	}
	for _, c := range csvCases {
		d := NewCSVDecoder(strings.NewReader(c.in), fields)
		if _, _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
		_, _, err := d.Next()
		wantInputError(t, err, 3, c.col, "invalid UTF-8")
	}
	// Valid multi-byte text still passes.
	row, _, err := NewCSVDecoder(strings.NewReader("s\nhé😀\n"), fields).Next()
	if err != nil || row[1] != "hé😀" {
		t.Fatalf("valid UTF-8: %q, %v", row, err)
	}
}

// An unquoted empty CSV cell is null in every column, so a NOT NULL string
// or bytes column rejects it; a quoted one is the empty value.
func TestCSVEmptyNotNullString(t *testing.T) {
	fields := []spec.DataField{
		field("id", spec.IntType), field("s", spec.StringType.NotNull()), field("b", spec.BytesType.NotNull()),
	}
	d := NewCSVDecoder(strings.NewReader("id,s,b\n1,\"\",\"\"\n2,,\"\"\n3,\"\",\n"), fields)
	row, _, err := d.Next()
	if err != nil || !equal(row, spec.Row{int32(1), "", []byte{}}) {
		t.Fatalf("quoted empty: %#v, %v", row, err)
	}
	_, _, err = d.Next()
	wantInputError(t, err, 3, "s", "null is not allowed")
	_, _, err = d.Next()
	wantInputError(t, err, 4, "b", "null is not allowed")
}

// TIMESTAMP_LTZ prints as an instant in UTC with Z, at the type's
// precision, in every format, and reads back to the same value.
func TestTimestampLTZOutput(t *testing.T) {
	cases := []struct {
		p    int
		in   string
		want string
	}{
		{3, "2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05.123Z"},
		{3, "2024-01-02T04:04:05.1+01:00", "2024-01-02T03:04:05.100Z"},
		{3, "2024-01-02 03:04:05", "2024-01-02T03:04:05.000Z"},
		{0, "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{6, "1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"},
		{9, "2024-01-02T03:04:05.000000001-00:30", "2024-01-02T03:34:05.000000001Z"},
	}
	for _, c := range cases {
		fields := []spec.DataField{field("t", withPrecision(spec.TypeTimestampLTZ, c.p))}
		row, _, err := NewJSONDecoder(strings.NewReader(`{"t":"`+c.in+`"}`), fields).Next()
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		var js, cs, tb bytes.Buffer
		for _, e := range []Encoder{NewJSONEncoder(&js, fields), NewCSVEncoder(&cs, fields), NewTableEncoder(&tb, fields)} {
			if err := e.Write(row); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := js.String(), `{"t":"`+c.want+"\"}\n"; got != want {
			t.Errorf("%s: jsonl %q, want %q", c.in, got, want)
		}
		if got, want := cs.String(), "t\n"+c.want+"\n"; got != want {
			t.Errorf("%s: csv %q, want %q", c.in, got, want)
		}
		if !strings.Contains(tb.String(), " "+c.want+"\n") {
			t.Errorf("%s: table %q, want %q", c.in, tb.String(), c.want)
		}
		// The printed form reads back to the same instant.
		back, _, err := NewCSVDecoder(&cs, fields).Next()
		if err != nil || !equal(back[0], row[0]) {
			t.Errorf("%s: read back %v, %v; want %v", c.in, back, err, row)
		}
	}
	// Plain TIMESTAMP keeps its zone-less form.
	fields := []spec.DataField{field("t", spec.TimestampType(3))}
	var js bytes.Buffer
	e := NewJSONEncoder(&js, fields)
	if err := e.Write(spec.Row{ts("2024-01-02T03:04:05.1Z")}); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil || js.String() != `{"t":"2024-01-02T03:04:05.1"}`+"\n" {
		t.Fatalf("TIMESTAMP: %q, %v", js.String(), err)
	}
}
