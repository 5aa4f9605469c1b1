package arrowconv

import (
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

// Value returns row i of arr, an array of Type(t), in Strata's Go value
// model (see package spec): the inverse of Builder.Append.
func Value(arr arrow.Array, i int, t spec.DataType) (any, error) {
	if arr.IsNull(i) {
		return nil, nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Int8:
		return a.Value(i), nil
	case *array.Int16:
		return a.Value(i), nil
	case *array.Int32:
		return a.Value(i), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Float32:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.Binary:
		return append([]byte{}, a.Value(i)...), nil
	case *array.Date32:
		return spec.Date(a.Value(i)), nil
	case *array.Time32:
		return spec.Time(a.Value(i)), nil
	case *array.Timestamp:
		return timestampValue(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit), nil
	case *array.Decimal128:
		return spec.Decimal{Unscaled: a.Value(i).BigInt(), Scale: t.Scale}, nil
	case *array.Map:
		return mapValue(a, i, t)
	case *array.List:
		lo, hi := a.ValueOffsets(i)
		return listValues(a.ListValues(), int(lo), int(hi), *t.Elem)
	case *array.FixedSizeList:
		n := int(a.DataType().(*arrow.FixedSizeListType).Len())
		off := (a.Data().Offset() + i) * n
		return listValues(a.ListValues(), off, off+n, *t.Elem)
	case *array.Struct:
		row := make(spec.Row, len(t.Fields))
		for j, f := range t.Fields {
			v, err := Value(a.Field(j), i, f.Type)
			if err != nil {
				return nil, err
			}
			row[j] = v
		}
		return row, nil
	}
	return nil, fmt.Errorf("%w: no %s value from Arrow %s", spec.ErrSchemaMismatch, t, arr.DataType())
}

func timestampValue(x int64, unit arrow.TimeUnit) spec.Timestamp {
	switch unit {
	case arrow.Millisecond:
		return spec.Timestamp{Millis: x}
	case arrow.Microsecond:
		return floorTimestamp(x, 1000)
	case arrow.Second:
		return spec.Timestamp{Millis: x * 1000}
	}
	return floorTimestamp(x, 1_000_000)
}

// floorTimestamp splits x units of 1/perMilli ms into milliseconds and
// nanoseconds of the millisecond, flooring as Java does.
func floorTimestamp(x, perMilli int64) spec.Timestamp {
	ms, rem := x/perMilli, x%perMilli
	if rem < 0 {
		ms--
		rem += perMilli
	}
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem * (1_000_000 / perMilli))}
}

func listValues(vals arrow.Array, lo, hi int, elem spec.DataType) ([]any, error) {
	out := make([]any, hi-lo)
	for j := lo; j < hi; j++ {
		v, err := Value(vals, j, elem)
		if err != nil {
			return nil, err
		}
		out[j-lo] = v
	}
	return out, nil
}

func mapValue(a *array.Map, i int, t spec.DataType) (any, error) {
	kt, vt := t.Key, t.Value
	if t.Root == spec.TypeMultiset {
		kt, vt = t.Elem, &spec.DataType{Root: spec.TypeInt}
	}
	lo, hi := a.ValueOffsets(i)
	keys, err := listValues(a.Keys(), int(lo), int(hi), *kt)
	if err != nil {
		return nil, err
	}
	vals, err := listValues(a.Items(), int(lo), int(hi), *vt)
	if err != nil {
		return nil, err
	}
	return spec.Map{Keys: keys, Values: vals}, nil
}

// Batches groups a stream of rows of the given fields into record batches
// of up to limit rows: the bridge from paths that produce rows (Avro files,
// merge functions without a batch form) to batch consumers. Rows may be
// reused by the producer once appended. The caller releases each batch.
func Batches(mem memory.Allocator, fields []spec.DataField, limit int, rows iter.Seq2[spec.Row, error]) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		b, err := NewBuilder(mem, fields)
		if err != nil {
			yield(nil, err)
			return
		}
		defer b.Release()
		for row, err := range rows {
			if err == nil {
				err = b.Append(row)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if b.Len() >= limit && !yield(b.NewBatch(), nil) {
				return
			}
		}
		if b.Len() > 0 {
			yield(b.NewBatch(), nil)
		}
	}
}
