package spec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
)

// BinaryRow bytes follow Java Paimon's layout exactly, because they are
// hashed for bucketing and compared byte-for-byte in manifests:
//
//	header  ((arity+71)/64)*8 bytes: byte 0 is the RowKind, then null bits
//	slots   8 bytes per field, little-endian
//	var     variable-length data, each chunk padded to 8 bytes
//
// Strings and binaries of at most 7 bytes are stored inline in their slot with
// 0x80|len in the slot's last byte; longer ones store (offset<<32)|len with the
// offset relative to the start of the row.

const maxInlineBytes = 7

// BinaryRowHeaderSize is the size of the header and null-bit block of a row of
// the given arity.
func BinaryRowHeaderSize(arity int) int { return ((arity + 63 + 8) / 64) * 8 }

// binaryArrayHeaderSize is BinaryArray's 4-byte count plus its null bits.
func binaryArrayHeaderSize(n int) int { return 4 + ((n+31)/32)*4 }

// arrayElemSize is the fixed width of one BinaryArray element of type t.
func arrayElemSize(t DataType) int {
	switch t.Root {
	case TypeBoolean, TypeTinyInt:
		return 1
	case TypeSmallInt:
		return 2
	case TypeInt, TypeFloat, TypeDate, TypeTime:
		return 4
	}
	return 8
}

func roundTo8(n int) int { return (n + 7) &^ 7 }

// binWriter writes one BinaryRow or BinaryArray. Field positions map to slot
// offsets through slot(); the var part grows at the end of buf.
type binWriter struct {
	buf      []byte
	nullBase int // byte offset of bit 0 of the null bitset
	nullBias int // bit index of field 0 (8 for rows: byte 0 is the RowKind)
	slotBase int
	isArray  bool
	elemSize int
}

func (w *binWriter) slot(pos int) int {
	if w.isArray {
		return w.slotBase + pos*w.elemSize
	}
	return w.slotBase + pos*8
}

func (w *binWriter) setNull(pos int) {
	bit := pos + w.nullBias
	w.buf[w.nullBase+bit>>3] |= 1 << (bit & 7)
}

func (w *binWriter) setOffsetAndSize(pos, offset int, size uint64) {
	binary.LittleEndian.PutUint64(w.buf[w.slot(pos):], uint64(offset)<<32|size)
}

// appendVar appends data to the var part, padded to 8 bytes, and returns its
// offset.
func (w *binWriter) appendVar(data []byte, reserve int) int {
	return appendVarOf(w, data, reserve)
}

func appendVarOf[B ~string | ~[]byte](w *binWriter, data B, reserve int) int {
	off := len(w.buf)
	n := roundTo8(max(len(data), reserve))
	w.buf = append(w.buf, make([]byte, n)...)
	copy(w.buf[off:], data)
	return off
}

func (w *binWriter) writeBytes(pos int, b []byte) { writeBytesOf(w, pos, b) }

// writeBytesOf writes a string or binary value (a string without
// converting it to a byte slice first).
func writeBytesOf[B ~string | ~[]byte](w *binWriter, pos int, b B) {
	if len(b) <= maxInlineBytes {
		s := w.slot(pos)
		clear(w.buf[s : s+8])
		copy(w.buf[s:], b)
		w.buf[s+7] = 0x80 | byte(len(b))
		return
	}
	off := appendVarOf(w, b, 0)
	w.setOffsetAndSize(pos, off, uint64(len(b)))
}

// writeNull marks pos null. Types whose data lives in the var part even when
// compact-typed (long decimals and precise timestamps) keep their reserved
// space, as Java's writer does, so the bytes (and the hash) match.
func (w *binWriter) writeNull(pos int, t DataType) {
	w.setNull(pos)
	if w.isArray {
		return // the slot is already zero
	}
	switch {
	case t.Root == TypeDecimal && t.Precision > 18:
		off := w.appendVar(nil, 16)
		w.setOffsetAndSize(pos, off, 0)
	case (t.Root == TypeTimestamp || t.Root == TypeTimestampLTZ) && t.Precision > 3:
		off := w.appendVar(nil, 8)
		w.setOffsetAndSize(pos, off, 0)
	}
}

func mismatch(t DataType, v any) error {
	return fmt.Errorf("%w: value %v (%T) does not fit type %s", ErrSchemaMismatch, v, v, t)
}

func (w *binWriter) write(pos int, t DataType, v any) error {
	if v == nil {
		w.writeNull(pos, t)
		return nil
	}
	s := w.slot(pos)
	le := binary.LittleEndian
	switch t.Root {
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return mismatch(t, v)
		}
		if b {
			w.buf[s] = 1
		}
	case TypeTinyInt:
		x, ok := v.(int8)
		if !ok {
			return mismatch(t, v)
		}
		w.buf[s] = byte(x)
	case TypeSmallInt:
		x, ok := v.(int16)
		if !ok {
			return mismatch(t, v)
		}
		le.PutUint16(w.buf[s:], uint16(x))
	case TypeInt:
		x, ok := v.(int32)
		if !ok {
			return mismatch(t, v)
		}
		le.PutUint32(w.buf[s:], uint32(x))
	case TypeDate:
		x, ok := v.(Date)
		if !ok {
			return mismatch(t, v)
		}
		le.PutUint32(w.buf[s:], uint32(x))
	case TypeTime:
		x, ok := v.(Time)
		if !ok {
			return mismatch(t, v)
		}
		le.PutUint32(w.buf[s:], uint32(x))
	case TypeBigInt:
		x, ok := v.(int64)
		if !ok {
			return mismatch(t, v)
		}
		le.PutUint64(w.buf[s:], uint64(x))
	case TypeFloat:
		x, ok := v.(float32)
		if !ok {
			return mismatch(t, v)
		}
		bits := math.Float32bits(x)
		if x != x {
			bits = 0x7fc00000 // Java canonicalizes NaN
		}
		le.PutUint32(w.buf[s:], bits)
	case TypeDouble:
		x, ok := v.(float64)
		if !ok {
			return mismatch(t, v)
		}
		bits := math.Float64bits(x)
		if x != x {
			bits = 0x7ff8000000000000
		}
		le.PutUint64(w.buf[s:], bits)
	case TypeDecimal:
		d, ok := v.(Decimal)
		if !ok || d.Unscaled == nil {
			return mismatch(t, v)
		}
		if t.Precision <= 18 {
			if !d.Unscaled.IsInt64() {
				return mismatch(t, v)
			}
			le.PutUint64(w.buf[s:], uint64(d.Unscaled.Int64()))
			return nil
		}
		b := javaBigIntBytes(d.Unscaled)
		if len(b) > 16 {
			return mismatch(t, v)
		}
		off := w.appendVar(b, 16)
		w.setOffsetAndSize(pos, off, uint64(len(b)))
	case TypeTimestamp, TypeTimestampLTZ:
		ts, ok := v.(Timestamp)
		if !ok {
			return mismatch(t, v)
		}
		if t.Precision <= 3 {
			le.PutUint64(w.buf[s:], uint64(ts.Millis))
			return nil
		}
		var b [8]byte
		le.PutUint64(b[:], uint64(ts.Millis))
		off := w.appendVar(b[:], 8)
		w.setOffsetAndSize(pos, off, uint64(uint32(ts.NanoOfMilli)))
	case TypeChar, TypeVarChar:
		str, ok := v.(string)
		if !ok {
			return mismatch(t, v)
		}
		writeBytesOf(w, pos, str)
	case TypeBinary, TypeVarBinary:
		b, ok := v.([]byte)
		if !ok {
			return mismatch(t, v)
		}
		w.writeBytes(pos, b)
	case TypeArray:
		arr, ok := v.([]any)
		if !ok || t.Elem == nil {
			return mismatch(t, v)
		}
		b, err := encodeBinaryArray(*t.Elem, arr)
		if err != nil {
			return err
		}
		off := w.appendVar(b, 0)
		w.setOffsetAndSize(pos, off, uint64(len(b)))
	case TypeVector:
		arr, ok := v.([]any)
		if !ok || t.Elem == nil {
			return mismatch(t, v)
		}
		b, err := encodeBinaryVector(*t.Elem, arr)
		if err != nil {
			return err
		}
		off := w.appendVar(b, 0)
		w.setOffsetAndSize(pos, off, uint64(len(b)))
	case TypeMap, TypeMultiset:
		m, ok := v.(Map)
		if !ok {
			return mismatch(t, v)
		}
		b, err := encodeBinaryMap(t, m)
		if err != nil {
			return err
		}
		off := w.appendVar(b, 0)
		w.setOffsetAndSize(pos, off, uint64(len(b)))
	case TypeRow:
		r, ok := v.(Row)
		if !ok {
			return mismatch(t, v)
		}
		types := make([]DataType, len(t.Fields))
		for i, f := range t.Fields {
			types[i] = f.Type
		}
		b, err := EncodeBinaryRow(types, r, RowKindInsert)
		if err != nil {
			return err
		}
		off := w.appendVar(b, 0)
		w.setOffsetAndSize(pos, off, uint64(len(b)))
	default:
		return fmt.Errorf("%w: type %s cannot be stored in a BinaryRow", ErrSchemaMismatch, t)
	}
	return nil
}

// javaBigIntBytes is BigInteger.toByteArray: minimal big-endian two's
// complement.
func javaBigIntBytes(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Two's complement of a negative number: (2^(8n)) + x for the smallest n
	// that keeps the sign bit set.
	n := (x.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	b := new(big.Int).Add(mod, x).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	// Drop redundant leading 0xff bytes (keep the sign).
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// bigIntFromJavaBytes inverts javaBigIntBytes.
func bigIntFromJavaBytes(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

// EncodeBinaryRow lays row out as a Java BinaryRow of the given field types.
func EncodeBinaryRow(types []DataType, row Row, kind RowKind) ([]byte, error) {
	return EncodeBinaryRowInto(nil, types, row, kind)
}

// EncodeBinaryRowInto is EncodeBinaryRow writing into buf's storage (from
// its start, whatever buf's length) when it is large enough: callers that
// encode row after row, to hash them say, reuse one buffer. The result
// aliases buf's storage then.
func EncodeBinaryRowInto(buf []byte, types []DataType, row Row, kind RowKind) ([]byte, error) {
	if len(row) != len(types) {
		return nil, fmt.Errorf("%w: row has %d values for %d fields", ErrSchemaMismatch, len(row), len(types))
	}
	h := BinaryRowHeaderSize(len(types))
	if n := h + 8*len(types); cap(buf) >= n {
		buf = buf[:n]
		clear(buf)
	} else {
		buf = make([]byte, n, n+32)
	}
	w := binWriter{buf: buf, slotBase: h, nullBias: 8}
	w.buf[0] = byte(kind)
	for i, t := range types {
		if err := w.write(i, t, row[i]); err != nil {
			return nil, err
		}
	}
	return w.buf, nil
}

func encodeBinaryArray(elem DataType, vals []any) ([]byte, error) {
	es := arrayElemSize(elem)
	h := binaryArrayHeaderSize(len(vals))
	fixed := roundTo8(h + es*len(vals))
	w := binWriter{buf: make([]byte, fixed), nullBase: 4, slotBase: h, isArray: true, elemSize: es}
	binary.LittleEndian.PutUint32(w.buf, uint32(len(vals)))
	for i, v := range vals {
		if err := w.write(i, elem, v); err != nil {
			return nil, err
		}
	}
	return w.buf, nil
}

// encodeBinaryVector writes [int32 count][packed values]; vectors hold no
// nulls.
func encodeBinaryVector(elem DataType, vals []any) ([]byte, error) {
	es := arrayElemSize(elem)
	buf := make([]byte, 4+es*len(vals))
	binary.LittleEndian.PutUint32(buf, uint32(len(vals)))
	w := binWriter{buf: buf, slotBase: 4, isArray: true, elemSize: es}
	for i, v := range vals {
		if v == nil {
			return nil, fmt.Errorf("%w: vectors cannot hold nulls", ErrSchemaMismatch)
		}
		if err := w.write(i, elem, v); err != nil {
			return nil, err
		}
	}
	return w.buf, nil
}

func mapTypes(t DataType) (k, v DataType) {
	if t.Root == TypeMultiset {
		return *t.Elem, IntType.NotNull()
	}
	return *t.Key, *t.Value
}

func encodeBinaryMap(t DataType, m Map) ([]byte, error) {
	if len(m.Keys) != len(m.Values) || (t.Root == TypeMap && (t.Key == nil || t.Value == nil)) || (t.Root == TypeMultiset && t.Elem == nil) {
		return nil, mismatch(t, m)
	}
	kt, vt := mapTypes(t)
	kb, err := encodeBinaryArray(kt, m.Keys)
	if err != nil {
		return nil, err
	}
	vb, err := encodeBinaryArray(vt, m.Values)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(kb)+len(vb))
	binary.LittleEndian.PutUint32(out, uint32(len(kb)))
	out = append(out, kb...)
	return append(out, vb...), nil
}

// SerializeBinaryRow is the manifest form of a BinaryRow: a big-endian int32
// arity followed by the row bytes (Java's SerializationUtils).
func SerializeBinaryRow(arity int, row []byte) []byte {
	out := make([]byte, 4+len(row))
	binary.BigEndian.PutUint32(out, uint32(arity))
	copy(out[4:], row)
	return out
}

// DeserializeBinaryRow splits the manifest form into arity and row bytes.
func DeserializeBinaryRow(b []byte) (arity int, row []byte, err error) {
	if len(b) < 4 {
		return 0, nil, fmt.Errorf("%w: serialized BinaryRow of %d bytes", ErrCorrupt, len(b))
	}
	a := int32(binary.BigEndian.Uint32(b))
	if a < 0 || int(a) > len(b) {
		return 0, nil, fmt.Errorf("%w: serialized BinaryRow arity %d", ErrCorrupt, a)
	}
	row = b[4:]
	if len(row) < BinaryRowHeaderSize(int(a))+8*int(a) {
		return 0, nil, fmt.Errorf("%w: BinaryRow of arity %d has only %d bytes", ErrCorrupt, a, len(row))
	}
	return int(a), row, nil
}

// EmptyBinaryRow is the serialized arity-0 row Paimon writes for an
// unpartitioned table's partition and for empty stats.
var emptyRowBytes = [12]byte{}

// SerializedEmptyRow returns the 12-byte serialized empty row.
func SerializedEmptyRow() []byte { b := emptyRowBytes; return b[:] }
