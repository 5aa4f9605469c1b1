package lsm

import (
	"cmp"
	"strings"

	"github.com/stratalake/strata/spec"
)

// KeyValue is one record of a primary-key table (see spec.KeyValue).
type KeyValue = spec.KeyValue

// CompareKeys orders keys as Paimon's generated key comparator does. The
// common single-column integer and string keys skip the generic path: key
// comparison is the inner loop of sorting, merging and lookups.
func CompareKeys(a, b spec.Row) int {
	if len(a) == 1 && len(b) == 1 {
		switch x := a[0].(type) {
		case int64:
			if y, ok := b[0].(int64); ok {
				return cmp.Compare(x, y)
			}
		case int32:
			if y, ok := b[0].(int32); ok {
				return cmp.Compare(x, y)
			}
		case string:
			if y, ok := b[0].(string); ok {
				return strings.Compare(x, y)
			}
		}
	}
	return spec.CompareRows(a, b)
}
