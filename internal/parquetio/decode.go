package parquetio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// leafDec says how a Parquet value becomes a Go value of the requested type.
type leafDec uint8

const (
	decSkip leafDec = iota // column read for structure only
	decBool
	decInt8
	decInt16
	decInt32
	decInt64FromInt32
	decInt64
	decFloat
	decDoubleFromFloat
	decDouble
	decString
	decBytes
	decDate
	decTime
	decTimeMicros
	decTimeNanos
	decTimestampMillis
	decTimestampMicros
	decTimestampNanos
	decTimestampInt96
	decDecimalInt32
	decDecimalInt64
	decDecimalBytes
)

// planLeaf picks the conversion from a file leaf to the requested type, or
// fails when the file's physical type cannot hold the requested type.
func planLeaf(e *schemaElement, t spec.DataType) (dec leafDec, scale int, err error) {
	phys, _ := e.Type.Get()
	mismatch := func() (leafDec, int, error) {
		return 0, 0, fmt.Errorf("%w: column %q stores %s (%s), cannot read it as %s",
			spec.ErrSchemaMismatch, e.Name, phys, annotation(*e), t)
	}
	lt := e.LogicalType.Value
	switch t.Root {
	case spec.TypeBoolean:
		if phys == format.Boolean {
			return decBool, 0, nil
		}
	case spec.TypeTinyInt:
		if phys == format.Int32 {
			return decInt8, 0, nil
		}
	case spec.TypeSmallInt:
		if phys == format.Int32 {
			return decInt16, 0, nil
		}
	case spec.TypeInt:
		if phys == format.Int32 {
			return decInt32, 0, nil
		}
	case spec.TypeBigInt:
		switch phys {
		case format.Int32:
			return decInt64FromInt32, 0, nil
		case format.Int64:
			return decInt64, 0, nil
		}
	case spec.TypeFloat:
		if phys == format.Float {
			return decFloat, 0, nil
		}
	case spec.TypeDouble:
		switch phys {
		case format.Float:
			return decDoubleFromFloat, 0, nil
		case format.Double:
			return decDouble, 0, nil
		}
	case spec.TypeChar, spec.TypeVarChar:
		if phys == format.ByteArray || phys == format.FixedLenByteArray {
			return decString, 0, nil
		}
	case spec.TypeBinary, spec.TypeVarBinary:
		if phys == format.ByteArray || phys == format.FixedLenByteArray {
			return decBytes, 0, nil
		}
	case spec.TypeDate:
		if phys == format.Int32 {
			return decDate, 0, nil
		}
	case spec.TypeTime:
		switch phys {
		case format.Int32:
			return decTime, 0, nil
		case format.Int64:
			if tt, ok := lt.(*format.TimeType); ok {
				if _, nanos := tt.Unit.Value.(*format.NanoSeconds); nanos {
					return decTimeNanos, 0, nil
				}
			}
			return decTimeMicros, 0, nil
		}
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		switch phys {
		case format.Int96:
			return decTimestampInt96, 0, nil
		case format.Int64:
			return timestampDec(e, t), 0, nil
		}
	case spec.TypeDecimal:
		scale, annotated := t.Scale, false
		if d, ok := lt.(*format.DecimalType); ok {
			scale, annotated = int(d.Scale), true
		} else if c, ok := e.ConvertedType.Get(); ok && c == deprecated.Decimal {
			scale, annotated = int(e.Scale.V), true
		}
		switch phys {
		case format.Int32:
			return decDecimalInt32, scale, nil
		case format.Int64:
			return decDecimalInt64, scale, nil
		case format.ByteArray, format.FixedLenByteArray:
			// Bytes are a decimal only when the file says so.
			if annotated {
				return decDecimalBytes, scale, nil
			}
		}
	}
	return mismatch()
}

// timestampDec reads the unit of an INT64 timestamp from the file's logical
// or converted type, falling back to the requested precision.
func timestampDec(e *schemaElement, t spec.DataType) leafDec {
	if ts, ok := e.LogicalType.Value.(*format.TimestampType); ok {
		switch ts.Unit.Value.(type) {
		case *format.MilliSeconds:
			return decTimestampMillis
		case *format.MicroSeconds:
			return decTimestampMicros
		case *format.NanoSeconds:
			return decTimestampNanos
		}
	}
	if c, ok := e.ConvertedType.Get(); ok {
		switch c {
		case deprecated.TimestampMillis:
			return decTimestampMillis
		case deprecated.TimestampMicros:
			return decTimestampMicros
		}
	}
	switch {
	case t.Precision <= 3:
		return decTimestampMillis
	case t.Precision <= 6:
		return decTimestampMicros
	}
	return decTimestampNanos
}

// physKind is the parquet-go kind a non-null value of the leaf must have;
// checking it keeps a corrupt page from being read as another type.
func physKind(e *schemaElement) parquet.Kind {
	phys, _ := e.Type.Get()
	switch phys {
	case format.Boolean:
		return parquet.Boolean
	case format.Int32:
		return parquet.Int32
	case format.Int64:
		return parquet.Int64
	case format.Int96:
		return parquet.Int96
	case format.Float:
		return parquet.Float
	case format.Double:
		return parquet.Double
	case format.FixedLenByteArray:
		return parquet.FixedLenByteArray
	}
	return parquet.ByteArray
}

// decodeLeaf converts a present value; the caller checked its kind.
func decodeLeaf(dec leafDec, scale int, v parquet.Value) any {
	switch dec {
	case decBool:
		return v.Boolean()
	case decInt8:
		return int8(v.Int32())
	case decInt16:
		return int16(v.Int32())
	case decInt32:
		return v.Int32()
	case decInt64FromInt32:
		return int64(v.Int32())
	case decInt64:
		return v.Int64()
	case decFloat:
		return v.Float()
	case decDoubleFromFloat:
		return float64(v.Float())
	case decDouble:
		return v.Double()
	case decString:
		return string(v.ByteArray())
	case decBytes:
		return bytes.Clone(v.ByteArray())
	case decDate:
		return spec.Date(v.Int32())
	case decTime:
		return spec.Time(v.Int32())
	case decTimeMicros:
		return spec.Time(v.Int64() / 1000)
	case decTimeNanos:
		return spec.Time(v.Int64() / 1_000_000)
	case decTimestampMillis:
		return spec.Timestamp{Millis: v.Int64()}
	case decTimestampMicros:
		return timestampFrom(v.Int64(), 1000)
	case decTimestampNanos:
		return timestampFrom(v.Int64(), 1_000_000)
	case decTimestampInt96:
		return timestampFromInt96(v.Int96())
	case decDecimalInt32:
		return spec.Decimal{Unscaled: big.NewInt(int64(v.Int32())), Scale: scale}
	case decDecimalInt64:
		return spec.Decimal{Unscaled: big.NewInt(v.Int64()), Scale: scale}
	case decDecimalBytes:
		return spec.Decimal{Unscaled: fromTwosComplement(v.ByteArray()), Scale: scale}
	}
	return nil
}

// timestampFrom splits a count of 1/perMilli milliseconds into millis and
// nanos of milli, flooring like Java's Timestamp.fromMicros.
func timestampFrom(x, perMilli int64) spec.Timestamp {
	ms, rem := x/perMilli, x%perMilli
	if rem < 0 {
		ms--
		rem += perMilli
	}
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem * (nanosPerMilli / perMilli))}
}

// timestampFromInt96 decodes Java's INT96 form (see int96FromTimestamp) the
// way Paimon's reader does, which also accepts other writers' files.
func timestampFromInt96(x [3]uint32) spec.Timestamp {
	nanosOfDay := int64(uint64(x[0]) | uint64(x[1])<<32)
	julian := int64(int32(x[2]))
	ms := (julian-julianEpochOffsetDays)*millisPerDay + nanosOfDay/nanosPerMilli
	nano := nanosOfDay % nanosPerMilli
	if nano < 0 {
		ms--
		nano += nanosPerMilli
	}
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(nano)}
}

// fromTwosComplement decodes a big-endian two's complement integer.
func fromTwosComplement(b []byte) *big.Int {
	if len(b) <= 8 {
		var buf [8]byte
		if len(b) > 0 && b[0]&0x80 != 0 {
			buf = [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		copy(buf[8-len(b):], b)
		return big.NewInt(int64(binary.BigEndian.Uint64(buf[:])))
	}
	u := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(bigOne, uint(8*len(b))))
	}
	return u
}
