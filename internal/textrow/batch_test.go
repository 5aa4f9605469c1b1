package textrow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// event is what a decoder gives, row by row: a row with its kind and line,
// or an error.
type event struct {
	line int
	kind spec.RowKind
	row  spec.Row
	err  string
}

func (e event) String() string {
	if e.err != "" {
		return "error " + e.err
	}
	return fmt.Sprintf("line %d %v %#v", e.line, e.kind, e.row)
}

// maxEvents bounds a decode: header errors repeat forever.
func maxEvents(in []byte) int { return bytes.Count(in, []byte("\n")) + 2 }

// rowEvents decodes in with the row decoders.
func rowEvents(t testing.TB, format string, in []byte, fields []spec.DataField) []event {
	var next func() (spec.Row, spec.RowKind, error)
	var line func() int
	if format == "csv" {
		d := NewCSVDecoder(bytes.NewReader(in), fields)
		next, line = d.Next, d.Line
	} else {
		d := NewJSONDecoder(bytes.NewReader(in), fields)
		next, line = d.Next, d.Line
	}
	var out []event
	for len(out) < maxEvents(in) {
		row, kind, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			out = append(out, event{err: errString(t, err)})
			continue
		}
		out = append(out, event{line: line(), kind: kind, row: row})
	}
	return out
}

func errString(t testing.TB, err error) string {
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("error is not an *InputError: %v", err)
	}
	return err.Error()
}

// batchEvents decodes in with the batch decoders, in batches of at most
// rows rows, checking each batch's schema on the way.
func batchEvents(t testing.TB, format string, in []byte, fields []spec.DataField, rows int) []event {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer func() {
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("%d bytes of Arrow memory not released", n)
		}
	}()
	var d *BatchDecoder
	var err error
	opts := []BatchOption{WithBatchRows(rows), WithAllocator(mem), WithKindColumn("_VALUE_KIND")}
	if format == "csv" {
		d, err = NewCSVBatchDecoder(bytes.NewReader(in), fields, opts...)
	} else {
		d, err = NewJSONBatchDecoder(bytes.NewReader(in), fields, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	want, err := arrowconv.Schema(fields)
	if err != nil {
		t.Fatal(err)
	}
	var out []event
	for len(out) < maxEvents(in) {
		b, err := d.Next(0)
		if b != nil {
			if b.Len() == 0 || b.Len() > rows {
				t.Fatalf("batch of %d rows (limit %d)", b.Len(), rows)
			}
			if b.Rec != nil {
				checkBatchSchema(t, b, want)
			}
			for i := range b.Len() {
				row, err := b.RowAt(i, fields)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, event{line: b.Lines[i], kind: b.RowKind(i), row: row})
			}
			b.Release()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			out = append(out, event{err: errString(t, err)})
		}
	}
	return out
}

// checkBatchSchema checks a batch has the table's columns and a kind
// column exactly when some row is not +I.
func checkBatchSchema(t testing.TB, b *Batch, want *arrow.Schema) {
	got := b.Rec.Schema()
	anyKind := false
	for i := range b.Len() {
		anyKind = anyKind || b.RowKind(i) != spec.RowKindInsert
	}
	n := want.NumFields()
	if anyKind {
		n++
		if f := got.Field(got.NumFields() - 1); f.Name != "_VALUE_KIND" || f.Type.ID() != arrow.INT8 {
			t.Fatalf("kind column %v", f)
		}
	}
	if got.NumFields() != n || int(b.Rec.NumRows()) != b.Len() {
		t.Fatalf("batch schema %v with %d rows, want %v (+kind %v) with %d", got, b.Rec.NumRows(), want, anyKind, b.Len())
	}
	for i, f := range want.Fields() {
		if g := got.Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			t.Fatalf("column %d is %v, want %v", i, g, f)
		}
	}
}

// sameEvents fails unless the batch decoder gave what the row decoder gave.
func sameEvents(t testing.TB, in []byte, want, got []event) {
	t.Helper()
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(want):
			t.Fatalf("input %q: batch decoder gave more: %v", in, got[i])
		case i >= len(got):
			t.Fatalf("input %q: batch decoder gave less; row decoder: %v", in, want[i])
		case want[i].err != got[i].err || want[i].line != got[i].line || want[i].kind != got[i].kind || !equal(want[i].row, got[i].row):
			t.Fatalf("input %q, event %d:\nrow decoder   %v\nbatch decoder %v", in, i, want[i], got[i])
		}
	}
}

func agree(t testing.TB, format string, in []byte, fields []spec.DataField) {
	t.Helper()
	want := rowEvents(t, format, in, fields)
	for _, rows := range []int{1, 3, DefaultBatchRows} {
		sameEvents(t, in, want, batchEvents(t, format, in, fields, rows))
	}
}

func TestBatchTypes(t *testing.T) {
	for _, c := range typeCases {
		t.Run(c.name, func(t *testing.T) {
			fields := []spec.DataField{field("id", spec.IntType.NotNull()), field("v", c.t)}
			in := fmt.Sprintf("{\"id\":1,\"v\":%s}\n{\"v\":%s,\"id\":2,\"_kind\":\"-D\"}\n", c.in, c.in)
			agree(t, "jsonl", []byte(in), fields)
			csv := fmt.Sprintf("id,v,_kind\n1,%s,+U\n2,%s,\n", c.outCSV, c.outCSV)
			agree(t, "csv", []byte(csv), fields)
			got := batchEvents(t, "jsonl", []byte(in), fields, 10)
			if len(got) != 2 || !equal(got[0].row[1], c.want) {
				t.Fatalf("got %v, want %#v", got, c.want)
			}
		})
	}
}

func TestBatchErrors(t *testing.T) {
	var b strings.Builder
	for _, line := range []string{
		`{"id":"abc"}`, `{"id":1.5}`, `{"id":1e10}`, `{"id":99999999999999999999999}`, `{"id":true}`,
		`{"id":01}`, `{"id":-}`, `{"id":1,"t":300}`, `{"id":null}`, `{"name":"x"}`, `{"id":1,"zzz":1}`,
		`{"id":1,"id":2}`, `{"id":1,"_kind":"-D","_kind":"+I"}`, `{"id":1,"_kind":"X"}`, `{"id":1,"_kind":3}`,
		`{"id":1,"name":"toolong"}`, `{"id":1,"name":"äöüßé"}`, `{"id":1,"name":"a\x80"}`, "{\"id\":1,\"name\":\"a\x01\"}",
		`{"id":1,"amt":1.234}`, `{"id":1,"amt":1000}`, `{"id":1,"amt":"12.3"}`, `{"id":1,"amt":-0.00}`, `{"id":1,"amt":1e-9}`,
		`{"id":1,"f":1e39}`, `{"id":1,"f":"nan"}`, `{"id":1,"b":"!!"}`, `{"id":1,"b":12}`, `{"id":1,"ok":"yes"}`, `{"id":1,"ok":tru}`,
		`{"id":1,"d":"2024-02-30"}`, `{"id":1,"d":20240101}`, `{"id":1,"ts":"2024-01-31T12:00:00.1234"}`, `{"id":1,"tm":"25:00"}`,
		`{"id":1,"tags":[1,null]}`, `{"id":1,"v":[1,2]}`, `{"id":1,"m":{"x":1}}`, `{"id":1,"r":{}}`, `{"id":1,"ms":{"a":-1}}`,
		`{"id":1} x`, `[1]`, `{"id":1,}`, `{"id" 1}`, `{"id":1`, `{"id":"\ud83d\ude00"}`, `{"id":1,"name":nul}`,
		`{"id":2147483648}`, `{"id":-2147483648,"t":"-128"}`, `{"id":1,"ltz":"2024-01-31T12:00:00+25:00"}`,
	} {
		b.WriteString(line + "\n")
	}
	agree(t, "jsonl", []byte(b.String()), errFields)

	csvFields := []spec.DataField{
		field("id", spec.IntType.NotNull()), field("s", spec.StringType),
		field("d", spec.DateType), field("a", arrayOf(spec.IntType)), field("c", varchar(2)),
	}
	for _, in := range []string{
		"id,zz\n1,2\n", "id,s,s\n", "s,d\n", "id,s\n1,a\nx,b\n", "id,s\n1,a\n,b\n3,c\n", "id,s\n1,a\n2\n",
		"id,s,d\n1,\"x\ny\nz\",2024-13-01\n5,q,\n", "id,s\n1,a\"b\n", "id,s\n1,\"a\"b\n", "id,s\n1,a\n2,\"abc\n\n",
		"id,_kind\n1,+I\n2,XX\n3,-D\n", "id,a\n1,\"[1,\"\"x\"\"]\"\n", "id,a\n1,[1] x\n", "id,s\n1,\xff\n", "id,c\n1,abc\n2,äö\n",
		"id\n\n1\n", "\ufeffid,s\r\n1,\"\"\r\n2,\r\n", "",
	} {
		agree(t, "csv", []byte(in), csvFields)
	}
}

// A row Arrow cannot hold comes alone, in order, in the value model.
func TestBatchRowFallback(t *testing.T) {
	fields := []spec.DataField{
		field("id", spec.IntType.NotNull()), field("ts", spec.TimestampType(9)),
		field("m", mapOf(spec.IntType, spec.IntType)),
	}
	in := `{"id":1,"ts":"2024-01-31T12:00:00.000000001"}
{"id":2,"ts":"9999-12-31T23:59:59.999999999","_kind":"-D"}
{"id":3,"m":{"null":1}}
{"id":4,"m":{"1":null}}
{"id":5,"ts":"1677-09-21T00:12:43.145224192"}
{"id":6,"ts":"2262-04-11T23:47:16.854775807"}
{"id":7,"ts":"2262-04-11T23:47:16.854775808"}
{"id":8,"ts":"1677-09-21T00:12:43.145224191"}
`
	agree(t, "jsonl", []byte(in), fields)
	d, err := NewJSONBatchDecoder(strings.NewReader(in), fields)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	var shape []string
	for {
		b, err := d.Next(0)
		if b != nil {
			if b.Rec != nil {
				shape = append(shape, fmt.Sprintf("rec%v", b.Lines))
			} else {
				shape = append(shape, fmt.Sprintf("row%v%v", b.Lines, b.Kind))
			}
			b.Release()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(shape, " "), "rec[1] row[2]-D row[3]+I rec[4 5 6] row[7]+I row[8]+I"; got != want {
		t.Fatalf("batches %s, want %s", got, want)
	}
}

// Next(max) cuts batches short, and rows before a bad one come with its
// error.
func TestBatchNextLimits(t *testing.T) {
	fields := []spec.DataField{field("id", spec.BigIntType.NotNull())}
	var in bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&in, "{\"id\":%d}\n", i)
	}
	in.WriteString("{\"id\":\"x\"}\n{\"id\":10}\n")
	d, err := NewJSONBatchDecoder(bytes.NewReader(in.Bytes()), fields, WithBatchRows(4))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	var got []string
	for _, max := range []int{3, 0, 0, 100, 0} {
		b, err := d.Next(max)
		s := "nil"
		if b != nil {
			s = fmt.Sprint(b.Lines)
			b.Release()
		}
		if err != nil {
			s += " " + err.Error()
		}
		got = append(got, s)
	}
	want := []string{"[1 2 3]", "[4 5 6 7]", `[8 9 10] textrow: bad input: line 11, column "id": invalid BIGINT "x"`, "[12] EOF", "nil EOF"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func FuzzJSONBatchDecoder(f *testing.F) {
	for _, c := range typeCases {
		f.Add([]byte(fmt.Sprintf("{\"id\":1,%q:%s}\n", "s", c.in)))
	}
	f.Add([]byte(`{"id":2,"_kind":"-D"}` + "\n\n" + `{"id":3,"d":1e-4,"ts":"3000-01-01T00:00:00.000000001"}`))
	f.Add([]byte(`{"id":1,"mk":{"null":"x"},"by":"AAE=","g":0.1,"f":1.5e3,"i8":"-3"}` + "\n" + `{"id":1`))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := rowEvents(t, "jsonl", data, fuzzFields)
		sameEvents(t, data, want, batchEvents(t, "jsonl", data, fuzzFields, 2))
	})
}

func FuzzCSVBatchDecoder(f *testing.F) {
	f.Add([]byte("id,b,i32,g,d,s,by,dt,ts,arr,_kind\n1,true,7,0.5,1.25,x,AAE=,2024-01-31,2024-01-31 12:00,\"[1,null]\",-U\n2,,,,,\"\",,,,,\n"))
	f.Add([]byte("s,id\n\"a\nb\",1\n,2\nx,y\n"))
	f.Add([]byte("id,ts,mk\n1,3000-01-01T00:00:00.000000001,\n2,,\"{\"\"null\"\":null}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := rowEvents(t, "csv", data, fuzzFields)
		sameEvents(t, data, want, batchEvents(t, "csv", data, fuzzFields, 2))
	})
}
