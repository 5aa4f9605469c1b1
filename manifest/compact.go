package manifest

import (
	"context"

	"github.com/stratalake/strata/spec"
)

// MergeOptions are the manifest.* options that keep manifests few.
type MergeOptions struct {
	TargetSize    int64 // manifest.target-file-size (8 MiB)
	MinCount      int   // manifest.merge-min-count (30)
	FullThreshold int64 // manifest.full-compaction-threshold-size (16 MiB)
	SchemaID      int64
	PartTypes     []spec.DataType
}

// Compact merges a snapshot's manifests into the base list of the next one,
// with Java's legacy ManifestFileMerger rules: a full compaction once the
// manifests that must change (deletes or small) reach FullThreshold;
// otherwise runs of manifests adding up to TargetSize, and a tail of at
// least MinCount small ones, are merged into new files. Entry semantics
// never change: the live file set of the result is that of the input.
func (s *Store) Compact(ctx context.Context, metas []spec.ManifestFileMeta, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	mustChange := func(m spec.ManifestFileMeta) bool { return m.NumDeletedFiles > 0 || m.FileSize < o.TargetSize }
	var changing int64
	for _, m := range metas {
		if mustChange(m) {
			changing += m.FileSize
		}
	}
	if changing >= o.FullThreshold && len(metas) > 1 {
		return s.fullCompact(ctx, metas, mustChange, o)
	}
	var out, cand []spec.ManifestFileMeta
	var size int64
	flush := func() error {
		if len(cand) == 1 {
			out = append(out, cand...)
		} else if len(cand) > 1 {
			merged, err := s.mergeFiles(ctx, cand, o)
			if err != nil {
				return err
			}
			out = append(out, merged...)
		}
		cand, size = nil, 0
		return nil
	}
	for _, m := range metas {
		cand = append(cand, m)
		size += m.FileSize
		if size >= o.TargetSize {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if len(cand) >= o.MinCount {
		if err := flush(); err != nil {
			return nil, err
		}
	} else {
		out = append(out, cand...)
	}
	return out, nil
}

// fullCompact is Java's tryFull: every DELETE entry is applied and dropped;
// manifests that need no change (big, no deletes, none of their files
// deleted) are kept as they are, the rest rewritten as live entries.
func (s *Store) fullCompact(ctx context.Context, metas []spec.ManifestFileMeta, mustChange func(spec.ManifestFileMeta) bool, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	deleted := map[fileKey]bool{}
	for _, m := range metas {
		if m.NumDeletedFiles == 0 {
			continue
		}
		es, err := s.ReadManifest(ctx, m)
		if err != nil {
			return nil, err
		}
		for i := range es {
			if es[i].Kind == spec.FileKindDelete {
				deleted[keyOf(&es[i], string(es[i].Partition))] = true
			}
		}
	}
	var kept []spec.ManifestFileMeta
	var live []spec.ManifestEntry
	for _, m := range metas {
		if !mustChange(m) && len(deleted) == 0 {
			kept = append(kept, m)
			continue
		}
		es, err := s.ReadManifest(ctx, m)
		if err != nil {
			return nil, err
		}
		var adds []spec.ManifestEntry
		dropped := false
		for i := range es {
			switch {
			case es[i].Kind == spec.FileKindDelete:
			case deleted[keyOf(&es[i], string(es[i].Partition))]:
				dropped = true
			default:
				adds = append(adds, es[i])
			}
		}
		if !mustChange(m) && !dropped {
			kept = append(kept, m)
			continue
		}
		live = append(live, adds...)
	}
	written, err := s.WriteManifests(ctx, live, o)
	if err != nil {
		return nil, err
	}
	return append(kept, written...), nil
}

// mergeFiles folds the entries of several manifests into new ones.
func (s *Store) mergeFiles(ctx context.Context, metas []spec.ManifestFileMeta, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	m := NewMerger(0)
	for _, meta := range metas {
		es, err := s.ReadManifest(ctx, meta)
		if err != nil {
			return nil, err
		}
		for i := range es {
			if err := m.Add(&es[i]); err != nil {
				return nil, err
			}
		}
	}
	return s.WriteManifests(ctx, m.Result(), o)
}

// WriteManifests writes entries as manifest files of about TargetSize each
// (Java rolls at the target size): the compressed size per entry is
// measured on a sample first, so that files do not come out small and make
// the next commit merge them again.
func (s *Store) WriteManifests(ctx context.Context, entries []spec.ManifestEntry, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	perEntry := int64(150)
	if sample := min(len(entries), 2000); o.TargetSize > 0 && len(entries) > sample {
		data, err := spec.EncodeManifestEntries(entries[:sample], s.compression)
		if err != nil {
			return nil, err
		}
		perEntry = max(1, int64(len(data))/int64(sample))
	}
	// Aim a little past the target, as a writer rolling on size does: a
	// file just under it would count as small at the next merge.
	chunk := max(100, int(o.TargetSize*11/10/perEntry))
	var out []spec.ManifestFileMeta
	for start := 0; start < len(entries); start += chunk {
		end := min(start+chunk, len(entries))
		meta, err := s.WriteManifest(ctx, entries[start:end], o.SchemaID, o.PartTypes)
		if err != nil {
			return nil, err
		}
		out = append(out, meta)
	}
	return out, nil
}
