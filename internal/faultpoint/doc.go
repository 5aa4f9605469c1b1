// Package faultpoint names the places where the crash harness
// (integration/crash_test.go) kills a strata process: a data file written
// but not committed, a manifest written, a snapshot about to be or just
// published, a compaction's output not yet committed, an expiration or an
// orphan cleanup half done, a tag, a rollback, a lookup refresh, a
// consumer's progress.
//
// Hit(name) marks such a place. Built without the strata_faultpoints tag
// (every production build) it is an empty function the compiler inlines
// away: no cost, no behaviour. Built with the tag, a process whose
// environment has STRATA_CRASH_AT=name[:nth] sends itself SIGKILL at the
// nth hit of that point (the first by default), after printing
// "faultpoint: crash at name (hit nth)" to stderr. Now is time.Now, shifted
// forward by STRATA_CRASH_CLOCK (a Go duration) in a tagged build, so that
// the harness can make fresh files look old to orphan cleaning, whose age
// guard is at least an hour.
//
//	go build -tags strata_faultpoints -o /tmp/strata ./cmd/strata
//	STRATA_CRASH_AT=snapshot.before-publish /tmp/strata --warehouse w write db.t < rows.jsonl
package faultpoint

// The named points; All lists them.
const (
	// FlushWritten: a bucket writer flushed its buffer into level-0 data
	// files that no snapshot names yet.
	FlushWritten = "flush.written"
	// ManifestWritten: a manifest file is written, its snapshot is not.
	ManifestWritten = "manifest.written"
	// ManifestListWritten: a manifest list is written, its snapshot is not.
	ManifestListWritten = "manifest-list.written"
	// SnapshotBeforePublish: every file of a commit is written; snapshot-N
	// is not.
	SnapshotBeforePublish = "snapshot.before-publish"
	// SnapshotAfterPublish: snapshot-N is published; the LATEST hint is
	// not moved yet.
	SnapshotAfterPublish = "snapshot.after-publish"
	// CompactBeforeCommit: a writer or compaction job prepares a commit
	// whose compaction output files are written and not yet committed.
	CompactBeforeCommit = "compact.before-commit"
	// ExpireDataFileDeleted: an expiration deleted one more data file.
	ExpireDataFileDeleted = "expire.data-file-deleted"
	// ExpireFilesDeleted: an expiration deleted the expired snapshots'
	// data and metadata files but not the snapshot files.
	ExpireFilesDeleted = "expire.files-deleted"
	// ExpireBeforeHint: the expired snapshot files are gone; the EARLIEST
	// hint is not moved yet.
	ExpireBeforeHint = "expire.before-hint"
	// OrphanDeleted: orphan cleaning deleted one more file.
	OrphanDeleted = "orphans.deleted"
	// TagBeforeCreate: a tag's file is about to be written.
	TagBeforeCreate = "tag.before-create"
	// TagBeforeDelete: a tag's file is about to be deleted.
	TagBeforeDelete = "tag.before-delete"
	// RollbackHintWritten: a rollback moved the LATEST hint and has
	// deleted no snapshot yet.
	RollbackHintWritten = "rollback.hint-written"
	// RollbackSnapshotDeleted: a rollback deleted one more snapshot.
	RollbackSnapshotDeleted = "rollback.snapshot-deleted"
	// LookupRefreshBuilt: a lookup built the state of a newer snapshot
	// (its local lookup files included) and does not serve it yet.
	LookupRefreshBuilt = "lookup.refresh-built"
	// ConsumerBeforeWrite: a stream is about to store its consumer's
	// progress, the changes before it handed over.
	ConsumerBeforeWrite = "consumer.before-write"
	// ConsumerWritten: a stream stored its consumer's progress.
	ConsumerWritten = "consumer.written"
)

// All is every named point.
var All = []string{
	FlushWritten, ManifestWritten, ManifestListWritten, SnapshotBeforePublish, SnapshotAfterPublish,
	CompactBeforeCommit, ExpireDataFileDeleted, ExpireFilesDeleted, ExpireBeforeHint, OrphanDeleted,
	TagBeforeCreate, TagBeforeDelete, RollbackHintWritten, RollbackSnapshotDeleted, LookupRefreshBuilt,
	ConsumerBeforeWrite, ConsumerWritten,
}
