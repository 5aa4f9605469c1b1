// Package arrowconv maps Paimon types and Strata rows to Apache Arrow: the
// schema of a scan's record batches and the builders that fill them.
package arrowconv

import (
	"fmt"
	"math/big"
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

// Type returns the Arrow type for a Paimon type.
func Type(t spec.DataType) (arrow.DataType, error) {
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
		case t.Precision <= 3:
			unit = arrow.Millisecond
		case t.Precision <= 6:
			unit = arrow.Microsecond
		}
		return &arrow.TimestampType{Unit: unit, TimeZone: tz}, nil
	case spec.TypeArray:
		et, err := Type(*t.Elem)
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: et, Nullable: t.Elem.Nullable}), nil
	case spec.TypeVector:
		et, err := Type(*t.Elem)
		if err != nil {
			return nil, err
		}
		return arrow.FixedSizeListOfNonNullable(int32(t.Length), et), nil
	case spec.TypeMap, spec.TypeMultiset:
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &spec.DataType{Root: spec.TypeInt}
		}
		ka, err := Type(*kt)
		if err != nil {
			return nil, err
		}
		va, err := Type(*vt)
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(ka, va), nil
	case spec.TypeRow:
		fs, err := Fields(t.Fields)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fs...), nil
	}
	return nil, fmt.Errorf("%w: no Arrow type for %s", spec.ErrSchemaMismatch, t)
}

// Fields returns Arrow fields, with Paimon field ids in their metadata.
func Fields(fields []spec.DataField) ([]arrow.Field, error) {
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		at, err := Type(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		out[i] = arrow.Field{Name: f.Name, Type: at, Nullable: f.Type.Nullable,
			Metadata: arrow.NewMetadata([]string{FieldIDKey}, []string{strconv.Itoa(f.ID)})}
	}
	return out, nil
}

// Schema returns the Arrow schema of rows with the given fields.
func Schema(fields []spec.DataField) (*arrow.Schema, error) {
	fs, err := Fields(fields)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(fs, nil), nil
}

// Builder accumulates rows into Arrow record batches.
type Builder struct {
	fields []spec.DataField
	rb     *array.RecordBuilder
	n      int
}

// NewBuilder returns a builder for rows with the given fields.
func NewBuilder(mem memory.Allocator, fields []spec.DataField) (*Builder, error) {
	s, err := Schema(fields)
	if err != nil {
		return nil, err
	}
	return &Builder{fields: fields, rb: array.NewRecordBuilder(mem, s)}, nil
}

// Schema is the schema of the batches this builder makes.
func (b *Builder) Schema() *arrow.Schema { return b.rb.Schema() }

// Len is the number of rows appended since the last batch.
func (b *Builder) Len() int { return b.n }

// Append adds one row.
func (b *Builder) Append(row spec.Row) error {
	if len(row) != len(b.fields) {
		return fmt.Errorf("%w: row has %d values for %d columns", spec.ErrSchemaMismatch, len(row), len(b.fields))
	}
	for i, f := range b.fields {
		if err := AppendValue(b.rb.Field(i), f.Type, row[i]); err != nil {
			return fmt.Errorf("column %s: %w", f.Name, err)
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

// AppendValue appends v, a value of t in Strata's value model, to bld, a
// builder of Type(t).
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
			b.Append(arrow.Timestamp(x.Millis*1e6 + int64(x.NanoOfMilli)))
		}
	case *array.Decimal128Builder:
		var x spec.Decimal
		x, ok = v.(spec.Decimal)
		if ok && x.Unscaled != nil {
			b.Append(decimal128.FromBigInt(new(big.Int).Set(x.Unscaled)))
		}
	case *array.MapBuilder:
		var m spec.Map
		m, ok = v.(spec.Map)
		if !ok {
			break
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
