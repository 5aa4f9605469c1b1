package lsm

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

// The scripts in testdata/merge drive merge functions with text. A case is
//
//	<command> [args]
//	<input lines>
//	----
//	<expected output lines, ending at a blank line>
//
// Lines starting with # outside a case are comments. Commands:
//
//	table            input: "columns: <SQL column list>", "pk: a,b",
//	                 "partition: p" and option lines "key=value" (a value
//	                 starting with a double quote is a Go string literal).
//	                 Builds the merge function factory, ordering and row kind
//	                 resolver; prints "ok" or the error.
//	merge [mode=M]   feeds records of one key to a fresh function: M=raw
//	                 (default) prints the result once, M=reduce wraps it in
//	                 NewReducer, M=steps prints the result after every record.
//	drain            writes records through RowKindResolver and a Buffer and
//	                 drains it with the table's ordering and a reducer.
//	runs             merges sorted runs (separated by "--" lines) with
//	                 MergeRunsOrdered and a reducer.
//	admit            asks the writer's rule (RowKindResolver, i.e.
//	                 RetractRule.Admit after rowkind.field) about each record
//	                 and prints "<record without @seq> -> accept <kind>",
//	                 "-> drop" or "-> reject: <error>".
//	sort             prints records in the table's ordering.
//	lookup           merges records with "L<level>" tags by LookupMergeGroup
//	                 (Java's LookupMergeFunction).
//	agg <fn> <type>  calls a field aggregator for a column "f" of the SQL
//	                 type: input "set key=value" (options, before any call),
//	                 "agg A B", "aggrev A B", "retract A B", "reset" and
//	                 "reduce V1 V2 ..." (a left fold of agg); each call prints
//	                 its result.
//
// A record is "<kind> <one value per column> [@seq] [L<level>]"; without
// @seq records are numbered from 0 in each case, and the level defaults to
// -1 (not yet on disk). Results print as
// "<kind> <values> @<seq>", "null" for no result, or "error: <message>".
// Values: null, numbers, true/false, strings (bare or Go-quoted), 0x<hex>
// bytes, [a,b] arrays, {k:v} maps, (a,b) rows, dates 2024-01-31,
// timestamps 2024-01-31T12:00:00.123.
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the merge scripts")

func TestMergeScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/merge/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cases, err := parseScript(string(data))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			st := &scriptState{}
			var out strings.Builder
			for _, c := range cases {
				got := st.run(c)
				if *rewrite {
					out.WriteString(c.preamble)
					out.WriteString(c.header + "\n")
					for _, l := range c.input {
						out.WriteString(l + "\n")
					}
					out.WriteString("----\n" + got + "\n")
					continue
				}
				if got != c.expected {
					t.Errorf("%s:%d: %s\n--- want\n%s\n--- got\n%s", path, c.line, c.header, c.expected, got)
				}
			}
			if *rewrite {
				if len(cases) > 0 {
					out.WriteString(cases[len(cases)-1].trailer)
				}
				if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// scriptCase is one command of a script with its expected output.
type scriptCase struct {
	preamble string // comments and blank lines before the command
	header   string // the command line
	line     int    // its line number
	input    []string
	expected string
	trailer  string // comments after the last case
}

func parseScript(data string) ([]scriptCase, error) {
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	var cases []scriptCase
	var pre strings.Builder
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre.WriteString(l + "\n")
			i++
			continue
		}
		c := scriptCase{preamble: pre.String(), header: l, line: i + 1}
		pre.Reset()
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.input = append(c.input, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("line %d: %q has no ---- separator", c.line, l)
		}
		i++
		var exp []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			exp = append(exp, lines[i])
		}
		c.expected = strings.Join(exp, "\n")
		if c.expected == "" && !*rewrite {
			return nil, fmt.Errorf("line %d: %q has no expected output, so it could never fail", c.line, l)
		}
		cases = append(cases, c)
	}
	if len(cases) > 0 {
		cases[len(cases)-1].trailer = pre.String()
	}
	return cases, nil
}

// scriptState is the table the commands of one script work on.
type scriptState struct {
	schema   *spec.TableSchema
	opts     spec.Options
	factory  MergeFunctionFactory
	ord      *Ordering
	resolver *RowKindResolver
	keyIdx   []int
}

func (s *scriptState) run(c scriptCase) string {
	fields := strings.Fields(c.header)
	args := map[string]string{}
	for _, a := range fields[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			args[k] = v
		}
	}
	if fields[0] == "table" {
		return s.table(c.input)
	}
	if fields[0] == "agg" {
		if len(fields) < 3 {
			return "error: usage: agg <fn> <type>"
		}
		typ := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(c.header, "agg"), " "+fields[1]))
		return runAggregator(fields[1], typ, c.input)
	}
	if s.factory == nil {
		return "error: no table"
	}
	var out []string
	emit := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	records, runs, err := s.records(c.input)
	if err != nil {
		return "error: " + err.Error()
	}
	switch fields[0] {
	case "merge":
		mf := s.factory.Create()
		if args["mode"] == "reduce" {
			mf = NewReducer(mf)
		}
		mf.Reset()
		for _, kv := range records {
			if err := mf.Add(kv); err != nil {
				emit("error: %v", err)
				return strings.Join(out, "\n")
			}
			if args["mode"] == "steps" {
				out = append(out, s.format(mf.Result()))
			}
		}
		if args["mode"] != "steps" {
			out = append(out, s.format(mf.Result()))
		}
	case "drain":
		buf := NewBuffer(0)
		for _, kv := range records {
			kind, keep, err := s.resolver.Resolve(kv.Kind, kv.Value)
			if err != nil {
				return "error: " + err.Error()
			}
			if keep {
				kv.Kind = kind
				buf.Add(kv, 1)
			}
		}
		res, err := buf.DrainOrdered(NewReducer(s.factory.Create()), s.ord)
		if err != nil {
			return "error: " + err.Error()
		}
		for _, kv := range res {
			out = append(out, s.format(kv))
		}
	case "runs":
		var rs []Run
		for _, r := range runs {
			slices.SortStableFunc(r, s.ord.Compare)
			rs = append(rs, SliceRun(r))
		}
		for kv, err := range MergeRunsOrdered(rs, NewReducer(s.factory.Create()), s.ord) {
			if err != nil {
				emit("error: %v", err)
				break
			}
			out = append(out, s.format(kv))
		}
	case "admit":
		for _, kv := range records {
			in := strings.TrimSuffix(s.format(kv), " @"+strconv.FormatInt(kv.Seq, 10))
			kind, keep, err := s.resolver.Resolve(kv.Kind, kv.Value)
			switch {
			case err != nil:
				emit("%s -> reject: %v", in, err)
			case !keep:
				emit("%s -> drop", in)
			default:
				emit("%s -> accept %s", in, kind)
			}
		}
	case "sort":
		slices.SortStableFunc(records, s.ord.Compare)
		for _, kv := range records {
			out = append(out, s.format(kv))
		}
	case "lookup":
		res, err := LookupMergeGroup(s.factory.Create(), records)
		if err != nil {
			return "error: " + err.Error()
		}
		out = append(out, s.format(res))
	default:
		return "error: unknown command " + fields[0]
	}
	if len(out) == 0 {
		return "(empty)"
	}
	return strings.Join(out, "\n")
}

func (s *scriptState) table(input []string) string {
	*s = scriptState{}
	m := map[string]string{}
	var cols string
	var pk, part []string
	for _, l := range input {
		switch {
		case strings.HasPrefix(l, "columns:"):
			cols = strings.TrimSpace(strings.TrimPrefix(l, "columns:"))
		case strings.HasPrefix(l, "pk:"):
			pk = splitNames(strings.TrimPrefix(l, "pk:"))
		case strings.HasPrefix(l, "partition:"):
			part = splitNames(strings.TrimPrefix(l, "partition:"))
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return "error: bad table line " + strconv.Quote(l)
			}
			if strings.HasPrefix(v, `"`) {
				u, err := strconv.Unquote(v)
				if err != nil {
					return "error: bad quoted option " + v
				}
				v = u
			}
			m[k] = v
		}
	}
	fields, err := spec.ParseColumns(cols)
	if err != nil {
		return "error: " + err.Error()
	}
	schema := &spec.TableSchema{Fields: fields, PrimaryKeys: pk, PartitionKeys: part}
	opts, err := spec.ParseOptions(m)
	if err != nil {
		return "error: " + err.Error()
	}
	f, err := NewMergeFunctionFactory(schema, opts)
	if err != nil {
		return "error: " + err.Error()
	}
	ord, err := NewOrdering(schema, opts)
	if err != nil {
		return "error: " + err.Error()
	}
	res, err := NewRowKindResolver(schema, opts)
	if err != nil {
		return "error: " + err.Error()
	}
	*s = scriptState{schema: schema, opts: opts, factory: f, ord: ord, resolver: res}
	for _, k := range schema.TrimmedPrimaryKeys() {
		s.keyIdx = append(s.keyIdx, schema.FieldIndex(k))
	}
	return "ok"
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// records parses record lines; "--" lines split them into runs.
func (s *scriptState) records(input []string) ([]*KeyValue, [][]*KeyValue, error) {
	var all []*KeyValue
	runs := [][]*KeyValue{nil}
	var seq int64
	for _, l := range input {
		if l == "--" {
			runs = append(runs, nil)
			continue
		}
		toks, err := splitTop(l, isSpace)
		if err != nil {
			return nil, nil, err
		}
		n := len(s.schema.Fields)
		if len(toks) < n+1 {
			return nil, nil, fmt.Errorf("record %q needs a kind and %d values", l, n)
		}
		kind, err := spec.ParseRowKind(toks[0])
		if err != nil {
			return nil, nil, err
		}
		row := make(spec.Row, n)
		for i, f := range s.schema.Fields {
			if row[i], err = parseValue(toks[i+1], f.Type); err != nil {
				return nil, nil, fmt.Errorf("column %s: %w", f.Name, err)
			}
		}
		kv := &KeyValue{Seq: seq, Kind: kind, Value: row, Level: -1}
		seq++
		for _, a := range toks[n+1:] {
			switch {
			case strings.HasPrefix(a, "@"):
				if kv.Seq, err = strconv.ParseInt(a[1:], 10, 64); err != nil {
					return nil, nil, err
				}
			case strings.HasPrefix(a, "L"):
				level, err := strconv.ParseInt(a[1:], 10, 32)
				if err != nil {
					return nil, nil, err
				}
				kv.Level = int32(level)
			default:
				return nil, nil, fmt.Errorf("unknown record tag %q", a)
			}
		}
		kv.Key = make(spec.Row, len(s.keyIdx))
		for i, j := range s.keyIdx {
			kv.Key[i] = row[j]
		}
		all = append(all, kv)
		runs[len(runs)-1] = append(runs[len(runs)-1], kv)
	}
	return all, runs, nil
}

func (s *scriptState) format(kv *KeyValue) string {
	if kv == nil {
		return "null"
	}
	parts := []string{kv.Kind.String()}
	for _, v := range kv.Value {
		parts = append(parts, formatValue(v))
	}
	return strings.Join(parts, " ") + " @" + strconv.FormatInt(kv.Seq, 10)
}

func runAggregator(fn, typ string, input []string) string {
	t, err := spec.ParseType(typ)
	if err != nil {
		return "error: " + err.Error()
	}
	field := spec.DataField{Name: "f", Type: t}
	raw := map[string]string{}
	var agg FieldAggregator
	var out []string
	for _, l := range input {
		op, rest, _ := strings.Cut(l, " ")
		if op == "set" {
			k, v, _ := strings.Cut(rest, "=")
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			raw[k] = v
			continue
		}
		if agg == nil {
			opts, err := spec.ParseOptions(raw)
			if err == nil {
				agg, err = NewFieldAggregator(fn, field, opts)
			}
			if err != nil {
				return "error: " + err.Error()
			}
		}
		toks, err := splitTop(rest, isSpace)
		if err != nil {
			return "error: " + err.Error()
		}
		vals := make([]any, len(toks))
		for i, tok := range toks {
			if vals[i], err = parseValue(tok, t); err != nil {
				return "error: " + err.Error()
			}
		}
		var res any
		switch {
		case op == "reset":
			agg.Reset()
			out = append(out, "ok")
			continue
		case op == "reduce" && len(vals) > 0:
			res = vals[0]
			for _, v := range vals[1:] {
				if res, err = agg.Agg(res, v); err != nil {
					break
				}
			}
		case len(vals) != 2:
			return "error: bad call " + strconv.Quote(l)
		case op == "agg":
			res, err = agg.Agg(vals[0], vals[1])
		case op == "aggrev":
			res, err = agg.AggReversed(vals[0], vals[1])
		case op == "retract":
			res, err = agg.Retract(vals[0], vals[1])
		default:
			return "error: bad call " + strconv.Quote(l)
		}
		if err != nil {
			out = append(out, "error: "+err.Error())
		} else {
			out = append(out, formatValue(res))
		}
	}
	return strings.Join(out, "\n")
}
