package table

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// This file is the dedicated compaction job (`strata compact`): it plans
// from the latest snapshot's manifests which buckets have anything to do,
// and opens writers for those buckets only. A table of thousands of
// buckets that are already compacted costs a few manifest reads, not a
// writer (and its index and data reads) per bucket.

// CompactResult reports what Table.Compact did.
type CompactResult struct {
	// Snapshot is the COMPACT snapshot committed; 0 when nothing needed
	// compaction.
	Snapshot int64
	// Buckets counts the buckets with live files; Compacted those that
	// needed a compaction and were compacted.
	Buckets, Compacted int
	// FilesBefore and FilesAfter count the files replaced and written.
	FilesBefore, FilesAfter int
	// Expired is what the expiration after the commit removed; ExpireErr
	// why it failed (see CommitResult).
	Expired   ExpireResult
	ExpireErr error
}

// Compact compacts the table as a dedicated compaction job does and commits
// the result as one COMPACT snapshot of commitUser (BatchCommitIdentifier).
// With full, every bucket is merged into one sorted run at the highest
// level; without, each bucket compacts what the table's compaction strategy
// picks. Buckets with nothing to do are recognised from the latest
// snapshot's manifests and never opened. progress, when set, is called
// after each compacted bucket with the number of buckets to compact.
//
// A write-only table (write-only=true: its writers never compact) is
// compacted all the same: this is the dedicated job such writers leave
// compaction to, as with Paimon's compaction action.
func (t *Table) Compact(ctx context.Context, full bool, commitUser string, progress func(done, total int)) (CompactResult, error) {
	var res CompactResult
	t, err := t.compactor()
	if err != nil {
		return res, err
	}
	todo, buckets, err := t.planCompaction(ctx, full)
	if err != nil || len(todo) == 0 {
		res.Buckets = buckets
		return res, err
	}
	res.Buckets = buckets
	w, err := t.NewWrite(ctx)
	if err != nil {
		return res, err
	}
	defer w.Close()
	if res.Compacted, err = w.compactBuckets(ctx, full, todo, progress); err != nil {
		return res, err
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return res, err
	}
	for _, m := range msgs {
		res.FilesBefore += len(m.CompactBefore)
		res.FilesAfter += len(m.CompactAfter)
	}
	cres, err := t.NewCommit(commitUser).CommitSteps(ctx, BatchCommitIdentifier, msgs)
	res.Snapshot, res.Expired, res.ExpireErr = cres.Last(), cres.Expired, cres.ExpireErr
	return res, err
}

// compactor is t as the dedicated compaction job writes it: with
// write-only off, so that its writers compact.
func (t *Table) compactor() (*Table, error) {
	if !t.opts.WriteOnly {
		return t, nil
	}
	opts := t.opts
	opts.WriteOnly = false
	return newTable(t.fs, t.path, t.schemas, t.schema, opts)
}

// planCompaction returns the buckets (as splitKeys, sorted) of the latest
// snapshot that a compaction would change, and the number of buckets with
// live files. It reads the snapshot's manifests and index manifest only.
func (t *Table) planCompaction(ctx context.Context, full bool) ([]string, int, error) {
	snap, err := t.snapshots.Latest(ctx)
	if err != nil || snap == nil {
		return nil, 0, err
	}
	files, err := t.liveFiles(ctx, snap)
	if err != nil {
		return nil, 0, err
	}
	byBucket := map[string][]spec.DataFileMeta{}
	for _, e := range files {
		k := splitKey(e.Partition, e.Bucket)
		byBucket[k] = append(byBucket[k], e.File)
	}
	if len(byBucket) > 0 && t.appendOnly() {
		return nil, 0, fmt.Errorf("%w: compacting append-only tables", ErrUnsupported)
	}
	deleted, err := t.filesWithDeletions(ctx, snap)
	if err != nil {
		return nil, 0, err
	}
	// A writer that full-compacts at every commit does so here too.
	full = full || t.fullCompactsEachCommit()
	var todo []string
	for k, metas := range byBucket {
		need, err := t.bucketNeedsCompaction(metas, deleted[k], full)
		if err != nil {
			return nil, 0, fmt.Errorf("plan compaction: %w", err)
		}
		if need {
			todo = append(todo, k)
		}
	}
	slices.Sort(todo)
	return todo, len(byBucket), nil
}

// filesWithDeletions maps each bucket (splitKey) to the data files its
// deletion vectors may delete rows of, from the index manifest alone: a
// vector whose cardinality is unknown counts as deleting.
func (t *Table) filesWithDeletions(ctx context.Context, snap *spec.Snapshot) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	if !t.opts.DeletionVectorsEnabled || snap.IndexManifest == nil {
		return out, nil
	}
	entries, err := t.manifests.ReadIndexManifest(ctx, *snap.IndexManifest)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Kind != spec.FileKindAdd || e.IndexType != spec.DVIndexType {
			continue
		}
		k := splitKey(e.Partition, e.Bucket)
		for _, m := range e.DVRanges {
			if m == nil || m.Cardinality != nil && *m.Cardinality == 0 {
				continue
			}
			if out[k] == nil {
				out[k] = map[string]bool{}
			}
			out[k][m.DataFile] = true
		}
	}
	return out, nil
}

// bucketNeedsCompaction reports whether a bucket of these files would
// change under a (full) compaction: the pick its writer's compaction
// manager would make, on the same levels, is not empty.
func (t *Table) bucketNeedsCompaction(metas []spec.DataFileMeta, deleted map[string]bool, full bool) (bool, error) {
	files := make([]*lsm.File, 0, len(metas))
	for _, m := range metas {
		f, err := lsm.NewFile(m, t.layout.KeyTypes())
		if err != nil {
			return false, err
		}
		files = append(files, f)
	}
	levels, err := lsm.NewLevels(files, t.opts.NumLevels)
	if err != nil {
		return false, err
	}
	runs := levels.SortedRuns()
	var unit *compaction.Unit
	if full {
		unit = compaction.PickFull(levels.NumberOfLevels(), runs, func(f *lsm.File) bool { return deleted[f.Meta.FileName] })
	} else {
		unit = t.compactStrategy().Pick(levels.NumberOfLevels(), runs)
	}
	switch {
	case unit == nil || len(unit.Files) == 0:
		return false, nil
	case len(unit.Files) == 1 && unit.Files[0].Level() == unit.OutputLevel && !unit.FileRewrite:
		return false, nil // what compaction.Manager.Trigger skips
	}
	return true, nil
}

// fullCompactsEachCommit reports whether the table's writers run a full
// compaction at every commit (Write.fullCompactionDue on a first commit).
func (t *Table) fullCompactsEachCommit() bool {
	if t.opts.WriteOnly {
		return false
	}
	if d := t.opts.FullCompactionDeltaCommits; d != nil && *d > 0 {
		return *d == 1
	}
	return t.opts.ChangelogProducer == spec.ChangelogProducerFullCompaction
}

// compactBuckets compacts the given buckets (splitKeys) of the writer's
// snapshot and waits, calling progress after each; buckets gone since they
// were planned are skipped. It returns the number compacted.
func (w *Write) compactBuckets(ctx context.Context, full bool, keys []string, progress func(done, total int)) (int, error) {
	n := 0
	for i, k := range keys {
		rb, ok := w.restoredParts[k]
		if ok {
			bw, err := w.bucketWriter(ctx, rb.partition, rb.bucket)
			if err != nil {
				return n, err
			}
			if err := bw.compact(ctx, full); err != nil {
				return n, fmt.Errorf("bucket %d: %w", bw.bucket, err)
			}
			n++
		}
		if progress != nil {
			progress(i+1, len(keys))
		}
	}
	return n, nil
}
