package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	cases := []struct{ in, want string }{
		{"INT", "INT"},
		{"integer not null", "INT NOT NULL"},
		{"INT NULL", "INT"},
		{"STRING", "STRING"},
		{"VARCHAR", "VARCHAR(1)"},
		{"CHAR", "CHAR(1)"},
		{"BINARY", "BINARY(1)"},
		{"VARBINARY(7)", "VARBINARY(7)"},
		{"BYTES NOT NULL", "BYTES NOT NULL"},
		{"DECIMAL", "DECIMAL(10, 0)"},
		{"NUMERIC(12)", "DECIMAL(12, 0)"},
		{"dec(10,2)", "DECIMAL(10, 2)"},
		{"DOUBLE PRECISION", "DOUBLE"},
		{"TIME", "TIME(0)"},
		{"TIMESTAMP", "TIMESTAMP(6)"},
		{"TIMESTAMP(3)", "TIMESTAMP(3)"},
		{"TIMESTAMP(3) WITHOUT TIME ZONE", "TIMESTAMP(3)"},
		{"TIMESTAMP WITH LOCAL TIME ZONE", "TIMESTAMP(6) WITH LOCAL TIME ZONE"},
		{"TIMESTAMP_LTZ(3) NOT NULL", "TIMESTAMP(3) WITH LOCAL TIME ZONE NOT NULL"},
		{"ARRAY<STRING>", "ARRAY<STRING>"},
		{"ARRAY<INT NOT NULL> NOT NULL", "ARRAY<INT NOT NULL> NOT NULL"},
		{"INT ARRAY", "ARRAY<INT>"},
		{"STRING NOT NULL MULTISET NOT NULL", "MULTISET<STRING NOT NULL> NOT NULL"},
		{"MULTISET<BIGINT>", "MULTISET<BIGINT>"},
		{"MAP<STRING, BIGINT>", "MAP<STRING, BIGINT>"},
		{"map<string,array<int>>", "MAP<STRING, ARRAY<INT>>"},
		{"VECTOR<FLOAT, 4>", "VECTOR<FLOAT, 4>"},
		{"ROW<a INT, b STRING>", "ROW<`a` INT, `b` STRING>"},
		{"ROW(a INT NOT NULL)", "ROW<`a` INT NOT NULL>"},
		{"ROW<>", "ROW<>"},
		{"ROW<`we``ird name` INT 'a comment', `date` DATE COMMENT 'c'> NOT NULL", "ROW<`we`ird name` INT, `date` DATE> NOT NULL"},
	}
	for _, c := range cases {
		got, err := ParseType(c.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", c.in, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("ParseType(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	row, err := ParseType("ROW<x INT 'the x', y ROW<z STRING>>")
	if err != nil {
		t.Fatal(err)
	}
	if d := row.Fields[0].Description; d == nil || *d != "the x" {
		t.Errorf("description: %v", d)
	}
	// ReassignFieldId numbers a nested ROW's fields before the field
	// holding it.
	if got := []int{row.Fields[0].ID, row.Fields[1].Type.Fields[0].ID, row.Fields[1].ID}; got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Errorf("ids x, z, y = %v, want 0, 1, 2", got)
	}
}

func TestParseTypeErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
		pos  int
		msg  string
	}{
		{"", ErrInvalidType, 1, "expected a type"},
		{"FOO", ErrUnsupportedType, 1, "unknown type"},
		{"VARIANT", ErrUnsupportedType, 1, "unsupported type VARIANT"},
		{"ARRAY<BLOB>", ErrUnsupportedType, 7, "unsupported type BLOB"},
		{"INT NOT", ErrInvalidType, 5, "unexpected"},
		{"INT,", ErrInvalidType, 4, "unexpected"},
		{"DECIMAL(39, 2)", ErrInvalidType, 13, "precision"},
		{"DECIMAL(5, 6)", ErrInvalidType, 12, "scale"},
		{"CHAR(0)", ErrInvalidType, 6, "length"},
		{"VARCHAR(33333333333)", ErrInvalidType, 9, "invalid integer"},
		{"VARCHAR(test)", ErrInvalidType, 9, "expected a length"},
		{"TIME(10)", ErrInvalidType, 6, "precision"},
		{"TIMESTAMP(3) WITH TIME ZONE", ErrInvalidType, 19, "unexpected"},
		{"TIMESTAMP WITH LOCAL ZONE", ErrInvalidType, 22, "expected TIME"},
		{"BINARY(1", ErrInvalidType, 9, "expected ')'"},
		{"ARRAY<INT", ErrInvalidType, 10, "expected '>'"},
		{"ARRAY(INT)", ErrInvalidType, 6, "expected '<'"},
		{"MAP<INT>", ErrInvalidType, 8, "expected ','"},
		{"VECTOR<STRING, 3>", ErrInvalidType, 8, "vector element"},
		{"VECTOR<FLOAT, 0>", ErrInvalidType, 15, "vector length"},
		{"ROW<a INT, a STRING>", ErrInvalidType, 12, "duplicate field"},
		{"ROW<a>", ErrInvalidType, 6, "expected a type"},
		{"ROW<`a INT>", ErrInvalidType, 5, "unterminated"},
		{"INT ARRAY ARRAY", ErrInvalidType, 11, "unexpected"},
	}
	for _, c := range cases {
		_, err := ParseType(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, c.want) {
			t.Errorf("ParseType(%q): got %v, want a ParseError wrapping %v", c.in, err, c.want)
			continue
		}
		if pe.Pos != c.pos || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("ParseType(%q): position %d message %q, want position %d containing %q", c.in, pe.Pos, pe.Msg, c.pos, c.msg)
		}
	}
}

func TestParseColumns(t *testing.T) {
	in := "id INT NOT NULL, name STRING, tags ARRAY<STRING>, m MAP<STRING, BIGINT>, " +
		"r ROW<a INT, b STRING>, e VECTOR<FLOAT, 4>, d DECIMAL(10, 2), ts TIMESTAMP(3), " +
		"`select` STRING COMMENT 'it''s reserved', date DATE, nest ROW<p ROW<q INT, s INT>, t INT>, last BIGINT"
	fields, err := ParseColumns(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id   int
		name string
		typ  string
	}{
		{0, "id", "INT NOT NULL"},
		{1, "name", "STRING"},
		{2, "tags", "ARRAY<STRING>"},
		{3, "m", "MAP<STRING, BIGINT>"},
		{4, "r", "ROW<`a` INT, `b` STRING>"}, // a=5, b=6
		{7, "e", "VECTOR<FLOAT, 4>"},
		{8, "d", "DECIMAL(10, 2)"},
		{9, "ts", "TIMESTAMP(3)"},
		{10, "select", "STRING"},
		{11, "date", "DATE"},
		{12, "nest", "ROW<`p` ROW<`q` INT, `s` INT>, `t` INT>"}, // q=13, s=14, p=15, t=16
		{17, "last", "BIGINT"},
	}
	if len(fields) != len(want) {
		t.Fatalf("got %d fields, want %d", len(fields), len(want))
	}
	for i, w := range want {
		f := fields[i]
		if f.ID != w.id || f.Name != w.name || f.Type.String() != w.typ {
			t.Errorf("field %d = %d %q %s, want %d %q %s", i, f.ID, f.Name, f.Type, w.id, w.name, w.typ)
		}
	}
	if r := fields[4].Type.Fields; r[0].ID != 5 || r[1].ID != 6 {
		t.Errorf("r's fields have ids %d, %d", r[0].ID, r[1].ID)
	}
	nest := fields[10].Type.Fields
	if p := nest[0]; p.ID != 15 || p.Type.Fields[0].ID != 13 || p.Type.Fields[1].ID != 14 || nest[1].ID != 16 {
		t.Errorf("nest ids: p=%d q=%d s=%d t=%d", p.ID, p.Type.Fields[0].ID, p.Type.Fields[1].ID, nest[1].ID)
	}
	if d := fields[8].Description; d == nil || *d != "it's reserved" {
		t.Errorf("comment: %v", d)
	}
	if h := HighestFieldID(fields); h != 17 {
		t.Errorf("HighestFieldID = %d, want 17", h)
	}
	if h := HighestFieldID(nil); h != -1 {
		t.Errorf("HighestFieldID(nil) = %d", h)
	}
	sys := []DataField{{ID: 3, Name: "a", Type: IntType}, {ID: systemFieldIDStart + 5, Name: "_KEY_a", Type: IntType}}
	if h := HighestFieldID(sys); h != 3 {
		t.Errorf("system ids counted: %d", h)
	}
}

func TestParseColumnsErrors(t *testing.T) {
	cases := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 1, "expected a column definition"},
		{"id", 3, "expected a type"},
		{"id INT,", 8, "expected a column name"},
		{"id INT name STRING", 8, "expected ','"},
		{"id INT, id STRING", 9, "duplicate column"},
		{"a INT COMMENT x", 15, "quoted comment"},
		{"a INT 'x'", 7, "expected ','"},
		{"(a INT)", 1, "expected a column name"},
		{"a MAP<INT, STRING", 18, "expected '>'"},
		{"` ` INT", 1, "blank"},
		{"é INT, b FOO", 10, "unknown type"},
	}
	for _, c := range cases {
		_, err := ParseColumns(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseColumns(%q): got %v, want a ParseError", c.in, err)
			continue
		}
		if pe.Pos != c.pos || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("ParseColumns(%q): position %d %q, want position %d containing %q", c.in, pe.Pos, pe.Msg, c.pos, c.msg)
		}
		if !strings.Contains(err.Error(), "position") {
			t.Errorf("error text lacks the position: %v", err)
		}
	}
}

// FuzzParseType checks that the SQL type parser never panics and that what
// it accepts survives a trip through the string and JSON forms.
func FuzzParseType(f *testing.F) {
	for _, s := range []string{
		"INT NOT NULL", "DECIMAL(10, 2)", "TIMESTAMP(3) WITH LOCAL TIME ZONE", "ARRAY<STRING>",
		"MAP<STRING, ARRAY<INT NOT NULL>>", "ROW<a INT, `b c` STRING 'x'>", "VECTOR<FLOAT, 4>",
		"INT ARRAY", "STRING MULTISET NOT NULL", "ROW(a ROW<b INT>)", "CHAR", "TIMESTAMP WITH",
		"id INT NOT NULL, name STRING, tags ARRAY<STRING>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseColumns(s)
		typ, err := ParseType(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 1 {
				t.Fatalf("ParseType(%q): error without position: %v", s, err)
			}
			return
		}
		if err := typ.Validate(); err != nil {
			t.Fatalf("ParseType(%q) = %s, which is invalid: %v", s, typ, err)
		}
		js, err := typ.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal %s: %v", typ, err)
		}
		var back DataType
		if err := back.UnmarshalJSON(js); err != nil {
			t.Fatalf("unmarshal %s: %v", js, err)
		}
		if !back.Equal(typ) {
			t.Fatalf("JSON round trip of %s gave %s", typ, back)
		}
	})
}

// TestTypeDepthLimit checks that every type the SQL parser accepts also
// passes Validate and the JSON round trip, right up to the nesting limit.
func TestTypeDepthLimit(t *testing.T) {
	nest := func(open, leaf, close string, n int) string {
		return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
	}
	for _, c := range []struct{ open, leaf, close string }{
		{"ARRAY<", "INT", ">"},
		{"ROW<a ", "INT", ">"},
		{"MAP<INT, ", "INT", ">"},
		{"ARRAY<", "INT ARRAY", ">"},
	} {
		for n := maxTypeDepth - 2; n <= maxTypeDepth+1; n++ {
			s := nest(c.open, c.leaf, c.close, n)
			typ, err := ParseType(s)
			if err != nil {
				if n < maxTypeDepth-1 {
					t.Errorf("depth %d of %s: %v", n, c.open, err)
				}
				continue
			}
			js, err := typ.MarshalJSON()
			if err != nil {
				t.Fatalf("depth %d of %s: marshal: %v", n, c.open, err)
			}
			var back DataType
			if err := back.UnmarshalJSON(js); err != nil || !back.Equal(typ) {
				t.Fatalf("depth %d of %s: unmarshal: %v", n, c.open, err)
			}
			s2 := &TableSchema{Fields: []DataField{{Name: "c", Type: typ}}}
			if _, err := DecodeSchema(EncodeSchema(s2)); err != nil {
				t.Fatalf("depth %d of %s in a schema: %v", n, c.open, err)
			}
		}
	}
}

func TestTypeDepthLimitAtomicInJSON(t *testing.T) {
	// An "INT ARRAY" string at the deepest level becomes an ARRAY object
	// when written back, one level deeper; it must be refused up front.
	js := strings.Repeat(`{"type":"ARRAY","element":`, maxTypeDepth) + `"INT ARRAY"` + strings.Repeat(`}`, maxTypeDepth)
	var dt DataType
	if err := dt.UnmarshalJSON([]byte(js)); !errors.Is(err, ErrInvalidType) {
		t.Errorf("got %v", err)
	}
	js = strings.Repeat(`{"type":"ARRAY","element":`, maxTypeDepth-1) + `"INT ARRAY"` + strings.Repeat(`}`, maxTypeDepth-1)
	if err := dt.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatal(err)
	}
	out, err := dt.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := dt.UnmarshalJSON(out); err != nil {
		t.Errorf("re-reading: %v", err)
	}
}
