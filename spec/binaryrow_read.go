package spec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// binReader reads fields of one BinaryRow or BinaryArray held in buf, with
// every offset checked so that corrupt bytes give ErrCorrupt, never a panic.
type binReader struct {
	buf      []byte
	nullBase int
	nullBias int
	slotBase int
	isArray  bool
	elemSize int
	depth    int
}

const maxNestingDepth = 64

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: BinaryRow: "+format, append([]any{ErrCorrupt}, args...)...)
}

func (r *binReader) slot(pos int) int {
	if r.isArray {
		return r.slotBase + pos*r.elemSize
	}
	return r.slotBase + pos*8
}

func (r *binReader) isNull(pos int) bool {
	bit := pos + r.nullBias
	return r.buf[r.nullBase+bit>>3]&(1<<(bit&7)) != 0
}

func (r *binReader) u64(pos int) uint64 { return binary.LittleEndian.Uint64(r.buf[r.slot(pos):]) }

// varPart returns the bytes an offset-and-size slot points at.
func (r *binReader) varPart(pos int) ([]byte, error) {
	v := r.u64(pos)
	off, size := int(v>>32), int(uint32(v))
	if off < 0 || size < 0 || off+size > len(r.buf) || off+size < off {
		return nil, corruptf("field %d points at [%d,+%d) outside %d bytes", pos, off, size, len(r.buf))
	}
	return r.buf[off : off+size], nil
}

func (r *binReader) bytesField(pos int) ([]byte, error) {
	from, to, err := r.bytesRange(pos)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), r.buf[from:to]...), nil
}

func (r *binReader) read(pos int, t DataType) (any, error) {
	if r.isNull(pos) {
		return nil, nil
	}
	s := r.slot(pos)
	le := binary.LittleEndian
	switch t.Root {
	case TypeBoolean, TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble:
		return r.readFixed(pos, t)
	case TypeDate:
		return Date(int32(le.Uint32(r.buf[s:]))), nil
	case TypeTime:
		return Time(int32(le.Uint32(r.buf[s:]))), nil
	case TypeDecimal:
		if t.Precision <= 18 {
			return NewDecimal(int64(le.Uint64(r.buf[s:])), t.Scale), nil
		}
		b, err := r.varPart(pos)
		if err != nil {
			return nil, err
		}
		return Decimal{Unscaled: bigIntFromJavaBytes(b), Scale: t.Scale}, nil
	case TypeTimestamp, TypeTimestampLTZ:
		ts, err := r.timestamp(pos, t)
		if err != nil {
			return nil, err
		}
		return ts, nil
	case TypeChar, TypeVarChar:
		from, to, err := r.bytesRange(pos)
		if err != nil {
			return nil, err
		}
		return string(r.buf[from:to]), nil
	case TypeBinary, TypeVarBinary:
		return r.bytesField(pos)
	}
	if r.depth >= maxNestingDepth {
		return nil, corruptf("nesting deeper than %d", maxNestingDepth)
	}
	b, err := r.varPart(pos)
	if err != nil {
		return nil, err
	}
	switch t.Root {
	case TypeArray:
		if t.Elem == nil {
			return nil, corruptf("array type without element")
		}
		return decodeBinaryArray(*t.Elem, b, r.depth+1)
	case TypeVector:
		if t.Elem == nil {
			return nil, corruptf("vector type without element")
		}
		return decodeBinaryVector(*t.Elem, b, r.depth+1)
	case TypeMap, TypeMultiset:
		return decodeBinaryMap(t, b, r.depth+1)
	case TypeRow:
		types := make([]DataType, len(t.Fields))
		for i, f := range t.Fields {
			types[i] = f.Type
		}
		row, _, err := decodeBinaryRow(types, b, r.depth+1)
		return row, err
	}
	return nil, fmt.Errorf("%w: type %s cannot be read from a BinaryRow", ErrSchemaMismatch, t)
}

// timestamp reads a TIMESTAMP or TIMESTAMP_LTZ field.
func (r *binReader) timestamp(pos int, t DataType) (Timestamp, error) {
	le := binary.LittleEndian
	if t.Precision <= 3 {
		return Timestamp{Millis: int64(le.Uint64(r.buf[r.slot(pos):]))}, nil
	}
	v := r.u64(pos)
	off := int(v >> 32)
	if off < 0 || off+8 > len(r.buf) {
		return Timestamp{}, corruptf("timestamp field %d offset %d", pos, off)
	}
	nano := int32(uint32(v))
	if nano < 0 || nano >= 1e6 {
		return Timestamp{}, corruptf("timestamp field %d nano-of-milli %d", pos, nano)
	}
	return Timestamp{Millis: int64(le.Uint64(r.buf[off:])), NanoOfMilli: nano}, nil
}

// DecodeBinaryRow reads the fields of a BinaryRow of the given types.
func DecodeBinaryRow(types []DataType, b []byte) (Row, RowKind, error) {
	return decodeBinaryRow(types, b, 0)
}

func decodeBinaryRow(types []DataType, b []byte, depth int) (Row, RowKind, error) {
	h := BinaryRowHeaderSize(len(types))
	if len(b) < h+8*len(types) {
		return nil, 0, corruptf("row of %d fields needs %d bytes, has %d", len(types), h+8*len(types), len(b))
	}
	r := binReader{buf: b, slotBase: h, nullBias: 8, depth: depth}
	row := make(Row, len(types))
	for i, t := range types {
		v, err := r.read(i, t)
		if err != nil {
			return nil, 0, err
		}
		row[i] = v
	}
	return row, RowKind(b[0]), nil
}

// bytesRange is where a string or binary field's bytes lie in buf.
func (r *binReader) bytesRange(pos int) (from, to int, err error) {
	s := r.slot(pos)
	if r.buf[s+7]&0x80 != 0 {
		n := int(r.buf[s+7] & 0x7f)
		if n > maxInlineBytes {
			return 0, 0, corruptf("field %d has inline length %d", pos, n)
		}
		return s, s + n, nil
	}
	v := r.u64(pos)
	off, size := int(v>>32), int(uint32(v))
	if off < 0 || size < 0 || off+size > len(r.buf) || off+size < off {
		return 0, 0, corruptf("field %d points at [%d,+%d) outside %d bytes", pos, off, size, len(r.buf))
	}
	return off, off + size, nil
}

func decodeBinaryArray(elem DataType, b []byte, depth int) ([]any, error) {
	if len(b) < 4 {
		return nil, corruptf("array of %d bytes", len(b))
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	es := arrayElemSize(elem)
	if n < 0 || n > len(b) {
		return nil, corruptf("array claims %d elements in %d bytes", n, len(b))
	}
	h := binaryArrayHeaderSize(n)
	if h+es*n > len(b) {
		return nil, corruptf("array of %d elements needs %d bytes, has %d", n, h+es*n, len(b))
	}
	r := binReader{buf: b, nullBase: 4, slotBase: h, isArray: true, elemSize: es, depth: depth}
	out := make([]any, n)
	for i := range out {
		v, err := r.read(i, elem)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func decodeBinaryVector(elem DataType, b []byte, depth int) ([]any, error) {
	if len(b) < 4 {
		return nil, corruptf("vector of %d bytes", len(b))
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	es := arrayElemSize(elem)
	if n < 0 || 4+es*n > len(b) || n > len(b) {
		return nil, corruptf("vector claims %d elements in %d bytes", n, len(b))
	}
	// Vectors have no null bits: elements are read without a null check.
	r := binReader{buf: b, slotBase: 4, isArray: true, elemSize: es, depth: depth}
	out := make([]any, n)
	for i := range out {
		v, err := r.readFixed(i, elem)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// readFixed reads a fixed-width element without consulting null bits.
func (r *binReader) readFixed(pos int, t DataType) (any, error) {
	s := r.slot(pos)
	le := binary.LittleEndian
	switch t.Root {
	case TypeBoolean:
		return r.buf[s] != 0, nil
	case TypeTinyInt:
		return int8(r.buf[s]), nil
	case TypeSmallInt:
		return int16(le.Uint16(r.buf[s:])), nil
	case TypeInt:
		return int32(le.Uint32(r.buf[s:])), nil
	case TypeBigInt:
		return int64(le.Uint64(r.buf[s:])), nil
	case TypeFloat:
		return math.Float32frombits(le.Uint32(r.buf[s:])), nil
	case TypeDouble:
		return math.Float64frombits(le.Uint64(r.buf[s:])), nil
	}
	return nil, fmt.Errorf("%w: vector element type %s", ErrSchemaMismatch, t)
}

func decodeBinaryMap(t DataType, b []byte, depth int) (any, error) {
	if (t.Root == TypeMap && (t.Key == nil || t.Value == nil)) || (t.Root == TypeMultiset && t.Elem == nil) {
		return nil, corruptf("map type without key or value")
	}
	if len(b) < 4 {
		return nil, corruptf("map of %d bytes", len(b))
	}
	kn := int(int32(binary.LittleEndian.Uint32(b)))
	if kn < 0 || 4+kn > len(b) {
		return nil, corruptf("map key array of %d bytes in %d", kn, len(b))
	}
	kt, vt := mapTypes(t)
	keys, err := decodeBinaryArray(kt, b[4:4+kn], depth)
	if err != nil {
		return nil, err
	}
	vals, err := decodeBinaryArray(vt, b[4+kn:], depth)
	if err != nil {
		return nil, err
	}
	if len(keys) != len(vals) {
		return nil, corruptf("map has %d keys and %d values", len(keys), len(vals))
	}
	return Map{Keys: keys, Values: vals}, nil
}

// HashBinaryRow is Java's BinaryRow.hashCode: MurmurHash3 (x86, 32-bit, seed
// 42) over the row's 4-byte little-endian words. Row sizes are multiples of
// 8, so there is never a tail.
func HashBinaryRow(b []byte) int32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := uint32(42)
	n := len(b) &^ 3
	for i := 0; i < n; i += 4 {
		k := binary.LittleEndian.Uint32(b[i:])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	h ^= uint32(len(b))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int32(h)
}

// Bucket is Paimon's default bucket function: abs(hash % numBuckets) with
// Java's truncating remainder.
func Bucket(hash int32, numBuckets int) int {
	b := int(hash) % numBuckets
	if b < 0 {
		b = -b
	}
	return b
}
