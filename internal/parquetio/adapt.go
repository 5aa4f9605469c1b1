package parquetio

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// adapt returns a as an array of type want. pqarrow derives a column's Arrow
// type from its Parquet annotations, which for files Java writes is the
// Arrow type of its Paimon type up to names and nullability inside nested
// types: those arrays are relabelled without copying. The few encodings
// other writers use (a timestamp in another unit, a TINYINT stored as a
// plain INT32) are converted; anything else is ErrNeedsRows.
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
	case *arrow.TimestampType:
		if src, ok := a.(*array.Timestamp); ok {
			return rescaleTimestamps(mem, src, w), nil
		}
	case *arrow.FixedSizeListType:
		if src, ok := a.(*array.List); ok && sameLayout(src.DataType().(*arrow.ListType).Elem(), w.Elem()) {
			return fixedSizeLists(mem, src, w)
		}
	case *arrow.Int8Type, *arrow.Int16Type:
		if src, ok := a.(*array.Int32); ok {
			return narrowInts(mem, src, want)
		}
	}
	return nil, fmt.Errorf("%w: stored as %s, read as %s", ErrNeedsRows, a.DataType(), want)
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

// narrowInts converts INT32 values to the TINYINT or SMALLINT Arrow type.
func narrowInts(mem memory.Allocator, src *array.Int32, want arrow.DataType) (arrow.Array, error) {
	b := array.NewBuilder(mem, want)
	defer b.Release()
	b.Reserve(src.Len())
	for i := range src.Len() {
		if src.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := src.Value(i)
		switch bb := b.(type) {
		case *array.Int8Builder:
			if int32(int8(v)) != v {
				return nil, fmt.Errorf("value %d does not fit TINYINT", v)
			}
			bb.Append(int8(v))
		case *array.Int16Builder:
			if int32(int16(v)) != v {
				return nil, fmt.Errorf("value %d does not fit SMALLINT", v)
			}
			bb.Append(int16(v))
		}
	}
	return b.NewArray(), nil
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
			return nil, fmt.Errorf("%w: a vector of %d values in a VECTOR(%d) column", ErrNeedsRows, hi-lo, n)
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
