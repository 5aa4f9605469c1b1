package lookupfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratalake/strata/spec"
)

// FuzzOpenFile writes arbitrary bytes as a lookup file and opens it in each
// read mode (no block cache, a block cache, resident with the hash index),
// then reads keys one at a time and sorted. Nothing may panic; errors of
// Open and reads wrap spec.ErrCorrupt and name the file; a key found in a
// file that opens holds the value every read mode agrees on.
func FuzzOpenFile(f *testing.F) {
	seedDir := f.TempDir()
	for _, n := range []int{1, 12, 40} {
		p := filepath.Join(seedDir, "seed.sst")
		if _, err := Build(context.Background(), p, evenRecords(n, 20), n); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	caches := []*BlockCache{nil, NewBlockCache(1 << 10), NewBlockCache(16 << 20)}
	dir := f.TempDir()
	keys := [][]byte{{}, testKey(0), testKey(1), testKey(4), testKey(22), testKey(79), testKey(1 << 40)}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.sst")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var seen map[string][]byte // key → value, from the first mode that read it
		for _, bc := range caches {
			file, err := Open(p, bc)
			if err != nil {
				checkFileErr(t, p, err)
				continue
			}
			if seen == nil {
				seen = map[string][]byte{}
			}
			for _, k := range keys {
				v, ok, err := file.Get(k)
				if err != nil {
					checkFileErr(t, p, err)
					continue
				}
				if w, had := seen[string(k)]; ok && had && !bytes.Equal(v, w) {
					t.Fatalf("key %x: value %x in one read mode, %x in another", k, v, w)
				}
				if ok {
					seen[string(k)] = v
				}
			}
			err = file.GetSorted(keys, func(int, []byte) error { return nil })
			if err != nil {
				checkFileErr(t, p, err)
			}
			if err := file.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func checkFileErr(t *testing.T, p string, err error) {
	t.Helper()
	if !errors.Is(err, spec.ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte(p)) {
		t.Fatalf("%v: want an error wrapping spec.ErrCorrupt naming %s", err, p)
	}
}
