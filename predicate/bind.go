package predicate

import (
	"fmt"
	"slices"

	"github.com/stratalake/strata/spec"
)

// Bound is a Predicate resolved against a list of fields: columns are
// indexes into the fields, literals are values of the column's type, and
// the tree is in negation normal form (no NOT; leaves carry the negated
// operators). A Bound is immutable and safe for concurrent use.
type Bound struct {
	fields []spec.DataField
	root   *node
}

// node is a Bound tree node. Leaves hold the column index and literals;
// OpAnd and OpOr hold kids. OpNot never occurs.
type node struct {
	op   Op
	col  int
	val  any   // comparisons and prefixes
	vals []any // OpIn and OpNotIn: sorted by spec.CompareValues, no duplicates
	kids []*node
}

// Bind resolves p against fields. Column names match exactly, or else
// case-insensitively when only one field matches. Literals are converted
// to the column's type (see Predicate); one that does not fit the column
// (a string for an INT, 'abc' for a DATE) is an error wrapping
// spec.ErrSchemaMismatch. Comparisons with NULL are never true and bind to
// FALSE.
func Bind(p Predicate, fields []spec.DataField) (*Bound, error) {
	root, err := bindNode(p, fields, false)
	if err != nil {
		return nil, err
	}
	return &Bound{fields: fields, root: root}, nil
}

// Fields are the fields the predicate was bound against.
func (b *Bound) Fields() []spec.DataField { return b.fields }

// Columns returns the indexes of the fields the predicate references,
// ascending.
func (b *Bound) Columns() []int {
	var out []int
	var walk func(*node)
	walk = func(n *node) {
		if n.kids == nil && n.op != OpTrue && n.op != OpFalse && !slices.Contains(out, n.col) {
			out = append(out, n.col)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(b.root)
	slices.Sort(out)
	return out
}

// AlwaysTrue reports whether the predicate matches every row (it folded to
// TRUE).
func (b *Bound) AlwaysTrue() bool { return b.root.op == OpTrue }

// AlwaysFalse reports whether the predicate matches no row.
func (b *Bound) AlwaysFalse() bool { return b.root.op == OpFalse }

// Predicate returns the bound predicate as a Predicate over the fields'
// names, in negation normal form with normalised literals.
func (b *Bound) Predicate() Predicate { return b.root.predicate(b.fields) }

// String renders the bound predicate.
func (b *Bound) String() string { return b.Predicate().String() }

func (n *node) predicate(fields []spec.DataField) Predicate {
	switch n.op {
	case OpTrue, OpFalse:
		return Predicate{Op: n.op}
	case OpAnd, OpOr:
		kids := make([]Predicate, len(n.kids))
		for i, k := range n.kids {
			kids[i] = k.predicate(fields)
		}
		return Predicate{Op: n.op, Children: kids}
	case OpIn, OpNotIn:
		return leaf(n.op, fields[n.col].Name, n.vals...)
	case OpIsNull, OpIsNotNull:
		return leaf(n.op, fields[n.col].Name)
	}
	return leaf(n.op, fields[n.col].Name, n.val)
}

// bindNode binds p, negated when neg is set, pushing NOT down: in SQL's
// three-valued logic NOT (a AND b) is NOT a OR NOT b and NOT (x < v) is
// x >= v, so a row is kept by the result exactly when the original is
// true (or, negated, false).
func bindNode(p Predicate, fields []spec.DataField, neg bool) (*node, error) {
	switch p.Op {
	case OpTrue, OpFalse:
		op := p.Op
		if neg {
			op = negated[op]
		}
		return &node{op: op}, nil
	case OpNot:
		if len(p.Children) != 1 {
			return nil, fmt.Errorf("NOT takes one operand, got %d", len(p.Children))
		}
		return bindNode(p.Children[0], fields, !neg)
	case OpAnd, OpOr:
		op := p.Op
		if neg {
			op = OpAnd + OpOr - op
		}
		kids := make([]*node, 0, len(p.Children))
		for _, c := range p.Children {
			k, err := bindNode(c, fields, neg)
			if err != nil {
				return nil, err
			}
			kids = append(kids, k)
		}
		return simplify(op, kids), nil
	}
	if p.Op > OpNotStartsWith {
		return nil, fmt.Errorf("unknown predicate operator %d", p.Op)
	}
	col, err := resolve(p.Column, fields)
	if err != nil {
		return nil, err
	}
	op := p.Op
	if neg {
		op = negated[op]
	}
	n, err := bindLeaf(op, col, fields[col].Type, p.Values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", leaf(p.Op, p.Column, p.Values...), err)
	}
	return n, nil
}

// simplify folds an AND or OR: nested ones of the same kind are flattened,
// TRUE and FALSE absorbed.
func simplify(op Op, kids []*node) *node {
	unit, zero := OpTrue, OpFalse // AND: TRUE is neutral, FALSE absorbs
	if op == OpOr {
		unit, zero = OpFalse, OpTrue
	}
	var out []*node
	for _, k := range kids {
		switch k.op {
		case unit:
			continue
		case zero:
			return &node{op: zero}
		case op:
			out = append(out, k.kids...)
		default:
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return &node{op: unit}
	case 1:
		return out[0]
	}
	return &node{op: op, kids: out}
}

// resolve finds a column by name: exactly, or case-insensitively when that
// is unambiguous.
func resolve(name string, fields []spec.DataField) (int, error) {
	found := -1
	for i, f := range fields {
		if f.Name == name {
			return i, nil
		}
		if equalFold(f.Name, name) {
			if found >= 0 {
				return -1, fmt.Errorf("%w: column %q is ambiguous (%s, %s)", spec.ErrSchemaMismatch, name, fields[found].Name, f.Name)
			}
			found = i
		}
	}
	if found < 0 {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		return -1, fmt.Errorf("%w: no column %q (columns: %v)", spec.ErrSchemaMismatch, name, names)
	}
	return found, nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// nested reports whether values of t have no order a literal can express.
func nested(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeArray, spec.TypeMap, spec.TypeMultiset, spec.TypeRow, spec.TypeVector:
		return true
	}
	return false
}

// bindLeaf binds one leaf with its (already negated) operator.
func bindLeaf(op Op, col int, t spec.DataType, vals []any) (*node, error) {
	switch op {
	case OpIsNull, OpIsNotNull:
		if len(vals) != 0 {
			return nil, fmt.Errorf("IS [NOT] NULL takes no literal")
		}
		return &node{op: op, col: col}, nil
	}
	if nested(t) {
		return nil, fmt.Errorf("%w: a %s column can only be tested with IS [NOT] NULL", spec.ErrSchemaMismatch, t)
	}
	switch op {
	case OpStartsWith, OpNotStartsWith:
		if t.Root != spec.TypeVarChar && t.Root != spec.TypeChar {
			return nil, fmt.Errorf("%w: LIKE needs a string column, not %s", spec.ErrSchemaMismatch, t)
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("LIKE takes one prefix")
		}
		s, ok := vals[0].(string)
		if !ok {
			return nil, fmt.Errorf("%w: LIKE prefix %v is a %T, want a string", spec.ErrSchemaMismatch, vals[0], vals[0])
		}
		if s == "" { // LIKE '%' matches every non-null string
			if op == OpStartsWith {
				return &node{op: OpIsNotNull, col: col}, nil
			}
			return &node{op: OpFalse}, nil
		}
		return &node{op: op, col: col, val: s}, nil
	case OpIn, OpNotIn:
		return bindList(op, col, t, vals)
	}
	if len(vals) != 1 {
		return nil, fmt.Errorf("%s takes one literal, got %d", opSQL[op], len(vals))
	}
	if vals[0] == nil {
		return &node{op: OpFalse}, nil // a comparison with NULL is never true
	}
	c, err := coerce(t, vals[0])
	if err != nil {
		return nil, err
	}
	if c.exact {
		return &node{op: op, col: col, val: c.v}, nil
	}
	return normalize(op, col, t, c.dec), nil
}

// bindList binds IN and NOT IN: literals outside the column's domain are
// dropped (they equal no value), NULLs too, except that NOT IN with a NULL
// is never true.
func bindList(op Op, col int, t spec.DataType, vals []any) (*node, error) {
	if len(vals) == 0 { // no comparison at all: not even unknown for a null
		if op == OpIn {
			return &node{op: OpFalse}, nil
		}
		return &node{op: OpTrue}, nil
	}
	var out []any
	for _, v := range vals {
		if v == nil {
			if op == OpNotIn {
				return &node{op: OpFalse}, nil
			}
			continue
		}
		c, err := coerce(t, v)
		if err != nil {
			return nil, err
		}
		if !c.exact {
			n := normalize(OpEq, col, t, c.dec)
			if n.op == OpFalse {
				continue
			}
			c.v = n.val
		}
		out = append(out, c.v)
	}
	slices.SortFunc(out, spec.CompareValues)
	out = slices.CompactFunc(out, func(a, b any) bool { return spec.CompareValues(a, b) == 0 })
	switch {
	case len(out) == 0 && op == OpIn:
		return &node{op: OpFalse}, nil
	case len(out) == 0:
		return &node{op: OpIsNotNull, col: col}, nil
	case len(out) == 1 && op == OpIn:
		return &node{op: OpEq, col: col, val: out[0]}, nil
	case len(out) == 1:
		return &node{op: OpNe, col: col, val: out[0]}, nil
	}
	return &node{op: op, col: col, vals: out}, nil
}
