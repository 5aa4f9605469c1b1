package table

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// Concurrent writers are checked optimistically: every commit message
// carries the snapshot its writer's view was read at (BaseSnapshot), and
// before publishing, the committer looks at what the snapshots after that
// base changed in the message's buckets. Paimon checks only that the files
// a compaction replaces are still live; that leaves a second writer of a
// bucket free to lose updates (deletion-vector and HASH index files are
// replaced whole) or to reorder them (both writers number records from the
// same sequence). The rules, per message:
//
//   - APPEND, primary-key tables: no file added to the bucket since the base
//     may overlap a new file of the message in both key range and sequence
//     numbers. Records of a key are ordered by sequence number, so
//     overlapping numbers from two writers would merge in no defined order;
//     a writer whose numbers all lie above everything committed meanwhile
//     is ordered after it, which is commit order. Writers of disjoint key
//     ranges of one bucket do not conflict.
//   - APPEND, dynamic buckets: no other commit user may have appended to the
//     partition since the base, because new keys were assigned to buckets
//     from the partition's HASH index as of the base.
//   - APPEND, cross-partition upserts: no other commit user may have
//     appended anywhere since the base: the key index spans partitions.
//   - COMPACT, primary-key tables: no other commit user may have appended
//     to the bucket since the base a file that may hold records of the
//     compacted keys at sequence numbers not above all of the compaction's
//     inputs. The compaction never saw those records, which are older than
//     some it compacted: its output (at a higher level, deletes dropped at
//     the top one) would resurrect them, or a later lookup compaction
//     would take them, still in level 0, for newer than the output.
//     Records all newer than the inputs are ordered after the compaction.
//   - COMPACT, tables that look keys up while compacting (deletion vectors,
//     lookup changelog, first-row): no other commit user may have compacted
//     the bucket since the base. Their deletion-vector file replaces the
//     bucket's, and their changelog is relative to the levels they saw.
//
// A commit user names one writer job (as in Paimon): the snapshots of the
// same user since the base are the job's own and are not conflicts.
// Conflicts wrap spec.ErrConflict and publish nothing.

// unknownBase marks messages without a base snapshot (written by an older
// version): the range checks are skipped for them.
const unknownBase = -1

// bucketClaim is what one commit step needs of a bucket: the writer's base
// snapshot and, for APPEND, the files it adds.
type bucketClaim struct {
	partition string
	bucket    int32
	base      int64
	added     []*lsm.File // APPEND: the new files, keys decoded
	compacted []*lsm.File // COMPACT: the files replaced, keys decoded
}

// snapshotSummary is what a snapshot changed, per bucket, for conflict
// checks; summaries are cached per committer.
type snapshotSummary struct {
	user    string
	kind    spec.CommitKind
	buckets map[string][]*lsm.File // splitKey → files added (empty: only deletes)
	parts   map[string]bool        // partitions with changes
}

// claimsOf returns the bucket claims of an APPEND step (buckets with new
// data files) or a COMPACT step (buckets with compaction results).
func (t *Table) claimsOf(msgs []CommitMessage, kind spec.CommitKind) ([]bucketClaim, error) {
	var out []bucketClaim
	for _, m := range msgs {
		c := bucketClaim{partition: string(m.Partition), bucket: m.Bucket, base: m.BaseSnapshot}
		if kind == spec.CommitKindAppend {
			if len(m.NewFiles) == 0 {
				continue
			}
			for _, meta := range m.NewFiles {
				f, err := t.decodedFile(meta)
				if err != nil {
					return nil, err
				}
				c.added = append(c.added, f)
			}
		} else if !m.compacts() {
			continue
		} else {
			for _, meta := range m.CompactBefore {
				f, err := t.decodedFile(meta)
				if err != nil {
					return nil, err
				}
				c.compacted = append(c.compacted, f)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// decodedFile is a data file with its key range decoded (keys are empty
// for append tables, whose files carry none).
func (t *Table) decodedFile(meta spec.DataFileMeta) (*lsm.File, error) {
	if t.layout == nil || t.appendOnly() {
		return &lsm.File{Meta: meta}, nil
	}
	return lsm.NewFile(meta, t.layout.KeyTypes())
}

// overlaps returns a file added by another commit that may hold records of
// a key one of ours also holds, at sequence numbers ours do not all exceed;
// nil when there is none.
func overlaps(theirs, ours []*lsm.File) *lsm.File {
	for _, f := range theirs {
		for _, g := range ours {
			if f.Meta.MaxSequenceNumber >= g.Meta.MinSequenceNumber &&
				lsm.CompareKeys(f.MinKey, g.MaxKey) <= 0 && lsm.CompareKeys(g.MinKey, f.MaxKey) <= 0 {
				return f
			}
		}
	}
	return nil
}

// olderUnseen returns a file added by another commit that may hold records
// of keys a compaction merged at sequence numbers not above all of its
// inputs; nil when there is none. Without inputs (a message carrying only
// a deletion-vector file) any added file is one.
func olderUnseen(theirs, compacted []*lsm.File) *lsm.File {
	if len(theirs) == 0 {
		return nil
	}
	if len(compacted) == 0 {
		return theirs[0]
	}
	minKey, maxKey, maxSeq := compacted[0].MinKey, compacted[0].MaxKey, compacted[0].Meta.MaxSequenceNumber
	for _, g := range compacted[1:] {
		if lsm.CompareKeys(g.MinKey, minKey) < 0 {
			minKey = g.MinKey
		}
		if lsm.CompareKeys(g.MaxKey, maxKey) > 0 {
			maxKey = g.MaxKey
		}
		maxSeq = max(maxSeq, g.Meta.MaxSequenceNumber)
	}
	for _, f := range theirs {
		if f.Meta.MinSequenceNumber <= maxSeq &&
			lsm.CompareKeys(f.MinKey, maxKey) <= 0 && lsm.CompareKeys(minKey, f.MaxKey) <= 0 {
			return f
		}
	}
	return nil
}

// compacts reports whether the message carries compaction results: files
// replaced or written, or a new deletion-vector file.
func (m *CommitMessage) compacts() bool {
	if len(m.CompactBefore) > 0 || len(m.CompactAfter) > 0 {
		return true
	}
	for _, e := range m.NewIndexFiles {
		if e.IndexType == spec.DVIndexType {
			return true
		}
	}
	return false
}

// checkConcurrentWriters applies the rules above to one step's claims
// against everything published after each claim's base, up to latest.
func (c *Commit) checkConcurrentWriters(ctx context.Context, latest *spec.Snapshot, kind spec.CommitKind, claims []bucketClaim) error {
	if latest == nil || len(claims) == 0 {
		return nil
	}
	if err := c.t.checkClaimsOverlap(claims, kind); err != nil {
		return err
	}
	t := c.t
	dynamic, cross := t.dynamicBuckets() && !t.crossPartition(), t.crossPartition()
	lookup := t.needLookup()
	if kind == spec.CommitKindCompact && t.appendOnly() {
		return nil // the live-file check suffices
	}
	for _, cl := range claims {
		if cl.base == unknownBase {
			continue
		}
		for id := cl.base + 1; id <= latest.ID; id++ {
			s, err := c.summary(ctx, id)
			if err != nil {
				return err
			}
			k := splitKey([]byte(cl.partition), cl.bucket)
			foreign := s.user != c.user
			switch {
			case kind == spec.CommitKindAppend:
				if f := overlaps(s.buckets[k], cl.added); f != nil && !t.appendOnly() {
					return fmt.Errorf("%w: snapshot %d (by %s) added records of the same keys to bucket %d of %s (file %s) after this writer read snapshot %d; write again from the latest snapshot",
						spec.ErrConflict, id, s.user, cl.bucket, c.partitionName(cl.partition), f.Meta.FileName, cl.base)
				}
				if s.kind != spec.CommitKindAppend || !foreign {
					continue
				}
				if cross && len(s.buckets) > 0 {
					return fmt.Errorf("%w: snapshot %d (by %s) wrote to this cross-partition table after this writer built its key index from snapshot %d; write again from the latest snapshot",
						spec.ErrConflict, id, s.user, cl.base)
				}
				if dynamic && s.parts[cl.partition] {
					return fmt.Errorf("%w: snapshot %d (by %s) assigned keys to buckets of %s after this writer read its bucket index at snapshot %d; write again from the latest snapshot",
						spec.ErrConflict, id, s.user, c.partitionName(cl.partition), cl.base)
				}
			case foreign && s.kind == spec.CommitKindAppend:
				if f := olderUnseen(s.buckets[k], cl.compacted); f != nil {
					return fmt.Errorf("%w: snapshot %d (by %s) added records of the compacted keys to bucket %d of %s (file %s), older than some this compaction merged, after it read snapshot %d",
						spec.ErrConflict, id, s.user, cl.bucket, c.partitionName(cl.partition), f.Meta.FileName, cl.base)
				}
			case foreign && s.kind == spec.CommitKindCompact && lookup:
				if _, ok := s.buckets[k]; ok {
					return fmt.Errorf("%w: snapshot %d (by %s) compacted bucket %d of %s after this compaction read snapshot %d",
						spec.ErrConflict, id, s.user, cl.bucket, c.partitionName(cl.partition), cl.base)
				}
			}
		}
	}
	return nil
}

// checkClaimsOverlap rejects two messages of one commit that add records of
// the same keys to one bucket with overlapping sequence numbers (two
// writers of one bucket handing their files to one committer).
func (t *Table) checkClaimsOverlap(claims []bucketClaim, kind spec.CommitKind) error {
	if kind != spec.CommitKindAppend || t.appendOnly() {
		return nil
	}
	seen := map[string][]*lsm.File{}
	for _, cl := range claims {
		k := splitKey([]byte(cl.partition), cl.bucket)
		if f := overlaps(seen[k], cl.added); f != nil {
			return fmt.Errorf("%w: two commit messages add records of the same keys to bucket %d (file %s): a bucket's keys have one writer", spec.ErrConflict, cl.bucket, f.Meta.FileName)
		}
		seen[k] = append(seen[k], cl.added...)
	}
	return nil
}

// summary returns what snapshot id changed, reading it once per committer.
func (c *Commit) summary(ctx context.Context, id int64) (*snapshotSummary, error) {
	if s, ok := c.summaries[id]; ok {
		return s, nil
	}
	s, err := c.t.snapshotSummary(ctx, id)
	if errors.Is(err, spec.ErrNotFound) {
		return nil, fmt.Errorf("%w: snapshot %d, published after this writer's view, has expired: its changes cannot be checked; write again from the latest snapshot", spec.ErrConflict, id)
	}
	if err != nil {
		return nil, err
	}
	if c.summaries == nil {
		c.summaries = map[int64]*snapshotSummary{}
	}
	c.summaries[id] = s
	return s, nil
}

// snapshotSummary reads what snapshot id changed; an expired snapshot is
// spec.ErrNotFound.
func (t *Table) snapshotSummary(ctx context.Context, id int64) (*snapshotSummary, error) {
	snap, err := t.snapshots.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	entries, err := t.manifests.ReadEntries(ctx, snap.DeltaManifestList)
	if err != nil {
		return nil, fmt.Errorf("conflict check, snapshot %d: %w", id, err)
	}
	s := &snapshotSummary{user: snap.CommitUser, kind: snap.CommitKind, buckets: map[string][]*lsm.File{}, parts: map[string]bool{}}
	for _, e := range entries {
		k := splitKey(e.Partition, e.Bucket)
		files := s.buckets[k]
		if e.Kind == spec.FileKindAdd {
			f, err := t.decodedFile(e.File)
			if err != nil {
				return nil, fmt.Errorf("conflict check, snapshot %d: %w", id, err)
			}
			files = append(files, f)
		}
		s.buckets[k] = files
		s.parts[string(e.Partition)] = true
	}
	return s, nil
}

// forgetSummaries drops cached summaries at or below the oldest base still
// in use.
func (c *Commit) forgetSummaries(msgs []CommitMessage) {
	if len(c.summaries) == 0 {
		return
	}
	oldest := int64(-1)
	for _, m := range msgs {
		if m.BaseSnapshot != unknownBase && (oldest < 0 || m.BaseSnapshot < oldest) {
			oldest = m.BaseSnapshot
		}
	}
	for id := range c.summaries {
		if id <= oldest {
			delete(c.summaries, id)
		}
	}
}

// partitionName is a partition's directory name for messages ("the table"
// when unpartitioned).
func (c *Commit) partitionName(partition string) string {
	if len(c.t.schema.PartitionKeys) == 0 {
		return "the table"
	}
	p, err := c.t.partitionPath([]byte(partition))
	if err != nil {
		return "a partition"
	}
	return "partition " + p
}
