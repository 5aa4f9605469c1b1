package predicate

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// Op is the operator of a Predicate node.
type Op uint8

// The operators. OpTrue is the zero Op, so the zero Predicate matches every
// row.
const (
	OpTrue          Op = iota // matches every row
	OpFalse                   // matches no row
	OpAnd                     // every child
	OpOr                      // some child
	OpNot                     // not the only child
	OpEq                      // Column = Values[0]
	OpNe                      // Column <> Values[0]
	OpLt                      // Column < Values[0]
	OpLe                      // Column <= Values[0]
	OpGt                      // Column > Values[0]
	OpGe                      // Column >= Values[0]
	OpIn                      // Column IN (Values...)
	OpNotIn                   // Column NOT IN (Values...)
	OpIsNull                  // Column IS NULL
	OpIsNotNull               // Column IS NOT NULL
	OpStartsWith              // Column LIKE 'Values[0]%'
	OpNotStartsWith           // Column NOT LIKE 'Values[0]%'
)

var opSQL = [...]string{
	OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
}

// negated maps each leaf operator to the operator of its negation under
// SQL's three-valued logic: NOT (x < v) is x >= v, both unknown for a null
// x.
var negated = [...]Op{
	OpTrue: OpFalse, OpFalse: OpTrue,
	OpEq: OpNe, OpNe: OpEq, OpLt: OpGe, OpLe: OpGt, OpGt: OpLe, OpGe: OpLt,
	OpIn: OpNotIn, OpNotIn: OpIn, OpIsNull: OpIsNotNull, OpIsNotNull: OpIsNull,
	OpStartsWith: OpNotStartsWith, OpNotStartsWith: OpStartsWith,
}

// Predicate is a boolean expression over named columns. Leaves compare one
// column with literals; OpAnd, OpOr and OpNot combine Children. Literals
// are Go values: numbers of any Go numeric type, strings, bools, []byte,
// time.Time, spec.Decimal, spec.Date, spec.Time, spec.Timestamp, or nil;
// Bind converts them to the column's type. Build predicates with the
// constructors; the zero Predicate is TRUE.
type Predicate struct {
	Op       Op
	Column   string      // leaves only
	Values   []any       // the literals of a leaf
	Children []Predicate // OpAnd, OpOr, OpNot
}

func leaf(op Op, col string, vs ...any) Predicate {
	return Predicate{Op: op, Column: col, Values: vs}
}

// True matches every row.
func True() Predicate { return Predicate{Op: OpTrue} }

// False matches no row.
func False() Predicate { return Predicate{Op: OpFalse} }

// Equal is col = v.
func Equal(col string, v any) Predicate { return leaf(OpEq, col, v) }

// NotEqual is col <> v.
func NotEqual(col string, v any) Predicate { return leaf(OpNe, col, v) }

// LessThan is col < v.
func LessThan(col string, v any) Predicate { return leaf(OpLt, col, v) }

// LessOrEqual is col <= v.
func LessOrEqual(col string, v any) Predicate { return leaf(OpLe, col, v) }

// GreaterThan is col > v.
func GreaterThan(col string, v any) Predicate { return leaf(OpGt, col, v) }

// GreaterOrEqual is col >= v.
func GreaterOrEqual(col string, v any) Predicate { return leaf(OpGe, col, v) }

// In is col IN (vs...).
func In(col string, vs ...any) Predicate { return leaf(OpIn, col, vs...) }

// NotIn is col NOT IN (vs...).
func NotIn(col string, vs ...any) Predicate { return leaf(OpNotIn, col, vs...) }

// IsNull is col IS NULL.
func IsNull(col string) Predicate { return leaf(OpIsNull, col) }

// IsNotNull is col IS NOT NULL.
func IsNotNull(col string) Predicate { return leaf(OpIsNotNull, col) }

// StartsWith is col LIKE 'prefix%' on a string column.
func StartsWith(col, prefix string) Predicate { return leaf(OpStartsWith, col, prefix) }

// And is true when every p is (TRUE for none). Nested ANDs are flattened.
func And(ps ...Predicate) Predicate { return combine(OpAnd, ps) }

// Or is true when some p is (FALSE for none). Nested ORs are flattened.
func Or(ps ...Predicate) Predicate { return combine(OpOr, ps) }

func combine(op Op, ps []Predicate) Predicate {
	var kids []Predicate
	for _, p := range ps {
		if p.Op == op {
			kids = append(kids, p.Children...)
		} else {
			kids = append(kids, p)
		}
	}
	switch len(kids) {
	case 0:
		if op == OpAnd {
			return True()
		}
		return False()
	case 1:
		return kids[0]
	}
	return Predicate{Op: op, Children: kids}
}

// Not is NOT p.
func Not(p Predicate) Predicate { return Predicate{Op: OpNot, Children: []Predicate{p}} }

// Conjuncts returns the terms of a top-level AND (p itself otherwise; none
// for TRUE).
func Conjuncts(p Predicate) []Predicate {
	switch p.Op {
	case OpAnd:
		return p.Children
	case OpTrue:
		return nil
	}
	return []Predicate{p}
}

// ColumnNames returns the columns p references, each once, in order of
// first appearance.
func (p Predicate) ColumnNames() []string {
	var out []string
	var walk func(Predicate)
	walk = func(q Predicate) {
		if q.Column != "" {
			for _, c := range out {
				if c == q.Column {
					return
				}
			}
			out = append(out, q.Column)
		}
		for _, k := range q.Children {
			walk(k)
		}
	}
	walk(p)
	return out
}

// Split divides p's conjuncts into those that reference only columns for
// which keep is true, and the rest: p is And(in, rest). A conjunct that
// references no column (TRUE, FALSE) goes to in.
func Split(p Predicate, keep func(col string) bool) (in, rest Predicate) {
	var ins, rests []Predicate
	for _, c := range Conjuncts(p) {
		ok := true
		for _, name := range c.ColumnNames() {
			ok = ok && keep(name)
		}
		if ok {
			ins = append(ins, c)
		} else {
			rests = append(rests, c)
		}
	}
	return And(ins...), And(rests...)
}

// String renders p in the syntax Parse reads.
func (p Predicate) String() string {
	var b strings.Builder
	p.write(&b, false)
	return b.String()
}

func (p Predicate) write(b *strings.Builder, nested bool) {
	switch p.Op {
	case OpTrue:
		b.WriteString("TRUE")
	case OpFalse:
		b.WriteString("FALSE")
	case OpAnd, OpOr:
		if nested {
			b.WriteByte('(')
		}
		sep := " AND "
		if p.Op == OpOr {
			sep = " OR "
		}
		for i, k := range p.Children {
			if i > 0 {
				b.WriteString(sep)
			}
			k.write(b, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case OpNot:
		b.WriteString("NOT ")
		if len(p.Children) == 1 {
			p.Children[0].write(b, true)
		}
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		fmt.Fprintf(b, "%s %s %s", quoteIdent(p.Column), opSQL[p.Op], literalAt(p.Values, 0))
	case OpIn, OpNotIn:
		if len(p.Values) == 0 { // SQL has no empty list
			if p.Op == OpIn {
				b.WriteString("FALSE")
			} else {
				b.WriteString("TRUE")
			}
			return
		}
		b.WriteString(quoteIdent(p.Column))
		if p.Op == OpNotIn {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		for i, v := range p.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Literal(v))
		}
		b.WriteByte(')')
	case OpIsNull:
		b.WriteString(quoteIdent(p.Column) + " IS NULL")
	case OpIsNotNull:
		b.WriteString(quoteIdent(p.Column) + " IS NOT NULL")
	case OpStartsWith, OpNotStartsWith:
		b.WriteString(quoteIdent(p.Column))
		if p.Op == OpNotStartsWith {
			b.WriteString(" NOT")
		}
		prefix, _ := valueAt(p.Values, 0).(string)
		b.WriteString(" LIKE " + quoteString(escapeLike(prefix)+"%"))
	default:
		fmt.Fprintf(b, "<op %d>", p.Op)
	}
}

func valueAt(vs []any, i int) any {
	if i < len(vs) {
		return vs[i]
	}
	return nil
}

func literalAt(vs []any, i int) string { return Literal(valueAt(vs, i)) }

// quoteIdent leaves plain identifiers bare and quotes others in
// backquotes.
func quoteIdent(s string) string {
	if isPlainIdent(s) && keywords[strings.ToUpper(s)] == 0 {
		return s
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func isPlainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// escapeLike escapes LIKE's wildcards and the escape character itself.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Literal renders a literal value in the syntax Parse reads: numbers bare,
// strings, dates and timestamps quoted, binaries as X'hex'.
func Literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case string:
		return quoteString(x)
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	case float32:
		return floatLiteral(float64(x), 32)
	case float64:
		return floatLiteral(x, 64)
	case spec.Decimal:
		return x.String()
	case spec.Date, spec.Time, spec.Timestamp:
		return quoteString(fmt.Sprint(x))
	case time.Time:
		return quoteString(x.UTC().Format("2006-01-02T15:04:05.999999999"))
	}
	return fmt.Sprint(v)
}

// floatLiteral renders a float; NaN and the infinities, which have no
// numeric literal, as the strings a float column reads.
func floatLiteral(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "'NaN'"
	case math.IsInf(f, 1):
		return "'Infinity'"
	case math.IsInf(f, -1):
		return "'-Infinity'"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}
