package parquetio

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/stratalake/strata/spec"
)

// The Writer computes definition and repetition levels itself and hands
// each leaf column to pqarrow.WriteArrowToColumn, because pqarrow's
// FileWriter derives the Parquet schema from the Arrow one and cannot write
// Java's (plain INT32/INT64, TIME adjusted to UTC, INT96 for some timestamp
// columns only, the root name).

type stepKind uint8

const (
	stepLeaf stepKind = iota
	stepStruct
	stepList // LIST, or a VECTOR as an Arrow fixed-size list
	stepMap
)

// step is one node on the path from a top-level field to a leaf.
type step struct {
	kind     stepKind
	child    int // stepStruct: field index; stepMap: 0 key, 1 value
	optional bool
	elemRep  int16 // stepList, stepMap: repetition level of the elements
	path     string
}

// leafPlan says how one leaf column's levels derive from its top-level
// Arrow array.
type leafPlan struct {
	col    int
	steps  []step
	maxDef int16
	maxRep int16
	// repDef is the definition level of the nearest repeated ancestor:
	// entries with a lower level (null or empty lists) have no slot in the
	// leaf's Arrow values, as in arrow-go's LevelInfo.
	repDef int16
	int96  bool
}

// columnPlan is the write plan of one top-level field.
type columnPlan struct {
	name   string
	leaves []leafPlan
}

// planColumns derives the write plans of a file schema's top-level fields.
func planColumns(sc *schema.Schema) ([]*columnPlan, error) {
	root := sc.Root()
	col := 0
	var plans []*columnPlan
	for i := range root.NumFields() {
		p := &columnPlan{name: root.Field(i).Name()}
		var walk func(n schema.Node, steps []step, def, rep, repDef int16, path string) error
		walk = func(n schema.Node, steps []step, def, rep, repDef int16, path string) error {
			st := step{optional: n.RepetitionType() == parquet.Repetitions.Optional, path: path}
			if st.optional {
				def++
			}
			switch n := n.(type) {
			case *schema.PrimitiveNode:
				st.kind = stepLeaf
				p.leaves = append(p.leaves, leafPlan{
					col: col, steps: append(steps, st), maxDef: def, maxRep: rep, repDef: repDef,
					int96: n.PhysicalType() == parquet.Types.Int96,
				})
				col++
				return nil
			case *schema.GroupNode:
				switch n.LogicalType().(type) {
				case schema.ListLogicalType, schema.MapLogicalType:
					st.kind, st.elemRep = stepList, rep+1
					mid := n.Field(0).(*schema.GroupNode)
					if _, isMap := n.LogicalType().(schema.MapLogicalType); isMap {
						st.kind = stepMap
					}
					for c := range mid.NumFields() {
						st.child = c
						child := mid.Field(c)
						if err := walk(child, append(steps[:len(steps):len(steps)], st), def+1, rep+1, def+1, path+"."+child.Name()); err != nil {
							return err
						}
					}
					return nil
				}
				st.kind = stepStruct
				for c := range n.NumFields() {
					st.child = c
					child := n.Field(c)
					if err := walk(child, append(steps[:len(steps):len(steps)], st), def, rep, repDef, path+"."+child.Name()); err != nil {
						return err
					}
				}
				return nil
			}
			return fmt.Errorf("%w: unexpected schema node %s", spec.ErrSchemaMismatch, n.Name())
		}
		if err := walk(root.Field(i), nil, 0, 0, 0, root.Field(i).Name()); err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// levels is the scratch space of level computation, reused across columns.
type levels struct {
	def, rep []int16
	runs     [][2]int // slots of the leaf values, as [lo, hi) ranges
	arrs     []arrow.Array
	offs     []offsetter
}

type offsetter interface {
	ValueOffsets(i int) (start, end int64)
}

func (l *levels) reset() {
	l.def, l.rep, l.runs = l.def[:0], l.rep[:0], l.runs[:0]
}

// write writes one top-level Arrow array to the leaf columns under it.
func (c *columnPlan) write(ctx context.Context, rgw file.BufferedRowGroupWriter, arr arrow.Array, l *levels) error {
	for i := range c.leaves {
		lp := &c.leaves[i]
		cw, err := rgw.Column(lp.col)
		if err != nil {
			return err
		}
		if err := lp.write(ctx, cw, arr, l); err != nil {
			return err
		}
	}
	return nil
}

func (lp *leafPlan) write(ctx context.Context, cw file.ColumnChunkWriter, arr arrow.Array, l *levels) error {
	leafOptional := lp.steps[len(lp.steps)-1].optional
	if len(lp.steps) == 1 {
		// A top-level primitive column: levels straight from the validity
		// bitmap, values as they are.
		if !leafOptional {
			if arr.NullN() > 0 {
				return notNull(lp.steps[0].path)
			}
			return writeLeaf(ctx, cw, arr, nil, nil, false, lp.int96)
		}
		l.reset()
		l.def = growLevels(l.def, arr.Len())
		if arr.NullN() == 0 {
			for i := range l.def {
				l.def[i] = 1
			}
		} else {
			for i := range l.def {
				l.def[i] = 0
				if arr.IsValid(i) {
					l.def[i] = 1
				}
			}
		}
		return writeLeaf(ctx, cw, arr, l.def, nil, true, lp.int96)
	}
	leaf, err := lp.descend(arr, l)
	if err != nil {
		return err
	}
	l.reset()
	for i := range arr.Len() {
		if err := lp.walk(l, 0, i, 0, 0); err != nil {
			return err
		}
	}
	vals, err := slotValues(leaf, l.runs)
	// The arrays belong to the caller's batch: hold no reference to them.
	clear(l.arrs)
	clear(l.offs)
	if err != nil {
		return err
	}
	defer vals.Release()
	var def, rep []int16
	if lp.maxDef > 0 {
		def = l.def
	}
	if lp.maxRep > 0 {
		rep = l.rep
	}
	return writeLeaf(ctx, cw, vals, def, rep, leafOptional, lp.int96)
}

func growLevels(s []int16, n int) []int16 {
	if cap(s) < n {
		return make([]int16, n)
	}
	return s[:n]
}

// descend finds the Arrow arrays along the leaf's path (l.arrs[s] belongs to
// step s) and returns the leaf's values array. Offsets of lists and maps
// index the full child arrays, which is what descend returns for them.
func (lp *leafPlan) descend(arr arrow.Array, l *levels) (arrow.Array, error) {
	l.arrs, l.offs = l.arrs[:0], l.offs[:0]
	for _, st := range lp.steps {
		l.arrs = append(l.arrs, arr)
		l.offs = append(l.offs, nil)
		var ok bool
		switch st.kind {
		case stepLeaf:
			return arr, nil
		case stepStruct:
			var s *array.Struct
			if s, ok = arr.(*array.Struct); ok {
				arr = s.Field(st.child)
			}
		case stepList:
			var ll array.ListLike
			if ll, ok = arr.(array.ListLike); ok {
				l.offs[len(l.offs)-1] = ll
				arr = ll.ListValues()
			}
		case stepMap:
			var m *array.Map
			if m, ok = arr.(*array.Map); ok {
				l.offs[len(l.offs)-1] = m
				var entries *array.Struct
				if entries, ok = m.ListValues().(*array.Struct); ok {
					arr = entries.Field(st.child)
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s: unexpected Arrow array %s", spec.ErrSchemaMismatch, st.path, arr.DataType())
		}
	}
	return nil, errors.New("parquetio: leaf path without leaf")
}

// walk emits the levels of entry i of step s's array (Dremel shredding of
// one leaf column).
func (lp *leafPlan) walk(l *levels, s, i int, def, rep int16) error {
	st := &lp.steps[s]
	a := l.arrs[s]
	if a.IsNull(i) {
		if !st.optional {
			return notNull(st.path)
		}
		lp.emit(l, i, def, rep)
		return nil
	}
	if st.optional {
		def++
	}
	switch st.kind {
	case stepLeaf:
		lp.emit(l, i, def, rep)
	case stepStruct:
		return lp.walk(l, s+1, i, def, rep)
	case stepList, stepMap:
		start, end := l.offs[s].ValueOffsets(i)
		if start == end {
			lp.emit(l, i, def, rep)
			return nil
		}
		for j := start; j < end; j++ {
			r := rep
			if j > start {
				r = st.elemRep
			}
			if err := lp.walk(l, s+1, int(j), def+1, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit records one level pair. An entry at or below the nearest repeated
// ancestor's definition level has a slot in the leaf values; only structs
// lie between that ancestor and the leaf, so the slot's index is i.
func (lp *leafPlan) emit(l *levels, i int, def, rep int16) {
	l.def = append(l.def, def)
	l.rep = append(l.rep, rep)
	if def < lp.repDef {
		return
	}
	if n := len(l.runs); n > 0 && l.runs[n-1][1] == i {
		l.runs[n-1][1]++
		return
	}
	l.runs = append(l.runs, [2]int{i, i + 1})
}

// slotValues cuts the leaf values that have slots out of leaf.
func slotValues(leaf arrow.Array, runs [][2]int) (arrow.Array, error) {
	switch len(runs) {
	case 0:
		return array.NewSlice(leaf, 0, 0), nil
	case 1:
		return array.NewSlice(leaf, int64(runs[0][0]), int64(runs[0][1])), nil
	}
	// Null lists that own child values, or null vectors: the slots are not
	// contiguous.
	parts := make([]arrow.Array, len(runs))
	for i, r := range runs {
		parts[i] = array.NewSlice(leaf, int64(r[0]), int64(r[1]))
	}
	out, err := array.Concatenate(parts, memory.DefaultAllocator)
	for _, p := range parts {
		p.Release()
	}
	return out, err
}

func notNull(path string) error {
	return fmt.Errorf("%w: column %s is NOT NULL but got null", spec.ErrSchemaMismatch, path)
}

// writeLeaf writes a leaf's values with their levels.
func writeLeaf(ctx context.Context, cw file.ColumnChunkWriter, vals arrow.Array, def, rep []int16, optional, int96 bool) error {
	if int96 && vals.DataType().ID() == arrow.FIXED_SIZE_BINARY {
		return writeInt96(cw, vals.(*array.FixedSizeBinary), def, rep, optional)
	}
	return pqarrow.WriteArrowToColumn(ctx, cw, vals, def, rep, optional)
}

// writeInt96 writes INT96 timestamps given as their Parquet bytes
// (arrowconv.Int96Type), which arrow-go's Arrow writer does not take.
func writeInt96(cw file.ColumnChunkWriter, vals *array.FixedSizeBinary, def, rep []int16, optional bool) error {
	wr, ok := cw.(*file.Int96ColumnChunkWriter)
	if !ok {
		return fmt.Errorf("%w: INT96 values for a %s column", spec.ErrSchemaMismatch, cw.Type())
	}
	data := make([]parquet.Int96, vals.Len())
	for i := range data {
		copy(data[i][:], vals.Value(i))
	}
	info := cw.LevelInfo()
	// As pqarrow.WriteArrowToColumn: with nulls above the leaf, the writer
	// derives validity from the definition levels.
	parentNulls := info.HasNullableValues() && !(info.DefLevel == info.RepeatedAncestorDefLevel+1 && optional)
	if parentNulls && !cw.HasBitsBuffer() {
		buf := memory.NewResizableBuffer(cw.Properties().Allocator())
		buf.Resize(int(bitutil.BytesForBits(cw.Properties().WriteBatchSize())))
		cw.SetBitsBuffer(buf)
	}
	var err error
	if !parentNulls && vals.NullN() == 0 {
		_, err = wr.WriteBatch(data, def, rep)
	} else {
		_, err = wr.WriteBatchSpacedWithError(data, def, rep, vals.NullBitmapBytes(), int64(vals.Data().Offset()))
	}
	return err
}
