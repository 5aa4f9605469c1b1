package mergetree

import (
	"context"
	"iter"
	"path"
	"slices"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// Increment is what a writer changed since its last PrepareCommit
// (Paimon's CommitIncrement).
type Increment struct {
	// NewFiles are level-0 files from flushes (the APPEND snapshot).
	NewFiles []spec.DataFileMeta
	// NewChangelog are changelog files of flushes (input producer).
	NewChangelog []spec.DataFileMeta
	// CompactBefore and CompactAfter are the files compactions removed
	// and added (the COMPACT snapshot); an upgrade appears in both under
	// the same name at two levels.
	CompactBefore []spec.DataFileMeta
	CompactAfter  []spec.DataFileMeta
	// CompactChangelog are changelog files of compactions (lookup and
	// full-compaction producers).
	CompactChangelog []spec.DataFileMeta
	// IndexFiles hold the deletion-vector index file written for changed
	// deletion vectors.
	IndexFiles []spec.IndexManifestEntry
}

// flush writes the buffer as level-0 files, collects a finished compaction
// (waiting for it when asked or when the tree has too many runs) and
// triggers the next one.
func (w *Writer) flush(ctx context.Context, waitForLatest, forceFull bool) error {
	if w.cbuf != nil && !w.cbuf.Empty() {
		if w.manager != nil && w.manager.ShouldWait() {
			waitForLatest = true
		}
		// A failed flush drops the buffer: the write cannot be committed.
		metas, err := w.fw.WriteBatches(ctx, lsm.Prefetch(w.cbuf.Deduplicated(), 2), 0, spec.FileSourceAppend)
		w.cbuf.Reset()
		if err != nil {
			return err
		}
		if err := w.addLevel0(metas); err != nil {
			return err
		}
	} else if w.buf != nil && !w.buf.Empty() {
		if w.manager != nil && w.manager.ShouldWait() {
			waitForLatest = true
		}
		// Both streams read the (possibly spilled) buffer from disk as
		// they go: memory stays bounded by the write buffer. A failed
		// flush drops the buffer: the write cannot be committed anyway.
		defer w.buf.Reset()
		if w.o.AppendOnly {
			return w.writeLevel0(ctx, w.buf.Arrival())
		}
		mf, err := w.o.NewMerge()
		if err != nil {
			return err
		}
		if w.changelog != nil && w.o.ChangelogProducer == spec.ChangelogProducerInput {
			metas, err := w.changelog.WriteSeq(ctx, w.buf.Input(w.o.Ordering), 0, spec.FileSourceAppend)
			if err != nil {
				return err
			}
			w.newChangelog = append(w.newChangelog, metas...)
		}
		if err := w.writeLevel0(ctx, w.buf.Merged(mf, w.o.Ordering)); err != nil {
			return err
		}
	}
	if w.manager == nil {
		return nil
	}
	if err := w.syncCompaction(ctx, waitForLatest || forceFull); err != nil {
		return err
	}
	_, err := w.manager.Trigger(ctx, forceFull)
	return err
}

// writeLevel0 writes flushed records as level-0 files of the bucket.
func (w *Writer) writeLevel0(ctx context.Context, kvs iter.Seq2[*spec.KeyValue, error]) error {
	metas, err := w.fw.WriteSeq(ctx, kvs, 0, spec.FileSourceAppend)
	if err != nil {
		return err
	}
	return w.addLevel0(metas)
}

// addLevel0 adds flushed files to the bucket's level 0.
func (w *Writer) addLevel0(metas []spec.DataFileMeta) error {
	for _, m := range metas {
		f, err := lsm.NewFile(m, w.o.Layout.KeyTypes())
		if err != nil {
			return err
		}
		w.newFiles = append(w.newFiles, m)
		w.levels.AddLevel0(f)
	}
	faultpoint.Hit(faultpoint.FlushWritten)
	return nil
}

// syncCompaction collects the running compaction's result, if finished (or
// always, when blocking).
func (w *Writer) syncCompaction(ctx context.Context, block bool) error {
	res, err := w.manager.Result(block)
	if err != nil {
		if w.dv != nil {
			w.dv.DiscardStaged()
		}
		return err
	}
	if res == nil {
		return nil
	}
	if w.dv != nil {
		if err := w.dv.ApplyStaged(); err != nil {
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
	if w.dv != nil {
		w.dv.Remove(rewritten)
	}
	if w.lookup != nil {
		w.lookup.Forget(rewritten) // upgraded files keep their lookup file
	}
	w.compactChangelog = append(w.compactChangelog, res.Changelog...)
	for _, f := range res.Before {
		if i := indexOfFile(w.compactAfter, f.Meta); i >= 0 {
			// An intermediate file of this uncommitted round: forget it,
			// and delete it unless it lives on under a new level or is an
			// upgrade of a file committed (or about to be, by the APPEND
			// step, which may land without the COMPACT one) at its old
			// level.
			w.compactAfter = append(w.compactAfter[:i], w.compactAfter[i+1:]...)
			if !afterNames[f.Meta.FileName] && !w.upgradedFile(f.Meta.FileName) {
				_ = w.o.FS.Delete(ctx, path.Join(w.o.Dir, f.Meta.FileName))
			}
			continue
		}
		w.compactBefore = append(w.compactBefore, f.Meta)
	}
	for _, f := range res.After {
		w.compactAfter = append(w.compactAfter, f.Meta)
	}
	return nil
}

// upgradedFile reports whether name is one of this round's new files or of
// the files its compactions replaced: an intermediate file of that name is
// the same file moved to another level, not one the compactions wrote.
func (w *Writer) upgradedFile(name string) bool {
	for _, fs := range [][]spec.DataFileMeta{w.newFiles, w.compactBefore} {
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

// PrepareCommit flushes the buffer, collects the running compaction
// (waiting for it when waitCompaction is set or the tree has more sorted
// runs than the stop trigger allows), writes changed deletion vectors
// through Options.WriteDVIndex, and hands over what the bucket changed
// since the last commit.
func (w *Writer) PrepareCommit(ctx context.Context, waitCompaction bool) (Increment, error) {
	if err := w.flush(ctx, waitCompaction, false); err != nil {
		return Increment{}, err
	}
	if w.manager != nil {
		if w.levels.NumberOfSortedRuns() > w.o.StopTrigger+1 {
			waitCompaction = true
		}
		if err := w.syncCompaction(ctx, waitCompaction); err != nil {
			return Increment{}, err
		}
	}
	inc := Increment{NewFiles: w.newFiles, NewChangelog: w.newChangelog,
		CompactBefore: w.compactBefore, CompactAfter: w.compactAfter, CompactChangelog: w.compactChangelog}
	if w.dv != nil {
		if entries, changed := w.dv.TakeChanged(); changed {
			idx, err := w.o.WriteDVIndex(ctx, entries)
			if err != nil {
				return Increment{}, err
			}
			inc.IndexFiles = append(inc.IndexFiles, idx)
		}
	}
	w.newFiles, w.newChangelog, w.compactBefore, w.compactAfter, w.compactChangelog = nil, nil, nil, nil, nil
	return inc, nil
}

// Compact runs a compaction now (full, or as the strategy picks) and waits
// for it.
func (w *Writer) Compact(ctx context.Context, full bool) error {
	if w.manager == nil {
		return errNoCompaction
	}
	if err := w.flush(ctx, true, false); err != nil {
		return err
	}
	if err := w.syncCompaction(ctx, true); err != nil {
		return err
	}
	if _, err := w.manager.Trigger(ctx, full); err != nil {
		return err
	}
	return w.syncCompaction(ctx, true)
}
