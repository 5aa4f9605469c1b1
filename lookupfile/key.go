package lookupfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/stratalake/strata/spec"
)

// ErrUnsupportedKeyType marks a key field whose type cannot be a Paimon
// primary key (ARRAY, MAP, MULTISET, ROW, VECTOR, DECIMAL beyond precision
// 38). It wraps spec.ErrSchemaMismatch.
var ErrUnsupportedKeyType = fmt.Errorf("unsupported primary key type: %w", spec.ErrSchemaMismatch)

// Field markers. Every field starts with one, so a null (0x00) orders before
// every value (0x01) of its field, whatever the type, as spec.CompareValues
// orders nulls first.
const (
	markNull  = 0x00
	markValue = 0x01
)

// String and binary escaping: a 0x00 byte in the value becomes 0x00 0xFF and
// the value ends with 0x00 0x01. The terminator sorts below every escaped or
// plain byte that can follow a common prefix, so a prefix sorts first, and
// no encoded value is a prefix of another.
const (
	escByte  = 0x00
	escZero  = 0xFF
	termByte = 0x01
)

// maxDecimalPrecision is the largest DECIMAL precision Paimon allows; its
// unscaled values fit the 16-byte form.
const maxDecimalPrecision = 38

// compactDecimalPrecision is the largest precision whose unscaled values fit
// an int64 (Paimon's compact decimal).
const compactDecimalPrecision = 18

var (
	decimalOffset128 = new(big.Int).Lsh(big.NewInt(1), 127) // 2^127
	bigTen           = big.NewInt(10)
)

// EncodeKey appends to dst an order-preserving ("memcomparable") encoding
// of key, whose fields have the given types, and returns the extended slice.
// For two keys a and b of the same types, bytes.Compare of their encodings
// has the sign of spec.CompareRows(a, b): field by field, nulls first,
// integers and dates by value, FLOAT and DOUBLE as Java's Float.compare
// (-0.0 before 0.0, every NaN equal and last), decimals by value, strings
// and binaries as unsigned bytes, timestamps by (millisecond,
// nano-of-millisecond). Equal keys encode to equal bytes, and no encoding is
// a proper prefix of another key's encoding of the same types.
//
// The layout per field is one marker byte (0x00 null, 0x01 value) followed,
// for a value, by:
//
//	BOOLEAN                     1 byte, 0 or 1
//	TINYINT/SMALLINT/INT/BIGINT big-endian two's complement, sign bit flipped
//	DATE, TIME                  as INT (days; milliseconds of the day)
//	FLOAT/DOUBLE                IEEE bits big-endian; sign flipped when
//	                            positive, all bits flipped when negative;
//	                            NaN canonicalised
//	DECIMAL(p<=18, s)           unscaled value at scale s as BIGINT
//	DECIMAL(19<=p<=38, s)       unscaled value at scale s plus 2^127,
//	                            16 bytes big-endian
//	CHAR/VARCHAR/STRING         UTF-8 bytes, 0x00 escaped as 0x00 0xFF,
//	BINARY/VARBINARY/BYTES      then 0x00 0x01
//	TIMESTAMP(p)/_LTZ(p)        millis as BIGINT; for p > 3 then
//	                            nano-of-millisecond as INT
//
// A value whose Go type does not match its field type, a decimal that does
// not fit its type's scale or width, a TIMESTAMP(p <= 3) with a
// nano-of-millisecond, or a key with the wrong number of fields is an error
// wrapping spec.ErrSchemaMismatch; a type that cannot be a primary key
// (ARRAY, MAP, MULTISET, ROW, VECTOR) is an error wrapping
// ErrUnsupportedKeyType. On error the returned slice is dst unchanged.
func EncodeKey(dst []byte, types []spec.DataType, key spec.Row) ([]byte, error) {
	if len(types) != len(key) {
		return dst, fmt.Errorf("lookupfile: key has %d fields, its type has %d: %w",
			len(key), len(types), spec.ErrSchemaMismatch)
	}
	out := dst
	for i, t := range types {
		var err error
		if out, err = appendField(out, t, key[i]); err != nil {
			return dst, fmt.Errorf("lookupfile: key field %d (%s): %w", i, t, err)
		}
	}
	return out, nil
}

// appendField appends the marker and encoding of one field value.
func appendField(dst []byte, t spec.DataType, v any) ([]byte, error) {
	if err := checkKeyType(t); err != nil {
		return dst, err
	}
	if v == nil {
		return append(dst, markNull), nil
	}
	dst = append(dst, markValue)
	switch t.Root {
	case spec.TypeBoolean:
		return appendBool(dst, t, v)
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
		spec.TypeDate, spec.TypeTime:
		return appendInteger(dst, t, v)
	case spec.TypeFloat, spec.TypeDouble:
		return appendFloat(dst, t, v)
	case spec.TypeDecimal:
		d, ok := v.(spec.Decimal)
		if !ok {
			return dst, mismatch(t, v)
		}
		return appendDecimal(dst, t, d)
	case spec.TypeChar, spec.TypeVarChar:
		s, ok := v.(string)
		if !ok {
			return dst, mismatch(t, v)
		}
		return appendEscaped(dst, s), nil
	case spec.TypeBinary, spec.TypeVarBinary:
		b, ok := v.([]byte)
		if !ok {
			return dst, mismatch(t, v)
		}
		return appendEscaped(dst, b), nil
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, ok := v.(spec.Timestamp)
		if !ok {
			return dst, mismatch(t, v)
		}
		return appendTimestamp(dst, t, ts)
	}
	return dst, ErrUnsupportedKeyType // unreachable: checkKeyType refused it
}

// checkKeyType refuses types that cannot be a primary key.
func checkKeyType(t spec.DataType) error {
	switch t.Root {
	case spec.TypeBoolean, spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt,
		spec.TypeBigInt, spec.TypeFloat, spec.TypeDouble, spec.TypeChar,
		spec.TypeVarChar, spec.TypeBinary, spec.TypeVarBinary, spec.TypeDate,
		spec.TypeTime, spec.TypeTimestamp, spec.TypeTimestampLTZ:
		return nil
	case spec.TypeDecimal:
		if t.Precision < 1 || t.Precision > maxDecimalPrecision {
			return fmt.Errorf("decimal precision %d outside 1..%d: %w",
				t.Precision, maxDecimalPrecision, ErrUnsupportedKeyType)
		}
		return nil
	}
	return ErrUnsupportedKeyType
}

func mismatch(t spec.DataType, v any) error {
	return fmt.Errorf("value of Go type %T does not fit %s: %w", v, t, spec.ErrSchemaMismatch)
}

func appendBool(dst []byte, t spec.DataType, v any) ([]byte, error) {
	b, ok := v.(bool)
	if !ok {
		return dst, mismatch(t, v)
	}
	if b {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

// appendInteger encodes the integer-valued types: two's complement with the
// sign bit flipped, big-endian, in the type's own width.
func appendInteger(dst []byte, t spec.DataType, v any) ([]byte, error) {
	switch t.Root {
	case spec.TypeTinyInt:
		if x, ok := v.(int8); ok {
			return append(dst, uint8(x)^0x80), nil
		}
	case spec.TypeSmallInt:
		if x, ok := v.(int16); ok {
			return binary.BigEndian.AppendUint16(dst, uint16(x)^0x8000), nil
		}
	case spec.TypeInt:
		if x, ok := v.(int32); ok {
			return appendInt32(dst, x), nil
		}
	case spec.TypeDate:
		if x, ok := v.(spec.Date); ok {
			return appendInt32(dst, int32(x)), nil
		}
	case spec.TypeTime:
		if x, ok := v.(spec.Time); ok {
			return appendInt32(dst, int32(x)), nil
		}
	case spec.TypeBigInt:
		if x, ok := v.(int64); ok {
			return appendInt64(dst, x), nil
		}
	}
	return dst, mismatch(t, v)
}

func appendInt32(dst []byte, x int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(x)^(1<<31))
}

func appendInt64(dst []byte, x int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(x)^(1<<63))
}

// appendFloat encodes FLOAT and DOUBLE so that bytes order as Java's
// Float.compare/Double.compare: -Inf < ... < -0.0 < 0.0 < ... < +Inf < NaN,
// all NaNs equal.
func appendFloat(dst []byte, t spec.DataType, v any) ([]byte, error) {
	switch x := v.(type) {
	case float32:
		if t.Root != spec.TypeFloat {
			break
		}
		bits := math.Float32bits(x)
		if x != x { // NaN: one canonical quiet NaN, above +Inf
			bits = 0x7FC00000
		}
		if bits&(1<<31) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 31
		}
		return binary.BigEndian.AppendUint32(dst, bits), nil
	case float64:
		if t.Root != spec.TypeDouble {
			break
		}
		bits := math.Float64bits(x)
		if math.IsNaN(x) {
			bits = 0x7FF8000000000000
		}
		if bits&(1<<63) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(dst, bits), nil
	}
	return dst, mismatch(t, v)
}

// appendDecimal encodes d's unscaled value at the type's scale: as an int64
// for compact precisions, else offset by 2^127 in 16 bytes.
func appendDecimal(dst []byte, t spec.DataType, d spec.Decimal) ([]byte, error) {
	u, err := unscaledAt(d, t.Scale)
	if err != nil {
		return dst, fmt.Errorf("decimal %s: %w", decimalString(d), err)
	}
	if t.Precision <= compactDecimalPrecision {
		if !u.IsInt64() {
			return dst, fmt.Errorf("decimal %s does not fit %s: %w", decimalString(d), t, spec.ErrSchemaMismatch)
		}
		return appendInt64(dst, u.Int64()), nil
	}
	if u.BitLen() > 127 {
		return dst, fmt.Errorf("decimal %s does not fit %s: %w", decimalString(d), t, spec.ErrSchemaMismatch)
	}
	var b [16]byte
	new(big.Int).Add(u, decimalOffset128).FillBytes(b[:])
	return append(dst, b[:]...), nil
}

// decimalString renders d for an error message; a scale too large to
// write out in full (Decimal.String pads with zeros) is shown as an exponent.
func decimalString(d spec.Decimal) string {
	if d.Scale >= -maxDecimalPrecision && d.Scale <= 2*maxDecimalPrecision {
		return d.String()
	}
	return fmt.Sprintf("%sE%d", d.Unscaled, -d.Scale)
}

// unscaledAt returns d's unscaled value at the given scale, refusing a
// value that would lose digits. It may return d.Unscaled itself.
func unscaledAt(d spec.Decimal, scale int) (*big.Int, error) {
	u := d.Unscaled
	if u == nil || u.Sign() == 0 || d.Scale == scale {
		if u == nil {
			u = new(big.Int)
		}
		return u, nil
	}
	diff := scale - d.Scale
	if diff > 2*maxDecimalPrecision {
		// A non-zero value scaled up this far exceeds every key type.
		return nil, fmt.Errorf("scale %d cannot be raised to %d: %w", d.Scale, scale, spec.ErrSchemaMismatch)
	}
	if diff > 0 {
		f := new(big.Int).Exp(bigTen, big.NewInt(int64(diff)), nil)
		return f.Mul(f, u), nil
	}
	if -diff > u.BitLen() {
		// 10^-diff > 2^BitLen > |u|: the division cannot be exact.
		return nil, fmt.Errorf("more than %d fractional digits: %w", scale, spec.ErrSchemaMismatch)
	}
	f := new(big.Int).Exp(bigTen, big.NewInt(int64(-diff)), nil)
	q, r := new(big.Int).QuoRem(u, f, new(big.Int))
	if r.Sign() != 0 {
		return nil, fmt.Errorf("more than %d fractional digits: %w", scale, spec.ErrSchemaMismatch)
	}
	return q, nil
}

// appendEscaped appends s with 0x00 escaped and the terminator.
func appendEscaped[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == escByte {
			dst = append(dst, escByte, escZero)
			continue
		}
		// Copy the run up to the next zero byte in one go.
		j := i + 1
		for j < len(s) && s[j] != escByte {
			j++
		}
		dst = append(dst, s[i:j]...)
		i = j - 1
	}
	return append(dst, escByte, termByte)
}

// appendTimestamp encodes millis, then for p > 3 the nano-of-millisecond.
func appendTimestamp(dst []byte, t spec.DataType, ts spec.Timestamp) ([]byte, error) {
	dst = appendInt64(dst, ts.Millis)
	if t.Precision <= 3 {
		if ts.NanoOfMilli != 0 {
			return dst, fmt.Errorf("timestamp %s has nanoseconds beyond %s: %w", ts, t, spec.ErrSchemaMismatch)
		}
		return dst, nil
	}
	return appendInt32(dst, ts.NanoOfMilli), nil
}

// The per-field encodings of EncodeKey for the commonest key types, for
// callers that encode a column of keys at a time (merging Arrow batches):
// each appends the value marker and the value, as EncodeKey does for one
// non-null field.

// AppendBigIntKey appends a non-null BIGINT key field.
func AppendBigIntKey(dst []byte, x int64) []byte { return appendInt64(append(dst, markValue), x) }

// AppendIntKey appends a non-null INT (or DATE, TIME) key field.
func AppendIntKey(dst []byte, x int32) []byte { return appendInt32(append(dst, markValue), x) }

// AppendStringKey appends a non-null string or binary key field.
func AppendStringKey[S string | []byte](dst []byte, s S) []byte {
	return appendEscaped(append(dst, markValue), s)
}

// AppendNullKey appends a null key field.
func AppendNullKey(dst []byte) []byte { return append(dst, markNull) }
