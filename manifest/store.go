package manifest

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Store reads and writes a table's manifest directory.
type Store struct {
	fs          storage.Storage
	dir         string // <table>/manifest
	compression string
	prefix      string // uuid shared by the files this Store writes
	counter     atomic.Int64
	cache       entryCache // decoded manifests (cache.go)
}

// NewStore returns a Store for the table at tablePath; compression is the
// manifest.compression option (zstd by default). The Store keeps the
// manifests it decodes, up to DefaultCacheBytes unless WithCacheBytes says
// otherwise, so planning a snapshot again decodes only its new manifests.
func NewStore(fs storage.Storage, tablePath, compression string, opts ...StoreOption) *Store {
	s := &Store{fs: fs, dir: path.Join(tablePath, "manifest"), compression: compression, prefix: uuid.NewString()}
	s.cache.limit = DefaultCacheBytes
	for _, o := range opts {
		o(s)
	}
	return s
}

// Dir is the manifest directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) newName(kind string) string {
	return kind + "-" + s.prefix + "-" + strconv.FormatInt(s.counter.Add(1)-1, 10)
}

// Path returns the full path of a manifest-directory file.
func (s *Store) Path(name string) string { return path.Join(s.dir, name) }

func (s *Store) read(ctx context.Context, name string) ([]byte, error) {
	data, err := s.fs.Get(ctx, s.Path(name))
	if err != nil {
		return nil, fmt.Errorf("manifest: read %s: %w", name, err)
	}
	return data, nil
}

// readDecoded reads one manifest-directory file and decodes it, naming the
// file in errors.
func readDecoded[T any](ctx context.Context, s *Store, name string, decode func([]byte) ([]T, error)) ([]T, error) {
	data, err := s.read(ctx, name)
	if err != nil {
		return nil, err
	}
	out, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("manifest: %s: %w", s.Path(name), err)
	}
	return out, nil
}

// ReadManifestList reads a manifest list by file name.
func (s *Store) ReadManifestList(ctx context.Context, name string) ([]spec.ManifestFileMeta, error) {
	return readDecoded(ctx, s, name, spec.DecodeManifestList)
}

// ReadManifest reads the entries of the manifest file m names, from the
// cache when it holds them. The slice is the caller's; the byte slices and
// pointers in the entries are shared with the cache and must not be
// modified.
func (s *Store) ReadManifest(ctx context.Context, m spec.ManifestFileMeta) ([]spec.ManifestEntry, error) {
	return s.AppendManifest(ctx, nil, m)
}

// AppendManifest is ReadManifest appending to dst, in place when dst has
// room: a planner reads every manifest of a snapshot into one slice.
//
// A file whose size is not the one its manifest list gives is corrupt: an
// Avro file cut right after a block still decodes, with entries missing.
func (s *Store) AppendManifest(ctx context.Context, dst []spec.ManifestEntry, m spec.ManifestFileMeta) ([]spec.ManifestEntry, error) {
	name := m.FileName
	if es, ok := s.cache.get(name); ok {
		return append(dst, es...), nil
	}
	data, err := s.read(ctx, name)
	if err != nil {
		return nil, err
	}
	if m.FileSize > 0 && int64(len(data)) != m.FileSize {
		return nil, fmt.Errorf("manifest: %s: %w: %d bytes, its manifest list says %d", s.Path(name), spec.ErrCorrupt, len(data), m.FileSize)
	}
	if s.cache.limit == 0 {
		out, err := spec.AppendManifestEntries(dst, data)
		if err != nil {
			return nil, fmt.Errorf("manifest: %s: %w", s.Path(name), err)
		}
		return out, nil
	}
	es, err := spec.DecodeManifestEntries(data)
	if err != nil {
		return nil, fmt.Errorf("manifest: %s: %w", s.Path(name), err)
	}
	s.cache.put(name, es)
	return append(dst, es...), nil
}

// ReadIndexManifest reads an index manifest by file name.
func (s *Store) ReadIndexManifest(ctx context.Context, name string) ([]spec.IndexManifestEntry, error) {
	return readDecoded(ctx, s, name, spec.DecodeIndexManifest)
}

// WriteManifest writes entries to a new manifest file and returns its
// manifest-list row, with partition stats and bucket/level ranges filled in
// for pruning. partitionTypes are the partition columns' types.
func (s *Store) WriteManifest(ctx context.Context, entries []spec.ManifestEntry, schemaID int64, partitionTypes []spec.DataType) (spec.ManifestFileMeta, error) {
	data, err := spec.EncodeManifestEntries(entries, s.compression)
	if err != nil {
		return spec.ManifestFileMeta{}, fmt.Errorf("manifest: encode: %w", err)
	}
	name := s.newName("manifest")
	if err := s.fs.Put(ctx, s.Path(name), data); err != nil {
		return spec.ManifestFileMeta{}, fmt.Errorf("manifest: write %s: %w", name, err)
	}
	faultpoint.Hit(faultpoint.ManifestWritten)
	meta := spec.ManifestFileMeta{FileName: name, FileSize: int64(len(data)), SchemaID: schemaID}
	pstats := spec.NewStatsCollector(partitionTypes, fullModes(len(partitionTypes)))
	var minB, maxB, minL, maxL int32
	for i := range entries {
		e := &entries[i]
		if e.Kind == spec.FileKindAdd {
			meta.NumAddedFiles++
		} else {
			meta.NumDeletedFiles++
		}
		if i == 0 || e.Bucket < minB {
			minB = e.Bucket
		}
		if i == 0 || e.Bucket > maxB {
			maxB = e.Bucket
		}
		if i == 0 || e.File.Level < minL {
			minL = e.File.Level
		}
		if i == 0 || e.File.Level > maxL {
			maxL = e.File.Level
		}
		if len(partitionTypes) > 0 {
			_, row, err := spec.DeserializeBinaryRow(e.Partition)
			if err != nil {
				return meta, fmt.Errorf("manifest: partition of %s: %w", e.File.FileName, err)
			}
			vals, _, err := spec.DecodeBinaryRow(partitionTypes, row)
			if err != nil {
				return meta, fmt.Errorf("manifest: partition of %s: %w", e.File.FileName, err)
			}
			pstats.Add(vals)
		}
	}
	names := make([]string, len(partitionTypes))
	st, _, err := pstats.Result(names)
	if err != nil {
		return meta, err
	}
	meta.PartitionStats = st
	if len(entries) > 0 {
		meta.MinBucket, meta.MaxBucket, meta.MinLevel, meta.MaxLevel = &minB, &maxB, &minL, &maxL
	}
	return meta, nil
}

func fullModes(n int) []spec.StatsMode {
	m := make([]spec.StatsMode, n)
	for i := range m {
		m[i] = spec.StatsMode{Kind: spec.StatsFull}
	}
	return m
}

// WriteManifestList writes a manifest list and returns its name and size.
func (s *Store) WriteManifestList(ctx context.Context, metas []spec.ManifestFileMeta) (string, int64, error) {
	data, err := spec.EncodeManifestList(metas, s.compression)
	if err != nil {
		return "", 0, fmt.Errorf("manifest: encode list: %w", err)
	}
	name := s.newName("manifest-list")
	if err := s.fs.Put(ctx, s.Path(name), data); err != nil {
		return "", 0, fmt.Errorf("manifest: write %s: %w", name, err)
	}
	faultpoint.Hit(faultpoint.ManifestListWritten)
	return name, int64(len(data)), nil
}

// WriteIndexManifest writes an index manifest and returns its name.
func (s *Store) WriteIndexManifest(ctx context.Context, entries []spec.IndexManifestEntry) (string, error) {
	data, err := spec.EncodeIndexManifest(entries, s.compression)
	if err != nil {
		return "", fmt.Errorf("manifest: encode index manifest: %w", err)
	}
	name := s.newName("index-manifest")
	if err := s.fs.Put(ctx, s.Path(name), data); err != nil {
		return "", fmt.Errorf("manifest: write %s: %w", name, err)
	}
	return name, nil
}

// ReadEntries reads every manifest listed in the given lists, in order, and
// returns their entries concatenated (unmerged).
func (s *Store) ReadEntries(ctx context.Context, lists ...string) ([]spec.ManifestEntry, error) {
	var all []spec.ManifestEntry
	for _, l := range lists {
		if l == "" {
			continue
		}
		metas, err := s.ReadManifestList(ctx, l)
		if err != nil {
			return nil, err
		}
		for _, m := range metas {
			es, err := s.ReadManifest(ctx, m)
			if err != nil {
				return nil, err
			}
			all = append(all, es...)
		}
	}
	return all, nil
}

// ReadManifestFiles returns the manifest-list rows of the given lists, in
// order.
func (s *Store) ReadManifestFiles(ctx context.Context, lists ...string) ([]spec.ManifestFileMeta, error) {
	var all []spec.ManifestFileMeta
	for _, l := range lists {
		if l == "" {
			continue
		}
		metas, err := s.ReadManifestList(ctx, l)
		if err != nil {
			return nil, err
		}
		all = append(all, metas...)
	}
	return all, nil
}
