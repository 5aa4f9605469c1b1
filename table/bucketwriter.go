package table

import (
	"context"
	"fmt"
	"iter"
	"path"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
)

// bucketWriter is one bucket's LSM writer (Paimon's MergeTreeWriter): a
// write buffer flushed into level-0 files, and a compaction manager that
// keeps the number of sorted runs bounded in the background.
type bucketWriter struct {
	t         *Table
	partition []byte // serialized partition BinaryRow
	bucket    int32
	dir       string
	buf       *lsm.Buffer      // nil when cbuf is set
	cbuf      *lsm.BatchBuffer // columnar tables (Table.columnar)
	fw        *lsm.FileWriter
	levels    *lsm.Levels
	manager   *compaction.Manager // nil for write-only writers

	hashes    *hashSet // dynamic buckets: the bucket's key hashes
	lookup    *lsm.LookupLevels
	dv        *lsm.DVMaintainer
	changelog *lsm.FileWriter // changelog files, when a producer is set

	newFiles         []spec.DataFileMeta
	newChangelog     []spec.DataFileMeta
	compactBefore    []spec.DataFileMeta
	compactAfter     []spec.DataFileMeta
	compactChangelog []spec.DataFileMeta
}

func (t *Table) newBucketWriter(partition []byte, bucket int32, restored []spec.DataFileMeta, dvs map[string]*spec.DeletionVector, cache *lookupfile.Cache, slots compaction.Slots) (*bucketWriter, error) {
	pp, err := t.partitionPath(partition)
	if err != nil {
		return nil, err
	}
	dir := t.bucketDir(pp, bucket)
	nextSeq := int64(0)
	files := make([]*lsm.File, 0, len(restored))
	for _, m := range restored {
		nextSeq = max(nextSeq, m.MaxSequenceNumber+1)
		f, err := lsm.NewFile(m, t.layout.KeyTypes())
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	levels, err := lsm.NewLevels(files, t.opts.NumLevels)
	if err != nil {
		return nil, fmt.Errorf("bucket %d: %w", bucket, err)
	}
	bw := &bucketWriter{t: t, partition: partition, bucket: bucket, dir: dir, levels: levels,
		fw: lsm.NewFileWriter(t.fs, dir, t.opts.DataFilePrefix, t.layout, t.opts.TargetFileSizeBytes(true))}
	if err := bw.newBuffer(nextSeq); err != nil {
		return nil, err
	}
	if t.opts.ChangelogProducer != spec.ChangelogProducerNone {
		bw.changelog = lsm.NewFileWriter(t.fs, dir, t.opts.ChangelogFilePrefix, t.layout, t.opts.TargetFileSizeBytes(true))
	}
	if t.opts.DeletionVectorsEnabled {
		kind := spec.DVBitmap32
		if t.opts.DeletionVectorsBitmap64 {
			kind = spec.DVBitmap64
		}
		bw.dv = lsm.NewDVMaintainer(kind, dvs)
	}
	if t.needLookup() && !t.opts.WriteOnly { // write-only writers never compact
		if cache == nil {
			return nil, fmt.Errorf("bucket %d: a lookup table's writer needs a lookup cache", bucket)
		}
		// Lookup files are built without deletion vectors: LookupLevels
		// checks positions against the current ones.
		files := lsm.NewFileLookup(cache, t.layout.KeyTypes(), fieldTypes(t.schema.Fields),
			func(ctx context.Context, f *lsm.File) lsm.PositionedRun {
				return t.openPositioned(ctx, dir, f.Meta, nil)
			})
		bw.lookup = lsm.NewLookupLevels(levels, files, bw.dv)
	}
	if !t.opts.WriteOnly && !t.appendOnly() {
		bw.manager = compaction.NewManager(levels, t.rewriter(bw), compaction.ManagerOptions{
			Strategy:        t.compactStrategy(),
			SmallFileSize:   int64(float64(t.opts.TargetFileSizeBytes(true)) * t.smallFileRatio()),
			StopTrigger:     t.opts.NumSortedRunStopTrigger,
			DeletionVectors: t.opts.DeletionVectorsEnabled,
			Slots:           slots,
			NeedsRewrite: func(f *lsm.File) bool {
				dv := bw.dvOf(f.Meta.FileName)
				return dv != nil && !dv.IsEmpty()
			},
		})
	}
	return bw, nil
}

// newBuffer gives the writer an empty write buffer whose first record gets
// sequence number nextSeq.
func (bw *bucketWriter) newBuffer(nextSeq int64) error {
	if bw.cbuf != nil {
		bw.cbuf.Release()
	}
	if !bw.t.columnar() {
		bw.buf = lsm.NewBuffer(nextSeq)
		return nil
	}
	var err error
	bw.cbuf, err = lsm.NewBatchBuffer(memory.DefaultAllocator, bw.t.schema.Fields, bw.t.layout.KeyIndex, nextSeq)
	return err
}

// bufferBytes is the memory the write buffer holds.
func (bw *bucketWriter) bufferBytes() int64 {
	if bw.cbuf != nil {
		return bw.cbuf.Bytes()
	}
	return bw.buf.Bytes()
}

// columnar reports whether the table's writes and compactions run column by
// column: a primary-key table whose records merge as plain deduplication
// (no sequence.field, rowkind.field or ignore-delete) and that needs
// neither lookups nor a changelog producer. Other tables merge record by
// record.
func (t *Table) columnar() bool {
	o := t.opts
	return !t.appendOnly() && o.MergeEngine == spec.MergeEngineDeduplicate && len(o.SequenceField) == 0 &&
		!o.IgnoreDelete && o.RowKindField == nil && o.ChangelogProducer == spec.ChangelogProducerNone && !t.needLookup() &&
		!slices.ContainsFunc(t.schema.Fields, func(f spec.DataField) bool { return hasNanos(f.Type) })
}

// hasNanos reports whether t holds a TIMESTAMP of precision 7 to 9, whose
// years beyond 1677-2262 Arrow's nanoseconds cannot hold (columnar buffers
// hold values as Arrow does).
func hasNanos(t spec.DataType) bool {
	switch {
	case (t.Root == spec.TypeTimestamp || t.Root == spec.TypeTimestampLTZ) && t.Precision > 6:
		return true
	case t.Elem != nil && hasNanos(*t.Elem), t.Key != nil && hasNanos(*t.Key), t.Value != nil && hasNanos(*t.Value):
		return true
	}
	return slices.ContainsFunc(t.Fields, func(f spec.DataField) bool { return hasNanos(f.Type) })
}

func (t *Table) smallFileRatio() float64 { return 0.7 }

// needLookup is Paimon's LookupStrategy.needLookup: these tables must not
// keep data in level 0 for long.
func (t *Table) needLookup() bool {
	return t.opts.ChangelogProducer == spec.ChangelogProducerLookup || t.opts.DeletionVectorsEnabled ||
		t.opts.MergeEngine == spec.MergeEngineFirstRow
}

func (t *Table) compactStrategy() compaction.Strategy {
	u := compaction.Universal{MaxSizeAmp: t.opts.CompactionMaxSizeAmpPercent, SizeRatio: t.opts.CompactionSizeRatio,
		Trigger: t.opts.NumSortedRunCompactTrigger}
	if t.needLookup() || t.opts.CompactionForceUpLevel0 {
		return &compaction.ForceUpLevel0{Universal: u}
	}
	return u
}

func (bw *bucketWriter) dvOf(file string) *spec.DeletionVector {
	if bw.dv == nil {
		return nil
	}
	return bw.dv.Get(file)
}

// rewriter reads and writes a bucket's files for compaction.
func (t *Table) rewriter(bw *bucketWriter) *lsm.Rewriter {
	compactWriter := lsm.NewFileWriter(t.fs, bw.dir, t.opts.DataFilePrefix, t.layout, t.opts.TargetFileSizeBytes(true))
	rw := &lsm.Rewriter{
		Writer:   compactWriter,
		KeyTypes: t.layout.KeyTypes(),
		Open: func(ctx context.Context, f *lsm.File) lsm.Run {
			return t.openFile(ctx, bw.dir, f.Meta, bw.dvOf(f.Meta.FileName))
		},
		NewMerge:              t.newMergeFunction,
		Ordering:              t.ordering,
		MaxLevel:              bw.levels.MaxLevel(),
		Lookup:                bw.lookup,
		DV:                    bw.dv,
		ChangelogWriter:       bw.changelog,
		RowDedup:              t.opts.ChangelogRowDeduplicate,
		FirstRow:              t.opts.MergeEngine == spec.MergeEngineFirstRow,
		UpgradeWithoutRewrite: t.opts.MergeEngine == spec.MergeEngineDeduplicate && len(t.opts.SequenceField) == 0,
	}
	if t.columnar() {
		rw.Mem = memory.DefaultAllocator
		rw.OpenBatches = func(ctx context.Context, f *lsm.File) lsm.BatchRun {
			return t.openBatches(ctx, bw.dir, f.Meta)
		}
	}
	switch t.opts.ChangelogProducer {
	case spec.ChangelogProducerLookup:
		rw.Changelog = lsm.ChangelogLookup
	case spec.ChangelogProducerFullCompaction:
		rw.Changelog = lsm.ChangelogFullCompaction
	}
	return rw
}

// newMergeFunction returns the table's merge function wrapped as Java's
// ReducerMergeFunctionWrapper (a key's only record passes through).
func (t *Table) newMergeFunction() (lsm.MergeFunction, error) {
	if t.mergeFn == nil {
		return nil, fmt.Errorf("%w: tables without a primary key", ErrUnsupported)
	}
	return lsm.NewReducer(t.mergeFn.Create()), nil
}

// openPositioned streams a file's records with row positions, skipping
// those dv marks deleted.
func (t *Table) openPositioned(ctx context.Context, dir string, meta spec.DataFileMeta, dv *spec.DeletionVector) lsm.PositionedRun {
	return func(yield func(spec.PositionedKV, error) bool) {
		fileSchema, err := t.schemas.Get(ctx, meta.SchemaID)
		if err != nil {
			yield(spec.PositionedKV{}, err)
			return
		}
		req := reader.Request{Dir: dir, File: &meta, FileSchema: fileSchema, ReadFields: t.schema.Fields, KeyIndex: t.layout.KeyIndex, DV: dv}
		reader.ReadPositioned(ctx, t.fs, req)(yield)
	}
}

// compactBatchRows is the size of the batches compactions read.
const compactBatchRows = 4096

// openBatches streams a data file's records as BatchRun batches, read in
// the table's latest schema.
func (t *Table) openBatches(ctx context.Context, dir string, meta spec.DataFileMeta) lsm.BatchRun {
	return func(yield func(arrow.RecordBatch, error) bool) {
		fileSchema, err := t.schemas.Get(ctx, meta.SchemaID)
		if err != nil {
			yield(nil, err)
			return
		}
		// Small batches: a compaction holds a few of each of its runs.
		req := reader.BatchRequest{Request: reader.Request{Dir: dir, File: &meta, FileSchema: fileSchema, ReadFields: t.schema.Fields},
			System: true, BatchRows: compactBatchRows}
		for rec, err := range reader.ReadBatches(ctx, t.fs, req) {
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// openFile streams one data file's records, read in the table's latest
// schema, skipping rows dv marks deleted.
func (t *Table) openFile(ctx context.Context, dir string, meta spec.DataFileMeta, dv *spec.DeletionVector) lsm.Run {
	return func(yield func(*spec.KeyValue, error) bool) {
		for p, err := range t.openPositioned(ctx, dir, meta, dv) {
			if !yield(p.KV, err) || err != nil {
				return
			}
		}
	}
}

// flush writes the buffer as level-0 files, collects a finished compaction
// (waiting for it when asked or when the tree has too many runs) and
// triggers the next one.
func (bw *bucketWriter) flush(ctx context.Context, waitForLatest, forceFull bool) error {
	if bw.cbuf != nil && !bw.cbuf.Empty() {
		if bw.manager != nil && bw.manager.ShouldWait() {
			waitForLatest = true
		}
		// A failed flush drops the buffer: the write cannot be committed.
		metas, err := bw.fw.WriteBatches(ctx, lsm.Prefetch(bw.cbuf.Deduplicated(), 2), 0, spec.FileSourceAppend)
		bw.cbuf.Reset()
		if err != nil {
			return err
		}
		if err := bw.addLevel0(metas); err != nil {
			return err
		}
	} else if bw.buf != nil && !bw.buf.Empty() {
		if bw.manager != nil && bw.manager.ShouldWait() {
			waitForLatest = true
		}
		defer bw.buf.Reset()
		if bw.t.appendOnly() {
			return bw.writeLevel0(ctx, bw.buf.Arrival())
		}
		mf, err := bw.t.newMergeFunction()
		if err != nil {
			return err
		}
		// Both streams read the (possibly spilled) buffer from disk as
		// they go: memory stays bounded by the write buffer. A failed
		// flush drops the buffer: the write cannot be committed anyway.
		defer bw.buf.Reset()
		if bw.changelog != nil && bw.t.opts.ChangelogProducer == spec.ChangelogProducerInput {
			metas, err := bw.changelog.WriteSeq(ctx, bw.buf.Input(bw.t.ordering), 0, spec.FileSourceAppend)
			if err != nil {
				return err
			}
			bw.newChangelog = append(bw.newChangelog, metas...)
		}
		if err := bw.writeLevel0(ctx, bw.buf.Merged(mf, bw.t.ordering)); err != nil {
			return err
		}
	}
	if bw.manager == nil {
		return nil
	}
	if err := bw.syncCompaction(ctx, waitForLatest || forceFull); err != nil {
		return err
	}
	_, err := bw.manager.Trigger(ctx, forceFull)
	return err
}

// syncCompaction collects the running compaction's result, if finished (or
// always, when blocking).
func (bw *bucketWriter) syncCompaction(ctx context.Context, block bool) error {
	res, err := bw.manager.Result(block)
	if err != nil {
		if bw.dv != nil {
			bw.dv.DiscardStaged()
		}
		return err
	}
	if res == nil {
		return nil
	}
	if bw.dv != nil {
		if err := bw.dv.ApplyStaged(); err != nil {
			return err
		}
	}
	afterNames := map[string]bool{}
	for _, f := range res.After {
		afterNames[f.Meta.FileName] = true
	}
	var rewritten []*lsm.File
	for _, f := range res.Before {
		if !afterNames[f.Meta.FileName] {
			rewritten = append(rewritten, f)
		}
	}
	if bw.dv != nil {
		bw.dv.Remove(rewritten)
	}
	if bw.lookup != nil {
		bw.lookup.Forget(rewritten) // upgraded files keep their lookup file
	}
	bw.compactChangelog = append(bw.compactChangelog, res.Changelog...)
	for _, f := range res.Before {
		if i := indexOfFile(bw.compactAfter, f.Meta); i >= 0 {
			// An intermediate file of this uncommitted round: forget it,
			// and delete it unless it lives on under a new level or is an
			// upgrade of a file committed (or about to be, by the APPEND
			// step, which may land without the COMPACT one) at its old
			// level.
			bw.compactAfter = append(bw.compactAfter[:i], bw.compactAfter[i+1:]...)
			if !afterNames[f.Meta.FileName] && !bw.upgradedFile(f.Meta.FileName) {
				_ = bw.t.fs.Delete(ctx, path.Join(bw.dir, f.Meta.FileName))
			}
			continue
		}
		bw.compactBefore = append(bw.compactBefore, f.Meta)
	}
	for _, f := range res.After {
		bw.compactAfter = append(bw.compactAfter, f.Meta)
	}
	return nil
}

// upgradedFile reports whether name is one of this round's new files or of
// the files its compactions replaced: an intermediate file of that name is
// the same file moved to another level, not one the compactions wrote.
func (bw *bucketWriter) upgradedFile(name string) bool {
	for _, fs := range [][]spec.DataFileMeta{bw.newFiles, bw.compactBefore} {
		if slices.ContainsFunc(fs, func(m spec.DataFileMeta) bool { return m.FileName == name }) {
			return true
		}
	}
	return false
}

func indexOfFile(fs []spec.DataFileMeta, m spec.DataFileMeta) int {
	for i, f := range fs {
		if f.FileName == m.FileName && f.Level == m.Level {
			return i
		}
	}
	return -1
}

// prepareCommit flushes and hands over what this bucket changed since the
// last commit.
func (bw *bucketWriter) prepareCommit(ctx context.Context, waitCompaction bool) (CommitMessage, error) {
	if err := bw.flush(ctx, waitCompaction, false); err != nil {
		return CommitMessage{}, err
	}
	if bw.manager != nil {
		if bw.levels.NumberOfSortedRuns() > bw.t.opts.NumSortedRunStopTrigger+1 {
			waitCompaction = true
		}
		if err := bw.syncCompaction(ctx, waitCompaction); err != nil {
			return CommitMessage{}, err
		}
	}
	msg := CommitMessage{Partition: bw.partition, Bucket: bw.bucket, TotalBuckets: int32(bw.t.opts.Bucket),
		NewFiles: bw.newFiles, NewChangelog: bw.newChangelog,
		CompactBefore: bw.compactBefore, CompactAfter: bw.compactAfter, CompactChangelog: bw.compactChangelog}
	if bw.hashes != nil && bw.hashes.grown {
		idx, err := bw.t.writeHashIndex(ctx, msg.Partition, bw.bucket, bw.hashes.order)
		if err != nil {
			return CommitMessage{}, err
		}
		msg.NewIndexFiles = append(msg.NewIndexFiles, idx)
		bw.hashes.grown = false
	}
	if bw.dv != nil {
		if entries, changed := bw.dv.TakeChanged(); changed {
			idx, err := bw.t.writeDVIndex(ctx, msg.Partition, bw.bucket, entries)
			if err != nil {
				return CommitMessage{}, err
			}
			msg.NewIndexFiles = append(msg.NewIndexFiles, idx)
		}
	}
	bw.newFiles, bw.newChangelog, bw.compactBefore, bw.compactAfter, bw.compactChangelog = nil, nil, nil, nil, nil
	return msg, nil
}

// compact runs a compaction now (full, or as the strategy picks) and waits
// for it.
func (bw *bucketWriter) compact(ctx context.Context, full bool) error {
	if bw.manager == nil {
		return fmt.Errorf("%w: compacting a write-only writer", ErrUnsupported)
	}
	if err := bw.flush(ctx, true, false); err != nil {
		return err
	}
	if err := bw.syncCompaction(ctx, true); err != nil {
		return err
	}
	if _, err := bw.manager.Trigger(ctx, full); err != nil {
		return err
	}
	return bw.syncCompaction(ctx, true)
}

func (bw *bucketWriter) close() {
	if bw.manager != nil {
		bw.manager.Close()
	}
	if bw.cbuf != nil {
		bw.cbuf.Release()
	} else {
		bw.buf.Reset()
	}
	if bw.dv != nil {
		bw.dv.DiscardStaged()
	}
}

// writeDVIndex writes one bucket's deletion vectors as an index file and
// returns its index manifest entry.
func (t *Table) writeDVIndex(ctx context.Context, partition []byte, bucket int32, entries []spec.DVIndexEntry) (spec.IndexManifestEntry, error) {
	data, metas, err := spec.EncodeDVIndexFile(entries)
	if err != nil {
		return spec.IndexManifestEntry{}, err
	}
	name := "index-" + uuid.NewString() + "-0"
	if err := t.fs.Put(ctx, path.Join(t.path, "index", name), data); err != nil {
		return spec.IndexManifestEntry{}, fmt.Errorf("write deletion vectors: %w", err)
	}
	ranges := make([]*spec.DeletionVectorMeta, len(metas))
	for i := range metas {
		ranges[i] = &metas[i]
	}
	return spec.IndexManifestEntry{Kind: spec.FileKindAdd, Partition: partition, Bucket: bucket,
		IndexType: spec.DVIndexType, FileName: name, FileSize: int64(len(data)), RowCount: int64(len(metas)),
		DVRanges: ranges}, nil
}

// writeLevel0 writes flushed records as level-0 files of the bucket.
func (bw *bucketWriter) writeLevel0(ctx context.Context, kvs iter.Seq2[*spec.KeyValue, error]) error {
	metas, err := bw.fw.WriteSeq(ctx, kvs, 0, spec.FileSourceAppend)
	if err != nil {
		return err
	}
	return bw.addLevel0(metas)
}

// addLevel0 adds flushed files to the bucket's level 0.
func (bw *bucketWriter) addLevel0(metas []spec.DataFileMeta) error {
	for _, m := range metas {
		f, err := lsm.NewFile(m, bw.t.layout.KeyTypes())
		if err != nil {
			return err
		}
		bw.newFiles = append(bw.newFiles, m)
		bw.levels.AddLevel0(f)
	}
	return nil
}
