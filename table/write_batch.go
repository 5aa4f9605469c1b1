package table

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// RowKindColumn is the optional column of a batch given to Write that holds
// each row's change kind as Paimon's RowKind byte (0 +I, 1 -U, 2 +U, 3 -D),
// as a TINYINT (int8) without nulls. Without it every row is an insert.
const RowKindColumn = "_VALUE_KIND"

// Write adds a batch of rows. Its columns are matched to the table's by
// name, in any order, each of the Arrow type arrowconv.Schema gives the
// column (what a scan returns); every table column must be there, plus
// optionally RowKindColumn. Nulls in NOT NULL columns, unknown columns and
// wrong types fail with spec.ErrSchemaMismatch before anything is kept.
// Rows are taken in order, as if written one by one with WriteRow. The
// caller keeps ownership of rec.
func (w *Write) Write(ctx context.Context, rec arrow.RecordBatch) error {
	in, err := w.bindBatch(rec)
	if err != nil {
		return err
	}
	dropped, err := w.admitBatch(in)
	if err != nil {
		return err
	}
	if !w.t.columnar() || w.t.opts.Bucket <= 0 || w.global != nil {
		return w.writeRows(ctx, in) // WriteRow drops the same rows again
	}
	return w.writeColumnar(ctx, in, dropped)
}

// writeColumnar routes a batch's rows to their fixed buckets and adds each
// bucket's share to its columnar buffer. Every row is routed and checked
// before any is buffered.
func (w *Write) writeColumnar(ctx context.Context, in *boundBatch, dropped []bool) error {
	type group struct {
		partition []byte
		bucket    int32
		sel       []int32
	}
	var groups []*group
	index := map[string]*group{}
	pf := w.t.schema.PartitionFields()
	partIdx := make([]int, len(pf))
	for i, f := range pf {
		partIdx[i] = w.t.schema.FieldIndex(f.Name)
	}
	bk := w.bucketKey
	hash := newBucketHasher(bk, in.cols)
	partVals, partTypes := make(spec.Row, len(pf)), w.t.partitionTypes()
	var scratch, key []byte
	for r := range in.n {
		if dropped != nil && dropped[r] {
			continue
		}
		h, err := hash(r)
		if err != nil {
			return err
		}
		bucket := int32(spec.Bucket(h, bk.buckets))
		key = append(key[:0], byte(bucket), byte(bucket>>8), byte(bucket>>16), byte(bucket>>24))
		if len(pf) > 0 {
			for i, j := range partIdx {
				if partVals[i], err = arrowconv.Value(in.cols[j], r, pf[i].Type); err != nil {
					return err
				}
			}
			if scratch, err = spec.EncodeBinaryRowInto(scratch, partTypes, partVals, spec.RowKindInsert); err != nil {
				return err
			}
			key = append(key, scratch...)
		}
		g := index[string(key)]
		if g == nil {
			g = &group{bucket: bucket, partition: spec.SerializedEmptyRow()}
			if len(pf) > 0 {
				g.partition = spec.SerializeBinaryRow(len(pf), append([]byte(nil), scratch...))
			}
			index[string(key)] = g
			groups = append(groups, g)
		}
		g.sel = append(g.sel, int32(r))
	}
	for _, g := range groups {
		bw, err := w.bucketWriter(ctx, g.partition, g.bucket)
		if err != nil {
			return err
		}
		if err := bw.tree.AddBatch(in.cols, g.sel, in.kinds); err != nil {
			return err
		}
		if err := w.flushIfFull(ctx, bw, len(g.sel)); err != nil {
			return err
		}
	}
	return nil
}

// admitBatch refuses the whole batch, before anything is kept, when the
// merge engine would refuse one of its rows (see WriteRow), and marks the
// rows the table drops (ignore-delete, ignore-update-before; nil when
// none). Only retractions can be refused or dropped, unless rowkind.field
// gives the kinds.
func (w *Write) admitBatch(b *boundBatch) ([]bool, error) {
	fields := w.t.schema.Fields
	var dropped []bool
	for i := range b.n {
		if !b.kind(i).IsRetract() && w.t.opts.RowKindField == nil {
			continue
		}
		row, err := b.row(i, fields)
		if err != nil {
			return nil, err
		}
		_, keep, err := w.t.rowKinds.Resolve(b.kind(i), row)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		if !keep {
			if dropped == nil {
				dropped = make([]bool, b.n)
			}
			dropped[i] = true
		}
	}
	return dropped, nil
}

// boundBatch is a batch checked against the table: its columns in table
// order and each row's kind.
type boundBatch struct {
	cols  []arrow.Array // by table column
	kinds []int8        // nil: all inserts
	n     int
}

// bindBatch checks rec against the table schema and orders its columns.
func (w *Write) bindBatch(rec arrow.RecordBatch) (*boundBatch, error) {
	fields := w.t.schema.Fields
	want, err := arrowconv.Schema(fields)
	if err != nil {
		return nil, err
	}
	b := &boundBatch{cols: make([]arrow.Array, len(fields)), n: int(rec.NumRows())}
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		if f.Name == RowKindColumn {
			k, ok := col.(*array.Int8)
			if !ok || k.NullN() > 0 {
				return nil, fmt.Errorf("%w: column %s must be TINYINT without nulls, is %s", spec.ErrSchemaMismatch, RowKindColumn, col.DataType())
			}
			b.kinds = k.Int8Values()
			for r, v := range b.kinds {
				if v < 0 || v > int8(spec.RowKindDelete) {
					return nil, fmt.Errorf("%w: column %s: row %d has kind %d (want 0 to 3)", spec.ErrSchemaMismatch, RowKindColumn, r, v)
				}
			}
			continue
		}
		j := w.t.schema.FieldIndex(f.Name)
		if j < 0 {
			return nil, fmt.Errorf("%w: the table has no column %s", spec.ErrSchemaMismatch, f.Name)
		}
		if b.cols[j] != nil {
			return nil, fmt.Errorf("%w: column %s appears twice", spec.ErrSchemaMismatch, f.Name)
		}
		if !arrow.TypeEqual(col.DataType(), want.Field(j).Type) {
			return nil, fmt.Errorf("%w: column %s is %s, want %s", spec.ErrSchemaMismatch, f.Name, col.DataType(), want.Field(j).Type)
		}
		if !fields[j].Type.Nullable && col.NullN() > 0 {
			return nil, fmt.Errorf("%w: column %s is NOT NULL", spec.ErrSchemaMismatch, f.Name)
		}
		b.cols[j] = col
	}
	for j, c := range b.cols {
		if c == nil {
			return nil, fmt.Errorf("%w: the batch has no column %s", spec.ErrSchemaMismatch, fields[j].Name)
		}
	}
	return b, nil
}

// kind is row i's change kind.
func (b *boundBatch) kind(i int) spec.RowKind {
	if b.kinds == nil {
		return spec.RowKindInsert
	}
	return spec.RowKind(b.kinds[i])
}

// row converts row i to Go values.
func (b *boundBatch) row(i int, fields []spec.DataField) (spec.Row, error) {
	row := make(spec.Row, len(b.cols))
	for j, c := range b.cols {
		v, err := arrowconv.Value(c, i, fields[j].Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", fields[j].Name, err)
		}
		row[j] = v
	}
	return row, nil
}

// writeRows writes a bound batch row by row: the path for the tables the
// columnar one does not cover.
func (w *Write) writeRows(ctx context.Context, b *boundBatch) error {
	fields := w.t.schema.Fields
	for i := range b.n {
		row, err := b.row(i, fields)
		if err != nil {
			return err
		}
		if err := w.WriteRow(ctx, b.kind(i), row); err != nil {
			return err
		}
	}
	return nil
}

// newBucketHasher returns the function hashing row r's bucket key as
// Paimon does (the hash of its BinaryRow). A single integer bucket key, the
// common case, is laid out in place without going through Go values.
func newBucketHasher(bk *bucketKey, cols []arrow.Array) func(r int) (int32, error) {
	if len(bk.idx) == 1 {
		var row [16]byte // the header (row kind and null bits), one slot
		switch c := cols[bk.idx[0]].(type) {
		case *array.Int64:
			vals := c.Int64Values()
			return func(r int) (int32, error) {
				row = [16]byte{}
				if c.IsNull(r) {
					row[1] = 1
				} else {
					binary.LittleEndian.PutUint64(row[8:], uint64(vals[r]))
				}
				return spec.HashBinaryRow(row[:]), nil
			}
		case *array.Int32:
			vals := c.Int32Values()
			return func(r int) (int32, error) {
				row = [16]byte{}
				if c.IsNull(r) {
					row[1] = 1
				} else {
					binary.LittleEndian.PutUint32(row[8:], uint32(vals[r]))
				}
				return spec.HashBinaryRow(row[:]), nil
			}
		}
	}
	vals := make(spec.Row, len(bk.idx))
	var scratch []byte
	return func(r int) (int32, error) {
		for i, j := range bk.idx {
			v, err := arrowconv.Value(cols[j], r, bk.types[i])
			if err != nil {
				return 0, err
			}
			vals[i] = v
		}
		var err error
		if scratch, err = spec.EncodeBinaryRowInto(scratch, bk.types, vals, spec.RowKindInsert); err != nil {
			return 0, err
		}
		return spec.HashBinaryRow(scratch), nil
	}
}
