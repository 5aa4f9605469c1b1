package spec

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strings"
)

// CompareValues orders two values of the same type the way Paimon's key
// comparator does: null first, numbers by value (floats as Java's
// Float.compare: -0 < 0, NaN last), strings and binaries as unsigned bytes,
// nested values element by element. Values of different types do not
// panic: they order by their Go type's name.
func CompareValues(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		switch {
		case !ok:
			return mismatched(a, b)
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int8:
		return compareAs(x, b)
	case int16:
		return compareAs(x, b)
	case int32:
		return compareAs(x, b)
	case int64:
		return compareAs(x, b)
	case Date:
		return compareAs(x, b)
	case Time:
		return compareAs(x, b)
	case string:
		return compareAs(x, b)
	case float32:
		if y, ok := b.(float32); ok {
			return javaFloatCompare(float64(x), float64(y))
		}
	case float64:
		if y, ok := b.(float64); ok {
			return javaFloatCompare(x, y)
		}
	case []byte:
		if y, ok := b.([]byte); ok {
			return bytes.Compare(x, y)
		}
	case Decimal:
		if y, ok := b.(Decimal); ok {
			return x.Cmp(y)
		}
	case Timestamp:
		if y, ok := b.(Timestamp); ok {
			return x.Compare(y)
		}
	case []any:
		if y, ok := b.([]any); ok {
			return compareSlices(x, y)
		}
	case Row:
		if y, ok := b.(Row); ok {
			return compareSlices(x, y)
		}
	case Map:
		if y, ok := b.(Map); ok {
			if c := compareSlices(x.Keys, y.Keys); c != 0 {
				return c
			}
			return compareSlices(x.Values, y.Values)
		}
	}
	return mismatched(a, b)
}

// compareAs compares x with b when b has x's type.
func compareAs[T cmp.Ordered](x T, b any) int {
	y, ok := b.(T)
	if !ok {
		return mismatched(x, b)
	}
	return cmp.Compare(x, y)
}

// mismatched orders values of different types (a caller's mistake, or a
// value of a type this package does not know) by their Go type's name,
// so that a bad row sorts somewhere instead of panicking; equal names
// (two values of one unknown type) compare equal.
func mismatched(a, b any) int {
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func compareSlices(a, b []any) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := CompareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func javaFloatCompare(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	case a == 0 && b == 0:
		// Java orders -0 before +0.
		sa, sb := math.Signbit(a), math.Signbit(b)
		switch {
		case sa == sb:
			return 0
		case sa:
			return -1
		}
		return 1
	}
	return 0
}

// CompareRows compares two rows field by field.
func CompareRows(a, b Row) int { return compareSlices(a, b) }
