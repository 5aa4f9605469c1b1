package spec

import (
	"bytes"
	"cmp"
	"math"
	"strings"
)

// CompareValues orders two values of the same type the way Paimon's key
// comparator does: null first, numbers by value (floats as Java's
// Float.compare: -0 < 0, NaN last), strings and binaries as unsigned bytes,
// nested values element by element.
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
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int8:
		return cmp.Compare(x, b.(int8))
	case int16:
		return cmp.Compare(x, b.(int16))
	case int32:
		return cmp.Compare(x, b.(int32))
	case int64:
		return cmp.Compare(x, b.(int64))
	case Date:
		return cmp.Compare(x, b.(Date))
	case Time:
		return cmp.Compare(x, b.(Time))
	case float32:
		return javaFloatCompare(float64(x), float64(b.(float32)))
	case float64:
		return javaFloatCompare(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case Decimal:
		return x.Cmp(b.(Decimal))
	case Timestamp:
		return x.Compare(b.(Timestamp))
	case []any:
		return compareSlices(x, b.([]any))
	case Row:
		return compareSlices(x, b.(Row))
	case Map:
		y := b.(Map)
		if c := compareSlices(x.Keys, y.Keys); c != 0 {
			return c
		}
		return compareSlices(x.Values, y.Values)
	}
	return 0
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
