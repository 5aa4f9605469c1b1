package reader

import (
	"context"
	"fmt"
	"iter"
	"path"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// BatchRequest is a Request read column-wise into Arrow record batches
// (KeyIndex is not used: a merge finds the keys among ReadFields).
type BatchRequest struct {
	Request
	// System adds _SEQUENCE_NUMBER (BIGINT) and _VALUE_KIND (TINYINT) as the
	// first two columns: what merging needs. Append tables have neither.
	System bool
	// BatchRows caps a batch's rows (parquetio.DefaultBatchRows when 0).
	BatchRows int
	// Streamed reads the file's column chunks a page at a time
	// (parquetio.BatchRequest.Streamed).
	Streamed bool
	// Filter, bound to ReadFields, lets the reader skip the row groups and
	// pages whose statistics rule it out (it does not filter rows). Only
	// for files whose rows need no merging, or with key conjuncts only.
	Filter *predicate.Bound
	// Pruned, when set, counts what Filter skipped.
	Pruned *PruneStats
}

// Fields are the columns of the batches req reads, in order.
func (req *BatchRequest) Fields() []spec.DataField {
	if !req.System {
		return req.ReadFields
	}
	return append(parquetio.SystemFields(), req.ReadFields...)
}

// physical returns the columns to ask the file for and the positions whose
// type changed since the file was written (fileColumns).
func (req *BatchRequest) physical() (cols []spec.DataField, casts []int) {
	want := req.Fields()
	if !req.System {
		return fileColumns(req.FileSchema, want)
	}
	return fileColumns(req.FileSchema, want[2:], want[:2]...)
}

// fileColumns maps read fields to the columns to ask a file for: each field
// under the name and type the file's schema gives its id (a field added
// after the file was written gets a name no column has, so it reads as
// null), after the leading columns given as they are. casts are the
// positions, counted from the first column, whose type changed since: they
// are read with the file's type, then cast.
func fileColumns(fileSchema *spec.TableSchema, fields []spec.DataField, leading ...spec.DataField) (cols []spec.DataField, casts []int) {
	cols = append(make([]spec.DataField, 0, len(leading)+len(fields)), leading...)
	for _, f := range fields {
		ff, ok := fileSchema.FieldByID(f.ID)
		if !ok {
			cols = append(cols, spec.DataField{ID: f.ID, Name: "\x00missing-" + f.Name, Type: f.Type})
			continue
		}
		cols = append(cols, spec.DataField{ID: f.ID, Name: ff.Name, Type: ff.Type})
		if !ff.Type.WithNullable(true).Equal(f.Type.WithNullable(true)) {
			casts = append(casts, len(cols)-1)
		}
	}
	return cols, casts
}

// ReadBatches streams one data file as Arrow record batches of req.Fields(),
// rows its deletion vector marks left out. Parquet files are decoded column
// by column straight into Arrow arrays; Avro files go through their rows.
// The caller releases each batch.
func ReadBatches(ctx context.Context, fs storage.Storage, req BatchRequest) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		p := path.Join(req.Dir, req.File.FileName)
		fail := func(err error) { yield(nil, fmt.Errorf("read %s: %w", p, err)) }
		mem := memory.DefaultAllocator
		cols, casts := req.physical()
		want := req.Fields()
		schema, err := arrowconv.Schema(want)
		if err != nil {
			fail(err)
			return
		}
		ra, size, ext, err := openAt(ctx, fs, p, req.File)
		if err != nil {
			fail(err)
			return
		}
		if ext != "parquet" {
			for rec, err := range readBatchesViaRows(ctx, fs, req, mem) {
				if !yield(rec, err) || err != nil {
					return
				}
			}
			return
		}
		f, err := parquetio.Open(ra, size)
		if err != nil {
			fail(err)
			return
		}
		preq := parquetio.BatchRequest{Fields: cols, BatchRows: req.BatchRows, Streamed: req.Streamed}
		if req.Filter != nil {
			nsys := 0
			if req.System {
				nsys = 2
			}
			stats := req.Pruned
			if stats == nil {
				stats = new(PruneStats)
			}
			pr := newPruner(f, req.Filter, cols, nsys, casts, stats)
			preq.RowGroups, preq.Ranges = pr.rowGroups(), pr.ranges
		}
		for b, err := range f.ReadBatches(ctx, preq) {
			if err != nil {
				fail(err)
				return
			}
			rec, err := finishBatch(mem, schema, want, cols, casts, b, req.DV)
			if err != nil {
				fail(err)
				return
			}
			if rec == nil {
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// finishBatch casts changed columns, relabels the batch with the read
// schema and drops the rows dv marks deleted. It returns nil for a batch
// left empty.
func finishBatch(mem memory.Allocator, schema *arrow.Schema, want, cols []spec.DataField, casts []int, b parquetio.Batch, dv *spec.DeletionVector) (arrow.RecordBatch, error) {
	rec := b.Rec
	defer rec.Release()
	arrs := make([]arrow.Array, len(want))
	for i := range arrs {
		arrs[i] = rec.Column(i)
		arrs[i].Retain()
	}
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	for _, i := range casts {
		c, err := castArray(mem, arrs[i], cols[i].Type, want[i].Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", want[i].Name, err)
		}
		arrs[i].Release()
		arrs[i] = c
	}
	out := array.NewRecordBatch(schema, arrs, rec.NumRows())
	if dv == nil {
		return out, nil
	}
	keep := make([]bool, out.NumRows())
	n := 0
	for i := range keep {
		if keep[i] = !dv.IsDeleted(b.FirstRow + int64(i)); keep[i] {
			n++
		}
	}
	if n == len(keep) {
		return out, nil
	}
	defer out.Release()
	if n == 0 {
		return nil, nil
	}
	return predicate.Select(mem, out, keep)
}

// castArray converts a column read with the type its file was written with
// to the type the table has now (an allowed type change, spec.CastValue).
func castArray(mem memory.Allocator, a arrow.Array, from, to spec.DataType) (arrow.Array, error) {
	at, err := arrowconv.Type(to)
	if err != nil {
		return nil, err
	}
	b := array.NewBuilder(mem, at)
	defer b.Release()
	for i := range a.Len() {
		v, err := arrowconv.Value(a, i, from)
		if err != nil {
			return nil, err
		}
		if v, err = spec.CastValue(v, from, to); err != nil {
			return nil, err
		}
		if err := arrowconv.AppendValue(b, to, v); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// readBatchesViaRows reads a file the columnar reader does not (Avro) row
// by row into batches of the same schema.
func readBatchesViaRows(ctx context.Context, fs storage.Storage, req BatchRequest, mem memory.Allocator) iter.Seq2[arrow.RecordBatch, error] {
	limit := req.BatchRows
	if limit <= 0 {
		limit = parquetio.DefaultBatchRows
	}
	if !req.System {
		return arrowconv.Batches(mem, req.ReadFields, limit, ReadAppendRows(ctx, fs, req.Request))
	}
	rows := func(yield func(spec.Row, error) bool) {
		row := make(spec.Row, 2+len(req.ReadFields))
		for p, err := range ReadPositioned(ctx, fs, req.Request) {
			if err == nil {
				row[0], row[1] = p.KV.Seq, int8(p.KV.Kind)
				copy(row[2:], p.KV.Value)
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
	return arrowconv.Batches(mem, req.Fields(), limit, rows)
}
