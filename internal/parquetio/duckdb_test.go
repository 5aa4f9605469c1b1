package parquetio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/stratalake/strata/spec"
)

// duckDir is the Node helper that runs DuckDB (integration/duckdb).
const duckDir = "../../integration/duckdb"

// duckDB runs one of the helper's scripts on file and decodes its JSON. The
// check is skipped only when STRATA_SKIP_DUCKDB=1; a missing Node or missing
// packages fail the test with the command that installs them.
func duckDB(t *testing.T, script, file string, out any) {
	t.Helper()
	if os.Getenv("STRATA_SKIP_DUCKDB") == "1" {
		t.Skip("STRATA_SKIP_DUCKDB=1")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the DuckDB cross-check needs Node.js (apt-get install nodejs npm), then `cd integration/duckdb && npm ci`; or set STRATA_SKIP_DUCKDB=1")
	}
	if _, err := os.Stat(filepath.Join(duckDir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Fatalf("the DuckDB cross-check needs its Node packages: run `cd integration/duckdb && npm ci` (or set STRATA_SKIP_DUCKDB=1)")
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, abs)
	cmd.Dir = duckDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s %s: %v\n%s", script, file, err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("decoding output of %s: %v\n%s", script, err, stdout)
	}
}

type duckSchemaRow struct {
	Name           string  `json:"name"`
	Type           *string `json:"type"`
	FieldID        *string `json:"field_id"`
	RepetitionType *string `json:"repetition_type"`
	ConvertedType  *string `json:"converted_type"`
	LogicalType    *string `json:"logical_type"`
}

type duckRows struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDuckDBSchemaAndRowsMatchJava rewrites each Java fixture file with
// Strata and checks DuckDB sees the same schema (names, field ids, types,
// annotations) and the same rows in both.
func TestDuckDBSchemaAndRowsMatchJava(t *testing.T) {
	for _, tc := range []struct {
		table string
		value []spec.DataField
	}{
		{"test_pk_global_index_golden", globalIndexValue},
		{"test_pk_vector_golden", vectorValue},
	} {
		fields := KVFields(globalIndexKey, tc.value)
		javaPath := fixtureFiles(t, tc.table)[0]
		rows := readAll(t, openFile(t, javaPath), fields)
		ours := writeTemp(t, writeFile(t, fields, rows))

		var javaSchema, ourSchema []duckSchemaRow
		duckDB(t, "parquet_schema.mjs", javaPath, &javaSchema)
		duckDB(t, "parquet_schema.mjs", ours, &ourSchema)
		if !reflect.DeepEqual(ourSchema, javaSchema) {
			t.Errorf("%s: DuckDB schema of Strata's file differs from Java's:\n got %s\nwant %s", tc.table, dump(ourSchema), dump(javaSchema))
		}
		var javaRows, ourRows duckRows
		duckDB(t, "read.mjs", javaPath, &javaRows)
		duckDB(t, "read.mjs", ours, &ourRows)
		if !reflect.DeepEqual(ourRows, javaRows) {
			t.Errorf("%s: DuckDB reads Strata's file as\n%s\nand Java's as\n%s", tc.table, dump(ourRows), dump(javaRows))
		}
	}
}

// TestDuckDBReadsAllTypes writes a KV file with every type and checks that
// DuckDB finds our column names, field ids and values.
func TestDuckDBReadsAllTypes(t *testing.T) {
	key := []spec.DataField{{ID: 0, Name: "id", Type: spec.IntType.NotNull()}}
	fields := KVFields(key, allTypes())
	var rows []spec.Row
	for i, r := range duckRowsOfAllTypes() {
		rows = append(rows, append(spec.Row{r[0], int64(i), int8(i % 4)}, r...))
	}
	path := writeTemp(t, writeFile(t, fields, rows))

	var duckSchema []duckSchemaRow
	duckDB(t, "parquet_schema.mjs", path, &duckSchema)
	sc, err := Schema(fields)
	if err != nil {
		t.Fatal(err)
	}
	type elem struct {
		name string
		id   int32
	}
	var elems []elem
	var walk func(n schema.Node)
	walk = func(n schema.Node) {
		elems = append(elems, elem{n.Name(), n.FieldID()})
		if g, ok := n.(*schema.GroupNode); ok {
			for i := range g.NumFields() {
				walk(g.Field(i))
			}
		}
	}
	walk(sc.Root())
	if len(duckSchema) != len(elems) {
		t.Fatalf("DuckDB sees %d schema elements, we wrote %d", len(duckSchema), len(elems))
	}
	for i, e := range elems {
		want := "<nil>"
		if e.id >= 0 && i > 0 {
			want = fmt.Sprint(e.id)
		}
		got := "<nil>"
		if duckSchema[i].FieldID != nil {
			got = *duckSchema[i].FieldID
		}
		if duckSchema[i].Name != e.name || got != want {
			t.Errorf("schema element %d: DuckDB sees %s = %s, we wrote %s = %s", i, duckSchema[i].Name, got, e.name, want)
		}
	}

	var res duckRows
	duckDB(t, "read.mjs", path, &res)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	if !reflect.DeepEqual(res.Columns, names) {
		t.Fatalf("DuckDB columns %v, want %v", res.Columns, names)
	}
	if len(res.Rows) != len(rows) {
		t.Fatalf("DuckDB reads %d rows, want %d", len(res.Rows), len(rows))
	}
	for i, row := range rows {
		for j, f := range fields {
			want := normJSON(t, duckValue(row[j], f.Type))
			if got := normJSON(t, res.Rows[i][j]); !reflect.DeepEqual(got, want) {
				t.Errorf("row %d column %s (%s): DuckDB reads %s, want %s", i, f.Name, res.Types[j], dump(got), dump(want))
			}
		}
	}
}

// duckRowsOfAllTypes are allTypes rows whose timestamps have no
// sub-microsecond part: DuckDB reads INT96 at microsecond precision and,
// for the negative nanos-of-day Java writes before 1970, rounds toward zero.
func duckRowsOfAllTypes() []spec.Row {
	rows := allTypesRows()
	for _, r := range rows {
		for j, v := range r {
			if ts, ok := v.(spec.Timestamp); ok {
				ts.NanoOfMilli -= ts.NanoOfMilli % 1000
				r[j] = ts
			}
		}
	}
	return rows
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func normJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// duckValue renders a Strata value the way @duckdb/node-api's
// getRowsJson renders the DuckDB value read from our file.
func duckValue(v any, t spec.DataType) any {
	if v == nil {
		return nil
	}
	switch t.Root {
	case spec.TypeBigInt:
		return fmt.Sprint(v)
	case spec.TypeFloat:
		return float64(v.(float32))
	case spec.TypeDecimal, spec.TypeDate:
		return fmt.Sprint(v)
	case spec.TypeBinary, spec.TypeVarBinary:
		var b strings.Builder
		for _, c := range v.([]byte) {
			if c >= 0x20 && c < 0x7f && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "\\x%02X", c)
			}
		}
		return b.String()
	case spec.TypeTime:
		return duckClock(time.UnixMilli(int64(v.(spec.Time))).UTC(), "15:04:05") + "+00"
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts := v.(spec.Timestamp)
		s := duckClock(time.UnixMicro(ts.Micros()).UTC(), "2006-01-02 15:04:05")
		if t.Root == spec.TypeTimestampLTZ && t.Precision <= 6 {
			s += "+00" // INT96 carries no time zone
		}
		return s
	case spec.TypeArray, spec.TypeVector:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, duckValue(e, *t.Elem))
		}
		return out
	case spec.TypeMap, spec.TypeMultiset:
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, ptr(spec.IntType)
		}
		m := v.(spec.Map)
		out := []any{}
		for i := range m.Keys {
			out = append(out, map[string]any{"key": duckValue(m.Keys[i], *kt), "value": duckValue(m.Values[i], *vt)})
		}
		return out
	case spec.TypeRow:
		out := map[string]any{}
		for i, f := range t.Fields {
			out[f.Name] = duckValue(v.(spec.Row)[i], f.Type)
		}
		return out
	}
	return v
}

// duckClock formats a time with DuckDB's fractional seconds: microseconds
// with trailing zeros dropped.
func duckClock(tm time.Time, layout string) string {
	s := tm.Format(layout + ".000000")
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
