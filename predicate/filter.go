package predicate

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

// Filter evaluates the predicate over a record batch whose columns are the
// bound fields, in order, with the Arrow types of internal/arrowconv, and
// returns one bool per row: true where the predicate is. sel is reused
// when it has the capacity. Each leaf runs one loop over its column's
// values, typed per column type.
func (b *Bound) Filter(rec arrow.RecordBatch, sel []bool) ([]bool, error) {
	if int(rec.NumCols()) != len(b.fields) {
		return nil, fmt.Errorf("%w: record batch has %d columns, the predicate is bound to %d", spec.ErrSchemaMismatch, rec.NumCols(), len(b.fields))
	}
	n := int(rec.NumRows())
	sel = resize(sel, n)
	if err := b.root.filter(rec, sel); err != nil {
		return nil, err
	}
	return sel, nil
}

// FilterRecord returns the rows of rec for which the predicate is true (rec
// itself, retained, when all are). The caller releases the result.
func (b *Bound) FilterRecord(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	sel, err := b.Filter(rec, nil)
	if err != nil {
		return nil, err
	}
	return Select(mem, rec, sel)
}

// Select returns the rows of rec where sel is true (rec itself, retained,
// when all are): a few runs of selected rows are sliced and concatenated,
// scattered rows go through Arrow's filter kernel. It is the one place
// Strata cuts a batch down to some of its rows (filters, deletion vectors,
// merge winners).
func Select(mem memory.Allocator, rec arrow.RecordBatch, sel []bool) (arrow.RecordBatch, error) {
	var runs [][2]int64
	kept := int64(0)
	for i := 0; i < len(sel); {
		if !sel[i] {
			i++
			continue
		}
		j := i
		for j < len(sel) && sel[j] {
			j++
		}
		runs = append(runs, [2]int64{int64(i), int64(j)})
		kept += int64(j - i)
		i = j
	}
	switch {
	case kept == rec.NumRows():
		rec.Retain()
		return rec, nil
	case len(runs) == 0:
		return rec.NewSlice(0, 0), nil
	case len(runs) == 1:
		return rec.NewSlice(runs[0][0], runs[0][1]), nil
	case len(runs) > maxRuns:
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		b.AppendValues(sel, nil)
		mask := b.NewBooleanArray()
		defer mask.Release()
		return compute.FilterRecordBatch(compute.WithAllocator(context.Background(), mem), rec, mask, compute.DefaultFilterOptions())
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(runs))
	for c := range cols {
		for i, r := range runs {
			parts[i] = array.NewSlice(rec.Column(c), r[0], r[1])
		}
		var err error
		cols[c], err = array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			return nil, err
		}
	}
	return array.NewRecordBatch(rec.Schema(), cols, kept), nil
}

// maxRuns is the most runs of selected rows Select copies itself.
const maxRuns = 16

func resize(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	return s[:n]
}

func fill(sel []bool, v bool) {
	for i := range sel {
		sel[i] = v
	}
}

func (n *node) filter(rec arrow.RecordBatch, sel []bool) error {
	switch n.op {
	case OpTrue, OpFalse:
		fill(sel, n.op == OpTrue)
		return nil
	case OpAnd, OpOr:
		if err := n.kids[0].filter(rec, sel); err != nil {
			return err
		}
		tmp := make([]bool, len(sel))
		for _, k := range n.kids[1:] {
			if err := k.filter(rec, tmp); err != nil {
				return err
			}
			if n.op == OpAnd {
				for i, t := range tmp {
					sel[i] = sel[i] && t
				}
			} else {
				for i, t := range tmp {
					sel[i] = sel[i] || t
				}
			}
		}
		return nil
	}
	return n.filterLeaf(rec.Column(n.col), sel)
}

// filterLeaf evaluates a leaf over one column; nulls are false except for
// IS NULL.
func (n *node) filterLeaf(arr arrow.Array, sel []bool) error {
	switch n.op {
	case OpIsNull, OpIsNotNull:
		want := n.op == OpIsNull
		for i := range sel {
			sel[i] = arr.IsNull(i) == want
		}
		return nil
	}
	var err error
	switch a := arr.(type) {
	case *array.Boolean:
		err = filterFunc(n, a.Len(), sel, a.Value, func(x, y bool) int { return cmp.Compare(b2i(x), b2i(y)) }, nil)
	case *array.Int8:
		err = filterOrdered(n, a.Int8Values(), sel)
	case *array.Int16:
		err = filterOrdered(n, a.Int16Values(), sel)
	case *array.Int32:
		err = filterOrdered(n, a.Int32Values(), sel)
	case *array.Int64:
		err = filterOrdered(n, a.Int64Values(), sel)
	case *array.Date32:
		err = filterOrdered(n, a.Date32Values(), sel)
	case *array.Time32:
		err = filterOrdered(n, a.Time32Values(), sel)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		err = filterConverted(n, a.TimestampValues(), sel, func(v any) (arrow.Timestamp, bool) { return timestampIn(v, unit) })
	case *array.Float32:
		err = filterFloats(n, a.Float32Values(), sel)
	case *array.Float64:
		err = filterFloats(n, a.Float64Values(), sel)
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		err = filterFunc(n, a.Len(), sel, a.Value, decimal128.Num.Cmp, decimalConv(scale))
	case *array.String:
		err = filterVarBytes(n, a.ValueOffsets(), a.ValueBytes(), sel)
	case *array.Binary:
		err = filterVarBytes(n, a.ValueOffsets(), a.ValueBytes(), sel)
	case *array.LargeString:
		err = filterFunc(n, a.Len(), sel, a.Value, strings.Compare, nil)
	case *array.StringView:
		err = filterFunc(n, a.Len(), sel, a.Value, strings.Compare, nil)
	case *array.LargeBinary:
		err = filterFunc(n, a.Len(), sel, a.Value, bytes.Compare, nil)
	default:
		return fmt.Errorf("%w: cannot filter an Arrow %s column", spec.ErrSchemaMismatch, arr.DataType())
	}
	if err != nil {
		return err
	}
	maskNulls(arr, sel)
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maskNulls clears sel where arr is null.
func maskNulls(arr arrow.Array, sel []bool) {
	if arr.NullN() == 0 {
		return
	}
	bm, off := arr.NullBitmapBytes(), arr.Data().Offset()
	for i := range sel {
		if !bitutil.BitIsSet(bm, off+i) {
			sel[i] = false
		}
	}
}

// cmpResult maps a comparison result to the leaf's answer.
func cmpResult(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return false
}

// filterOrdered handles the fixed-width integer-like columns: the literal
// converts to the column's Go type once and the loop compares natively.
func filterOrdered[T cmp.Ordered](n *node, vals []T, sel []bool) error {
	return filterConverted(n, vals, sel, func(v any) (T, bool) { return convertInt[T](v) })
}

func filterConverted[T cmp.Ordered](n *node, vals []T, sel []bool, conv func(any) (T, bool)) error {
	switch n.op {
	case OpIn, OpNotIn:
		set := make([]T, 0, len(n.vals))
		for _, v := range n.vals {
			x, ok := conv(v)
			if !ok {
				return fmt.Errorf("%w: literal %s does not fit the Arrow column", spec.ErrSchemaMismatch, Literal(v))
			}
			set = append(set, x)
		}
		slices.Sort(set)
		in := n.op == OpIn
		for i, v := range vals {
			_, found := slices.BinarySearch(set, v)
			sel[i] = found == in
		}
		return nil
	}
	lit, ok := conv(n.val)
	if !ok {
		return fmt.Errorf("%w: literal %s does not fit the Arrow column", spec.ErrSchemaMismatch, Literal(n.val))
	}
	switch n.op {
	case OpEq:
		for i, v := range vals {
			sel[i] = v == lit
		}
	case OpNe:
		for i, v := range vals {
			sel[i] = v != lit
		}
	case OpLt:
		for i, v := range vals {
			sel[i] = v < lit
		}
	case OpLe:
		for i, v := range vals {
			sel[i] = v <= lit
		}
	case OpGt:
		for i, v := range vals {
			sel[i] = v > lit
		}
	case OpGe:
		for i, v := range vals {
			sel[i] = v >= lit
		}
	default:
		return fmt.Errorf("operator %d on an ordered column", n.op)
	}
	return nil
}

// convertInt converts a bound literal of an integer, date or time column
// to the Arrow column's Go type.
func convertInt[T cmp.Ordered](v any) (T, bool) {
	var z T
	var i int64
	switch x := v.(type) {
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case spec.Date:
		i = int64(x)
	case spec.Time:
		i = int64(x)
	default:
		return z, false
	}
	switch p := any(&z).(type) {
	case *int8:
		*p = int8(i)
	case *int16:
		*p = int16(i)
	case *int32:
		*p = int32(i)
	case *int64:
		*p = i
	case *arrow.Date32:
		*p = arrow.Date32(i)
	case *arrow.Time32:
		*p = arrow.Time32(i)
	default:
		return z, false
	}
	return z, true
}

// timestampIn converts a bound timestamp literal to an Arrow unit. Binding
// already rounded it to the column's unit.
func timestampIn(v any, unit arrow.TimeUnit) (arrow.Timestamp, bool) {
	ts, ok := v.(spec.Timestamp)
	if !ok {
		return 0, false
	}
	switch unit {
	case arrow.Second:
		return arrow.Timestamp(ts.Millis / 1000), ts.Millis%1000 == 0 && ts.NanoOfMilli == 0
	case arrow.Millisecond:
		return arrow.Timestamp(ts.Millis), ts.NanoOfMilli == 0
	case arrow.Microsecond:
		return arrow.Timestamp(ts.Millis*1000 + int64(ts.NanoOfMilli/1000)), ts.NanoOfMilli%1000 == 0
	}
	return arrow.Timestamp(ts.Millis*1_000_000 + int64(ts.NanoOfMilli)), true
}

// decimalConv converts a bound decimal literal (already at the column's
// scale and precision) to a decimal128.Num.
func decimalConv(scale int32) func(any) (decimal128.Num, bool) {
	return func(v any) (decimal128.Num, bool) {
		d, ok := v.(spec.Decimal)
		if !ok || d.Unscaled == nil {
			return decimal128.Num{}, false
		}
		if d.Scale != int(scale) {
			d = spec.Decimal{Unscaled: d.Rescale(int(scale)).Unscaled, Scale: int(scale)}
		}
		if d.Unscaled.BitLen() > 126 {
			return decimal128.Num{}, false
		}
		return decimal128.FromBigInt(d.Unscaled), true
	}
}

// javaCompare orders floats as Java's Float.compare, as spec.CompareValues
// does: -0 before 0, NaN after everything and equal to itself.
func javaCompare(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	if a == b && (a != 0 || math.Signbit(a) == math.Signbit(b)) {
		return 0
	}
	return spec.CompareValues(a, b)
}

// filterFunc handles columns read through an accessor and compared with a
// function: booleans, decimals, and the rarer string and binary layouts.
// conv converts the bound literal, or nil when it has the column's Go type
// already.
func filterFunc[T any](n *node, count int, sel []bool, value func(int) T, compare func(T, T) int, conv func(any) (T, bool)) error {
	if conv == nil {
		conv = func(v any) (T, bool) {
			if s, ok := v.(string); ok { // a string literal for a string-like column
				if x, ok := any(s).(T); ok {
					return x, true
				}
				if x, ok := any([]byte(s)).(T); ok {
					return x, true
				}
			}
			x, ok := v.(T)
			return x, ok
		}
	}
	switch n.op {
	case OpIn, OpNotIn:
		set := make([]T, 0, len(n.vals))
		for _, v := range n.vals {
			x, ok := conv(v)
			if !ok {
				return fmt.Errorf("%w: literal %s does not fit the Arrow column", spec.ErrSchemaMismatch, Literal(v))
			}
			set = append(set, x)
		}
		slices.SortFunc(set, compare)
		in := n.op == OpIn
		for i := 0; i < count; i++ {
			_, found := slices.BinarySearchFunc(set, value(i), compare)
			sel[i] = found == in
		}
		return nil
	case OpStartsWith, OpNotStartsWith:
		p, want := n.val.(string), n.op == OpStartsWith
		get, ok := any(value).(func(int) string)
		if !ok {
			return fmt.Errorf("%w: LIKE on a non-string Arrow column", spec.ErrSchemaMismatch)
		}
		for i := 0; i < count; i++ {
			sel[i] = strings.HasPrefix(get(i), p) == want
		}
		return nil
	}
	lit, ok := conv(n.val)
	if !ok {
		return fmt.Errorf("%w: literal %s does not fit the Arrow column", spec.ErrSchemaMismatch, Literal(n.val))
	}
	op := n.op
	for i := 0; i < count; i++ {
		sel[i] = cmpResult(op, compare(value(i), lit))
	}
	return nil
}

// filterFloats compares natively, which agrees with Java's order unless the
// literal is NaN or a zero (or a value is NaN, which Java orders last).
func filterFloats[T float32 | float64](n *node, vals []T, sel []bool) error {
	compare := func(a, b T) int { return javaCompare(float64(a), float64(b)) }
	lit, ok := n.val.(T)
	if n.op == OpIn || n.op == OpNotIn || !ok || lit != lit || lit == 0 {
		return filterFunc(n, len(vals), sel, func(i int) T { return vals[i] }, compare, nil)
	}
	switch n.op {
	case OpEq:
		for i, v := range vals {
			sel[i] = v == lit
		}
	case OpNe:
		for i, v := range vals {
			sel[i] = v != lit
		}
	case OpLt:
		for i, v := range vals {
			sel[i] = v < lit
		}
	case OpLe:
		for i, v := range vals {
			sel[i] = v <= lit
		}
	case OpGt:
		for i, v := range vals {
			sel[i] = v > lit || v != v
		}
	case OpGe:
		for i, v := range vals {
			sel[i] = v >= lit || v != v
		}
	default:
		return fmt.Errorf("operator %d on a float column", n.op)
	}
	return nil
}

// filterVarBytes handles String and Binary columns on their offsets and
// bytes, with no per-value allocation.
func filterVarBytes(n *node, offsets []int32, data []byte, sel []bool) error {
	base := offsets[0]
	at := func(i int) []byte { return data[offsets[i]-base : offsets[i+1]-base] }
	asBytes := func(v any) ([]byte, bool) {
		switch x := v.(type) {
		case string:
			return []byte(x), true
		case []byte:
			return x, true
		}
		return nil, false
	}
	switch n.op {
	case OpStartsWith, OpNotStartsWith:
		p, want := []byte(n.val.(string)), n.op == OpStartsWith
		for i := range sel {
			sel[i] = bytes.HasPrefix(at(i), p) == want
		}
		return nil
	case OpEq, OpNe:
		lit, ok := asBytes(n.val)
		if !ok {
			break
		}
		want := n.op == OpEq
		for i := range sel {
			sel[i] = bytes.Equal(at(i), lit) == want
		}
		return nil
	}
	return filterFunc(n, len(sel), sel, at, bytes.Compare, asBytes)
}
