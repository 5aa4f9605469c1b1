package table

import (
	"context"

	"github.com/stratalake/strata/spec"
)

// LiveFiles returns the snapshot a scan with opts would read (the latest by
// default; WithSnapshot, WithTag, WithTimestamp) and every live data file
// of it, all levels, as manifest entries; a table with no snapshot gives
// nil and none.
func (t *Table) LiveFiles(ctx context.Context, opts ...ScanOption) (*spec.Snapshot, []spec.ManifestEntry, error) {
	snap, err := t.Snapshot(ctx, opts...)
	if err != nil || snap == nil {
		return nil, nil, err
	}
	files, err := t.liveFiles(ctx, snap)
	return snap, files, err
}

// KeyTypes are the types of the trimmed primary key, as a data file's
// MinKey and MaxKey hold it (a serialized BinaryRow).
func (t *Table) KeyTypes() []spec.DataType { return t.layout.KeyTypes() }

// PartitionPath is the directory of a serialized partition (as manifest
// entries hold it) under the table, "" for an unpartitioned table.
func (t *Table) PartitionPath(partition []byte) (string, error) { return t.partitionPath(partition) }

// ManifestsOf lists the manifests of a snapshot's lists, by list: "base",
// "delta" and, when it has one, "changelog".
func (t *Table) ManifestsOf(ctx context.Context, snap *spec.Snapshot) (map[string][]spec.ManifestFileMeta, error) {
	lists := map[string]string{"base": snap.BaseManifestList, "delta": snap.DeltaManifestList}
	if snap.ChangelogManifestList != nil {
		lists["changelog"] = *snap.ChangelogManifestList
	}
	out := map[string][]spec.ManifestFileMeta{}
	for kind, l := range lists {
		metas, err := t.manifests.ReadManifestList(ctx, l)
		if err != nil {
			return nil, err
		}
		out[kind] = metas
	}
	return out, nil
}

// Snapshot resolves the snapshot a scan with opts would read; nil for a
// table with no snapshot.
func (t *Table) Snapshot(ctx context.Context, opts ...ScanOption) (*spec.Snapshot, error) {
	return t.resolve(ctx, t.NewScan(opts...).travel)
}
