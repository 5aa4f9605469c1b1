package spec

import (
	"slices"
	"sort"
)

// javaHashMap models the iteration order of a java.util.HashMap with String
// keys, as far as Paimon's schema code needs it: iteration walks the table's
// buckets in index order and each bucket's chain in insertion order, and a
// resize keeps that relative order, so the order is always a stable sort of
// the insertion sequence by bucket index at the current capacity. Tree bins
// (8 keys in one bucket) are not modelled.
type javaHashMap struct {
	seq []string // keys in insertion order
	cap int      // table capacity; 0 before the first put
}

// newJavaHashMap is new HashMap<>(): no table until the first put.
func newJavaHashMap() *javaHashMap { return &javaHashMap{} }

// javaHashMapCopy is new HashMap<>(m) of a map iterating keys in the given
// order, sized as Java 8 to 18 size a copy (tableSizeFor(n/0.75f + 1)).
func javaHashMapCopy(keys []string) *javaHashMap {
	m := &javaHashMap{}
	if n := len(keys); n > 0 {
		m.cap = tableSizeFor(int(float32(n)/0.75 + 1))
	}
	for _, k := range keys {
		m.put(k)
	}
	return m
}

// tableSizeFor is HashMap.tableSizeFor: the least power of two >= n.
func tableSizeFor(n int) int {
	c := 1
	for c < n {
		c *= 2
	}
	return c
}

// put adds k if absent (an existing key keeps its place), resizing past
// three quarters full.
func (m *javaHashMap) put(k string) {
	if m.cap == 0 {
		m.cap = 16
	}
	if slices.Contains(m.seq, k) {
		return
	}
	m.seq = append(m.seq, k)
	if len(m.seq) > m.cap*3/4 {
		m.cap *= 2
	}
}

// remove deletes k if present.
func (m *javaHashMap) remove(k string) {
	m.seq = slices.DeleteFunc(m.seq, func(x string) bool { return x == k })
}

// keys returns the keys in iteration order.
func (m *javaHashMap) keys() []string {
	out := slices.Clone(m.seq)
	if m.cap == 0 {
		return out
	}
	sort.SliceStable(out, func(i, j int) bool {
		return javaHashBucket(out[i], m.cap) < javaHashBucket(out[j], m.cap)
	})
	return out
}
