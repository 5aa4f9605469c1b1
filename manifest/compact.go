package manifest

import (
	"context"
	"slices"

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
// with Java's legacy ManifestFileMerger rules: a full compaction (only live
// files survive) once the manifests that must change (deletes or small)
// reach FullThreshold; otherwise runs of manifests adding up to TargetSize,
// and a tail of at least MinCount small ones, are merged into new files.
// Entry semantics never change: the live file set of the result is that of
// the input.
func (s *Store) Compact(ctx context.Context, metas []spec.ManifestFileMeta, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	var mustChange int64
	for _, m := range metas {
		if m.NumDeletedFiles > 0 || m.FileSize < o.TargetSize {
			mustChange += m.FileSize
		}
	}
	if mustChange >= o.FullThreshold && len(metas) > 1 {
		return s.mergeFiles(ctx, metas, o, true)
	}
	var out, cand []spec.ManifestFileMeta
	var size int64
	flush := func() error {
		if len(cand) == 1 {
			out = append(out, cand...)
		} else if len(cand) > 1 {
			merged, err := s.mergeFiles(ctx, cand, o, false)
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

// mergeFiles folds the entries of several manifests into new ones; with
// liveOnly (full compaction) DELETE entries are dropped too.
func (s *Store) mergeFiles(ctx context.Context, metas []spec.ManifestFileMeta, o MergeOptions, liveOnly bool) ([]spec.ManifestFileMeta, error) {
	m := NewMerger(0)
	for _, meta := range metas {
		es, err := s.ReadManifest(ctx, meta.FileName)
		if err != nil {
			return nil, err
		}
		for i := range es {
			if err := m.Add(&es[i]); err != nil {
				return nil, err
			}
		}
	}
	merged := m.Result()
	if liveOnly {
		merged = slices.DeleteFunc(merged, func(e spec.ManifestEntry) bool { return e.Kind != spec.FileKindAdd })
	}
	return s.WriteManifests(ctx, merged, o)
}

// WriteManifests writes entries as manifest files of about TargetSize each.
func (s *Store) WriteManifests(ctx context.Context, entries []spec.ManifestEntry, o MergeOptions) ([]spec.ManifestFileMeta, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	// Entries compress to roughly 100-200 bytes; split the list so each
	// file lands near the target, then check the real size.
	chunk := max(1000, int(o.TargetSize/150))
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
