package textrow

import (
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// nanosFit reports whether a timestamp of ms milliseconds and nano
// nanoseconds fits Arrow's int64 nanoseconds (math.MinInt64 is
// 1677-09-21T00:12:43.145224192, math.MaxInt64 2262-04-11T23:47:16.854775807).
func nanosFit(ms int64, nano int32) bool {
	const lo, hi = -9_223_372_036_855, 9_223_372_036_854 // the milliseconds of the ends
	switch {
	case ms > lo && ms < hi:
		return true
	case ms == lo:
		return nano >= 224_192
	case ms == hi:
		return nano <= 775_807
	}
	return false
}

// fitsArrow reports whether v, a value of t, can be held by an array of
// arrowconv.Type(t): Arrow has no null map keys, and its nanosecond
// timestamps end in 2262.
func fitsArrow(v any, t *spec.DataType) bool {
	if v == nil {
		return true
	}
	switch t.Root {
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, ok := v.(spec.Timestamp)
		return !ok || t.Precision <= 6 || nanosFit(ts.Millis, ts.NanoOfMilli)
	case spec.TypeArray, spec.TypeVector:
		xs, _ := v.([]any)
		for _, x := range xs {
			if !fitsArrow(x, t.Elem) {
				return false
			}
		}
	case spec.TypeMap, spec.TypeMultiset:
		m, _ := v.(spec.Map)
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &multisetCount
		}
		for i, k := range m.Keys {
			if k == nil || !fitsArrow(k, kt) || (i < len(m.Values) && !fitsArrow(m.Values[i], vt)) {
				return false
			}
		}
	case spec.TypeRow:
		r, _ := v.(spec.Row)
		for i := range min(len(r), len(t.Fields)) {
			if !fitsArrow(r[i], &t.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// colKind says how a column's slot holds a value and reaches its builder.
type colKind uint8

const (
	kOther     colKind = iota // boxed in v, appended by arrowconv.AppendValue
	kBool                     // i: 0 or 1
	kInt8                     // i
	kInt16                    // i
	kInt32                    // i
	kInt64                    // i
	kFloat32                  // f, already rounded to float32
	kFloat64                  // f
	kString                   // b
	kBinary                   // b
	kDecimal                  // i: the unscaled value (larger ones boxed)
	kDate                     // i: epoch day
	kTime                     // i: millisecond of the day
	kTimestamp                // i: epoch milliseconds, nano: of the millisecond
)

// batchColumn is one column: its builder and the slot of the row being
// parsed.
type batchColumn struct {
	t    *spec.DataType
	kind colKind
	unit arrow.TimeUnit
	bld  array.Builder

	boolB *array.BooleanBuilder
	i8    *array.Int8Builder
	i16   *array.Int16Builder
	i32   *array.Int32Builder
	i64   *array.Int64Builder
	f32   *array.Float32Builder
	f64   *array.Float64Builder
	bin   *array.BinaryBuilder // strings too
	// rowBytes is the mean size of the last batch's values, to size the
	// next batch's data buffer.
	rowBytes int
	dec      *array.Decimal128Builder
	date     *array.Date32Builder
	time     *array.Time32Builder
	ts       *array.TimestampBuilder

	// The slot: set once a non-null value is parsed; boxed when it is in
	// v rather than in the typed fields.
	set, boxed bool
	i          int64
	nano       int32
	f          float64
	b          []byte // aliases the input or buf until the row is appended
	v          any
	buf        []byte
}

func (c *batchColumn) init(f *spec.DataField, bld array.Builder) {
	c.t, c.bld = &f.Type, bld
	switch b := bld.(type) {
	case *array.BooleanBuilder:
		c.kind, c.boolB = kBool, b
	case *array.Int8Builder:
		c.kind, c.i8 = kInt8, b
	case *array.Int16Builder:
		c.kind, c.i16 = kInt16, b
	case *array.Int32Builder:
		c.kind, c.i32 = kInt32, b
	case *array.Int64Builder:
		c.kind, c.i64 = kInt64, b
	case *array.Float32Builder:
		c.kind, c.f32 = kFloat32, b
	case *array.Float64Builder:
		c.kind, c.f64 = kFloat64, b
	case *array.StringBuilder:
		c.kind, c.bin = kString, b.BinaryBuilder
	case *array.BinaryBuilder:
		c.kind, c.bin = kBinary, b
	case *array.Decimal128Builder:
		c.kind, c.dec = kDecimal, b
	case *array.Date32Builder:
		c.kind, c.date = kDate, b
	case *array.Time32Builder:
		c.kind, c.time = kTime, b
	case *array.TimestampBuilder:
		c.kind, c.ts, c.unit = kTimestamp, b, b.Type().(*arrow.TimestampType).Unit
	}
}

// numeric reports whether the column takes JSON numbers.
func (c *batchColumn) numeric() bool {
	switch c.kind {
	case kInt8, kInt16, kInt32, kInt64, kFloat32, kFloat64, kDecimal:
		return true
	}
	return false
}

// text parses s, the text form of a value (see parseText), into the slot.
func (c *batchColumn) text(s []byte) error {
	var err error
	switch c.kind {
	case kBool:
		var b bool
		if b, err = parseBool(s); b {
			c.i = 1
		} else {
			c.i = 0
		}
	case kInt8, kInt16, kInt32, kInt64:
		c.i, err = parseInt64(s, c.t)
	case kFloat32, kFloat64:
		c.f, err = parseFloat64(s, c.t)
	case kDecimal:
		var small bool
		if c.i, small, err = parseDecimal64(s, c.t); err == nil && !small {
			c.v, err = parseDecimal(s, c.t)
			c.boxed = true
		}
	case kString:
		if !utf8.Valid(s) {
			return errorf("invalid UTF-8 in %s value", typeName(c.t))
		}
		err = checkLength(s, c.t)
		c.b = s
	case kBinary:
		var b []byte
		if b, err = appendBase64(c.buf, s, c.t); err == nil {
			c.buf, c.b = b, b
		}
	case kDate:
		var d spec.Date
		d, err = parseDate(s)
		c.i = int64(d)
	case kTime:
		var t spec.Time
		t, err = parseTime(s, c.t.Precision)
		c.i = int64(t)
	case kTimestamp:
		var ts spec.Timestamp
		ts, err = parseTimestamp(s, c.t)
		c.i, c.nano = ts.Millis, ts.NanoOfMilli
	default:
		c.v, err = parseText(s, c.t)
		c.boxed = true
	}
	if err != nil {
		c.boxed = false
		return err
	}
	c.set = true
	return nil
}

// appendTo appends the slot's value, or null, to the builder.
func (c *batchColumn) appendTo() {
	if !c.set {
		c.bld.AppendNull()
		return
	}
	if c.boxed {
		// fits checked what AppendValue refuses; a decimal was parsed at
		// the column's precision and scale.
		_ = arrowconv.AppendValue(c.bld, *c.t, c.v)
		return
	}
	switch c.kind {
	case kBool:
		c.boolB.Append(c.i != 0)
	case kInt8:
		c.i8.Append(int8(c.i))
	case kInt16:
		c.i16.Append(int16(c.i))
	case kInt32:
		c.i32.Append(int32(c.i))
	case kInt64:
		c.i64.Append(c.i)
	case kFloat32:
		c.f32.Append(float32(c.f))
	case kFloat64:
		c.f64.Append(c.f)
	case kString, kBinary:
		c.bin.Append(c.b)
	case kDecimal:
		c.dec.Append(decimal128.FromI64(c.i))
	case kDate:
		c.date.Append(arrow.Date32(c.i))
	case kTime:
		c.time.Append(arrow.Time32(c.i))
	case kTimestamp:
		switch c.unit {
		case arrow.Millisecond:
			c.ts.Append(arrow.Timestamp(c.i))
		case arrow.Microsecond:
			c.ts.Append(arrow.Timestamp(c.i*1000 + int64(c.nano)/1000))
		default:
			c.ts.Append(arrow.Timestamp(c.i*1_000_000 + int64(c.nano)))
		}
	}
}

// value returns the slot's value in the value model.
func (c *batchColumn) value() any {
	switch {
	case !c.set:
		return nil
	case c.boxed:
		return c.v
	}
	switch c.kind {
	case kBool:
		return c.i != 0
	case kInt8:
		return int8(c.i)
	case kInt16:
		return int16(c.i)
	case kInt32:
		return int32(c.i)
	case kInt64:
		return c.i
	case kFloat32:
		return float32(c.f)
	case kFloat64:
		return c.f
	case kString:
		return string(c.b)
	case kBinary:
		return slices.Clone(c.b)
	case kDecimal:
		return spec.Decimal{Unscaled: big.NewInt(c.i), Scale: c.t.Scale}
	case kDate:
		return spec.Date(c.i)
	case kTime:
		return spec.Time(c.i)
	case kTimestamp:
		return spec.Timestamp{Millis: c.i, NanoOfMilli: c.nano}
	}
	return nil
}
