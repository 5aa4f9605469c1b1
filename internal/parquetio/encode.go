package parquetio

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/stratalake/strata/spec"
)

var bigOne = big.NewInt(1)

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// Constants of Java's INT96 timestamp encoding (ParquetRowDataWriter).
const (
	julianEpochOffsetDays = 2_440_588
	millisPerDay          = 86_400_000
	nanosPerMilli         = 1_000_000
)

// leafEnc says how a leaf's Go value becomes a Parquet value.
type leafEnc uint8

const (
	encBool leafEnc = iota
	encInt8
	encInt16
	encInt32
	encInt64
	encFloat
	encDouble
	encString
	encBytes
	encDate
	encTime
	encTimestampMillis
	encTimestampMicros
	encTimestampInt96
	encDecimal32
	encDecimal64
	encDecimalFixed
)

func leafEncFor(t spec.DataType) leafEnc {
	switch t.Root {
	case spec.TypeBoolean:
		return encBool
	case spec.TypeTinyInt:
		return encInt8
	case spec.TypeSmallInt:
		return encInt16
	case spec.TypeInt:
		return encInt32
	case spec.TypeBigInt:
		return encInt64
	case spec.TypeFloat:
		return encFloat
	case spec.TypeDouble:
		return encDouble
	case spec.TypeChar, spec.TypeVarChar:
		return encString
	case spec.TypeBinary, spec.TypeVarBinary:
		return encBytes
	case spec.TypeDate:
		return encDate
	case spec.TypeTime:
		return encTime
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		switch {
		case t.Precision <= 3:
			return encTimestampMillis
		case t.Precision <= 6:
			return encTimestampMicros
		}
		return encTimestampInt96
	case spec.TypeDecimal:
		switch {
		case t.Precision <= 9:
			return encDecimal32
		case t.Precision <= 18:
			return encDecimal64
		}
		return encDecimalFixed
	}
	panic(fmt.Sprintf("parquetio: no leaf encoding for %s", t)) // buildSchema rejects these first
}

// encodeLeaf converts one non-null Go value to a Parquet value. Byte slices
// returned may alias v or scratch; parquet-go copies them before WriteRows
// returns.
func (s *shredder) encodeLeaf(n *wnode, v any) (parquet.Value, error) {
	switch n.enc {
	case encBool:
		if x, ok := v.(bool); ok {
			return parquet.BooleanValue(x), nil
		}
	case encInt8:
		if x, ok := v.(int8); ok {
			return parquet.Int32Value(int32(x)), nil
		}
	case encInt16:
		if x, ok := v.(int16); ok {
			return parquet.Int32Value(int32(x)), nil
		}
	case encInt32:
		if x, ok := v.(int32); ok {
			return parquet.Int32Value(x), nil
		}
	case encInt64:
		if x, ok := v.(int64); ok {
			return parquet.Int64Value(x), nil
		}
	case encFloat:
		if x, ok := v.(float32); ok {
			return parquet.FloatValue(x), nil
		}
	case encDouble:
		if x, ok := v.(float64); ok {
			return parquet.DoubleValue(x), nil
		}
	case encString:
		if x, ok := v.(string); ok {
			// Read-only view of the string's bytes; parquet-go copies them.
			return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x))), nil
		}
	case encBytes:
		if x, ok := v.([]byte); ok {
			return parquet.ByteArrayValue(x), nil
		}
	case encDate:
		if x, ok := v.(spec.Date); ok {
			return parquet.Int32Value(int32(x)), nil
		}
	case encTime:
		if x, ok := v.(spec.Time); ok {
			return parquet.Int32Value(int32(x)), nil
		}
	case encTimestampMillis:
		if x, ok := v.(spec.Timestamp); ok {
			return parquet.Int64Value(x.Millis), nil
		}
	case encTimestampMicros:
		if x, ok := v.(spec.Timestamp); ok {
			return parquet.Int64Value(x.Millis*1000 + int64(x.NanoOfMilli)/1000), nil
		}
	case encTimestampInt96:
		if x, ok := v.(spec.Timestamp); ok {
			return parquet.Int96Value(int96FromTimestamp(x)), nil
		}
	case encDecimal32, encDecimal64, encDecimalFixed:
		if x, ok := v.(spec.Decimal); ok {
			return s.encodeDecimal(n, x)
		}
	}
	return parquet.Value{}, fmt.Errorf("%w: column %s of type %s cannot hold a Go %T", spec.ErrSchemaMismatch, n.path, n.dt, v)
}

// int96FromTimestamp encodes a timestamp as Java does: nanos of day (LE
// int64) then Julian day (LE int32), using Java's truncating division, so a
// timestamp before 1970 has negative nanos of day.
func int96FromTimestamp(ts spec.Timestamp) deprecated.Int96 {
	julian := uint32(int32(ts.Millis/millisPerDay + julianEpochOffsetDays))
	nanos := uint64((ts.Millis%millisPerDay)*nanosPerMilli + int64(ts.NanoOfMilli))
	return deprecated.Int96{uint32(nanos), uint32(nanos >> 32), julian}
}

// encodeDecimal writes a decimal's unscaled value at the column's scale:
// INT32 or INT64 for compact precisions, else big-endian two's complement
// padded with the sign to the column's fixed width.
func (s *shredder) encodeDecimal(n *wnode, d spec.Decimal) (parquet.Value, error) {
	u, err := unscaledAt(d, n.dt.Scale)
	if err != nil {
		return parquet.Value{}, fmt.Errorf("column %s: %w", n.path, err)
	}
	if u.CmpAbs(n.decLimit) >= 0 {
		return parquet.Value{}, fmt.Errorf("%w: column %s: %s does not fit %s", spec.ErrSchemaMismatch, n.path, d, n.dt)
	}
	switch n.enc {
	case encDecimal32:
		return parquet.Int32Value(int32(u.Int64())), nil
	case encDecimal64:
		return parquet.Int64Value(u.Int64()), nil
	}
	start := len(s.scratch)
	s.scratch = appendTwosComplement(s.scratch, u, n.fixedLen)
	return parquet.FixedLenByteArrayValue(s.scratch[start:len(s.scratch):len(s.scratch)]), nil
}

// unscaledAt returns d's unscaled value at scale, rescaling exactly.
func unscaledAt(d spec.Decimal, scale int) (*big.Int, error) {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	switch {
	case d.Scale == scale:
		return u, nil
	case d.Scale < scale:
		return new(big.Int).Mul(u, pow10(scale-d.Scale)), nil
	}
	q, r := new(big.Int).QuoRem(u, pow10(d.Scale-scale), new(big.Int))
	if r.Sign() != 0 {
		return nil, fmt.Errorf("%w: decimal %s does not fit scale %d exactly", spec.ErrSchemaMismatch, d, scale)
	}
	return q, nil
}

// appendTwosComplement appends u as a width-byte big-endian two's complement
// number. The caller has checked that u fits.
func appendTwosComplement(dst []byte, u *big.Int, width int) []byte {
	if u.IsInt64() {
		var b [8]byte
		x := u.Int64()
		binary.BigEndian.PutUint64(b[:], uint64(x))
		pad := byte(0)
		if x < 0 {
			pad = 0xff
		}
		for i := width; i > 8; i-- {
			dst = append(dst, pad)
		}
		if width < 8 {
			return append(dst, b[8-width:]...)
		}
		return append(dst, b[:]...)
	}
	start := len(dst)
	for range width {
		dst = append(dst, 0)
	}
	out := dst[start:]
	if u.Sign() >= 0 {
		u.FillBytes(out)
		return dst
	}
	// Two's complement of a negative number: invert |u|-1.
	m := new(big.Int).Neg(u)
	m.Sub(m, bigOne)
	m.FillBytes(out)
	for i := range out {
		out[i] = ^out[i]
	}
	return dst
}

// decimalLimit is 10^precision, the exclusive bound of an unscaled value.
func decimalLimit(precision int) *big.Int { return pow10(precision) }
