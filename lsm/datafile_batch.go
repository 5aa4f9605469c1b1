package lsm

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
)

// WriteBatches is WriteSeq for records as Arrow batches of the BatchRun
// form ([_SEQUENCE_NUMBER, _VALUE_KIND, values...], sorted, one record per
// key): values go to Parquet column by column, and statistics are gathered
// a column at a time. It releases each batch once written.
func (w *FileWriter) WriteBatches(ctx context.Context, batches BatchRun, level int32, source spec.FileSource) ([]spec.DataFileMeta, error) {
	if w.layout.Append {
		return nil, errors.New("lsm: batch writes of append files are not supported")
	}
	schema, err := w.layout.fileSchema()
	if err != nil {
		return nil, err
	}
	var metas []spec.DataFileMeta
	var cur *openFile
	defer func() {
		if cur != nil {
			cur.out.Abort()
		}
	}()
	for rec, err := range batches {
		if err != nil {
			return nil, err
		}
		done, err := w.writeBatch(ctx, &cur, schema, rec, level, source)
		rec.Release()
		if err != nil {
			return nil, err
		}
		metas = append(metas, done...)
	}
	return w.finishLast(&cur, metas, level, source)
}

// writeBatch writes rec into *cur (opening a file when none is), in
// slices of rollCheckEvery rows so that files roll near the target size,
// and returns the files it finished.
func (w *FileWriter) writeBatch(ctx context.Context, cur **openFile, schema *arrow.Schema, rec arrow.RecordBatch, level int32, source spec.FileSource) ([]spec.DataFileMeta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var metas []spec.DataFileMeta
	for off := int64(0); off < rec.NumRows(); off += rollCheckEvery {
		end := min(off+rollCheckEvery, rec.NumRows())
		if *cur == nil {
			f, err := w.open(ctx)
			if err != nil {
				return nil, err
			}
			*cur = f
		}
		part := rec.NewSlice(off, end)
		err := (*cur).addBatch(schema, part)
		part.Release()
		if err != nil {
			return nil, err
		}
		if (*cur).size() >= w.targetSize {
			f := *cur
			*cur = nil // finish publishes or aborts it
			meta, err := w.finish(f, level, source)
			if err != nil {
				return nil, err
			}
			metas = append(metas, meta)
		}
	}
	return metas, nil
}

// fileSchema is the Arrow schema of a key-value file's columns
// (parquetio.KVFields), made once per layout.
func (l *FileLayout) fileSchema() (*arrow.Schema, error) {
	l.schemaOnce.Do(func() {
		l.schema, l.schemaErr = arrowconv.Schema(parquetio.KVFields(l.KeyFields, l.ValueFields))
	})
	return l.schema, l.schemaErr
}

// addBatch writes one BatchRun batch: its key columns are its value columns
// at KeyIndex, written again under the _KEY_ names.
func (f *openFile) addBatch(schema *arrow.Schema, rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	l := f.l
	nk := len(l.KeyIndex)
	if int(rec.NumCols()) != 2+len(l.ValueFields) {
		return fmt.Errorf("%w: lsm: a batch of %d columns for %d values", spec.ErrSchemaMismatch, rec.NumCols(), len(l.ValueFields))
	}
	seqs, ok1 := rec.Column(0).(*array.Int64)
	kinds, ok2 := rec.Column(1).(*array.Int8)
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: lsm: a batch lacks its system columns", spec.ErrSchemaMismatch)
	}
	cols := make([]arrow.Array, 0, nk+int(rec.NumCols()))
	for _, j := range l.KeyIndex {
		cols = append(cols, rec.Column(2+j))
	}
	cols = append(cols, rec.Columns()...)
	out := array.NewRecordBatch(schema, cols, int64(n))
	err := f.pw.WriteRecord(out)
	out.Release()
	if err != nil {
		return err
	}
	for i, j := range l.KeyIndex {
		if err := addColumnStats(f.keyStats, i, rec.Column(2+j), l.KeyFields[i].Type); err != nil {
			return err
		}
	}
	for i, fl := range l.ValueFields {
		if err := addColumnStats(f.valStats, i, rec.Column(2+i), fl.Type); err != nil {
			return err
		}
	}
	for _, k := range kinds.Int8Values() {
		if spec.RowKind(k).IsRetract() {
			f.deletes++
		}
	}
	vals := seqs.Int64Values()
	if f.n == 0 {
		f.minSeq, f.maxSeq = vals[0], vals[0]
		key, err := keyAt(rec, l, 0)
		if err != nil {
			return err
		}
		f.minKey = key
	}
	for _, s := range vals {
		f.minSeq, f.maxSeq = min(f.minSeq, s), max(f.maxSeq, s)
	}
	key, err := keyAt(rec, l, n-1)
	if err != nil {
		return err
	}
	f.maxKey = key
	f.n += int64(n)
	return nil
}

// keyAt is the key of row r of a BatchRun batch, as values.
func keyAt(rec arrow.RecordBatch, l *FileLayout, r int) (spec.Row, error) {
	key := make(spec.Row, len(l.KeyIndex))
	for i, j := range l.KeyIndex {
		v, err := arrowconv.Value(rec.Column(2+j), r, l.KeyFields[i].Type)
		if err != nil {
			return nil, err
		}
		key[i] = v
	}
	return key, nil
}

// addColumnStats folds a column of values into collector column i: the null
// count, and the smallest and largest value found with a typed loop for the
// common flat types (a value at a time otherwise).
func addColumnStats(c *spec.StatsCollector, i int, a arrow.Array, t spec.DataType) error {
	c.AddNulls(i, int64(a.NullN()))
	if !c.WantsMinMax(i) || a.NullN() == a.Len() {
		return nil
	}
	lo, hi := -1, -1
	switch x := a.(type) {
	case *array.Int64:
		lo, hi = minMaxIndex(x, x.Int64Values(), cmp.Compare[int64])
	case *array.Int32:
		lo, hi = minMaxIndex(x, x.Int32Values(), cmp.Compare[int32])
	case *array.Int16:
		lo, hi = minMaxIndex(x, x.Int16Values(), cmp.Compare[int16])
	case *array.Int8:
		lo, hi = minMaxIndex(x, x.Int8Values(), cmp.Compare[int8])
	case *array.Date32:
		lo, hi = minMaxIndex(x, x.Date32Values(), cmp.Compare[arrow.Date32])
	case *array.Timestamp:
		lo, hi = minMaxIndex(x, x.TimestampValues(), cmp.Compare[arrow.Timestamp])
	case *array.Float64:
		lo, hi = minMaxIndex(x, x.Float64Values(), javaDoubleCompare)
	case *array.Float32:
		lo, hi = minMaxIndex(x, x.Float32Values(), func(a, b float32) int { return javaDoubleCompare(float64(a), float64(b)) })
	case *array.String:
		lo, hi = minMaxBytes(x, x.ValueOffsets(), x.Data().Buffers()[2])
	case *array.Binary:
		lo, hi = minMaxBytes(x, x.ValueOffsets(), x.Data().Buffers()[2])
	default:
		for r := range a.Len() {
			if a.IsNull(r) {
				continue
			}
			v, err := arrowconv.Value(a, r, t)
			if err != nil {
				return err
			}
			c.AddValue(i, v)
		}
		return nil
	}
	for _, r := range []int{lo, hi} {
		v, err := arrowconv.Value(a, r, t)
		if err != nil {
			return err
		}
		c.AddValue(i, v)
	}
	return nil
}

// minMaxIndex returns the rows of the smallest and largest non-null values.
func minMaxIndex[T any](a arrow.Array, vals []T, compare func(a, b T) int) (lo, hi int) {
	lo, hi = -1, -1
	nulls := a.NullN() > 0
	for r, v := range vals {
		if nulls && a.IsNull(r) {
			continue
		}
		if lo < 0 {
			lo, hi = r, r
			continue
		}
		if compare(v, vals[lo]) < 0 {
			lo = r
		} else if compare(v, vals[hi]) > 0 {
			hi = r
		}
	}
	return lo, hi
}

// minMaxBytes is minMaxIndex for string and binary columns.
func minMaxBytes(a arrow.Array, offs []int32, data *memory.Buffer) (lo, hi int) {
	var buf []byte
	if data != nil {
		buf = data.Bytes()
	}
	at := func(r int) []byte { return buf[offs[r]:offs[r+1]] }
	lo, hi = -1, -1
	nulls := a.NullN() > 0
	for r := range a.Len() {
		if nulls && a.IsNull(r) {
			continue
		}
		if lo < 0 {
			lo, hi = r, r
			continue
		}
		v := at(r)
		if bytes.Compare(v, at(lo)) < 0 {
			lo = r
		} else if bytes.Compare(v, at(hi)) > 0 {
			hi = r
		}
	}
	return lo, hi
}

// javaDoubleCompare is Java's Double.compare, the order Paimon's statistics
// use: -0.0 below 0.0, NaN above everything.
func javaDoubleCompare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	bits := func(x float64) int64 {
		if math.IsNaN(x) {
			return 0x7ff8000000000000
		}
		return int64(math.Float64bits(x))
	}
	return cmp.Compare(bits(a), bits(b))
}
