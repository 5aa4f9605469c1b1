// Package arrowconv maps Paimon types and Strata rows to Apache Arrow: the
// schema of a scan's record batches and the builders that fill them.
package arrowconv

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

// FieldIDKey is the Arrow field metadata key that carries Paimon field ids,
// the same key Parquet readers use.
const FieldIDKey = "PARQUET:field_id"

// Int96Type is the Arrow form of a TIMESTAMP or TIMESTAMP_LTZ of precision 7
// to 9 in ParquetSchema: Parquet's INT96 bytes, nanoseconds of the day
// (little-endian int64) then the Julian day (little-endian int32). Arrow's
// nanosecond timestamps cover only the years 1677 to 2262; Paimon's range
// is 0001 to 9999, which INT96 holds.
var Int96Type = &arrow.FixedSizeBinaryType{ByteWidth: 12}

// Type returns the Arrow type for a Paimon type.
func Type(t spec.DataType) (arrow.DataType, error) { return arrowType(t, false) }

// ParquetType returns the Arrow type in which the Parquet writer takes values
// of a Paimon type: Type's, except Int96Type for timestamps Java stores as
// INT96.
func ParquetType(t spec.DataType) (arrow.DataType, error) { return arrowType(t, true) }

func arrowType(t spec.DataType, parquet bool) (arrow.DataType, error) {
	switch t.Root {
	case spec.TypeBoolean:
		return arrow.FixedWidthTypes.Boolean, nil
	case spec.TypeTinyInt:
		return arrow.PrimitiveTypes.Int8, nil
	case spec.TypeSmallInt:
		return arrow.PrimitiveTypes.Int16, nil
	case spec.TypeInt:
		return arrow.PrimitiveTypes.Int32, nil
	case spec.TypeBigInt:
		return arrow.PrimitiveTypes.Int64, nil
	case spec.TypeFloat:
		return arrow.PrimitiveTypes.Float32, nil
	case spec.TypeDouble:
		return arrow.PrimitiveTypes.Float64, nil
	case spec.TypeDecimal:
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}, nil
	case spec.TypeChar, spec.TypeVarChar:
		return arrow.BinaryTypes.String, nil
	case spec.TypeBinary, spec.TypeVarBinary:
		return arrow.BinaryTypes.Binary, nil
	case spec.TypeDate:
		return arrow.FixedWidthTypes.Date32, nil
	case spec.TypeTime:
		return arrow.FixedWidthTypes.Time32ms, nil
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		tz := ""
		if t.Root == spec.TypeTimestampLTZ {
			tz = "UTC"
		}
		unit := arrow.Nanosecond
		switch {
		case t.Precision > 6 && parquet:
			return Int96Type, nil
		case t.Precision <= 3:
			unit = arrow.Millisecond
		case t.Precision <= 6:
			unit = arrow.Microsecond
		}
		return &arrow.TimestampType{Unit: unit, TimeZone: tz}, nil
	case spec.TypeArray:
		et, err := arrowType(*t.Elem, parquet)
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t.Elem.Nullable}), nil
	case spec.TypeVector:
		et, err := arrowType(*t.Elem, parquet)
		if err != nil {
			return nil, err
		}
		return arrow.FixedSizeListOfNonNullable(int32(t.Length), et), nil
	case spec.TypeMap, spec.TypeMultiset:
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &spec.DataType{Root: spec.TypeInt}
		}
		ka, err := arrowType(*kt, parquet)
		if err != nil {
			return nil, err
		}
		va, err := arrowType(*vt, parquet)
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(ka, va), nil
	case spec.TypeRow:
		fs, err := fields(t.Fields, parquet)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fs...), nil
	}
	return nil, fmt.Errorf("%w: no Arrow type for %s", spec.ErrSchemaMismatch, t)
}

// Fields returns Arrow fields, with Paimon field ids in their metadata.
func Fields(fs []spec.DataField) ([]arrow.Field, error) { return fields(fs, false) }

func fields(fs []spec.DataField, parquet bool) ([]arrow.Field, error) {
	out := make([]arrow.Field, len(fs))
	for i, f := range fs {
		at, err := arrowType(f.Type, parquet)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		out[i] = arrow.Field{Name: f.Name, Type: at, Nullable: f.Type.Nullable,
			Metadata: arrow.NewMetadata([]string{FieldIDKey}, []string{strconv.Itoa(f.ID)})}
	}
	return out, nil
}

// Schema returns the Arrow schema of rows with the given fields.
func Schema(fs []spec.DataField) (*arrow.Schema, error) { return schema(fs, false) }

// ParquetSchema returns the Arrow schema in which the Parquet writer takes
// rows with the given fields (see ParquetType).
func ParquetSchema(fs []spec.DataField) (*arrow.Schema, error) { return schema(fs, true) }

func schema(fs []spec.DataField, parquet bool) (*arrow.Schema, error) {
	out, err := fields(fs, parquet)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(out, nil), nil
}

// Builder accumulates rows into Arrow record batches.
type Builder struct {
	fields []spec.DataField
	rb     *array.RecordBuilder
	apps   []func(any) error // one per field
	n      int
}

// NewBuilder returns a builder for rows with the given fields.
func NewBuilder(mem memory.Allocator, fields []spec.DataField) (*Builder, error) {
	return newBuilder(mem, fields, false)
}

// NewParquetBuilder returns a builder of batches in ParquetSchema's form.
func NewParquetBuilder(mem memory.Allocator, fields []spec.DataField) (*Builder, error) {
	return newBuilder(mem, fields, true)
}

func newBuilder(mem memory.Allocator, fs []spec.DataField, parquet bool) (*Builder, error) {
	s, err := schema(fs, parquet)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, s)
	apps := make([]func(any) error, len(fs))
	for i, f := range fs {
		apps[i] = appender(rb.Field(i), f.Type)
	}
	return &Builder{fields: fs, rb: rb, apps: apps}, nil
}

// appender returns the function that appends a value of type t to bld: a
// direct one for the common flat types, AppendValue for the others. A
// RecordBuilder keeps its field builders across batches.
func appender(bld array.Builder, t spec.DataType) func(any) error {
	other := func(v any) error {
		if v == nil {
			bld.AppendNull()
			return nil
		}
		return bad(t, v)
	}
	switch b := bld.(type) {
	case *array.BooleanBuilder:
		return typed(b.Append, other)
	case *array.Int8Builder:
		return typed(b.Append, other)
	case *array.Int16Builder:
		return typed(b.Append, other)
	case *array.Int32Builder:
		return typed(b.Append, other)
	case *array.Int64Builder:
		return typed(b.Append, other)
	case *array.Float32Builder:
		return typed(b.Append, other)
	case *array.Float64Builder:
		return typed(b.Append, other)
	case *array.StringBuilder:
		return typed(b.Append, other)
	case *array.BinaryBuilder:
		return typed(b.Append, other)
	case *array.TimestampBuilder:
		switch b.Type().(*arrow.TimestampType).Unit {
		case arrow.Millisecond:
			return typed(func(x spec.Timestamp) { b.Append(arrow.Timestamp(x.Millis)) }, other)
		case arrow.Microsecond:
			return typed(func(x spec.Timestamp) { b.Append(arrow.Timestamp(x.Micros())) }, other)
		}
	}
	return func(v any) error { return AppendValue(bld, t, v) }
}

func typed[T any](app func(T), other func(any) error) func(any) error {
	return func(v any) error {
		x, ok := v.(T)
		if !ok {
			return other(v)
		}
		app(x)
		return nil
	}
}

// Schema is the schema of the batches this builder makes.
func (b *Builder) Schema() *arrow.Schema { return b.rb.Schema() }

// Len is the number of rows appended since the last batch.
func (b *Builder) Len() int { return b.n }

// Append adds one row. A value of the wrong Go type, a decimal that does not
// fit its column's precision and scale exactly, or a VECTOR of the wrong
// length fails with spec.ErrSchemaMismatch, after which the batch being built
// is inconsistent and must be discarded.
func (b *Builder) Append(row spec.Row) error {
	if len(row) != len(b.fields) {
		return fmt.Errorf("%w: row has %d values for %d columns", spec.ErrSchemaMismatch, len(row), len(b.fields))
	}
	for i, app := range b.apps {
		if err := app(row[i]); err != nil {
			return fmt.Errorf("column %s: %w", b.fields[i].Name, err)
		}
	}
	b.n++
	return nil
}

// NewBatch returns the rows appended so far as a batch and starts a new one.
// The caller releases the batch.
func (b *Builder) NewBatch() arrow.RecordBatch {
	b.n = 0
	return b.rb.NewRecordBatch()
}

// Release frees the builder's memory.
func (b *Builder) Release() { b.rb.Release() }

func bad(t spec.DataType, v any) error {
	return fmt.Errorf("%w: %v (%T) is not a %s", spec.ErrSchemaMismatch, v, v, t)
}

// decimalAt returns d's unscaled value at t's scale, rescaled exactly.
func decimalAt(d spec.Decimal, t spec.DataType) (decimal128.Num, error) {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	switch {
	case d.Scale < t.Scale:
		u = new(big.Int).Mul(u, pow10(t.Scale-d.Scale))
	case d.Scale > t.Scale:
		var r big.Int
		u, _ = new(big.Int).QuoRem(u, pow10(d.Scale-t.Scale), &r)
		if r.Sign() != 0 {
			return decimal128.Num{}, fmt.Errorf("%w: decimal %s does not fit scale %d exactly", spec.ErrSchemaMismatch, d, t.Scale)
		}
	}
	if u.CmpAbs(pow10(t.Precision)) >= 0 {
		return decimal128.Num{}, fmt.Errorf("%w: %s does not fit %s", spec.ErrSchemaMismatch, d, t)
	}
	return decimal128.FromBigInt(u), nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// Constants of Parquet's INT96 timestamps.
const (
	julianEpochDay = 2_440_588 // Julian day of 1970-01-01
	millisPerDay   = 86_400_000
	nanosPerMilli  = 1_000_000
)

// AppendInt96 appends ts in Parquet's INT96 form (see Int96Type), with a
// nanosecond of the day in [0, 86400e9) as Impala, Spark and arrow-go write
// it; Java Paimon, DuckDB and pyarrow read it.
func AppendInt96(dst []byte, ts spec.Timestamp) []byte {
	day, ms := ts.Millis/millisPerDay, ts.Millis%millisPerDay
	if ms < 0 {
		day--
		ms += millisPerDay
	}
	dst = binary.LittleEndian.AppendUint64(dst, uint64(ms*nanosPerMilli+int64(ts.NanoOfMilli)))
	return binary.LittleEndian.AppendUint32(dst, uint32(int32(day+julianEpochDay)))
}

// AppendValue appends v, a value of t in Strata's value model, to bld, a
// builder of Type(t) or ParquetType(t).
func AppendValue(bld array.Builder, t spec.DataType, v any) error {
	if v == nil {
		bld.AppendNull()
		return nil
	}
	ok := true
	switch b := bld.(type) {
	case *array.BooleanBuilder:
		var x bool
		x, ok = v.(bool)
		b.Append(x)
	case *array.Int8Builder:
		var x int8
		x, ok = v.(int8)
		b.Append(x)
	case *array.Int16Builder:
		var x int16
		x, ok = v.(int16)
		b.Append(x)
	case *array.Int32Builder:
		var x int32
		x, ok = v.(int32)
		b.Append(x)
	case *array.Int64Builder:
		var x int64
		x, ok = v.(int64)
		b.Append(x)
	case *array.Float32Builder:
		var x float32
		x, ok = v.(float32)
		b.Append(x)
	case *array.Float64Builder:
		var x float64
		x, ok = v.(float64)
		b.Append(x)
	case *array.StringBuilder:
		var x string
		x, ok = v.(string)
		b.Append(x)
	case *array.BinaryBuilder:
		var x []byte
		x, ok = v.([]byte)
		b.Append(x)
	case *array.Date32Builder:
		var x spec.Date
		x, ok = v.(spec.Date)
		b.Append(arrow.Date32(x))
	case *array.Time32Builder:
		var x spec.Time
		x, ok = v.(spec.Time)
		b.Append(arrow.Time32(x))
	case *array.TimestampBuilder:
		var x spec.Timestamp
		x, ok = v.(spec.Timestamp)
		switch b.Type().(*arrow.TimestampType).Unit {
		case arrow.Millisecond:
			b.Append(arrow.Timestamp(x.Millis))
		case arrow.Microsecond:
			b.Append(arrow.Timestamp(x.Micros()))
		default:
			if ok && (x.Millis > math.MaxInt64/1_000_000-1 || x.Millis < math.MinInt64/1_000_000+1) {
				return fmt.Errorf("%w: %v is outside the years Arrow nanoseconds hold (1677-2262)", spec.ErrSchemaMismatch, x)
			}
			b.Append(arrow.Timestamp(x.Millis*1e6 + int64(x.NanoOfMilli)))
		}
	case *array.Decimal128Builder:
		var x spec.Decimal
		if x, ok = v.(spec.Decimal); ok {
			n, err := decimalAt(x, t)
			if err != nil {
				return err
			}
			b.Append(n)
		}
	case *array.FixedSizeBinaryBuilder:
		var x spec.Timestamp
		if x, ok = v.(spec.Timestamp); ok {
			var buf [12]byte
			b.Append(AppendInt96(buf[:0], x))
		}
	case *array.MapBuilder:
		var m spec.Map
		m, ok = v.(spec.Map)
		if !ok || len(m.Keys) != len(m.Values) {
			return bad(t, v)
		}
		if slices.Contains(m.Keys, nil) {
			return fmt.Errorf("%w: map keys cannot be null", spec.ErrSchemaMismatch)
		}
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &spec.DataType{Root: spec.TypeInt}
		}
		b.Append(true)
		for i := range m.Keys {
			if err := AppendValue(b.KeyBuilder(), *kt, m.Keys[i]); err != nil {
				return err
			}
			if err := AppendValue(b.ItemBuilder(), *vt, m.Values[i]); err != nil {
				return err
			}
		}
	case *array.ListBuilder:
		var xs []any
		xs, ok = v.([]any)
		if !ok {
			break
		}
		b.Append(true)
		for _, x := range xs {
			if err := AppendValue(b.ValueBuilder(), *t.Elem, x); err != nil {
				return err
			}
		}
	case *array.FixedSizeListBuilder:
		var xs []any
		xs, ok = v.([]any)
		if !ok || len(xs) != t.Length {
			return bad(t, v)
		}
		b.Append(true)
		for _, x := range xs {
			if err := AppendValue(b.ValueBuilder(), *t.Elem, x); err != nil {
				return err
			}
		}
	case *array.StructBuilder:
		var r spec.Row
		r, ok = v.(spec.Row)
		if !ok || len(r) != len(t.Fields) {
			return bad(t, v)
		}
		b.Append(true)
		for i, f := range t.Fields {
			if err := AppendValue(b.FieldBuilder(i), f.Type, r[i]); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: unsupported Arrow builder %T", spec.ErrSchemaMismatch, bld)
	}
	if !ok {
		return bad(t, v)
	}
	return nil
}
