package table

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
)

// WithParallelism reads up to n splits at once (runtime.GOMAXPROCS(0) when
// n < 1, the default). Batches still come out split by split, in plan order.
func WithParallelism(n int) ScanOption { return func(s *Scan) { s.parallelism = n } }

// WithBatchRows caps the rows of a record batch (16384 by default).
func WithBatchRows(n int) ScanOption { return func(s *Scan) { s.batchRows = n } }

// Schema is the Arrow schema of the scan's record batches.
func (s *Scan) Schema() (*arrow.Schema, error) {
	fields, err := s.Fields()
	if err != nil {
		return nil, err
	}
	return arrowconv.Schema(fields)
}

// ToArrowRecords plans the scan and returns the schema of its record
// batches and the batches: splits are read in parallel (WithParallelism),
// each holding at most a few batches in memory until the consumer takes
// them, and come out in plan order. Within a split, batches are in key
// order when the split is one sorted run; merged splits yield each input
// batch cut to its surviving rows. Stopping the iteration stops the reads.
// The caller releases each batch.
func (s *Scan) ToArrowRecords(ctx context.Context) (*arrow.Schema, iter.Seq2[arrow.RecordBatch, error], error) {
	schema, err := s.Schema()
	if err != nil {
		return nil, nil, err
	}
	plan, err := s.Plan(ctx)
	if err != nil {
		return nil, nil, err
	}
	par := s.parallelism
	if par < 1 {
		par = runtime.GOMAXPROCS(0)
	}
	if par == 1 || len(plan.Splits) <= 1 {
		return schema, func(yield func(arrow.RecordBatch, error) bool) {
			for _, sp := range plan.Splits {
				for rec, err := range s.ReadSplit(ctx, sp) {
					if !yield(rec, err) || err != nil {
						return
					}
				}
			}
		}, nil
	}
	return schema, s.parallelBatches(ctx, plan.Splits, par), nil
}

// splitBatch is one batch or error of a split read in the background.
type splitBatch struct {
	rec arrow.RecordBatch
	err error
}

// parallelBatches reads up to par splits at once, each into a small
// channel, and yields the channels in split order.
func (s *Scan) parallelBatches(ctx context.Context, splits []Split, par int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		outs := make([]chan splitBatch, len(splits))
		for i := range outs {
			outs[i] = make(chan splitBatch, 2)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, par)
		wg.Add(1)
		go func() { // the dispatcher: split i starts when a slot frees
			defer wg.Done()
			for i, sp := range splits {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					for _, ch := range outs[i:] {
						close(ch)
					}
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					defer close(outs[i])
					for rec, err := range s.ReadSplit(ctx, sp) {
						select {
						case outs[i] <- splitBatch{rec, err}:
						case <-ctx.Done():
							if rec != nil {
								rec.Release()
							}
							return
						}
					}
				}()
			}
		}()
		defer func() {
			cancel()
			for _, ch := range outs { // release what was read ahead
				for b := range ch {
					if b.rec != nil {
						b.rec.Release()
					}
				}
			}
			wg.Wait()
		}()
		for _, ch := range outs {
			for b := range ch {
				if !yield(b.rec, b.err) || b.err != nil {
					return
				}
			}
		}
	}
}

// ReadSplit reads one split of the scan's plan as Arrow record batches of
// the scan's columns. A split that is one sorted run without retractions
// (Paimon's raw-convertible split), or a split of a deletion-vector,
// first-row or append table, is read file by file without merging; a
// deduplicate table's other splits are merged batch by batch; splits of the
// other engines go through their merge function row by row. Splits may be
// read in any order and on any goroutine, so callers can distribute them.
// The caller releases each batch.
func (s *Scan) ReadSplit(ctx context.Context, sp Split) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		rd, err := s.newSplitRead()
		if err != nil {
			yield(nil, err)
			return
		}
		t := s.t
		pp, err := t.partitionPath(sp.Partition)
		if err != nil {
			yield(nil, err)
			return
		}
		dir := t.bucketDir(pp, sp.Bucket)
		s.counters.filesRead.Add(int64(len(sp.Files)))
		emit := func(rec arrow.RecordBatch, first int) bool {
			out, err := rd.finish(rec, first, &s.counters)
			if err != nil {
				yield(nil, err)
				return false
			}
			if out == nil {
				return true
			}
			return yield(out, nil)
		}
		switch {
		case len(t.schema.PrimaryKeys) == 0:
			s.readRaw(ctx, dir, bySequence(sp.Files), sp, rd, false, emit, yield)
		case t.skipLevel0() && !sp.allLevels, rawConvertible(sp.Files):
			s.readRaw(ctx, dir, sp.Files, sp, rd, true, emit, yield)
		case t.opts.MergeEngine == spec.MergeEngineDeduplicate && len(t.opts.SequenceField) == 0:
			s.readMerged(ctx, dir, sp, rd, emit, yield)
		default:
			s.readViaRows(ctx, sp, rd, emit, yield)
		}
	}
}

// splitRead is what every batch of a split goes through: the columns read
// (the scan's, then those only the filter needs) and the filter bound to
// them.
type splitRead struct {
	out    []spec.DataField // the scan's columns
	fields []spec.DataField // out, then the filter's other columns
	schema *arrow.Schema    // of out
	all    *arrow.Schema    // of fields
	filter *predicate.Bound // nil: no filter
}

func (s *Scan) newSplitRead() (*splitRead, error) {
	out, err := s.Fields()
	if err != nil {
		return nil, err
	}
	rd := &splitRead{out: out, fields: out}
	if s.filter.Op != predicate.OpTrue {
		rd.fields = slices.Clone(out)
		for _, name := range s.filter.ColumnNames() {
			if !slices.ContainsFunc(rd.fields, func(f spec.DataField) bool { return f.Name == name }) {
				f, ok := s.t.schema.Field(name)
				if !ok {
					return nil, fmt.Errorf("%w: filter names no column %q", spec.ErrSchemaMismatch, name)
				}
				rd.fields = append(rd.fields, f)
			}
		}
		if rd.filter, err = predicate.Bind(s.filter, rd.fields); err != nil {
			return nil, err
		}
	}
	if rd.schema, err = arrowconv.Schema(out); err != nil {
		return nil, err
	}
	if rd.all, err = arrowconv.Schema(rd.fields); err != nil {
		return nil, err
	}
	return rd, nil
}

// finish turns a batch whose columns from first on are rd.fields into a
// batch of the scan's columns with the filter applied (nil when no row is
// left). It releases rec.
func (rd *splitRead) finish(rec arrow.RecordBatch, first int, c *scanCounters) (arrow.RecordBatch, error) {
	defer rec.Release()
	c.rowsRead.Add(rec.NumRows())
	cur := rec
	if rd.filter != nil {
		all := projectBatch(rec, rd.all, first)
		defer all.Release()
		sel, err := rd.filter.Filter(all, nil)
		if err != nil {
			return nil, err
		}
		if cur, err = predicate.Select(memory.DefaultAllocator, all, sel); err != nil {
			return nil, err
		}
		defer cur.Release()
		first = 0
	}
	c.rowsReturned.Add(cur.NumRows())
	if cur.NumRows() == 0 {
		return nil, nil
	}
	return projectBatch(cur, rd.schema, first), nil
}

// rawConvertible reports whether a primary-key split is one sorted run
// (one level-0 file, or the files of one level ≥ 1) holding no retraction:
// its records are then the rows, as Paimon's raw-convertible splits.
func rawConvertible(files []spec.DataFileMeta) bool {
	if len(files) == 0 {
		return true
	}
	level := files[0].Level
	for _, f := range files {
		if f.Level != level || f.DeleteRowCount == nil || *f.DeleteRowCount != 0 {
			return false
		}
	}
	return level > 0 || len(files) == 1
}

// fileRequest is the batch request for one file of a split.
func (s *Scan) fileRequest(ctx context.Context, dir string, sp Split, f *spec.DataFileMeta, fields []spec.DataField, system bool) (reader.BatchRequest, error) {
	fileSchema, err := s.t.schemas.Get(ctx, f.SchemaID)
	if err != nil {
		return reader.BatchRequest{}, err
	}
	return reader.BatchRequest{
		Request:   reader.Request{Dir: dir, File: f, FileSchema: fileSchema, ReadFields: fields, DV: sp.DVs[f.FileName]},
		System:    system,
		BatchRows: s.batchRows,
		Pruned:    &s.counters.pruned,
	}, nil
}

// readRaw reads files one after another without merging. checkKinds drops
// retractions, reading the row kinds of files that may hold some.
func (s *Scan) readRaw(ctx context.Context, dir string, files []spec.DataFileMeta, sp Split, rd *splitRead, checkKinds bool,
	emit func(arrow.RecordBatch, int) bool, yield func(arrow.RecordBatch, error) bool) {
	for i := range files {
		f := &files[i]
		system := checkKinds && (f.DeleteRowCount == nil || *f.DeleteRowCount != 0)
		req, err := s.fileRequest(ctx, dir, sp, f, rd.fields, system)
		if err != nil {
			yield(nil, err)
			return
		}
		req.Filter = rd.filter
		for rec, err := range reader.ReadBatches(ctx, s.t.fs, req) {
			if err != nil {
				yield(nil, err)
				return
			}
			first := 0
			if system {
				if rec, err = dropRetractions(rec); err != nil {
					yield(nil, err)
					return
				}
				if rec == nil {
					continue
				}
				first = 2
			}
			if !emit(rec, first) {
				return
			}
		}
	}
}

// dropRetractions removes -U/-D rows (nil when none is left).
func dropRetractions(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer rec.Release()
	kinds, ok := rec.Column(1).(*array.Int8)
	if !ok {
		return nil, fmt.Errorf("%w: no _VALUE_KIND column", spec.ErrSchemaMismatch)
	}
	keep := make([]bool, rec.NumRows())
	n := 0
	for i, k := range kinds.Int8Values() {
		if keep[i] = !spec.RowKind(k).IsRetract(); keep[i] {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	return predicate.Select(memory.DefaultAllocator, rec, keep)
}

// projectBatch returns the columns of rec from first on, under schema.
func projectBatch(rec arrow.RecordBatch, schema *arrow.Schema, first int) arrow.RecordBatch {
	cols := make([]arrow.Array, schema.NumFields())
	for i := range cols {
		cols[i] = rec.Column(first + i)
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows())
}

// readMerged merges a deduplicate table's sorted runs batch by batch.
func (s *Scan) readMerged(ctx context.Context, dir string, sp Split, rd *splitRead,
	emit func(arrow.RecordBatch, int) bool, yield func(arrow.RecordBatch, error) bool) {
	t := s.t
	var err error
	// Read the split's columns, then any key column they leave out.
	fields := slices.Clone(rd.fields)
	keyCols := make([]int, 0, len(t.layout.KeyFields))
	keyTypes := make([]spec.DataType, 0, len(t.layout.KeyFields))
	for _, k := range t.layout.KeyFields {
		j := slices.IndexFunc(fields, func(f spec.DataField) bool { return f.ID == k.ID })
		if j < 0 {
			j = len(fields)
			fields = append(fields, k)
		}
		keyCols = append(keyCols, 2+j)
		keyTypes = append(keyTypes, k.Type)
	}
	// Key conjuncts may skip row groups and pages of every run before the
	// merge: all versions of a key they rule out are ruled out. A value
	// filter may not (an old version would outlive the newer one skipped).
	var keyFilter *predicate.Bound
	if rd.filter != nil {
		isKey := func(col string) bool {
			return slices.ContainsFunc(t.layout.KeyFields, func(k spec.DataField) bool { return k.Name == col })
		}
		if in, _ := predicate.Split(s.filter, isKey); in.Op != predicate.OpTrue {
			if keyFilter, err = predicate.Bind(in, fields); err != nil {
				yield(nil, err)
				return
			}
		}
	}
	groups, err := t.runFiles(sp.Files)
	if err != nil {
		yield(nil, err)
		return
	}
	runs := make([]lsm.BatchRun, len(groups))
	for i, g := range groups {
		runs[i] = func(y func(arrow.RecordBatch, error) bool) {
			for j := range g {
				req, err := s.fileRequest(ctx, dir, sp, &g[j], fields, true)
				if err != nil {
					y(nil, err)
					return
				}
				req.Filter = keyFilter
				for rec, err := range reader.ReadBatches(ctx, t.fs, req) {
					if !y(rec, err) || err != nil {
						return
					}
				}
			}
		}
	}
	for rec, err := range lsm.DedupBatches(ctx, memory.DefaultAllocator, runs, keyCols, keyTypes) {
		if err != nil {
			yield(nil, err)
			return
		}
		if !emit(rec, 2) {
			return
		}
	}
}

// readViaRows merges a split through the table's merge function, row by
// row, into batches: the engines without a batch merge.
func (s *Scan) readViaRows(ctx context.Context, sp Split, rd *splitRead,
	emit func(arrow.RecordBatch, int) bool, yield func(arrow.RecordBatch, error) bool) {
	limit := s.batchRows
	if limit <= 0 {
		limit = defaultBatchRows
	}
	proj := make([]int, len(rd.fields))
	for i, f := range rd.fields {
		proj[i] = s.t.schema.FieldIndex(f.Name)
	}
	rows := func(y func(spec.Row, error) bool) {
		row := make(spec.Row, len(rd.fields))
		for kv, err := range s.t.readSplit(ctx, sp) {
			if err == nil {
				for i, j := range proj {
					row[i] = kv.Value[j]
				}
			}
			if !y(row, err) || err != nil {
				return
			}
		}
	}
	for rec, err := range arrowconv.Batches(memory.DefaultAllocator, rd.fields, limit, rows) {
		if err != nil {
			yield(nil, err)
			return
		}
		if !emit(rec, 0) {
			return
		}
	}
}

const defaultBatchRows = 16 << 10
