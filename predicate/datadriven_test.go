package predicate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/datadriven"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// scriptColumns are the columns of the scripts in testdata (go test
// ./predicate -rewrite rewrites their expected output):
//
//	parse
//	<filter>
//	----
//	<Predicate.String()>
//	bound: <Bound.String(): negation normal form, normalised literals>
//	| error: <message>
//
//	eval
//	<filter>
//	<row: literals in column order, comma-separated; missing ones NULL>
//	...
//	----
//	<row> -> true|false
//
// eval cross-checks every answer: Filter over the rows as an Arrow batch
// must agree with Eval, and MayMatch must hold for the statistics of every
// row that matches and of all rows together.
const scriptColumns = "i INT, s STRING, d DECIMAL(5, 2), f DOUBLE, dt DATE, ts TIMESTAMP(3), " +
	"b BOOLEAN, t TINYINT, bin BYTES, arr ARRAY<INT>, `odd name` STRING, ts6 TIMESTAMP(6), tm TIME(3), r FLOAT"

func TestScripts(t *testing.T) {
	fields, err := spec.ParseColumns(scriptColumns)
	if err != nil {
		t.Fatal(err)
	}
	// testdata/fuzz holds FuzzParse's corpus, not scripts.
	for _, dir := range []string{"testdata/parse", "testdata/eval"} {
		datadriven.Walk(t, dir, func(t *testing.T, path string) { runScript(t, path, fields) })
	}
}

// runScript runs one parse/eval script.
func runScript(t *testing.T, path string, fields []spec.DataField) {
	datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
		switch td.Cmd {
		case "parse":
			p, err := Parse(strings.TrimSpace(td.Input), fields)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			b, err := Bind(p, fields)
			if err != nil {
				return "error: bind: " + err.Error() + "\n"
			}
			// What String renders parses back to the same predicate.
			again, err := Parse(p.String(), fields)
			if err != nil || again.String() != p.String() {
				t.Fatalf("%s: %s parses back as %v (%v)", td.Pos, p, again, err)
			}
			return p.String() + "\nbound: " + b.String() + "\n"
		case "eval":
			return runEval(t, td, fields)
		}
		t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
		return ""
	})
}

func runEval(t *testing.T, td *datadriven.TestData, fields []spec.DataField) string {
	lines := strings.Split(strings.TrimSpace(td.Input), "\n")
	p, err := Parse(lines[0], fields)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	b, err := Bind(p, fields)
	if err != nil {
		return "error: bind: " + err.Error() + "\n"
	}
	var rows []spec.Row
	for _, line := range lines[1:] {
		rows = append(rows, parseRow(t, line, fields))
	}
	got := make([]bool, len(rows))
	var out strings.Builder
	for i, r := range rows {
		got[i] = b.Eval(r)
		fmt.Fprintf(&out, "%s -> %v\n", strings.TrimSpace(lines[i+1]), got[i])
	}
	checkAgainstEval(t, b, fields, rows, got)
	return out.String()
}

// checkAgainstEval fails unless Filter agrees with Eval's answers and
// MayMatch holds wherever a row matches.
func checkAgainstEval(t *testing.T, b *Bound, fields []spec.DataField, rows []spec.Row, got []bool) {
	t.Helper()
	bld, err := arrowconv.NewBuilder(memory.DefaultAllocator, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer bld.Release()
	for _, r := range rows {
		if err := bld.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	rec := bld.NewBatch()
	defer rec.Release()
	sel, err := b.Filter(rec, nil)
	if err != nil {
		t.Fatalf("Filter(%s): %v", b, err)
	}
	any := false
	for i, r := range rows {
		if sel[i] != got[i] {
			t.Fatalf("%s on %v: Filter says %v, Eval %v", b, r, sel[i], got[i])
		}
		if got[i] {
			any = true
			for _, trunc := range []int{0, 1, 3} {
				if st := rowStats(fields, rows[i:i+1], trunc); !b.MayMatch(st) {
					t.Fatalf("%s: MayMatch false for the stats (truncate %d) of matching row %v", b, trunc, r)
				}
			}
		}
	}
	if any {
		for _, trunc := range []int{0, 1, 3} {
			if !b.MayMatch(rowStats(fields, rows, trunc)) {
				t.Fatalf("%s: MayMatch false for the stats (truncate %d) of rows with a match", b, trunc)
			}
		}
	}
	if len(rows) > 0 {
		filtered, err := b.FilterRecord(memory.DefaultAllocator, rec)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range got {
			if g {
				n++
			}
		}
		if int(filtered.NumRows()) != n {
			t.Fatalf("FilterRecord kept %d rows, want %d", filtered.NumRows(), n)
		}
		filtered.Release()
	}
}

// parseRow reads comma-separated literals with the filter's lexer.
func parseRow(t *testing.T, line string, fields []spec.DataField) spec.Row {
	p := &parser{src: line, fields: fields}
	if err := p.lex(); err != nil {
		t.Fatalf("row %q: %v", line, err)
	}
	row := make(spec.Row, len(fields))
	for i, f := range fields {
		if p.peek().kind == tEOF {
			break
		}
		if i > 0 {
			if c := p.next(); c.kind != tComma {
				t.Fatalf("row %q: expected a comma at %d", line, c.pos)
			}
		}
		v, err := p.literal(f)
		if err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		if v != nil {
			c, err := coerce(f.Type, v)
			if err != nil || !c.exact {
				t.Fatalf("row %q: %v does not fit %s (%v)", line, v, f.Type, err)
			}
			v = c.v
		}
		row[i] = v
	}
	return row
}

// statsOf are exact statistics of some rows, strings and binaries
// truncated to trunc characters (0: not at all) the way Paimon truncates
// them.
type statsOf struct {
	rows int64
	cols []ColumnStats
}

func (s statsOf) RowCount() int64            { return s.rows }
func (s statsOf) Column(col int) ColumnStats { return s.cols[col] }

func rowStats(fields []spec.DataField, rows []spec.Row, trunc int) statsOf {
	types := make([]spec.DataType, len(fields))
	modes := make([]spec.StatsMode, len(fields))
	names := make([]string, len(fields))
	for i, f := range fields {
		types[i], names[i] = f.Type, f.Name
		modes[i] = spec.StatsMode{Kind: spec.StatsFull}
		if trunc > 0 {
			modes[i] = spec.StatsMode{Kind: spec.StatsTruncate, Truncate: trunc}
		}
	}
	c := spec.NewStatsCollector(types, modes)
	for _, r := range rows {
		c.Add(r)
	}
	st, _, err := c.Result(names)
	if err != nil {
		panic(err)
	}
	nullable := make([]spec.DataType, len(types))
	for i, t := range types {
		nullable[i] = t.WithNullable(true)
	}
	decode := func(b []byte) spec.Row {
		_, row, err := spec.DeserializeBinaryRow(b)
		if err != nil {
			panic(err)
		}
		vals, _, err := spec.DecodeBinaryRow(nullable, row)
		if err != nil {
			panic(err)
		}
		return vals
	}
	mins, maxs := decode(st.MinValues), decode(st.MaxValues)
	out := statsOf{rows: int64(len(rows)), cols: make([]ColumnStats, len(fields))}
	for i := range fields {
		root := fields[i].Type.Root
		exact := trunc == 0 || root != spec.TypeVarChar && root != spec.TypeChar && root != spec.TypeBinary && root != spec.TypeVarBinary
		out.cols[i] = ColumnStats{Min: mins[i], Max: maxs[i], Exact: exact, Nulls: *st.NullCounts[i], NullsKnown: true}
	}
	return out
}
