package textrow

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

var (
	idKey  = []spec.DataField{field("id", spec.BigIntType.NotNull())}
	strKey = []spec.DataField{field("name", varchar(5).NotNull())}
	twoKey = []spec.DataField{field("day", spec.DateType.NotNull()), field("id", spec.IntType.NotNull())}
)

// wantKeyError checks err is a *KeyError wrapping ErrBadInput for key pos
// and column col, mentioning msg.
func wantKeyError(t *testing.T, err error, pos int, col, msg string) {
	t.Helper()
	var ke *KeyError
	if !errors.As(err, &ke) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("got %v, want a *KeyError", err)
	}
	if ke.Key != pos || ke.Column != col || !strings.Contains(ke.Msg, msg) {
		t.Fatalf("got key %d column %q msg %q; want key %d column %q msg containing %q", ke.Key, ke.Column, ke.Msg, pos, col, msg)
	}
}

func TestKeyParseJSON(t *testing.T) {
	cases := []struct {
		fields []spec.DataField
		in     string
		want   spec.Row
	}{
		{idKey, `42`, spec.Row{int64(42)}},
		{idKey, ` "42" `, spec.Row{int64(42)}},
		{idKey, `{"id": 7}`, spec.Row{int64(7)}},
		{strKey, `"abc"`, spec.Row{"abc"}},
		{strKey, `{"name":"é"}`, spec.Row{"é"}},
		{twoKey, `{"id": 3, "day": "2024-01-31"}`, spec.Row{epochDay("2024-01-31"), int32(3)}},
	}
	for _, c := range cases {
		got, err := NewKeyParser(c.fields).ParseJSON([]byte(c.in), 1)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %v, want %v", c.in, got, c.want)
		}
		for i := range got {
			if !equal(got[i], c.want[i]) {
				t.Fatalf("%s: got %#v, want %#v", c.in, got, c.want)
			}
		}
	}
}

func TestKeyParseJSONErrors(t *testing.T) {
	cases := []struct {
		fields   []spec.DataField
		in       string
		col, msg string
	}{
		{idKey, `"abc"`, "id", `invalid BIGINT "abc"`},
		{idKey, `true`, "id", "want BIGINT, got boolean"},
		{idKey, `1.5`, "id", "not an integer"},
		{idKey, `null`, "id", "null is not allowed"},
		{idKey, `{"id": null}`, "id", "null is not allowed"},
		{idKey, `{}`, "id", "missing key column"},
		{idKey, `{"id": 1, "id": 2}`, "id", "duplicate key"},
		{idKey, `{"v": 1}`, "v", "not a primary-key column"},
		{idKey, `42 43`, "", "unexpected number after the key"},
		{idKey, `{"id": 1`, "id", "want ',' or '}'"},
		{idKey, ``, "id", "unexpected end of input"},
		{strKey, `42`, "name", "want VARCHAR(5), got number"},
		{strKey, `"toolong"`, "name", "longer than VARCHAR(5)"},
		{strKey, "\"\xff\"", "name", "invalid UTF-8"},
		{twoKey, `3`, "", "want a JSON object naming the key columns (day, id), got number"},
		{twoKey, ``, "", "empty key"},
		{twoKey, `{"id": 3}`, "day", "missing key column"},
		{twoKey, `{"id": 3, "day": "2024-02-30"}`, "day", "2024-02-30"},
		{twoKey, `{"id": "x", "day": "2024-01-31"}`, "id", `invalid INT "x"`},
	}
	for _, c := range cases {
		_, err := NewKeyParser(c.fields).ParseJSON([]byte(c.in), 3)
		t.Run(c.in, func(t *testing.T) { wantKeyError(t, err, 3, c.col, c.msg) })
	}
}

func TestKeyParseArg(t *testing.T) {
	kp := NewKeyParser(strKey)
	for in, want := range map[string]string{`abc`: "abc", `"abc"`: "abc", `42`: "42", `{"name":"x"}`: "x"} {
		got, err := kp.ParseArg(in, 1)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Fatalf("ParseArg(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
	if got, err := NewKeyParser(idKey).ParseArg("42", 1); err != nil || got[0] != int64(42) {
		t.Fatalf("ParseArg(42) = %v, %v", got, err)
	}
	_, err := NewKeyParser(idKey).ParseArg("abc", 2)
	wantKeyError(t, err, 2, "id", `invalid BIGINT "abc"`)
	_, err = NewKeyParser(twoKey).ParseArg("3", 1)
	wantKeyError(t, err, 1, "", "want a JSON object")
	if got, err := NewKeyParser(twoKey).ParseArg(`{"day":"2024-01-31","id":"3"}`, 1); err != nil || got[1] != int32(3) {
		t.Fatalf("composite arg: %v, %v", got, err)
	}
}

func TestKeyDecoder(t *testing.T) {
	d := NewKeyDecoder(strings.NewReader("1\n\n{\"id\":2}\n\"x\"\n4"), idKey)
	for _, want := range []int64{1, 2} {
		k, err := d.Next()
		if err != nil || k[0] != want {
			t.Fatalf("got %v, %v; want %d", k, err, want)
		}
	}
	_, err := d.Next()
	wantKeyError(t, err, 3, "id", `invalid BIGINT "x"`)
	if ke := err.(*KeyError); ke.Line != 4 || !strings.Contains(err.Error(), `key 3 (line 4), column "id"`) {
		t.Fatalf("line: %v", err)
	}
	if k, err := d.Next(); err != nil || k[0] != int64(4) {
		t.Fatalf("after the error: %v, %v", k, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// AppendRow writes what Write writes, without the newline.
func TestAppendRow(t *testing.T) {
	fields := []spec.DataField{field("id", spec.BigIntType.NotNull()), field("v", varchar(10))}
	var sb strings.Builder
	enc := NewJSONEncoder(&sb, fields)
	row := spec.Row{int64(1), "a\"b"}
	if err := enc.Write(row); err != nil {
		t.Fatal(err)
	}
	enc.Flush()
	got, err := enc.AppendRow([]byte("x"), row)
	if err != nil || "x"+string(got[1:])+"\n" != "x"+sb.String() {
		t.Fatalf("AppendRow = %q, %v; Write wrote %q", got, err, sb.String())
	}
	if got, err := enc.AppendRow([]byte("x"), spec.Row{"no", 1}); err == nil || string(got) != "x" {
		t.Fatalf("bad row: %q, %v", got, err)
	}
}
