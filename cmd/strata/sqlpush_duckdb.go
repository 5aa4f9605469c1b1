//go:build duckdb_arrow

package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// This file reads the query DuckDB parsed (json_serialize_sql) to find the
// Strata tables it names, the columns it may use and the WHERE conjuncts
// that can be pushed into each table's scan. Everything here may only
// over-approximate: a superset of the columns, and filters that keep every
// row the query's WHERE keeps, since DuckDB applies the whole WHERE anyway.

// jnode is a node of DuckDB's serialized parse tree.
type jnode = map[string]any

// sqlTable is one table as the query names it (db.t, or a bare t), read by
// one Strata scan.
type sqlTable struct {
	schema, name string // DuckDB's names for it: schema "main" for a bare name
	strata       string // the Strata identifier, db.t
	t            *table.Table
	fields       []spec.DataField
	refs         int                   // times the parse tree names it
	cols         map[int]bool          // field indexes the query may use
	all          bool                  // every column (*, NATURAL JOIN, renamed columns...)
	noPush       bool                  // no filter may be pushed (renamed columns)
	push         []predicate.Predicate // WHERE conjuncts pushed into the scan
	aliases      map[string]int        // how many references use each alias
}

// columns returns the names the scan projects, in schema order: at least
// one column, so that DuckDB still sees the rows of count(*).
func (st *sqlTable) columns() []string {
	var out []string
	for i, f := range st.fields {
		if st.all || st.cols[i] {
			out = append(out, f.Name)
		}
	}
	if len(out) == 0 {
		out = []string{st.fields[0].Name}
		if pk := st.t.Schema().PrimaryKeys; len(pk) > 0 {
			out = []string{pk[0]}
		}
	}
	return out
}

// filter is the conjunction of the pushed conjuncts; a table named more
// than once gets none, since each reference has its own WHERE.
func (st *sqlTable) filter() (predicate.Predicate, bool) {
	if st.refs != 1 || st.noPush || len(st.push) == 0 {
		return predicate.True(), false
	}
	return predicate.And(st.push...), true
}

// field returns the index of the column named name (DuckDB matches
// identifiers case-insensitively), or -1.
func (st *sqlTable) field(name string) int {
	for i, f := range st.fields {
		if f.Name == name {
			return i
		}
	}
	for i, f := range st.fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// tableResolver opens the Strata table a parse-tree reference names: nil
// when the name is not a Strata table (a CTE, a DuckDB catalog table).
type tableResolver func(schema, name string) (*sqlTable, error)

// analysis is the outcome of reading the parse tree.
type analysis struct {
	tables []*sqlTable
	byName map[string]*sqlTable // schema.name, lower case
}

func tableKey(schema, name string) string { return strings.ToLower(schema + "." + name) }

// analyze walks the statement: tables first, then column references, then
// each SELECT's WHERE.
func analyze(stmt jnode, resolve tableResolver) (*analysis, error) {
	a := &analysis{byName: map[string]*sqlTable{}}
	ctes := map[string]bool{}
	walk(stmt, func(n jnode) {
		if m, ok := n["cte_map"].(jnode); ok {
			for _, e := range list(m["map"]) {
				if en, ok := e.(jnode); ok {
					ctes[strings.ToLower(str(en["key"]))] = true
				}
			}
		}
	})
	var err error
	walk(stmt, func(n jnode) {
		if err != nil || str(n["type"]) != "BASE_TABLE" {
			return
		}
		schema, name := str(n["schema_name"]), str(n["table_name"])
		if str(n["catalog_name"]) != "" || (schema == "" && ctes[strings.ToLower(name)]) {
			return
		}
		key := tableKey(duckSchema(schema), name)
		st := a.byName[key]
		if st == nil {
			if st, err = resolve(schema, name); err != nil || st == nil {
				return
			}
			st.cols, st.aliases = map[int]bool{}, map[string]int{}
			a.byName[key] = st
			a.tables = append(a.tables, st)
		}
		st.refs++
		st.aliases[strings.ToLower(refName(n))]++
		if len(list(n["column_name_alias"])) > 0 {
			st.all, st.noPush = true, true
		}
	})
	if err != nil {
		return nil, err
	}
	if len(a.tables) == 0 {
		return a, nil
	}
	walk(stmt, a.markColumns)
	walk(stmt, func(n jnode) {
		if str(n["type"]) == "SELECT_NODE" {
			a.pushWhere(n)
		}
	})
	return a, nil
}

// duckSchema is the DuckDB schema of a reference: a bare name lives in
// "main".
func duckSchema(schema string) string {
	if schema == "" {
		return "main"
	}
	return schema
}

// refName is the name columns use to qualify a reference: its alias, else
// the table name.
func refName(n jnode) string {
	if al := str(n["alias"]); al != "" {
		return al
	}
	return str(n["table_name"])
}

// markColumns records the columns a node may use.
func (a *analysis) markColumns(n jnode) {
	switch {
	case str(n["class"]) == "COLUMN_REF":
		names := strs(n["column_names"])
		for _, st := range a.tables {
			for _, name := range names {
				if i := st.field(name); i >= 0 {
					st.cols[i] = true
				}
			}
			// A bare table name or alias is the whole row as a struct.
			if len(names) == 1 && st.field(names[0]) < 0 && st.aliases[strings.ToLower(names[0])] > 0 {
				st.all = true
			}
		}
	case str(n["class"]) == "STAR":
		rel := strings.ToLower(str(n["relation_name"]))
		for _, st := range a.tables {
			if rel == "" || st.aliases[rel] > 0 {
				st.all = true
			}
		}
	case str(n["class"]) == "POSITIONAL_REFERENCE", str(n["ref_type"]) == "NATURAL":
		for _, st := range a.tables {
			st.all = true
		}
	case str(n["type"]) == "JOIN":
		for _, c := range strs(n["using_columns"]) {
			for _, st := range a.tables {
				if i := st.field(c); i >= 0 {
					st.cols[i] = true
				}
			}
		}
	}
}

// fromRef is a Strata table in a SELECT's FROM clause.
type fromRef struct {
	st    *sqlTable
	name  string // alias or table name
	db    string // schema as written
	inner bool   // filtering it before the FROM is evaluated keeps the result
}

// fromRefs lists the Strata tables of a FROM clause. A table is inner when
// every row of the FROM's result carries one of its rows: not on the
// null-extended side of an outer join, nor inside positional, ASOF-matched
// or lateral joins, where removing a row changes what others match.
func (a *analysis) fromRefs(n jnode, inner bool, out []fromRef) []fromRef {
	switch str(n["type"]) {
	case "BASE_TABLE":
		if str(n["catalog_name"]) != "" {
			return out
		}
		if st := a.byName[tableKey(duckSchema(str(n["schema_name"])), str(n["table_name"]))]; st != nil {
			out = append(out, fromRef{st: st, name: refName(n), db: str(n["schema_name"]), inner: inner})
		}
	case "JOIN":
		left, right := inner, inner
		switch str(n["join_type"]) {
		case "INNER", "SEMI", "ANTI":
		case "LEFT":
			right = false
		case "RIGHT":
			left = false
		default:
			left, right = false, false
		}
		switch str(n["ref_type"]) {
		case "REGULAR", "CROSS", "NATURAL":
		case "ASOF":
			right = false
		default:
			left, right = false, false
		}
		if str(n["join_type"]) == "SEMI" || str(n["join_type"]) == "ANTI" {
			right = false
		}
		if l, ok := n["left"].(jnode); ok {
			out = a.fromRefs(l, left, out)
		}
		if r, ok := n["right"].(jnode); ok {
			out = a.fromRefs(r, right, out)
		}
	}
	return out
}

// pushWhere pushes the conjuncts of a SELECT's WHERE that each concern one
// inner Strata table of its FROM.
func (a *analysis) pushWhere(sel jnode) {
	where, ok := sel["where_clause"].(jnode)
	from, ok2 := sel["from_table"].(jnode)
	if !ok || !ok2 {
		return
	}
	refs := a.fromRefs(from, true, nil)
	if len(refs) == 0 {
		return
	}
	tr := translator{refs: refs}
	for _, c := range conjuncts(where) {
		tr.target = nil
		p, ok := tr.expr(c)
		if !ok || tr.target == nil || !tr.target.inner || tr.target.st.refs != 1 || tr.target.st.noPush {
			continue
		}
		if _, err := predicate.Bind(p, tr.target.st.fields); err != nil {
			continue
		}
		tr.target.st.push = append(tr.target.st.push, p)
	}
}

// conjuncts splits nested ANDs.
func conjuncts(n jnode) []jnode {
	if str(n["type"]) != "CONJUNCTION_AND" {
		return []jnode{n}
	}
	var out []jnode
	for _, c := range list(n["children"]) {
		if cn, ok := c.(jnode); ok {
			out = append(out, conjuncts(cn)...)
		}
	}
	return out
}

// translator turns an expression over one table's columns and constants
// into a predicate; target is the table, set by the first column.
type translator struct {
	refs   []fromRef
	target *fromRef
}

var compareOps = map[string]func(string, any) predicate.Predicate{
	"COMPARE_EQUAL": predicate.Equal, "COMPARE_NOTEQUAL": predicate.NotEqual,
	"COMPARE_LESSTHAN": predicate.LessThan, "COMPARE_LESSTHANOREQUALTO": predicate.LessOrEqual,
	"COMPARE_GREATERTHAN": predicate.GreaterThan, "COMPARE_GREATERTHANOREQUALTO": predicate.GreaterOrEqual,
}

// flipped is the comparison with its sides swapped (5 < x is x > 5).
var flipped = map[string]string{
	"COMPARE_EQUAL": "COMPARE_EQUAL", "COMPARE_NOTEQUAL": "COMPARE_NOTEQUAL",
	"COMPARE_LESSTHAN": "COMPARE_GREATERTHAN", "COMPARE_GREATERTHAN": "COMPARE_LESSTHAN",
	"COMPARE_LESSTHANOREQUALTO": "COMPARE_GREATERTHANOREQUALTO", "COMPARE_GREATERTHANOREQUALTO": "COMPARE_LESSTHANOREQUALTO",
}

func (tr *translator) expr(n jnode) (predicate.Predicate, bool) {
	typ := str(n["type"])
	switch {
	case typ == "CONJUNCTION_AND" || typ == "CONJUNCTION_OR":
		var kids []predicate.Predicate
		for _, c := range list(n["children"]) {
			cn, ok := c.(jnode)
			if !ok {
				return predicate.Predicate{}, false
			}
			p, ok := tr.expr(cn)
			if !ok {
				return predicate.Predicate{}, false
			}
			kids = append(kids, p)
		}
		if typ == "CONJUNCTION_AND" {
			return predicate.And(kids...), true
		}
		return predicate.Or(kids...), true
	case typ == "OPERATOR_NOT":
		kids := list(n["children"])
		if len(kids) != 1 {
			return predicate.Predicate{}, false
		}
		cn, _ := kids[0].(jnode)
		p, ok := tr.expr(cn)
		return predicate.Not(p), ok
	case compareOps[typ] != nil:
		l, r := node(n["left"]), node(n["right"])
		if str(l["class"]) != "COLUMN_REF" {
			l, r, typ = r, l, flipped[typ]
		}
		col, t, ok := tr.column(l)
		if !ok || !comparable(t) {
			return predicate.Predicate{}, false
		}
		v, ok := constant(r, t)
		return compareOps[typ](col, v), ok
	case typ == "COMPARE_BETWEEN":
		col, t, ok := tr.column(node(n["input"]))
		if !ok || !comparable(t) {
			return predicate.Predicate{}, false
		}
		lo, ok1 := constant(node(n["lower"]), t)
		hi, ok2 := constant(node(n["upper"]), t)
		return predicate.And(predicate.GreaterOrEqual(col, lo), predicate.LessOrEqual(col, hi)), ok1 && ok2
	case typ == "COMPARE_IN" || typ == "COMPARE_NOT_IN":
		kids := list(n["children"])
		if len(kids) < 2 {
			return predicate.Predicate{}, false
		}
		col, t, ok := tr.column(node(kids[0]))
		if !ok || !comparable(t) {
			return predicate.Predicate{}, false
		}
		vs := make([]any, 0, len(kids)-1)
		for _, k := range kids[1:] {
			v, ok := constant(node(k), t)
			if !ok {
				return predicate.Predicate{}, false
			}
			vs = append(vs, v)
		}
		if typ == "COMPARE_IN" {
			return predicate.In(col, vs...), true
		}
		return predicate.NotIn(col, vs...), true
	case typ == "OPERATOR_IS_NULL" || typ == "OPERATOR_IS_NOT_NULL":
		kids := list(n["children"])
		if len(kids) != 1 {
			return predicate.Predicate{}, false
		}
		col, _, ok := tr.column(node(kids[0]))
		if typ == "OPERATOR_IS_NULL" {
			return predicate.IsNull(col), ok
		}
		return predicate.IsNotNull(col), ok
	case str(n["class"]) == "FUNCTION":
		return tr.function(n)
	}
	return predicate.Predicate{}, false
}

// likePrefix matches patterns that are a literal prefix then %.
var likePrefix = regexp.MustCompile(`^[^%_\\]*%$`)

// function translates LIKE 'prefix%' (~~), NOT LIKE (!~~), starts_with and
// prefix.
func (tr *translator) function(n jnode) (predicate.Predicate, bool) {
	kids := list(n["children"])
	name := str(n["function_name"])
	if len(kids) != 2 || str(n["schema"]) != "" || n["filter"] != nil {
		return predicate.Predicate{}, false
	}
	col, t, ok := tr.column(node(kids[0]))
	if !ok || (t.Root != spec.TypeVarChar && t.Root != spec.TypeChar) {
		return predicate.Predicate{}, false
	}
	s, ok := stringConstant(node(kids[1]))
	if !ok {
		return predicate.Predicate{}, false
	}
	switch name {
	case "~~", "!~~":
		if !likePrefix.MatchString(s) {
			return predicate.Predicate{}, false
		}
		p := predicate.StartsWith(col, strings.TrimSuffix(s, "%"))
		if name == "!~~" {
			p = predicate.Not(p)
		}
		return p, true
	case "starts_with", "prefix":
		return predicate.StartsWith(col, s), true
	}
	return predicate.Predicate{}, false
}

// column resolves a column reference to a column of one inner table of the
// FROM: qualified by that table's alias (or db.t), or unqualified and a
// column of exactly one Strata table of the FROM (if another relation had
// it too, DuckDB would refuse the name as ambiguous). All columns of an
// expression must belong to the same table.
func (tr *translator) column(n jnode) (string, spec.DataType, bool) {
	if str(n["class"]) != "COLUMN_REF" {
		return "", spec.DataType{}, false
	}
	names := strs(n["column_names"])
	var ref *fromRef
	var col string
	switch len(names) {
	case 1:
		col = names[0]
		for i := range tr.refs {
			if tr.refs[i].st.field(col) >= 0 {
				if ref != nil {
					return "", spec.DataType{}, false
				}
				ref = &tr.refs[i]
			}
		}
	case 2, 3:
		col = names[len(names)-1]
		for i := range tr.refs {
			r := &tr.refs[i]
			match := strings.EqualFold(r.name, names[len(names)-2])
			if len(names) == 3 {
				match = match && strings.EqualFold(r.db, names[0])
			}
			if match {
				if ref != nil {
					return "", spec.DataType{}, false
				}
				ref = r
			}
		}
	}
	if ref == nil || (tr.target != nil && tr.target != ref) {
		return "", spec.DataType{}, false
	}
	i := ref.st.field(col)
	if i < 0 {
		return "", spec.DataType{}, false
	}
	tr.target = ref
	f := ref.st.fields[i]
	return f.Name, f.Type, true
}

// comparable reports whether comparisons on a column of type t may be
// pushed: where Strata and DuckDB order values alike. Floating point is
// left out (DuckDB orders NaN above every number), and so is
// TIMESTAMP_LTZ (DuckDB reads its literals in the session's time zone).
func comparable(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeBoolean, spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
		spec.TypeDecimal, spec.TypeChar, spec.TypeVarChar, spec.TypeDate, spec.TypeTimestamp:
		return true
	}
	return false
}

var (
	dateLiteral      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timestampLiteral = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d{1,9})?)?$`)
)

// constant converts a constant of the parse tree for a column of type t,
// only where DuckDB compares it as Strata would: numbers with numeric
// columns, strings with string columns, DATE '...' and TIMESTAMP '...' (or
// plain strings of those forms) with date and timestamp columns, TRUE and
// FALSE with booleans. A null, a floating-point number or anything else is
// refused.
func constant(n jnode, t spec.DataType) (any, bool) {
	if str(n["class"]) == "CAST" && !truthy(n["try_cast"]) {
		ct := str(node(n["cast_type"])["id"])
		child := node(n["child"])
		switch {
		case ct == "DATE" && t.Root == spec.TypeDate, ct == "TIMESTAMP" && t.Root == spec.TypeTimestamp:
			s, ok := stringConstant(child)
			return s, ok && stringFits(s, t)
		case ct == "BOOLEAN" && t.Root == spec.TypeBoolean:
			s, ok := stringConstant(child)
			switch strings.ToLower(s) {
			case "t", "true":
				return true, ok
			case "f", "false":
				return false, ok
			}
			return nil, false
		case isIntegerType(ct) && numeric(t):
			return constant(child, t)
		}
		return nil, false
	}
	if str(n["class"]) != "CONSTANT" {
		return nil, false
	}
	val := node(n["value"])
	if truthy(val["is_null"]) {
		return nil, false
	}
	typ := node(val["type"])
	switch id := str(typ["id"]); {
	case isIntegerType(id) && numeric(t):
		num, ok := val["value"].(json.Number)
		if !ok {
			return nil, false
		}
		b, ok := new(big.Int).SetString(num.String(), 10)
		return spec.Decimal{Unscaled: b}, ok
	case id == "DECIMAL" && numeric(t):
		num, ok := val["value"].(json.Number)
		info := node(typ["type_info"])
		scale, err := jsonInt(info["scale"])
		if !ok || err != nil {
			return nil, false
		}
		b, ok := new(big.Int).SetString(num.String(), 10)
		return spec.Decimal{Unscaled: b, Scale: int(scale)}, ok
	case id == "VARCHAR":
		s, ok := val["value"].(string)
		switch t.Root {
		case spec.TypeChar, spec.TypeVarChar:
			return s, ok
		case spec.TypeDate, spec.TypeTimestamp:
			return s, ok && stringFits(s, t)
		}
	case id == "BOOLEAN" && t.Root == spec.TypeBoolean:
		b, ok := val["value"].(bool)
		return b, ok
	}
	return nil, false
}

func stringFits(s string, t spec.DataType) bool {
	if t.Root == spec.TypeDate {
		return dateLiteral.MatchString(s)
	}
	return timestampLiteral.MatchString(s)
}

func stringConstant(n jnode) (string, bool) {
	val := node(n["value"])
	if str(n["class"]) != "CONSTANT" || truthy(val["is_null"]) || str(node(val["type"])["id"]) != "VARCHAR" {
		return "", false
	}
	s, ok := val["value"].(string)
	return s, ok
}

func isIntegerType(id string) bool {
	switch id {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		return true
	}
	return false
}

func numeric(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt, spec.TypeDecimal:
		return true
	}
	return false
}

// walk calls f on every object of the tree, depth first.
func walk(v any, f func(jnode)) {
	switch x := v.(type) {
	case jnode:
		f(x)
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

func node(v any) jnode {
	n, _ := v.(jnode)
	return n
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

func truthy(v any) bool {
	b, _ := v.(bool)
	return b
}

func jsonInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	return n.Int64()
}

// describe renders what a table's scan reads, for --explain.
func (st *sqlTable) describe(mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s.%s in DuckDB): %s\n", st.strata, st.schema, st.name, mode)
	cols := st.columns()
	fmt.Fprintf(&b, "  columns: %s (%d of %d)\n", strings.Join(cols, ", "), len(cols), len(st.fields))
	if p, ok := st.filter(); ok {
		fmt.Fprintf(&b, "  filter:  %s\n", p)
	} else {
		fmt.Fprintf(&b, "  filter:  none\n")
	}
	return b.String()
}
