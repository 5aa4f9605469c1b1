package lsm

import (
	"github.com/stratalake/strata/spec"
)

// KeyValue is one record of a primary-key table (see spec.KeyValue).
type KeyValue = spec.KeyValue

// CompareKeys orders keys as Paimon's generated key comparator does.
func CompareKeys(a, b spec.Row) int { return spec.CompareRows(a, b) }

// compareKV orders records by key, then sequence number.
func compareKV(a, b *KeyValue) int {
	if c := CompareKeys(a.Key, b.Key); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}
