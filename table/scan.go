package table

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"

	"fmt"
	"iter"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
)

// liveFiles returns the ADD entries that survive merging a snapshot's base
// and delta manifests: its live data files.
func (t *Table) liveFiles(ctx context.Context, snap *spec.Snapshot) ([]spec.ManifestEntry, error) {
	return t.liveFilesWhere(ctx, snap, nil)
}

// liveFilesWhere is liveFiles restricted to partitions that match: manifests
// whose partition stats rule the partition out are not even read.
func (t *Table) liveFilesWhere(ctx context.Context, snap *spec.Snapshot, pf *scanFilter) ([]spec.ManifestEntry, error) {
	metas, err := t.manifests.ReadManifestFiles(ctx, snap.BaseManifestList, snap.DeltaManifestList)
	if err != nil {
		return nil, err
	}
	var keep []spec.ManifestFileMeta
	for _, m := range metas {
		if pf.mayMatchManifest(m.PartitionStats) {
			keep = append(keep, m)
		}
	}
	var merged []spec.ManifestEntry
	if !pf.prunesEntries() {
		if pf != nil {
			pf.counters.manifestsRead.Add(int64(len(keep)))
		}
		merged, err = t.readAllEntries(ctx, keep)
	} else {
		merged, err = t.readEntriesWhere(ctx, keep, pf)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", snap.ID, err)
	}
	live := merged[:0]
	for _, e := range merged {
		if e.Kind != spec.FileKindAdd {
			return nil, fmt.Errorf("%w: snapshot %d deletes %s, which no manifest adds", spec.ErrCorrupt, snap.ID, e.File.FileName)
		}
		live = append(live, e)
	}
	return live, nil
}

// ScanOption configures a Scan.
type ScanOption func(*Scan)

// WithSnapshot reads snapshot id instead of the latest one. It, WithTag
// and WithTimestamp each name the snapshot to read: the one given last
// wins.
func WithSnapshot(id int64) ScanOption { return func(s *Scan) { s.travel = travel{snapshotID: id} } }

// WithPartition restricts the scan to partitions whose columns equal the
// given values (a subset of the partition columns; nil matches null): a
// WithFilter of equalities (IS NULL for nil). Manifests whose partition
// ranges exclude them are skipped unread.
func WithPartition(values map[string]any) ScanOption {
	return func(s *Scan) { s.partition = values }
}

// WithProjection returns only the named columns, in the given order.
func WithProjection(columns ...string) ScanOption {
	return func(s *Scan) { s.columns = columns }
}

// Scan reads a snapshot of the table: merge-on-read of every sorted run per
// bucket, or for deletion-vector and first-row tables, the files above level
// 0 with their deletion vectors applied.
type Scan struct {
	t         *Table
	travel    travel // the snapshot to read (timetravel.go)
	columns   []string
	partition map[string]any
	filter    predicate.Predicate // WithFilter (scan_filter.go)
	allLevels bool                // WithAllLevels (scan_levels.go)
	counters  scanCounters
	// parallelism and batchRows shape ToArrowRecords (scan_batches.go).
	parallelism int
	batchRows   int
}

// NewScan returns a scan of the latest snapshot unless options say
// otherwise.
func (t *Table) NewScan(opts ...ScanOption) *Scan {
	s := &Scan{t: t}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Split is the work of reading one bucket of one partition.
type Split struct {
	Partition []byte
	Bucket    int32
	Files     []spec.DataFileMeta
	// DVs are the deletion vectors of the split's files, by file name.
	DVs map[string]*spec.DeletionVector
	// allLevels: merge every level even where batch reads skip level 0.
	allLevels bool
}

// Plan is a snapshot resolved into splits.
type Plan struct {
	Snapshot *spec.Snapshot // nil for a table with no snapshot
	Fields   []spec.DataField
	Splits   []Split
	// Filter is the scan's filter bound to the table's fields, to apply to
	// every row read (pruning only skipped what cannot match); nil for
	// none.
	Filter *predicate.Bound
}

// Fields are the columns the scan returns.
func (s *Scan) Fields() ([]spec.DataField, error) {
	if len(s.columns) == 0 {
		return s.t.schema.Fields, nil
	}
	out := make([]spec.DataField, 0, len(s.columns))
	for _, c := range s.columns {
		f, ok := s.t.schema.Field(c)
		if !ok {
			return nil, fmt.Errorf("%w: no column %q (columns: %v)", spec.ErrSchemaMismatch, c, s.t.schema.FieldNames())
		}
		out = append(out, f)
	}
	return out, nil
}

// skipLevel0 reports whether batch reads must ignore level-0 files, as Java
// does for deletion-vector and first-row tables (unless
// deletion-vectors.merge-on-read asks to merge every level, vectors applied).
func (t *Table) skipLevel0() bool {
	if len(t.schema.PrimaryKeys) == 0 {
		return false // append tables only have level 0
	}
	if t.opts.DeletionVectorsEnabled && t.opts.DeletionVectorsMergeOnRead {
		return false
	}
	return t.opts.DeletionVectorsEnabled || t.opts.MergeEngine == spec.MergeEngineFirstRow
}

// Plan resolves the snapshot into splits.
func (s *Scan) Plan(ctx context.Context) (*Plan, error) {
	fields, err := s.Fields()
	if err != nil {
		return nil, err
	}
	s.counters.reset()
	pf, err := s.scanFilter()
	if err != nil {
		return nil, err
	}
	p := &Plan{Fields: fields, Filter: pf.rows}
	snap, err := s.t.resolve(ctx, s.travel)
	if err != nil || snap == nil {
		return p, err
	}
	p.Snapshot = snap
	files, err := s.t.liveFilesWhere(ctx, snap, pf)
	if err != nil {
		return nil, err
	}
	type key struct {
		part   string
		bucket int32
	}
	byBucket := map[key]*Split{}
	var order []key
	sizes := bucketSizes(files)
	for _, e := range files {
		if s.skipsLevel0() && e.File.Level == 0 {
			continue
		}
		k := key{string(e.Partition), e.Bucket}
		sp, ok := byBucket[k]
		if !ok {
			sp = &Split{Partition: e.Partition, Bucket: e.Bucket, allLevels: s.allLevels,
				Files: make([]spec.DataFileMeta, 0, sizes[string(e.Partition)][e.Bucket])}
			byBucket[k] = sp
			order = append(order, k)
		}
		sp.Files = append(sp.Files, e.File)
	}
	slices.SortFunc(order, func(a, b key) int {
		if c := bytes.Compare([]byte(a.part), []byte(b.part)); c != 0 {
			return c
		}
		return int(a.bucket - b.bucket)
	})
	if s.t.opts.DeletionVectorsEnabled && snap.IndexManifest != nil {
		dvs, err := s.t.readDVs(ctx, *snap.IndexManifest)
		if err != nil {
			return nil, err
		}
		for k, sp := range byBucket {
			sp.DVs = dvs[splitKey([]byte(k.part), k.bucket)]
		}
	}
	for _, k := range order {
		sp := byBucket[k]
		if sp.Files = pf.pruneFiles(ctx, sp.Files, s.rawSplits()); len(sp.Files) > 0 {
			s.counters.filesPlanned.Add(int64(len(sp.Files)))
			p.Splits = append(p.Splits, *sp)
		}
	}
	return p, nil
}

func splitKey(partition []byte, bucket int32) string {
	return fmt.Sprintf("%x/%d", partition, bucket)
}

// parseSplitKey inverts splitKey.
func parseSplitKey(k string) (partition string, bucket int32, ok bool) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return "", 0, false
	}
	p, err := hex.DecodeString(k[:i])
	if err != nil {
		return "", 0, false
	}
	b, err := strconv.ParseInt(k[i+1:], 10, 32)
	if err != nil {
		return "", 0, false
	}
	return string(p), int32(b), true
}

// readDVs loads every deletion vector of a snapshot's index manifest, by
// splitKey(partition, bucket) and data file name.
func (t *Table) readDVs(ctx context.Context, indexManifest string) (map[string]map[string]*spec.DeletionVector, error) {
	entries, err := t.manifests.ReadIndexManifest(ctx, indexManifest)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]*spec.DeletionVector{}
	for _, e := range entries {
		if e.Kind != spec.FileKindAdd || e.IndexType != spec.DVIndexType {
			continue
		}
		p := path.Join(t.path, "index", e.FileName)
		data, err := t.fs.Get(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("read deletion vectors %s: %w", p, err)
		}
		metas := make([]spec.DeletionVectorMeta, 0, len(e.DVRanges))
		for _, m := range e.DVRanges {
			if m != nil {
				metas = append(metas, *m)
			}
		}
		dvs, err := spec.ReadDVIndexFile(data, metas)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		k := splitKey(e.Partition, e.Bucket)
		if out[k] == nil {
			out[k] = map[string]*spec.DeletionVector{}
		}
		for name, dv := range dvs {
			out[k][name] = dv
		}
	}
	return out, nil
}

// Rows streams the scan's rows: for each bucket, in primary-key order.
func (s *Scan) Rows(ctx context.Context) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		plan, err := s.Plan(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		proj := make([]int, len(plan.Fields))
		for i, f := range plan.Fields {
			proj[i] = s.t.schema.FieldIndex(f.Name)
		}
		for _, sp := range plan.Splits {
			s.counters.filesRead.Add(int64(len(sp.Files)))
			for kv, err := range s.t.readSplit(ctx, sp) {
				if err != nil {
					yield(nil, err)
					return
				}
				s.counters.rowsRead.Add(1)
				if plan.Filter != nil && !plan.Filter.Eval(kv.Value) {
					continue
				}
				s.counters.rowsReturned.Add(1)
				row := make(spec.Row, len(proj))
				for i, j := range proj {
					row[i] = kv.Value[j]
				}
				if !yield(row, nil) {
					return
				}
			}
		}
	}
}

// readSplit merges one bucket's files into its current records, dropping
// retractions.
func (t *Table) readSplit(ctx context.Context, sp Split) iter.Seq2[*spec.KeyValue, error] {
	return func(yield func(*spec.KeyValue, error) bool) {
		pp, err := t.partitionPath(sp.Partition)
		if err != nil {
			yield(nil, err)
			return
		}
		dir := t.bucketDir(pp, sp.Bucket)
		if len(t.schema.PrimaryKeys) == 0 {
			t.readAppendSplit(ctx, dir, sp, yield)
			return
		}
		open := func(f spec.DataFileMeta) lsm.Run { return t.openFile(ctx, dir, f, sp.DVs[f.FileName]) }
		for kv, err := range t.mergeSplit(sp, open) {
			if !yield(kv, err) || err != nil {
				return
			}
		}
	}
}

// mergeSplit merges the records open yields for the split's files as a
// batch scan does: with deletion vectors or first-row, the files above level
// 0 as they are; otherwise every sorted run through the merge function.
// Retractions are left out. Lookups pass an open that yields one key's
// records, so they answer exactly what a scan would.
func (t *Table) mergeSplit(sp Split, open func(spec.DataFileMeta) lsm.Run) iter.Seq2[*spec.KeyValue, error] {
	return func(yield func(*spec.KeyValue, error) bool) {
		if t.skipLevel0() && !sp.allLevels {
			// Deletion vectors already hide replaced rows: no merging.
			for _, f := range sp.Files {
				for kv, err := range open(f) {
					if err != nil {
						yield(nil, err)
						return
					}
					if kv.Kind.IsRetract() {
						continue
					}
					if !yield(kv, nil) {
						return
					}
				}
			}
			return
		}
		runs, err := t.sortedRuns(sp.Files, open)
		if err != nil {
			yield(nil, err)
			return
		}
		mf, err := t.newMergeFunction()
		if err != nil {
			yield(nil, err)
			return
		}
		var merged iter.Seq2[*spec.KeyValue, error]
		if t.needLookup() {
			// Lookup mode keeps levels ≥ 1 fully merged: only the newest
			// high-level version of a key counts.
			merged = func(y func(*spec.KeyValue, error) bool) {
				for group, err := range lsm.GroupRuns(runs, t.ordering) {
					var res *spec.KeyValue
					if err == nil {
						res, err = lsm.LookupMergeGroup(mf, group)
					}
					if err != nil {
						y(nil, err)
						return
					}
					if res != nil && !y(res, nil) {
						return
					}
				}
			}
		} else {
			merged = lsm.MergeRunsOrdered(runs, mf, t.ordering)
		}
		for kv, err := range merged {
			if err != nil {
				// A record the engine rejects names its file and key.
				yield(nil, lsm.LocateRecordError(err, sp.Files, t.layout.KeyTypes()))
				return
			}
			if kv.Kind.IsRetract() {
				continue
			}
			if !yield(kv, nil) {
				return
			}
		}
	}
}

// sortedRuns groups files into sorted runs: each level-0 file is its own run;
// the files of a level ≥ 1 form one run, read in key order.
func (t *Table) sortedRuns(files []spec.DataFileMeta, open func(spec.DataFileMeta) lsm.Run) ([]lsm.Run, error) {
	groups, err := t.runFiles(files)
	if err != nil {
		return nil, err
	}
	runs := make([]lsm.Run, len(groups))
	for i, g := range groups {
		if len(g) == 1 {
			runs[i] = open(g[0])
		} else {
			runs[i] = concatRuns(g, open)
		}
	}
	return runs, nil
}

// runFiles groups files by sorted run: each level-0 file alone, then the
// files of each level ≥ 1 in key order.
func (t *Table) runFiles(files []spec.DataFileMeta) ([][]spec.DataFileMeta, error) {
	type leveled struct {
		f   spec.DataFileMeta
		min spec.Row
	}
	byLevel := map[int32][]leveled{}
	var groups [][]spec.DataFileMeta
	for _, f := range files {
		if f.Level == 0 {
			groups = append(groups, []spec.DataFileMeta{f})
			continue
		}
		_, kb, err := spec.DeserializeBinaryRow(f.MinKey)
		if err != nil {
			return nil, fmt.Errorf("min key of %s: %w", f.FileName, err)
		}
		k, _, err := spec.DecodeBinaryRow(t.layout.KeyTypes(), kb)
		if err != nil {
			return nil, fmt.Errorf("min key of %s: %w", f.FileName, err)
		}
		byLevel[f.Level] = append(byLevel[f.Level], leveled{f, k})
	}
	levels := slices.Sorted(maps.Keys(byLevel))
	for _, l := range levels {
		ls := byLevel[l]
		slices.SortFunc(ls, func(a, b leveled) int { return lsm.CompareKeys(a.min, b.min) })
		fs := make([]spec.DataFileMeta, len(ls))
		for i, l := range ls {
			fs[i] = l.f
		}
		groups = append(groups, fs)
	}
	return groups, nil
}

// concatRuns chains the files of one level, which do not overlap and are
// given in key order, into one sorted run.
func concatRuns(fs []spec.DataFileMeta, open func(spec.DataFileMeta) lsm.Run) lsm.Run {
	return func(yield func(*spec.KeyValue, error) bool) {
		for _, f := range fs {
			for kv, err := range open(f) {
				if !yield(kv, err) || err != nil {
					return
				}
			}
		}
	}
}

// Records returns the scan as a stream of Arrow record batches of up to
// batchSize rows. Batches are built as the reader advances, so memory holds
// one batch at a time. The caller releases the reader.
func (s *Scan) Records(ctx context.Context, batchSize int) (array.RecordReader, error) {
	fields, err := s.Fields()
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		batchSize = 4096
	}
	b, err := arrowconv.NewBuilder(memory.DefaultAllocator, fields)
	if err != nil {
		return nil, err
	}
	next, stop := iter.Pull2(s.Rows(ctx))
	return &recordReader{refs: 1, b: b, next: next, stop: stop, size: batchSize}, nil
}

// recordReader adapts the row stream to array.RecordReader.
type recordReader struct {
	refs int64
	b    *arrowconv.Builder
	next func() (spec.Row, error, bool)
	stop func()
	size int
	cur  arrow.RecordBatch
	err  error
	done bool
}

func (r *recordReader) Retain() { r.refs++ }

func (r *recordReader) Release() {
	if r.refs--; r.refs == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		r.stop()
		r.b.Release()
	}
}

func (r *recordReader) Schema() *arrow.Schema { return r.b.Schema() }

func (r *recordReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done {
		return false
	}
	for r.b.Len() < r.size {
		row, err, ok := r.next()
		if !ok {
			r.done = true
			break
		}
		if err == nil {
			err = r.b.Append(row)
		}
		if err != nil {
			r.err, r.done = err, true
			return false
		}
	}
	if r.b.Len() == 0 {
		return false
	}
	r.cur = r.b.NewBatch()
	return true
}

func (r *recordReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name of RecordBatch.
func (r *recordReader) Record() arrow.RecordBatch { return r.cur }

func (r *recordReader) Err() error { return r.err }

// readAppendSplit streams an append-only table's bucket: its files in
// sequence order, rows as written (no merging; all are inserts).
func (t *Table) readAppendSplit(ctx context.Context, dir string, sp Split, yield func(*spec.KeyValue, error) bool) {
	for _, f := range bySequence(sp.Files) {
		fileSchema, err := t.schemas.Get(ctx, f.SchemaID)
		if err != nil {
			yield(nil, err)
			return
		}
		req := reader.Request{Dir: dir, File: &f, FileSchema: fileSchema, ReadFields: t.schema.Fields, DV: sp.DVs[f.FileName]}
		for row, err := range reader.ReadAppendRows(ctx, t.fs, req) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&spec.KeyValue{Value: row}, nil) {
				return
			}
		}
	}
}

// bySequence orders an append table's files as they were written.
func bySequence(files []spec.DataFileMeta) []spec.DataFileMeta {
	out := slices.Clone(files)
	slices.SortFunc(out, func(a, b spec.DataFileMeta) int {
		return cmp.Or(cmp.Compare(a.MinSequenceNumber, b.MinSequenceNumber), strings.Compare(a.FileName, b.FileName))
	})
	return out
}
