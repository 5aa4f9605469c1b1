package manifest

import (
	"context"
	"errors"
	"fmt"
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
	_, err := s.ReadManifest(ctx, name)
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
	es, err := s.ReadManifest(ctx, names[0])
	if err != nil {
		t.Fatal(err)
	}
	es[0].Kind = spec.FileKindDelete // the caller's copy
	if !readable(t, s, fs, names[0]) {
		t.Fatal("a manifest read once is decoded again")
	}
	again, _ := s.ReadManifest(ctx, names[0])
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
	if _, err := off.ReadManifest(ctx, names[0]); err != nil {
		t.Fatal(err)
	}
	if readable(t, off, fs, names[0]) {
		t.Fatal("disabled cache kept a manifest")
	}

	one := entriesSize([]spec.ManifestEntry{entry(spec.FileKindAdd, "f1", 0)})
	s := NewStore(fs, "db.db/t", "zstd", WithCacheBytes(2*one))
	for _, n := range names[1:] {
		if _, err := s.ReadManifest(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	more := writeManifests(t, s, 1)
	if _, err := s.ReadManifest(ctx, names[1]); err != nil { // most recent now
		t.Fatal(err)
	}
	if _, err := s.ReadManifest(ctx, more[0]); err != nil { // evicts names[2]
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
	if _, err := tiny.ReadManifest(ctx, big[0]); err != nil {
		t.Fatal(err)
	}
	if readable(t, tiny, fs, big[0]) {
		t.Fatal("a manifest larger than the cache was kept")
	}
}
