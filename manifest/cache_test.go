package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// writeManifests writes n manifests of one entry each and returns their
// names.
func writeManifests(t *testing.T, s *Store, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		m, err := s.WriteManifest(context.Background(), []spec.ManifestEntry{entry(spec.FileKindAdd, fmt.Sprint("f", i), 0)}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.FileName)
	}
	return names
}

// readable reports whether name can still be read once its file is gone:
// whether the cache holds it.
func readable(t *testing.T, s *Store, fs storage.Storage, name string) bool {
	t.Helper()
	ctx := context.Background()
	if err := fs.Delete(ctx, s.Path(name)); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: name})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCacheKeepsDecodedManifests(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	s := NewStore(fs, "db.db/t", "zstd")
	names := writeManifests(t, s, 2)
	es, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: names[0]})
	if err != nil {
		t.Fatal(err)
	}
	es[0].Kind = spec.FileKindDelete // the caller's copy
	if !readable(t, s, fs, names[0]) {
		t.Fatal("a manifest read once is decoded again")
	}
	again, _ := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: names[0]})
	if again[0].Kind != spec.FileKindAdd || again[0].File.FileName != "f0" {
		t.Fatalf("cached entry changed through a returned slice: %+v", again[0])
	}
	if readable(t, s, fs, names[1]) {
		t.Fatal("a manifest never read is cached")
	}
}

func TestCacheDisabledAndBounded(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	off := NewStore(fs, "db.db/t", "zstd", WithCacheBytes(0))
	names := writeManifests(t, off, 3)
	if _, err := off.ReadManifest(ctx, spec.ManifestFileMeta{FileName: names[0]}); err != nil {
		t.Fatal(err)
	}
	if readable(t, off, fs, names[0]) {
		t.Fatal("disabled cache kept a manifest")
	}

	one := entriesSize([]spec.ManifestEntry{entry(spec.FileKindAdd, "f1", 0)})
	s := NewStore(fs, "db.db/t", "zstd", WithCacheBytes(2*one))
	for _, n := range names[1:] {
		if _, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: n}); err != nil {
			t.Fatal(err)
		}
	}
	more := writeManifests(t, s, 1)
	if _, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: names[1]}); err != nil { // most recent now
		t.Fatal(err)
	}
	if _, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: more[0]}); err != nil { // evicts names[2]
		t.Fatal(err)
	}
	if readable(t, s, fs, names[2]) {
		t.Fatal("least recently used manifest was not evicted")
	}
	if !readable(t, s, fs, names[1]) || !readable(t, s, fs, more[0]) {
		t.Fatal("recently used manifests were evicted")
	}

	tiny := NewStore(fs, "db.db/t", "zstd", WithCacheBytes(one-1))
	big := writeManifests(t, tiny, 1)
	if _, err := tiny.ReadManifest(ctx, spec.ManifestFileMeta{FileName: big[0]}); err != nil {
		t.Fatal(err)
	}
	if readable(t, tiny, fs, big[0]) {
		t.Fatal("a manifest larger than the cache was kept")
	}
}

// A manifest cut right after an Avro block still decodes, with entries
// missing: its size, which the manifest list gives, must give it away.
func TestManifestCutAtBlockIsCorrupt(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	s := NewStore(fs, "db.db/t", "zstd")
	s.cache.limit = 0
	m, err := s.WriteManifest(ctx, []spec.ManifestEntry{entry(spec.FileKindAdd, "f0", 0), entry(spec.FileKindAdd, "f1", 0)}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fs.Get(ctx, s.Path(m.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// An object container file ends with its sync marker, which also ends
	// the header: cut after the header, the file holds no block.
	sync := data[len(data)-16:]
	cut := data[:bytes.Index(data, sync)+16]
	if es, err := spec.DecodeManifestEntries(cut); err != nil || len(es) != 0 {
		t.Fatalf("the cut file decodes to %d entries, %v: the test's premise is gone", len(es), err)
	}
	if err := fs.Put(ctx, s.Path(m.FileName), cut); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadManifest(ctx, m)
	if !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), m.FileName) {
		t.Fatalf("reading the cut manifest: %v, want ErrCorrupt naming it", err)
	}
}
