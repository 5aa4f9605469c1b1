package table

import (
	"context"
	"errors"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// A writer's base snapshots move forward with it. Each commit message
// carries the snapshot its bucket's view was read at, and the committer
// checks every snapshot published after it (conflict.go). A streaming
// writer that kept the snapshot it started from would have each commit
// check ever more snapshots (a cost growing with the table's history)
// and, once the first of them expired (snapshot.time-retained, an hour by
// default), fail every commit with a conflict it cannot check.
//
// So at each PrepareCommit the writer reads the snapshots published since
// each bucket's base and moves the base past those that cannot conflict
// with anything it will still write to the bucket: every file they added
// there holds records numbered below the bucket's next sequence number
// (the APPEND rule); for a writer that compacts, they are its own commits,
// or compactions of a table that looks nothing up (the COMPACT rules);
// for dynamic-bucket and cross-partition tables, they add no other
// writer's files to the partition (to any partition). Snapshots of the
// writer's job (the commit user that committed its files) count as its
// own, as the committer counts them. A snapshot that could
// conflict stays in the window, for the committer to judge.
//
// A snapshot that expired before the writer read it (a writer whose first
// commit comes hours after it opened, a backfill say) cannot be judged by
// what it changed; the writer then judges the latest snapshot's files
// instead (skipExpired), as Paimon's committer always does.

// bucketBase is what a writer knows of one bucket's history: of those it
// wrote, and of those other commits changed since the writer started.
type bucketBase struct {
	partition string
	// snapshot is the bucket's base: no snapshot up to it can conflict
	// with the writer's later messages for the bucket. A base left behind
	// by a snapshot that could conflict stays there (the committer judges
	// that snapshot at every commit to the bucket).
	snapshot int64
	// next bounds from below the sequence numbers of the records the
	// writer's later messages add to the bucket.
	next int64
}

// advanceBases reads the snapshots published since the last call, moves
// each bucket's base past those that cannot conflict with it, and sets
// each message's BaseSnapshot. It never fails: a snapshot it cannot read
// (expired, or storage failing) ends the advance there, and the committer
// checks from the bases reached.
func (w *Write) advanceBases(ctx context.Context, msgs []CommitMessage) {
	if w.bases == nil {
		w.bases, w.own, w.scanned = map[string]*bucketBase{}, map[string]bool{}, w.base
	}
	// A message's new records are numbered from its new files' least
	// sequence number on. A bucket no snapshot since the writer started
	// has touched has its base at the last snapshot read.
	lows := map[string]int64{}
	for _, m := range msgs {
		k := splitKey(m.Partition, m.Bucket)
		if w.bases[k] == nil {
			w.bases[k] = w.newBucketBase(k, string(m.Partition), w.scanned)
		}
		for _, f := range m.NewFiles {
			w.own[f.FileName] = true
			if l, ok := lows[k]; !ok || f.MinSequenceNumber < l {
				lows[k] = f.MinSequenceNumber
			}
		}
		for _, f := range m.CompactAfter {
			w.own[f.FileName] = true
		}
	}
	if latest, err := w.t.snapshots.LatestID(ctx); err == nil {
		for id := w.scanned + 1; id <= latest; id++ {
			s, err := w.t.snapshotSummary(ctx, id)
			if errors.Is(err, spec.ErrNotFound) {
				w.skipExpired(ctx, msgs, lows)
				break
			}
			if err != nil {
				break
			}
			w.pass(id, s, lows)
			w.scanned = id
		}
	}
	for i := range msgs {
		m := &msgs[i]
		b := w.bases[splitKey(m.Partition, m.Bucket)]
		m.BaseSnapshot = b.snapshot
		for _, f := range m.NewFiles {
			b.next = max(b.next, f.MaxSequenceNumber+1)
		}
	}
}

// newBucketBase is the base of bucket k, unchanged by every snapshot up to
// snapshot: its next records are numbered above the files the writer
// restored.
func (w *Write) newBucketBase(k, partition string, snapshot int64) *bucketBase {
	b := &bucketBase{partition: partition, snapshot: snapshot}
	for _, f := range w.restored[k] {
		b.next = max(b.next, f.MaxSequenceNumber+1)
	}
	return b
}

// pass moves past snapshot id (summarised by s) the bases it cannot
// conflict with; lows are the least sequence numbers of the messages being
// prepared, by bucket.
func (w *Write) pass(id int64, s *snapshotSummary, lows map[string]int64) {
	for k := range s.buckets {
		if w.bases[k] == nil {
			p, _, _ := parseSplitKey(k)
			w.bases[k] = w.newBucketBase(k, p, id-1)
		}
	}
	// The commit user of a snapshot holding the writer's files is its
	// job's: the committer takes that user's other snapshots for the
	// job's own, and so does the writer.
	for _, files := range s.buckets {
		for _, f := range files {
			if w.own[f.Meta.FileName] {
				w.user = s.user
			}
		}
	}
	for k, b := range w.bases {
		if b.snapshot != id-1 {
			continue // left behind by an earlier snapshot
		}
		low, ok := lows[k]
		if !ok {
			low = b.next
		}
		if w.passable(s, k, b.partition, low) {
			b.snapshot = id
		}
	}
	// The writer's own files are named in one snapshot each, now passed.
	for _, files := range s.buckets {
		for _, f := range files {
			delete(w.own, f.Meta.FileName)
		}
	}
}

// passable reports whether snapshot s cannot conflict with the writer's
// messages for bucket k (in partition) whose records are numbered from
// low on.
func (w *Write) passable(s *snapshotSummary, k, partition string, low int64) bool {
	t := w.t
	added, touched := s.buckets[k]
	if !t.appendOnly() {
		for _, f := range added {
			if f.Meta.MaxSequenceNumber >= low {
				return false
			}
		}
	}
	ours := w.user != "" && s.user == w.user // the job's own snapshot, as the committer sees it
	if s.kind == spec.CommitKindAppend && !ours && (t.crossPartition() || t.dynamicBuckets()) {
		for key, files := range s.buckets {
			p, _, _ := parseSplitKey(key)
			if (t.crossPartition() || p == partition) && !w.owns(files) {
				return false
			}
		}
	}
	if touched && !t.opts.WriteOnly && !t.appendOnly() {
		if len(added) == 0 && t.needLookup() && !ours {
			return false // files replaced by another job
		}
		if !ours && !w.owns(added) && (s.kind == spec.CommitKindAppend || t.needLookup()) {
			return false
		}
	}
	return true
}

// owns reports whether the writer produced every one of files.
func (w *Write) owns(files []*lsm.File) bool {
	for _, f := range files {
		if !w.own[f.Meta.FileName] {
			return false
		}
	}
	return true
}

// skipExpired moves past every snapshot up to the latest the bases of the
// buckets whose files there cannot conflict with the writer's later
// records, when a snapshot since the last one read has expired: for a
// writer that only writes, every file of the bucket holds records numbered
// below the bucket's next sequence number (the APPEND rule, over the files
// that rule would have met, or their compactions, which keep their
// numbers); for a writer that compacts a table that looks nothing up,
// every file is one the writer holds (no other job wrote or compacted the
// bucket); a compacting writer of a lookup table never skips. Dynamic-bucket and
// cross-partition tables keep their bases: whose files another job
// appended cannot be told from the files alone. A base kept behind leaves
// the expired snapshot in the window, and the committer refuses it.
func (w *Write) skipExpired(ctx context.Context, msgs []CommitMessage, lows map[string]int64) {
	t := w.t
	if t.dynamicBuckets() || t.crossPartition() {
		return
	}
	snap, err := t.snapshots.Latest(ctx)
	if err != nil || snap == nil {
		return
	}
	live, err := t.liveFiles(ctx, snap)
	if err != nil {
		return
	}
	files := map[string][]spec.DataFileMeta{}
	for _, e := range live {
		k := splitKey(e.Partition, e.Bucket)
		files[k] = append(files[k], e.File)
		// A bucket the expired snapshots may have changed, which the
		// writer may write later from the files it restored: judged now,
		// as pass would have judged it, so that a base it gets later
		// (at the last snapshot read) does not skip those changes.
		if w.bases[k] == nil {
			w.bases[k] = w.newBucketBase(k, string(e.Partition), w.scanned)
		}
	}
	replaced := map[string]bool{} // files the prepared messages compact away
	for _, m := range msgs {
		for _, f := range m.CompactBefore {
			replaced[f.FileName] = true
		}
	}
	for k, b := range w.bases {
		if b.snapshot != w.scanned {
			continue // left behind by an earlier snapshot
		}
		low, ok := lows[k]
		if !ok {
			low = b.next
		}
		if w.holdsAll(k, files[k], replaced, low) {
			b.snapshot = snap.ID
		}
	}
	for _, fs := range files {
		for _, f := range fs {
			delete(w.own, f.FileName)
		}
	}
	w.scanned = snap.ID
}

// holdsAll reports whether files, bucket k's in the latest snapshot, cannot
// conflict with the writer's records numbered from low on (skipExpired).
func (w *Write) holdsAll(k string, files []spec.DataFileMeta, replaced map[string]bool, low int64) bool {
	t := w.t
	if t.appendOnly() {
		return true
	}
	if t.opts.WriteOnly {
		for _, f := range files {
			if f.MaxSequenceNumber >= low {
				return false
			}
		}
		return true
	}
	if t.needLookup() {
		// A compacting writer of a table that looks keys up cannot be
		// judged by file names: another job's compaction may have left
		// only files it holds yet replaced the bucket's deletion vectors
		// (an all-delete file compacted to nothing), or emptied the
		// bucket whose rows its lookups still find. As pass, it stops at
		// any such job; the committer refuses the expired window.
		return false
	}
	held := map[string]bool{}
	if bw := w.buckets[k]; bw != nil {
		for _, f := range bw.tree.Files() {
			held[f.Meta.FileName] = true
		}
	} else {
		for _, f := range w.restored[k] {
			held[f.FileName] = true
		}
	}
	for _, f := range files {
		if !held[f.FileName] && !replaced[f.FileName] {
			return false
		}
	}
	return true
}
