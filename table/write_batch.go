package table

import (
	"context"
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
	return w.writeRows(ctx, in)
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
