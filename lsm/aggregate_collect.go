package lsm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratalake/strata/spec"
)

// collectAggregator is collect over an ARRAY column: concatenation, or with
// fields.<f>.distinct a set union. Java builds distinct results of scalar
// elements in a java.util.HashSet, so the element order is that set's
// iteration order, which javaHashMap reproduces; nested and binary elements
// are compared by content in a list (accumulator order, then new elements).
func collectAggregator(field string, elem spec.DataType, opts spec.Options) (*fieldAgg, error) {
	distinct, err := rawBool(opts, optFieldsPrefix+field+sufDistinct, false)
	if err != nil {
		return nil, err
	}
	listDistinct := distinct && needsEqualiser(elem)
	// Without distinct Java compares elements with equals, which for a
	// byte[] is identity: a retracted binary element never matches.
	identityElems := !distinct && (elem.Root == spec.TypeBinary || elem.Root == spec.TypeVarBinary)
	agg := func(acc, in any) (any, error) {
		if acc == nil && in == nil {
			return nil, nil
		}
		if (acc == nil || in == nil) && !distinct {
			return nonNull(acc, in), nil
		}
		a, err := arrayOf(acc)
		if err != nil {
			return nil, err
		}
		b, err := arrayOf(in)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(a)+len(b))
		switch {
		case listDistinct:
			// The accumulator is already distinct, so only new elements are
			// checked, as in Java.
			out = append(out, a...)
			for _, e := range b {
				if !containsValue(out, e) {
					out = append(out, e)
				}
			}
		case distinct:
			m := newJavaHashMap(0)
			for _, e := range a {
				m.put(e, nil)
			}
			for _, e := range b {
				m.put(e, nil)
			}
			out = m.keysInOrder()
		default:
			out = append(append(out, a...), b...)
		}
		return out, nil
	}
	return &fieldAgg{name: "collect", agg: agg,
		// Java skips the argument swap: the accumulator is what is distinct.
		reversed: agg,
		retract: func(acc, in any) (any, error) {
			if acc == nil {
				return nil, nil
			}
			if in == nil {
				return acc, nil
			}
			r, err := arrayOf(in)
			if err != nil {
				return nil, err
			}
			if len(r) == 0 || identityElems {
				return acc, nil
			}
			a, err := arrayOf(acc)
			if err != nil {
				return nil, err
			}
			pending := append([]any(nil), r...)
			out := make([]any, 0, len(a))
			for _, e := range a {
				if i := indexOfValue(pending, e); i >= 0 {
					pending = append(pending[:i], pending[i+1:]...)
					continue
				}
				out = append(out, e)
			}
			return out, nil
		}}, nil
}

// needsEqualiser reports whether Java compares collect elements with a
// generated equaliser instead of equals/hashCode: constructed and binary
// types, which have no value equality in Java.
func needsEqualiser(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeArray, spec.TypeMultiset, spec.TypeMap, spec.TypeRow, spec.TypeVector,
		spec.TypeBinary, spec.TypeVarBinary:
		return true
	}
	return false
}

func arrayOf(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: collect value %T is not an array", ErrMergeFailed, v)
	}
	return a, nil
}

// valuesEqual is value equality for elements and map keys; floats compare
// like Java's Float.equals (NaN equals NaN, -0.0 differs from 0.0).
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if sameType(a, b) != nil {
		return false
	}
	return spec.CompareValues(a, b) == 0
}

func indexOfValue(list []any, v any) int {
	for i, e := range list {
		if valuesEqual(e, v) {
			return i
		}
	}
	return -1
}

func containsValue(list []any, v any) bool { return indexOfValue(list, v) >= 0 }

// mergeMapAggregator is merge_map: the input's entries overwrite the
// accumulator's, and retraction drops the retracted keys. Java collects the
// entries in a java.util.HashMap, whose order javaHashMap reproduces (binary
// keys hash by identity in Java, so their order is arbitrary there and kept
// in insertion order here).
func mergeMapAggregator(keyType spec.DataType) *fieldAgg {
	return &fieldAgg{name: "merge_map",
		agg: func(acc, in any) (any, error) {
			if acc == nil || in == nil {
				return nonNull(acc, in), nil
			}
			a, err := mapOf(acc)
			if err != nil {
				return nil, err
			}
			b, err := mapOf(in)
			if err != nil {
				return nil, err
			}
			m := newJavaHashMap(0)
			for i, k := range a.Keys {
				m.put(k, a.Values[i])
			}
			for i, k := range b.Keys {
				m.put(k, b.Values[i])
			}
			return m.toMap(), nil
		},
		retract: func(acc, in any) (any, error) {
			if acc == nil {
				return nil, nil
			}
			if in == nil {
				return acc, nil
			}
			r, err := mapOf(in)
			if err != nil {
				return nil, err
			}
			if len(r.Keys) == 0 {
				return acc, nil
			}
			a, err := mapOf(acc)
			if err != nil {
				return nil, err
			}
			m := newJavaHashMap(0)
			for i, k := range a.Keys {
				if !containsValue(r.Keys, k) {
					m.put(k, a.Values[i])
				}
			}
			return m.toMap(), nil
		}}
}

func mapOf(v any) (spec.Map, error) {
	m, ok := v.(spec.Map)
	if !ok || len(m.Keys) != len(m.Values) {
		return spec.Map{}, fmt.Errorf("%w: merge_map value %T is not a map", ErrMergeFailed, v)
	}
	return m, nil
}

// rbm32Aggregator is rbm32: the union of two serialized 32-bit roaring
// bitmaps, run-optimized and re-serialized as Java's RoaringBitmap32 does.
func rbm32Aggregator() *fieldAgg {
	return &fieldAgg{name: "rbm32", agg: func(acc, in any) (any, error) {
		if acc == nil || in == nil {
			return nonNull(acc, in), nil
		}
		x, y, err := both[[]byte](acc, in)
		if err != nil {
			return nil, err
		}
		a, b := roaring.New(), roaring.New()
		if err := a.UnmarshalBinary(x); err != nil {
			return nil, fmt.Errorf("%w: Unable to se/deserialize roaring bitmap: %v", ErrMergeFailed, err)
		}
		if err := b.UnmarshalBinary(y); err != nil {
			return nil, fmt.Errorf("%w: Unable to se/deserialize roaring bitmap: %v", ErrMergeFailed, err)
		}
		a.Or(b)
		a.RunOptimize()
		out, err := a.ToBytes()
		if err != nil {
			return nil, fmt.Errorf("%w: Unable to se/deserialize roaring bitmap: %v", ErrMergeFailed, err)
		}
		return out, nil
	}}
}

// javaHashMap reproduces the iteration order of java.util.HashMap (and so of
// HashSet) for keys whose Java hashCode javaHash knows: a power-of-two table
// of insertion-ordered bins, doubled past 3/4 load or when a bin of a table
// smaller than 64 grows past 8 entries, splitting bins in order. Bins that
// Java would turn into trees (9+ colliding keys in a table of 64 or more)
// keep list order here. When some key has no known hash the map falls back
// to insertion order, which Java does not define either in those cases.
type javaHashMap struct {
	keys, vals []any
	hashes     []int32
	hashed     bool
	tab        [][]int // bins of entry positions
}

func newJavaHashMap(initialCapacity int) *javaHashMap {
	m := &javaHashMap{hashed: true}
	if initialCapacity > 0 {
		m.tab = make([][]int, tableSizeFor(initialCapacity))
	}
	return m
}

// tableSizeFor is the smallest power of two >= c (at least 1).
func tableSizeFor(c int) int {
	n := 1
	for n < c {
		n <<= 1
	}
	return n
}

func (m *javaHashMap) put(k, v any) {
	h, ok := javaHash(k)
	if m.hashed && ok {
		if m.tab == nil {
			m.tab = make([][]int, 16)
		}
		b := m.bin(h)
		for _, idx := range m.tab[b] {
			if m.hashes[idx] == h && valuesEqual(m.keys[idx], k) {
				m.vals[idx] = v
				return
			}
		}
		before := len(m.tab[b])
		m.tab[b] = append(m.tab[b], len(m.keys))
		m.keys, m.vals, m.hashes = append(m.keys, k), append(m.vals, v), append(m.hashes, h)
		if before >= 8 && len(m.tab) < 64 {
			m.resize() // Java's treeifyBin grows small tables instead
		}
		if len(m.keys) > len(m.tab)*3/4 {
			m.resize()
		}
		return
	}
	m.hashed = false
	for i, e := range m.keys {
		if valuesEqual(e, k) {
			m.vals[i] = v
			return
		}
	}
	m.keys, m.vals, m.hashes = append(m.keys, k), append(m.vals, v), append(m.hashes, h)
}

func spread(h int32) uint32 { u := uint32(h); return u ^ (u >> 16) }

func (m *javaHashMap) bin(h int32) int { return int(spread(h) & uint32(len(m.tab)-1)) }

func (m *javaHashMap) resize() {
	old := m.tab
	m.tab = make([][]int, 2*len(old))
	for _, bin := range old {
		for _, idx := range bin {
			b := m.bin(m.hashes[idx])
			m.tab[b] = append(m.tab[b], idx)
		}
	}
}

func (m *javaHashMap) order() []int {
	if !m.hashed {
		out := make([]int, len(m.keys))
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, len(m.keys))
	for _, bin := range m.tab {
		out = append(out, bin...)
	}
	return out
}

func (m *javaHashMap) keysInOrder() []any {
	out := make([]any, 0, len(m.keys))
	for _, i := range m.order() {
		out = append(out, m.keys[i])
	}
	return out
}

func (m *javaHashMap) toMap() spec.Map {
	out := spec.Map{Keys: make([]any, 0, len(m.keys)), Values: make([]any, 0, len(m.keys))}
	for _, i := range m.order() {
		out.Keys = append(out.Keys, m.keys[i])
		out.Values = append(out.Values, m.vals[i])
	}
	return out
}

// javaHash is the hashCode of the Java object Paimon holds for v (Integer,
// Long, BinaryString, Decimal, Timestamp...); ok is false for values whose
// Java hash is identity-based or not modelled (byte[], arrays, rows, maps).
func javaHash(v any) (int32, bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case bool:
		if x {
			return 1231, true
		}
		return 1237, true
	case int8:
		return int32(x), true
	case int16:
		return int32(x), true
	case int32:
		return x, true
	case spec.Date:
		return int32(x), true
	case spec.Time:
		return int32(x), true
	case int64:
		return int32(x ^ int64(uint64(x)>>32)), true
	case float32:
		b := math.Float32bits(x)
		if x != x {
			b = 0x7fc00000
		}
		return int32(b), true
	case float64:
		b := math.Float64bits(x)
		if x != x {
			b = 0x7ff8000000000000
		}
		return int32(b ^ (b >> 32)), true
	case string:
		return murmurBytes([]byte(x)), true
	case spec.Decimal:
		return bigDecimalHash(x), true
	case spec.Timestamp:
		ret := int32(x.Millis) ^ int32(x.Millis>>32)
		return 31*ret + x.NanoOfMilli, true
	}
	return 0, false
}

// murmurBytes is Paimon's MurmurHashUtils.hashBytes (the BinaryString hash):
// MurmurHash3 x86 32-bit, seed 42, little-endian words, then each tail byte
// sign-extended and mixed as a word of its own.
func murmurBytes(b []byte) int32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	mix := func(h, k uint32) uint32 {
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		return h*5 + 0xe6546b64
	}
	h := uint32(42)
	n := len(b) &^ 3
	for i := 0; i < n; i += 4 {
		h = mix(h, binary.LittleEndian.Uint32(b[i:]))
	}
	for i := n; i < len(b); i++ {
		h = mix(h, uint32(int32(int8(b[i]))))
	}
	h ^= uint32(len(b))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int32(h)
}

// bigDecimalHash is java.math.BigDecimal.hashCode: 31×BigInteger.hashCode
// of the unscaled value + scale, the BigInteger hash folding its magnitude's
// big-endian 32-bit words as h = 31h + word, times the sign.
func bigDecimalHash(d spec.Decimal) int32 {
	u := unscaled(d)
	mag := new(big.Int).Abs(u).Bytes() // no leading zero bytes
	for len(mag)%4 != 0 {
		mag = append([]byte{0}, mag...)
	}
	var h int32
	for i := 0; i < len(mag); i += 4 {
		h = 31*h + int32(binary.BigEndian.Uint32(mag[i:]))
	}
	h *= int32(u.Sign())
	return 31*h + int32(d.Scale)
}
