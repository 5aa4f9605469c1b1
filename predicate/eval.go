package predicate

import (
	"reflect"
	"sort"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Eval reports whether the predicate is true for row, whose values are in
// the order of the bound fields. A comparison with null is unknown, so not
// true, and so is its negation.
func (b *Bound) Eval(row spec.Row) bool { return b.root.eval(row) }

func (n *node) eval(row spec.Row) bool {
	switch n.op {
	case OpTrue:
		return true
	case OpFalse:
		return false
	case OpAnd:
		for _, k := range n.kids {
			if !k.eval(row) {
				return false
			}
		}
		return true
	case OpOr:
		for _, k := range n.kids {
			if k.eval(row) {
				return true
			}
		}
		return false
	}
	v := row[n.col]
	if v == nil {
		return n.op == OpIsNull
	}
	switch n.op {
	case OpIsNull:
		return false
	case OpIsNotNull:
		return true
	case OpEq:
		return spec.CompareValues(v, n.val) == 0
	case OpNe:
		return spec.CompareValues(v, n.val) != 0
	case OpLt:
		return spec.CompareValues(v, n.val) < 0
	case OpLe:
		return spec.CompareValues(v, n.val) <= 0
	case OpGt:
		return spec.CompareValues(v, n.val) > 0
	case OpGe:
		return spec.CompareValues(v, n.val) >= 0
	case OpIn:
		return n.contains(v)
	case OpNotIn:
		return !n.contains(v)
	case OpStartsWith:
		return strings.HasPrefix(v.(string), n.val.(string))
	case OpNotStartsWith:
		return !strings.HasPrefix(v.(string), n.val.(string))
	}
	return false
}

func (n *node) contains(v any) bool {
	i := sort.Search(len(n.vals), func(i int) bool { return spec.CompareValues(n.vals[i], v) >= 0 })
	return i < len(n.vals) && spec.CompareValues(n.vals[i], v) == 0
}

// Stats are the statistics of a set of rows: a data file, a Parquet row
// group or page. Callers adapt their own statistics to it.
type Stats interface {
	// RowCount is the number of rows, or a negative number when unknown.
	RowCount() int64
	// Column returns the statistics of the bound field at index col.
	Column(col int) ColumnStats
}

// ColumnStats describe one column over a set of rows. The zero value knows
// nothing.
type ColumnStats struct {
	// Min and Max bound the column's non-null values (spec.CompareValues
	// order), in the column's value model; nil when unknown. They may be
	// looser than the values (Paimon's truncate(N) cuts a string min and
	// rounds a cut max up), so they are only bounds unless Exact.
	Min, Max any
	// Exact says Min and Max are values of the column, not just bounds.
	Exact bool
	// Nulls is the number of nulls when NullsKnown.
	Nulls      int64
	NullsKnown bool
}

// MayMatch reports whether some row described by st may satisfy the
// predicate. It is conservative: false only when no row can.
func (b *Bound) MayMatch(st Stats) bool {
	if st.RowCount() == 0 {
		return false
	}
	return b.root.mayMatch(st)
}

func (n *node) mayMatch(st Stats) bool {
	switch n.op {
	case OpTrue:
		return true
	case OpFalse:
		return false
	case OpAnd:
		for _, k := range n.kids {
			if !k.mayMatch(st) {
				return false
			}
		}
		return true
	case OpOr:
		for _, k := range n.kids {
			if k.mayMatch(st) {
				return true
			}
		}
		return false
	}
	cs := st.Column(n.col)
	rows := st.RowCount()
	allNull := cs.NullsKnown && rows >= 0 && cs.Nulls >= rows
	switch n.op {
	case OpIsNull:
		return !cs.NullsKnown || cs.Nulls > 0
	case OpIsNotNull:
		return !allNull
	}
	if allNull {
		return false // every comparison with null is unknown
	}
	lo, hi := cs.Min, cs.Max
	if !statsTyped(lo, hi, n) {
		// Statistics of another type than the bound literals (a decoding
		// bug, or a type this code does not expect) prove nothing: read
		// the file rather than order unlike values and skip rows.
		return true
	}
	switch n.op {
	case OpEq:
		return (lo == nil || spec.CompareValues(n.val, lo) >= 0) && (hi == nil || spec.CompareValues(n.val, hi) <= 0)
	case OpNe:
		return !(cs.Exact && lo != nil && hi != nil && spec.CompareValues(lo, n.val) == 0 && spec.CompareValues(hi, n.val) == 0)
	case OpLt:
		return lo == nil || spec.CompareValues(lo, n.val) < 0
	case OpLe:
		return lo == nil || spec.CompareValues(lo, n.val) <= 0
	case OpGt:
		return hi == nil || spec.CompareValues(hi, n.val) > 0
	case OpGe:
		return hi == nil || spec.CompareValues(hi, n.val) >= 0
	case OpIn:
		// Some literal within [lo, hi]: the first one ≥ lo must be ≤ hi.
		i := 0
		if lo != nil {
			i = sort.Search(len(n.vals), func(i int) bool { return spec.CompareValues(n.vals[i], lo) >= 0 })
		}
		return i < len(n.vals) && (hi == nil || spec.CompareValues(n.vals[i], hi) <= 0)
	case OpNotIn:
		return !(cs.Exact && lo != nil && hi != nil && spec.CompareValues(lo, hi) == 0 && n.contains(lo))
	case OpStartsWith:
		p := n.val.(string)
		if hi != nil && strings.Compare(hi.(string), p) < 0 {
			return false // every value is below the prefix
		}
		// Strings with the prefix sort between p and the strings after it: a
		// min above p without the prefix is above all of them.
		return lo == nil || strings.Compare(lo.(string), p) <= 0 || strings.HasPrefix(lo.(string), p)
	case OpNotStartsWith:
		// Strings with a prefix form an interval: when both bounds have it,
		// every value between them does.
		p := n.val.(string)
		return lo == nil || hi == nil || !strings.HasPrefix(lo.(string), p) || !strings.HasPrefix(hi.(string), p)
	}
	return true
}

// statsTyped says whether a column's minimum and maximum (nil: unknown)
// have the Go type of the node's literal.
func statsTyped(lo, hi any, n *node) bool {
	lit := n.val
	if lit == nil && len(n.vals) > 0 {
		lit = n.vals[0]
	}
	if lit == nil {
		return true
	}
	t := reflect.TypeOf(lit)
	return (lo == nil || reflect.TypeOf(lo) == t) && (hi == nil || reflect.TypeOf(hi) == t)
}
