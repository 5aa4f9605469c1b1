package table

import (
	"context"

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
// writer's files to the partition (to any partition). A snapshot that could
// conflict stays in the window, for the committer to judge.

// bucketBase is what a writer knows of one of its buckets' history.
type bucketBase struct {
	partition string
	// snapshot is the bucket's base: no snapshot up to it can conflict
	// with the writer's later messages for the bucket.
	snapshot int64
	// next bounds from below the sequence numbers of the records the
	// writer's later messages add to the bucket (0: none written yet).
	next int64
}

// advanceBases moves the bases of the writer's buckets past the snapshots
// that cannot conflict with them and sets each message's BaseSnapshot. It
// never fails: a snapshot it cannot read ends the advance there, and the
// committer checks from that base on.
func (w *Write) advanceBases(ctx context.Context, msgs []CommitMessage) {
	if w.bases == nil {
		w.bases, w.own, w.seen = map[string]bucketBase{}, map[string]bool{}, map[int64]*snapshotSummary{}
	}
	// A message's new records are numbered from its new files' least
	// sequence number on.
	lows := map[string]int64{}
	for _, m := range msgs {
		k := splitKey(m.Partition, m.Bucket)
		if _, ok := w.bases[k]; !ok {
			b := bucketBase{partition: string(m.Partition), snapshot: w.base}
			for _, f := range w.restored[k] {
				b.next = max(b.next, f.MaxSequenceNumber+1)
			}
			w.bases[k] = b
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
		for k, b := range w.bases {
			low, ok := lows[k]
			if !ok {
				low = b.next
			}
			b.snapshot = w.advance(ctx, k, b, low, latest)
			w.bases[k] = b
		}
	}
	for i := range msgs {
		m := &msgs[i]
		k := splitKey(m.Partition, m.Bucket)
		b := w.bases[k]
		m.BaseSnapshot = b.snapshot
		for _, f := range m.NewFiles {
			b.next = max(b.next, f.MaxSequenceNumber+1)
		}
		w.bases[k] = b
	}
	w.forgetPassed()
}

// advance returns bucket k's base moved past the snapshots up to latest
// that cannot conflict with records numbered from low on.
func (w *Write) advance(ctx context.Context, k string, b bucketBase, low, latest int64) int64 {
	base := b.snapshot
	for base < latest {
		s, ok := w.seen[base+1]
		if !ok {
			var err error
			if s, err = w.t.snapshotSummary(ctx, base+1); err != nil {
				return base // expired or unreadable: the committer judges
			}
			w.seen[base+1] = s
		}
		if !w.passable(s, k, b.partition, low) {
			return base
		}
		base++
	}
	return base
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
	if s.kind == spec.CommitKindAppend && (t.crossPartition() || t.dynamicBuckets()) {
		for key, files := range s.buckets {
			p, _, _ := parseSplitKey(key)
			if (t.crossPartition() || p == partition) && !w.owns(files) {
				return false
			}
		}
	}
	if touched && !t.opts.WriteOnly && !t.appendOnly() {
		if len(added) == 0 && t.needLookup() {
			return false // files replaced, by whom unknown
		}
		if !w.owns(added) && (s.kind == spec.CommitKindAppend || t.needLookup()) {
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

// forgetPassed drops the summaries every base has passed, and the names
// of the writer's files they hold.
func (w *Write) forgetPassed() {
	least := int64(-1)
	for _, b := range w.bases {
		if least < 0 || b.snapshot < least {
			least = b.snapshot
		}
	}
	for id, s := range w.seen {
		if id > least {
			continue
		}
		for _, files := range s.buckets {
			for _, f := range files {
				delete(w.own, f.Meta.FileName)
			}
		}
		delete(w.seen, id)
	}
}
