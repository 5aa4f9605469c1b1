package table

import (
	"context"
	"errors"
	"fmt"

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
//   - APPEND, any bucketed table: no file added to the bucket since the base
//     may reach the message's first sequence number. Records are ordered by
//     sequence number, so overlapping numbers from two writers would merge
//     in no defined order; a writer whose numbers all lie above everything
//     committed meanwhile is ordered after it, which is commit order.
//   - APPEND, dynamic buckets: no other commit user may have appended to the
//     partition since the base, because new keys were assigned to buckets
//     from the partition's HASH index as of the base.
//   - APPEND, cross-partition upserts: no other commit user may have
//     appended anywhere since the base: the key index spans partitions.
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
// snapshot and, for APPEND, the lowest sequence number it adds.
type bucketClaim struct {
	partition string
	bucket    int32
	base      int64
	minSeq    int64
}

// snapshotSummary is what a snapshot changed, per bucket, for conflict
// checks; summaries are cached per committer.
type snapshotSummary struct {
	user    string
	kind    spec.CommitKind
	buckets map[string]int64 // splitKey → highest sequence number added (-1: only deletes)
	parts   map[string]bool  // partitions with changes
}

// claimsOf returns the bucket claims of an APPEND step (buckets with new
// data files) or a COMPACT step (buckets with compaction results).
func claimsOf(msgs []CommitMessage, kind spec.CommitKind) []bucketClaim {
	var out []bucketClaim
	for _, m := range msgs {
		c := bucketClaim{partition: string(m.Partition), bucket: m.Bucket, base: m.BaseSnapshot, minSeq: -1}
		if kind == spec.CommitKindAppend {
			if len(m.NewFiles) == 0 {
				continue
			}
			for i, f := range m.NewFiles {
				if i == 0 || f.MinSequenceNumber < c.minSeq {
					c.minSeq = f.MinSequenceNumber
				}
			}
		} else if len(m.CompactBefore) == 0 && len(m.CompactAfter) == 0 && !hasDVIndex(m.NewIndexFiles) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func hasDVIndex(es []spec.IndexManifestEntry) bool {
	for _, e := range es {
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
	if err := checkClaimsOverlap(claims, kind); err != nil {
		return err
	}
	t := c.t
	dynamic, cross := t.dynamicBuckets() && !t.crossPartition(), t.crossPartition()
	lookup := t.needLookup()
	if kind == spec.CommitKindCompact && !lookup {
		return nil // the live-file and overlap checks suffice
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
				if maxSeq, ok := s.buckets[k]; ok && maxSeq >= cl.minSeq {
					return fmt.Errorf("%w: snapshot %d (by %s) added records to bucket %d of %s after this writer read snapshot %d; write again from the latest snapshot",
						spec.ErrConflict, id, s.user, cl.bucket, c.partitionName(cl.partition), cl.base)
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
			case foreign && s.kind == spec.CommitKindCompact:
				if _, ok := s.buckets[k]; ok {
					return fmt.Errorf("%w: snapshot %d (by %s) compacted bucket %d of %s after this compaction read snapshot %d",
						spec.ErrConflict, id, s.user, cl.bucket, c.partitionName(cl.partition), cl.base)
				}
			}
		}
	}
	return nil
}

// checkClaimsOverlap rejects two messages of one commit that add records to
// the same bucket with overlapping sequence numbers (two writers of one
// bucket handing their files to one committer).
func checkClaimsOverlap(claims []bucketClaim, kind spec.CommitKind) error {
	if kind != spec.CommitKindAppend {
		return nil
	}
	seen := map[string]bool{}
	for _, cl := range claims {
		k := splitKey([]byte(cl.partition), cl.bucket)
		if seen[k] {
			return fmt.Errorf("%w: two commit messages add files to bucket %d of one partition: a bucket has one writer", spec.ErrConflict, cl.bucket)
		}
		seen[k] = true
	}
	return nil
}

// summary returns what snapshot id changed, reading it once per committer.
func (c *Commit) summary(ctx context.Context, id int64) (*snapshotSummary, error) {
	if s, ok := c.summaries[id]; ok {
		return s, nil
	}
	snap, err := c.t.snapshots.Get(ctx, id)
	if errors.Is(err, spec.ErrNotFound) {
		return nil, fmt.Errorf("%w: snapshot %d, published after this writer's view, has expired: its changes cannot be checked; write again from the latest snapshot", spec.ErrConflict, id)
	}
	if err != nil {
		return nil, err
	}
	entries, err := c.t.manifests.ReadEntries(ctx, snap.DeltaManifestList)
	if err != nil {
		return nil, fmt.Errorf("conflict check, snapshot %d: %w", id, err)
	}
	s := &snapshotSummary{user: snap.CommitUser, kind: snap.CommitKind, buckets: map[string]int64{}, parts: map[string]bool{}}
	for _, e := range entries {
		k := splitKey(e.Partition, e.Bucket)
		top, ok := s.buckets[k]
		if !ok {
			top = -1
		}
		if e.Kind == spec.FileKindAdd {
			top = max(top, e.File.MaxSequenceNumber)
		}
		s.buckets[k] = top
		s.parts[string(e.Partition)] = true
	}
	if c.summaries == nil {
		c.summaries = map[int64]*snapshotSummary{}
	}
	c.summaries[id] = s
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
