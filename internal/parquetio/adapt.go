package parquetio

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

// adapt returns a as an array of type want. pqarrow derives a column's Arrow
// type from its Parquet annotations, which for files Java writes is the
// Arrow type of its Paimon type up to names and nullability inside nested
// types: those arrays are relabelled without copying. The few encodings
// other writers use (a timestamp in another unit, a TINYINT stored as a
// plain INT32), nested ROW types read by field name and integer widening
// are converted; anything else is spec.ErrSchemaMismatch.
func adapt(mem memory.Allocator, a arrow.Array, want arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(a.DataType(), want) {
		a.Retain()
		return a, nil
	}
	if sameLayout(a.DataType(), want) {
		d := relabel(a.Data(), want)
		defer d.Release()
		return array.MakeFromData(d), nil
	}
	switch w := want.(type) {
	case *arrow.StructType:
		if src, ok := a.(*array.Struct); ok {
			return restructure(mem, src, w)
		}
	case *arrow.ListType:
		if src, ok := a.(*array.List); ok {
			return adaptChild(mem, src, w.Elem(), want)
		}
	case *arrow.MapType:
		if src, ok := a.(*array.Map); ok {
			return adaptChild(mem, src, w.Elem(), want)
		}
	case *arrow.TimestampType:
		if src, ok := a.(*array.Timestamp); ok {
			return rescaleTimestamps(mem, src, w), nil
		}
	case *arrow.FixedSizeListType:
		if src, ok := a.(*array.List); ok && sameLayout(src.DataType().(*arrow.ListType).Elem(), w.Elem()) {
			return fixedSizeLists(mem, src, w)
		}
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type, *arrow.Float64Type:
		if out, ok, err := convertNumbers(mem, a, want); ok {
			return out, err
		}
	}
	return nil, fmt.Errorf("%w: stored as %s, read as %s", spec.ErrSchemaMismatch, a.DataType(), want)
}

// sameLayout reports whether arrays of type have the buffers and children
// of want, so relabelling them is enough.
func sameLayout(have, want arrow.DataType) bool {
	if have.ID() != want.ID() {
		return false
	}
	switch w := want.(type) {
	case *arrow.ListType:
		return sameLayout(have.(*arrow.ListType).Elem(), w.Elem())
	case *arrow.MapType:
		h := have.(*arrow.MapType)
		return sameLayout(h.KeyType(), w.KeyType()) && sameLayout(h.ItemType(), w.ItemType())
	case *arrow.StructType:
		h := have.(*arrow.StructType)
		if h.NumFields() != w.NumFields() {
			return false
		}
		for i := range w.NumFields() {
			if h.Field(i).Name != w.Field(i).Name || !sameLayout(h.Field(i).Type, w.Field(i).Type) {
				return false
			}
		}
		return true
	case *arrow.TimestampType:
		return have.(*arrow.TimestampType).Unit == w.Unit
	default:
		return arrow.TypeEqual(have, want)
	}
}

// relabel gives d and its children the types of want (same layout).
func relabel(d arrow.ArrayData, want arrow.DataType) arrow.ArrayData {
	children := d.Children()
	var wantChildren []arrow.DataType
	switch w := want.(type) {
	case *arrow.ListType:
		wantChildren = []arrow.DataType{w.Elem()}
	case *arrow.MapType:
		wantChildren = []arrow.DataType{w.Elem()}
	case *arrow.StructType:
		for i := range w.NumFields() {
			wantChildren = append(wantChildren, w.Field(i).Type)
		}
	}
	kids := make([]arrow.ArrayData, len(children))
	for i, c := range children {
		if i < len(wantChildren) {
			kids[i] = relabel(c, wantChildren[i])
		} else {
			c.Retain()
			kids[i] = c
		}
	}
	out := array.NewData(want, d.Len(), d.Buffers(), kids, d.NullN(), d.Offset())
	for _, k := range kids {
		k.Release()
	}
	return out
}

// rescaleTimestamps converts src to want's unit.
func rescaleTimestamps(mem memory.Allocator, src *array.Timestamp, want *arrow.TimestampType) arrow.Array {
	from := src.DataType().(*arrow.TimestampType).Unit
	mul, div := unitRatio(from, want.Unit)
	b := array.NewTimestampBuilder(mem, want)
	defer b.Release()
	b.Reserve(src.Len())
	for i := range src.Len() {
		if src.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(src.Value(i))
		if div > 1 {
			q := v / div
			if v%div < 0 {
				q-- // floor, as Java's Timestamp does
			}
			v = q
		}
		b.Append(arrow.Timestamp(v * mul))
	}
	return b.NewArray()
}

func unitRatio(from, to arrow.TimeUnit) (mul, div int64) {
	scale := [...]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}
	f, t := scale[from], scale[to]
	if t >= f {
		return t / f, 1
	}
	return 1, f / t
}

// fixedSizeLists turns the lists of a VECTOR column (Parquet stores it as a
// LIST) into Arrow fixed-size lists; a null vector takes its slots as nulls.
func fixedSizeLists(mem memory.Allocator, src *array.List, want *arrow.FixedSizeListType) (arrow.Array, error) {
	n := int64(want.Len())
	offsets := src.Offsets()
	pieces := make([]arrow.Array, 0, 1)
	defer func() {
		for _, p := range pieces {
			p.Release()
		}
	}()
	values := src.ListValues()
	runStart := int64(-1) // first value of the current run of non-null lists
	var runEnd int64
	flush := func() {
		if runStart >= 0 && runEnd > runStart {
			pieces = append(pieces, array.NewSlice(values, runStart, runEnd))
		}
		runStart = -1
	}
	for i := range src.Len() {
		if src.IsNull(i) {
			flush()
			pieces = append(pieces, array.MakeArrayOfNull(mem, values.DataType(), int(n)))
			continue
		}
		lo, hi := int64(offsets[i]), int64(offsets[i+1])
		if hi-lo != n {
			return nil, fmt.Errorf("%w: a vector of %d values in a VECTOR(%d) column", spec.ErrCorrupt, hi-lo, n)
		}
		if runStart < 0 {
			runStart = lo
		} else if lo != runEnd {
			flush()
			runStart = lo
		}
		runEnd = hi
	}
	flush()
	var child arrow.Array
	if len(pieces) == 0 {
		child = array.MakeArrayOfNull(mem, values.DataType(), 0)
	} else {
		var err error
		if child, err = array.Concatenate(pieces, mem); err != nil {
			return nil, err
		}
	}
	defer child.Release()
	cd := relabel(child.Data(), want.Elem())
	defer cd.Release()
	var validity *memory.Buffer
	if src.NullN() > 0 {
		validity = memory.NewResizableBuffer(mem)
		validity.Resize(int(bitutil.BytesForBits(int64(src.Len()))))
		defer validity.Release()
		bitutil.CopyBitmap(src.NullBitmapBytes(), src.Data().Offset(), src.Len(), validity.Bytes(), 0)
	}
	d := array.NewData(want, src.Len(), []*memory.Buffer{validity}, []arrow.ArrayData{cd}, src.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}

// restructure reads a ROW column as another ROW type: fields match by name,
// a field the file lacks reads as null, one not asked for is dropped.
func restructure(mem memory.Allocator, src *array.Struct, want *arrow.StructType) (arrow.Array, error) {
	have := src.DataType().(*arrow.StructType)
	kids := make([]arrow.Array, want.NumFields())
	defer func() {
		for _, k := range kids {
			if k != nil {
				k.Release()
			}
		}
	}()
	for i, f := range want.Fields() {
		j, ok := have.FieldIdx(f.Name)
		if !ok {
			kids[i] = array.MakeArrayOfNull(mem, f.Type, src.Len())
			continue
		}
		// A struct's children are not sliced by its offset.
		child := array.NewSlice(src.Field(j), int64(src.Data().Offset()), int64(src.Data().Offset()+src.Len()))
		k, err := adapt(mem, child, f.Type)
		child.Release()
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		kids[i] = k
	}
	var validity *memory.Buffer
	if src.NullN() > 0 {
		validity = memory.NewResizableBuffer(mem)
		validity.Resize(int(bitutil.BytesForBits(int64(src.Len()))))
		defer validity.Release()
		bitutil.CopyBitmap(src.NullBitmapBytes(), src.Data().Offset(), src.Len(), validity.Bytes(), 0)
	}
	data := make([]arrow.ArrayData, len(kids))
	for i, k := range kids {
		data[i] = k.Data()
	}
	d := array.NewData(want, src.Len(), []*memory.Buffer{validity}, data, src.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}

// convertNumbers reads an integer column as a wider integer, or FLOAT as
// DOUBLE (type changes Paimon allows, for files written before them), or
// a plain INT32 as TINYINT or SMALLINT (how other writers store those,
// checked to fit). false: not a conversion it makes.
func convertNumbers(mem memory.Allocator, a arrow.Array, want arrow.DataType) (arrow.Array, bool, error) {
	var get func(i int) (int64, float64)
	switch x := a.(type) {
	case *array.Int8:
		get = func(i int) (int64, float64) { return int64(x.Value(i)), 0 }
	case *array.Int16:
		get = func(i int) (int64, float64) { return int64(x.Value(i)), 0 }
	case *array.Int32:
		get = func(i int) (int64, float64) { return int64(x.Value(i)), 0 }
	case *array.Float32:
		get = func(i int) (int64, float64) { return 0, float64(x.Value(i)) }
	default:
		return nil, false, nil
	}
	fromFloat, toFloat := a.DataType().ID() == arrow.FLOAT32, want.ID() == arrow.FLOAT64
	narrowing := a.DataType().ID() == arrow.INT32 && (want.ID() == arrow.INT8 || want.ID() == arrow.INT16)
	if fromFloat != toFloat || (!fromFloat && !narrowing &&
		a.DataType().(arrow.FixedWidthDataType).BitWidth() >= want.(arrow.FixedWidthDataType).BitWidth()) {
		return nil, false, nil
	}
	b := array.NewBuilder(mem, want)
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		n, f := get(i)
		switch bb := b.(type) {
		case *array.Int8Builder:
			if int64(int8(n)) != n {
				return nil, true, fmt.Errorf("%w: value %d does not fit TINYINT", spec.ErrCorrupt, n)
			}
			bb.Append(int8(n))
		case *array.Int16Builder:
			if int64(int16(n)) != n {
				return nil, true, fmt.Errorf("%w: value %d does not fit SMALLINT", spec.ErrCorrupt, n)
			}
			bb.Append(int16(n))
		case *array.Int32Builder:
			bb.Append(int32(n))
		case *array.Int64Builder:
			bb.Append(n)
		case *array.Float64Builder:
			bb.Append(f)
		}
	}
	return b.NewArray(), true, nil
}

// adaptChild adapts the values of a list or map (its one child) to elem,
// keeping the offsets and validity.
func adaptChild(mem memory.Allocator, src arrow.Array, elem, want arrow.DataType) (arrow.Array, error) {
	d := src.Data()
	child := array.MakeFromData(d.Children()[0])
	defer child.Release()
	k, err := adapt(mem, child, elem)
	if err != nil {
		return nil, err
	}
	defer k.Release()
	out := array.NewData(want, d.Len(), d.Buffers(), []arrow.ArrayData{k.Data()}, d.NullN(), d.Offset())
	defer out.Release()
	return array.MakeFromData(out), nil
}
