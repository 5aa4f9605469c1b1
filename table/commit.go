package table

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/stratalake/strata/spec"
)

// BatchCommitIdentifier is the commit identifier of batch (non-streaming)
// writes, as Java uses it: Long.MAX_VALUE.
const BatchCommitIdentifier = math.MaxInt64

// Commit turns commit messages into snapshots.
type Commit struct {
	t    *Table
	user string
}

// NewCommit returns a committer that signs snapshots with commitUser (a new
// random user when empty).
func (t *Table) NewCommit(commitUser string) *Commit {
	if commitUser == "" {
		commitUser = uuid.NewString()
	}
	return &Commit{t: t, user: t.opts.CommitUser(commitUser)}
}

// User is the commit user this committer signs snapshots with.
func (c *Commit) User() string { return c.user }

// Commit writes the APPEND snapshot for msgs under identifier and returns
// its id, or 0 when there was nothing to commit. A lost race for the
// snapshot id is retried with backoff from the new latest snapshot.
func (c *Commit) Commit(ctx context.Context, identifier int64, msgs []CommitMessage) (int64, error) {
	var delta []spec.ManifestEntry
	for _, m := range msgs {
		for _, f := range m.NewFiles {
			delta = append(delta, spec.ManifestEntry{Kind: spec.FileKindAdd, Partition: m.Partition,
				Bucket: m.Bucket, TotalBuckets: m.TotalBuckets, File: f})
		}
	}
	if len(delta) == 0 {
		return 0, nil
	}
	maxRetries := c.t.opts.CommitMaxRetries
	wait := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		id, ok, err := c.tryCommitOnce(ctx, identifier, spec.CommitKindAppend, delta)
		if err != nil {
			return 0, err
		}
		if ok {
			return id, nil
		}
		if attempt >= maxRetries {
			return 0, fmt.Errorf("%w: gave up after %d attempts to publish a snapshot", spec.ErrConflict, attempt+1)
		}
		d := wait + time.Duration(rand.Int64N(int64(wait)/5+1))
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(d):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// tryCommitOnce writes manifests and tries to publish snapshot latest+1. It
// reports false when another committer published that id first.
func (c *Commit) tryCommitOnce(ctx context.Context, identifier int64, kind spec.CommitKind, delta []spec.ManifestEntry) (int64, bool, error) {
	t := c.t
	latest, err := t.snapshots.Latest(ctx)
	if err != nil {
		return 0, false, err
	}
	var base []spec.ManifestFileMeta
	var prevTotal, nextRowID int64
	var indexManifest *string
	newID := int64(1)
	if latest != nil {
		newID = latest.ID + 1
		base, err = t.manifests.ReadManifestFiles(ctx, latest.BaseManifestList, latest.DeltaManifestList)
		if err != nil {
			return 0, false, err
		}
		prevTotal = latest.TotalRecordCount
		if latest.NextRowID != nil {
			nextRowID = *latest.NextRowID
		}
		indexManifest = latest.IndexManifest
	}
	// Every file of a bucket must agree on the bucket count.
	for _, e := range delta {
		if e.TotalBuckets > 0 && int(e.TotalBuckets) != t.opts.Bucket {
			return 0, false, fmt.Errorf("%w: file %s was written for %d buckets, table has %d", spec.ErrConflict, e.File.FileName, e.TotalBuckets, t.opts.Bucket)
		}
	}
	partTypes := fieldTypes(t.schema.PartitionFields())
	baseName, baseSize, err := t.manifests.WriteManifestList(ctx, base)
	if err != nil {
		return 0, false, err
	}
	var deltaCount int64
	for _, e := range delta {
		if e.Kind == spec.FileKindAdd {
			deltaCount += e.File.RowCount
		} else {
			deltaCount -= e.File.RowCount
		}
	}
	mf, err := t.manifests.WriteManifest(ctx, delta, t.schema.ID, partTypes)
	if err != nil {
		return 0, false, err
	}
	deltaName, deltaSize, err := t.manifests.WriteManifestList(ctx, []spec.ManifestFileMeta{mf})
	if err != nil {
		return 0, false, err
	}
	snapUUID := uuid.NewString()
	snap := &spec.Snapshot{
		Version: 3, UUID: &snapUUID, ID: newID, SchemaID: t.schema.ID,
		BaseManifestList: baseName, BaseManifestListSize: &baseSize,
		DeltaManifestList: deltaName, DeltaManifestListSize: &deltaSize,
		IndexManifest: indexManifest, CommitUser: c.user,
		CommitIdentifier: identifier, CommitKind: kind, TimeMillis: time.Now().UnixMilli(),
		TotalRecordCount: prevTotal + deltaCount, DeltaRecordCount: deltaCount,
		NextRowID: &nextRowID,
	}
	if latest != nil {
		snap.Watermark = latest.Watermark
	}
	ok, err := t.snapshots.publish(ctx, snap)
	if err != nil || !ok {
		// The files just written are orphans now; a retry writes its own.
		return 0, ok, err
	}
	return newID, true, nil
}

func fieldTypes(fs []spec.DataField) []spec.DataType {
	out := make([]spec.DataType, len(fs))
	for i, f := range fs {
		out[i] = f.Type
	}
	return out
}
