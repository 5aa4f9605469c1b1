package table

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/stratalake/strata/spec"
)

// Changelog streams the changelog records one snapshot produced (its
// changelogManifestList), file by file: what a streaming reader of a table
// with a changelog producer consumes. A snapshot without changelog yields
// nothing; an expired snapshot whose changelog outlives it
// (changelog/changelog-<id>) yields that changelog.
func (t *Table) Changelog(ctx context.Context, snapshotID int64) iter.Seq2[*spec.KeyValue, error] {
	return func(yield func(*spec.KeyValue, error) bool) {
		snap, err := t.snapshots.Get(ctx, snapshotID)
		if errors.Is(err, spec.ErrNotFound) {
			// Expired: its changelog may live on (changelog.num-retained.*).
			if c, cerr := t.longLivedChangelog(ctx, snapshotID); cerr == nil {
				snap, err = c, nil
			}
		}
		if err != nil {
			yield(nil, err)
			return
		}
		entries, err := t.changelogEntries(ctx, snap)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, e := range entries {
			pp, err := t.partitionPath(e.Partition)
			if err != nil {
				yield(nil, err)
				return
			}
			for kv, err := range t.openFile(ctx, t.bucketDir(pp, e.Bucket), e.File, nil) {
				if !yield(kv, err) || err != nil {
					return
				}
			}
		}
	}
}

// changelogEntries are the changelog files of a snapshot (or long-lived
// changelog), in manifest order; none when it has no changelog.
func (t *Table) changelogEntries(ctx context.Context, snap *spec.Snapshot) ([]spec.ManifestEntry, error) {
	if snap.ChangelogManifestList == nil {
		return nil, nil
	}
	entries, err := t.manifests.ReadEntries(ctx, *snap.ChangelogManifestList)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Kind != spec.FileKindAdd {
			return nil, fmt.Errorf("%w: changelog manifest of snapshot %d deletes %s", spec.ErrCorrupt, snap.ID, e.File.FileName)
		}
	}
	return entries, nil
}
