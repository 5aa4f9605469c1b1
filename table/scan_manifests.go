package table

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
)

// maxPlannedEntries bounds the slice readAllEntries sizes from the counts a
// manifest list claims, so that a corrupt list cannot make it allocate
// without limit; past it, manifests are read one slice each.
const maxPlannedEntries = 1 << 24

// readAllEntries reads the entries of the given manifests, in parallel, and
// merges them. A snapshot's manifests can list millions of entries of 400
// bytes each, so they are read into one slice, each manifest into the
// range its counts in the manifest list give, and merged in place: no
// entry is copied after decoding unless a DELETE cancels an earlier ADD.
// Counts that do not hold fall back to merging the manifests' own slices.
func (t *Table) readAllEntries(ctx context.Context, metas []spec.ManifestFileMeta) ([]spec.ManifestEntry, error) {
	offs := make([]int, len(metas)+1)
	fits := true
	for i, m := range metas {
		n := m.NumAddedFiles + m.NumDeletedFiles
		if n < 0 || n > m.FileSize || int64(offs[i])+n > maxPlannedEntries {
			fits = false
			n = 0
		}
		offs[i+1] = offs[i] + int(n)
	}
	var all []spec.ManifestEntry
	if fits {
		all = make([]spec.ManifestEntry, offs[len(metas)])
	}
	parts := make([][]spec.ManifestEntry, len(metas))
	err := readManifests(ctx, metas, func(ctx context.Context, i int, m spec.ManifestFileMeta) error {
		var dst []spec.ManifestEntry
		if all != nil {
			dst = all[offs[i]:offs[i]:offs[i+1]]
		}
		es, err := t.manifests.AppendManifest(ctx, dst, m)
		parts[i] = es
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, p := range parts {
		// A manifest that holds other than its counts said landed outside
		// its range, or left a gap.
		if fits && (len(p) != offs[i+1]-offs[i] || len(p) > 0 && &p[0] != &all[offs[i]]) {
			fits = false
		}
	}
	if !fits {
		return manifest.Merge(parts...)
	}
	return manifest.MergeInPlace(all)
}

// readEntriesWhere reads the entries of the given manifests that the
// filter's partition and bucket conditions allow, in parallel, and merges
// them.
func (t *Table) readEntriesWhere(ctx context.Context, metas []spec.ManifestFileMeta, pf *scanFilter) ([]spec.ManifestEntry, error) {
	parts := make([][]spec.ManifestEntry, len(metas))
	err := readManifests(ctx, metas, func(ctx context.Context, i int, m spec.ManifestFileMeta) error {
		es, err := t.manifests.ReadManifest(ctx, m)
		if err != nil {
			return err
		}
		pf.counters.manifestsRead.Add(1)
		kept := es[:0]
		for i := range es {
			if pf.matchesEntry(&es[i]) {
				kept = append(kept, es[i])
			}
		}
		clear(es[len(kept):])
		parts[i] = kept
		return nil
	})
	if err != nil {
		return nil, err
	}
	return manifest.Merge(parts...)
}

// readManifests calls read for each manifest, GOMAXPROCS at a time; the
// callers keep the results in manifest order, which merging depends on.
func readManifests(ctx context.Context, metas []spec.ManifestFileMeta, read func(ctx context.Context, i int, m spec.ManifestFileMeta) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, m := range metas {
		g.Go(func() error { return read(gctx, i, m) })
	}
	return g.Wait()
}

// bucketSizes counts files by partition and bucket, so that splits are
// allocated at their size: growing a million 360-byte DataFileMetas by
// appending costs more than grouping them.
func bucketSizes(files []spec.ManifestEntry) map[string]map[int32]int {
	out := map[string]map[int32]int{}
	for i := range files {
		e := &files[i]
		m := out[string(e.Partition)]
		if m == nil {
			m = map[int32]int{}
			out[string(e.Partition)] = m
		}
		m[e.Bucket]++
	}
	return out
}
