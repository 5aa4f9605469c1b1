package table

import (
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/mergetree"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
)

// bucketWriter is one partition-bucket's merge-tree writer with what the
// table adds to it: where it sits and, for dynamic buckets, the key hashes
// it holds (the bucket's HASH index).
type bucketWriter struct {
	tree      *mergetree.Writer
	t         *Table
	partition []byte // serialized partition BinaryRow
	bucket    int32
	hashes    *hashSet // dynamic buckets: the bucket's key hashes
}

func (t *Table) newBucketWriter(partition []byte, bucket int32, restored []spec.DataFileMeta, dvs map[string]*spec.DeletionVector, cache *lookupfile.Cache, slots compaction.Slots, spiller *lsm.Spiller) (*bucketWriter, error) {
	pp, err := t.partitionPath(partition)
	if err != nil {
		return nil, err
	}
	dir := t.bucketDir(pp, bucket)
	o := t.mergeTreeOptions()
	o.Dir, o.Files, o.Restored, o.RestoredDVs = dir, bucketFiles{t: t, dir: dir}, restored, dvs
	o.LookupCache, o.Slots, o.Spiller = cache, slots, spiller
	o.WriteDVIndex = func(ctx context.Context, entries []spec.DVIndexEntry) (spec.IndexManifestEntry, error) {
		return t.writeDVIndex(ctx, partition, bucket, entries)
	}
	tree, err := mergetree.New(o)
	if err != nil {
		return nil, fmt.Errorf("bucket %d: %w", bucket, err)
	}
	return &bucketWriter{tree: tree, t: t, partition: partition, bucket: bucket}, nil
}

// mergeTreeOptions are the table's settings for its buckets' writers, less
// what differs by bucket.
func (t *Table) mergeTreeOptions() mergetree.Options {
	o := t.opts
	mt := mergetree.Options{
		FS: t.fs, Layout: t.layout,
		DataFilePrefix: o.DataFilePrefix, ChangelogFilePrefix: o.ChangelogFilePrefix,
		TargetFileSize: o.TargetFileSizeBytes(true), NumLevels: o.NumLevels,
		AppendOnly: t.appendOnly(), NewMerge: t.newMergeFunction, Ordering: t.ordering, Columnar: t.columnar(),
		WriteOnly: o.WriteOnly, Strategy: t.compactStrategy(), StopTrigger: o.NumSortedRunStopTrigger,
		ChangelogProducer:     o.ChangelogProducer,
		RowDedup:              o.ChangelogRowDeduplicate,
		DedupIgnore:           t.dedupIgnore,
		FirstRow:              o.MergeEngine == spec.MergeEngineFirstRow,
		UpgradeWithoutRewrite: o.MergeEngine == spec.MergeEngineDeduplicate && len(o.SequenceField) == 0,
		NeedLookup:            t.needLookup(),
	}
	if t.mergeFn != nil {
		mt.NewBareMerge = func() (lsm.MergeFunction, error) { return t.mergeFn.Create(), nil }
	}
	if o.DeletionVectorsEnabled {
		mt.DeletionVectors = spec.DVBitmap32
		if o.DeletionVectorsBitmap64 {
			mt.DeletionVectors = spec.DVBitmap64
		}
	}
	return mt
}

// prepareCommit flushes and hands over what this bucket changed since the
// last commit. The bucket's HASH index goes first: should the flush fail,
// the index is written again at the next attempt and the files flushed so
// far stay with the writer.
func (bw *bucketWriter) prepareCommit(ctx context.Context, waitCompaction bool) (CommitMessage, error) {
	var indexFiles []spec.IndexManifestEntry
	if bw.hashes != nil && bw.hashes.grown {
		idx, err := bw.t.writeHashIndex(ctx, bw.partition, bw.bucket, bw.hashes.order)
		if err != nil {
			return CommitMessage{}, err
		}
		indexFiles = append(indexFiles, idx)
	}
	inc, err := bw.tree.PrepareCommit(ctx, waitCompaction)
	if err != nil {
		return CommitMessage{}, err
	}
	if len(indexFiles) > 0 {
		bw.hashes.grown = false
	}
	return CommitMessage{Partition: bw.partition, Bucket: bw.bucket, TotalBuckets: int32(bw.t.opts.Bucket),
		NewFiles: inc.NewFiles, NewChangelog: inc.NewChangelog,
		CompactBefore: inc.CompactBefore, CompactAfter: inc.CompactAfter, CompactChangelog: inc.CompactChangelog,
		NewIndexFiles: append(indexFiles, inc.IndexFiles...)}, nil
}

// compact runs a compaction now (full, or as the strategy picks) and waits
// for it.
func (bw *bucketWriter) compact(ctx context.Context, full bool) error {
	if !bw.tree.Compacts() {
		return fmt.Errorf("%w: compacting a write-only writer", ErrUnsupported)
	}
	return bw.tree.Compact(ctx, full)
}

// bucketFiles reads one bucket's data files for its writer.
type bucketFiles struct {
	t   *Table
	dir string
}

// Records streams a file's records with their positions (FileReader).
func (f bucketFiles) Records(ctx context.Context, meta spec.DataFileMeta, dv *spec.DeletionVector) lsm.PositionedRun {
	return f.t.openPositioned(ctx, f.dir, meta, dv)
}

// Batches streams a file's records as batches (FileReader).
func (f bucketFiles) Batches(ctx context.Context, meta spec.DataFileMeta) lsm.BatchRun {
	return f.t.openBatches(ctx, f.dir, meta)
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
		// Small batches, pages read as needed: a compaction holds a few
		// batches of each of its runs, not their column chunks whole.
		req := reader.BatchRequest{Request: reader.Request{Dir: dir, File: &meta, FileSchema: fileSchema, ReadFields: t.schema.Fields},
			System: true, BatchRows: compactBatchRows, Streamed: true}
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
	return lsm.DropPositions(t.openPositioned(ctx, dir, meta, dv))
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
