package table

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
)

// Incremental yields the changes of the snapshots after start up to and
// including end (Paimon's incremental-between with its auto scan mode):
// with changelog-producer none the deltas of APPEND snapshots, otherwise
// the changelogs. As in Paimon, start may be one before the earliest
// snapshot (or long-lived changelog) and end at most the latest;
// start == end yields nothing.
func (t *Table) Incremental(ctx context.Context, start, end int64) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		earliest, err := t.streamEarliest(ctx)
		if err != nil {
			yield(Change{}, err)
			return
		}
		latest, err := t.snapshots.LatestID(ctx)
		switch {
		case err != nil:
		case start > end:
			err = fmt.Errorf("%w: incremental read from snapshot %d back to %d", spec.ErrInvalidOption, start, end)
		case start == end:
			return
		case latest == 0:
			err = fmt.Errorf("incremental read (%d, %d] %w: the table has no snapshots yet", start, end, spec.ErrNotFound)
		case start < earliest-1 || end > latest:
			err = fmt.Errorf("incremental read (%d, %d] %w: the table has snapshots %d..%d (the start may be one before the earliest)",
				start, end, spec.ErrNotFound, earliest, latest)
		}
		if err != nil {
			yield(Change{}, err)
			return
		}
		s, _ := t.NewStream(WithStart(FromSnapshot(start+1)), WithEndSnapshot(end))
		for c, err := range s.Changes(ctx) {
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// streamEarliest is the earliest snapshot whose changes can still be read:
// the earliest snapshot, or an earlier long-lived changelog; 0 when the
// table has no snapshots.
func (t *Table) streamEarliest(ctx context.Context) (int64, error) {
	earliest, err := t.snapshots.EarliestID(ctx)
	if err != nil || t.opts.ChangelogProducer == spec.ChangelogProducerNone {
		return earliest, err
	}
	ids, err := t.changelogIDs(ctx)
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 && (earliest == 0 || ids[0] < earliest) {
		return ids[0], nil
	}
	return earliest, nil
}

// startingPoint resolves a start position (Paimon's starting scanners):
// full is the snapshot whose contents come first (0: none) and next the
// first snapshot whose changes follow. ok is false while the position
// cannot be resolved yet: a full start on a table without snapshots, or
// at a snapshot not committed yet.
func (t *Table) startingPoint(ctx context.Context, p StartPosition) (full, next int64, ok bool, err error) {
	latest, err := t.snapshots.LatestID(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	earliest, err := t.streamEarliest(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	if latest == 0 {
		// Every change is still to come: a full start at the first
		// snapshot would read what its changes say anyway, one at a later
		// snapshot waits for it.
		switch p.mode {
		case startSnapshot:
			return 0, max(p.snapshot, 1), true, nil
		case startSnapshotFull:
			return 0, 0, p.snapshot <= 1, nil
		}
		return 0, 1, true, nil
	}
	switch p.mode {
	case startLatest:
		return 0, latest + 1, true, nil
	case startSnapshot:
		return 0, max(p.snapshot, earliest), true, nil
	case startSnapshotFull:
		first, err := t.snapshots.EarliestID(ctx)
		if err != nil {
			return 0, 0, false, err
		}
		id := max(p.snapshot, first)
		if id > latest {
			return 0, 0, false, nil
		}
		return id, id + 1, true, nil
	case startTimestamp:
		before, err := t.lastBefore(ctx, p.at.UnixMilli(), earliest, latest)
		if err != nil {
			return 0, 0, false, err
		}
		return 0, before + 1, true, nil
	}
	return latest, latest + 1, true, nil
}

// lastBefore is the newest snapshot (or long-lived changelog) committed
// before ms, earliest-1 when there is none, by binary search as Paimon's
// TimeTravelUtil.earlierThanTimeMills does (commit times grow with ids).
func (t *Table) lastBefore(ctx context.Context, ms, earliest, latest int64) (int64, error) {
	lo, hi := earliest, latest // invariant: every id < lo is before ms
	for lo <= hi {
		mid := lo + (hi-lo)/2
		snap, err := t.snapshotOrChangelog(ctx, mid)
		if errors.Is(err, spec.ErrNotFound) {
			lo = mid + 1 // expired under us: so is everything older
			continue
		}
		if err != nil {
			return 0, err
		}
		if snap.TimeMillis < ms {
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return lo - 1, nil
}

// snapshotOrChangelog reads snapshot id, or when it expired, its
// long-lived changelog; a missing one wraps spec.ErrNotFound.
func (t *Table) snapshotOrChangelog(ctx context.Context, id int64) (*spec.Snapshot, error) {
	snap, err := t.snapshots.Get(ctx, id)
	if errors.Is(err, spec.ErrNotFound) && t.opts.ChangelogProducer != spec.ChangelogProducerNone {
		if c, cerr := t.longLivedChangelog(ctx, id); !errors.Is(cerr, spec.ErrNotFound) {
			return c, cerr
		}
	}
	return snap, err
}

// streamSnapshot fetches the snapshot a stream reads next (Paimon's
// NextSnapshotFetcher): nil when it is not committed yet, an error
// wrapping spec.ErrNotFound when it expired before the stream read it.
func (t *Table) streamSnapshot(ctx context.Context, id int64) (*spec.Snapshot, error) {
	snap, err := t.snapshotOrChangelog(ctx, id)
	if !errors.Is(err, spec.ErrNotFound) {
		return snap, err
	}
	latest, err := t.snapshots.LatestID(ctx)
	if err != nil || latest < id {
		return nil, err
	}
	// Committed after the first look?
	snap, err = t.snapshotOrChangelog(ctx, id)
	if !errors.Is(err, spec.ErrNotFound) {
		return snap, err
	}
	earliest, err := t.streamEarliest(ctx)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("snapshot %d %w: it expired before the stream read it (the table has snapshots %d..%d; a consumer id keeps unread snapshots from expiring)",
		id, spec.ErrNotFound, earliest, latest)
}

// snapshotChanges yields what one snapshot adds to a stream (Paimon's
// follow-up scanners): with changelog-producer none the files an APPEND
// snapshot added, as written (DeltaFollowUpScanner); otherwise its
// changelog files (ChangelogFollowUpScanner). Other snapshots yield
// nothing.
func (t *Table) snapshotChanges(ctx context.Context, snap *spec.Snapshot) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		var entries []spec.ManifestEntry
		var err error
		switch {
		case t.opts.ChangelogProducer != spec.ChangelogProducerNone:
			entries, err = t.changelogEntries(ctx, snap)
		case snap.CommitKind == spec.CommitKindAppend:
			entries, err = t.deltaFiles(ctx, snap)
		}
		if err != nil {
			yield(Change{}, err)
			return
		}
		for _, e := range entries {
			for c, err := range t.fileChanges(ctx, e) {
				if !yield(c, err) || err != nil {
					return
				}
			}
		}
	}
}

// deltaFiles are the data files a snapshot added, in manifest order.
func (t *Table) deltaFiles(ctx context.Context, snap *spec.Snapshot) ([]spec.ManifestEntry, error) {
	entries, err := t.manifests.ReadEntries(ctx, snap.DeltaManifestList)
	if err != nil {
		return nil, err
	}
	merged, err := manifest.Merge(entries)
	if err != nil {
		return nil, fmt.Errorf("delta of snapshot %d: %w", snap.ID, err)
	}
	added := merged[:0]
	for _, e := range merged {
		if e.Kind == spec.FileKindAdd {
			added = append(added, e)
		}
	}
	return added, nil
}

// fileChanges yields one file's records as written: the rows of a
// primary-key table with their row kinds, an append table's as inserts.
func (t *Table) fileChanges(ctx context.Context, e spec.ManifestEntry) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		pp, err := t.partitionPath(e.Partition)
		if err != nil {
			yield(Change{}, err)
			return
		}
		dir := t.bucketDir(pp, e.Bucket)
		if t.appendOnly() {
			sp := Split{Partition: e.Partition, Bucket: e.Bucket, Files: []spec.DataFileMeta{e.File}}
			t.readAppendSplit(ctx, dir, sp, func(kv *spec.KeyValue, err error) bool {
				if err != nil {
					return yield(Change{}, err)
				}
				return yield(Change{Kind: spec.RowKindInsert, Row: kv.Value}, nil)
			})
			return
		}
		for kv, err := range t.openFile(ctx, dir, e.File, nil) {
			if err != nil {
				yield(Change{}, err)
				return
			}
			if !yield(Change{Kind: kv.Kind, Row: kv.Value}, nil) {
				return
			}
		}
	}
}

// fullChanges yields a snapshot's rows as inserts, as a full start reads
// them: for changelog-producer lookup without level-0 files, for
// full-compaction from the top level only (DataTableStreamScan's first
// plan), since their changelog covers the rest once compaction reaches it.
func (t *Table) fullChanges(ctx context.Context, snap *spec.Snapshot) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		plan, err := t.NewScan(WithSnapshot(snap.ID)).Plan(ctx)
		if err != nil {
			yield(Change{}, err)
			return
		}
		keep := func(level int32) bool { return true }
		switch t.opts.ChangelogProducer {
		case spec.ChangelogProducerLookup:
			keep = func(level int32) bool { return level > 0 }
		case spec.ChangelogProducerFullCompaction:
			top := int32(t.opts.NumLevels - 1)
			keep = func(level int32) bool { return level == top }
		}
		for _, sp := range plan.Splits {
			files := sp.Files[:0:0]
			for _, f := range sp.Files {
				if keep(f.Level) {
					files = append(files, f)
				}
			}
			if len(files) == 0 {
				continue
			}
			sp.Files = files
			for kv, err := range t.readSplit(ctx, sp) {
				if err != nil {
					yield(Change{}, err)
					return
				}
				if !yield(Change{Kind: spec.RowKindInsert, Row: kv.Value}, nil) {
					return
				}
			}
		}
	}
}
