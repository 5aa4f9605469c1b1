package manifest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func entry(kind spec.FileKind, name string, level int32) spec.ManifestEntry {
	return spec.ManifestEntry{Kind: kind, Partition: spec.SerializedEmptyRow(), Bucket: 0, TotalBuckets: 1,
		File: spec.DataFileMeta{FileName: name, Level: level, ExtraFiles: []string{}}}
}

func names(es []spec.ManifestEntry) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("%s:%s@%d ", e.Kind, e.File.FileName, e.File.Level)
	}
	return s
}

// Java's FileEntry.mergeEntries: ADD then DELETE cancel; a level change is
// a DELETE and an ADD of the same name; a dangling DELETE is kept; adding a
// live file twice is a conflict.
func TestMerge(t *testing.T) {
	got, err := Merge([]spec.ManifestEntry{
		entry(spec.FileKindAdd, "a", 0), entry(spec.FileKindAdd, "b", 0),
		entry(spec.FileKindDelete, "a", 0), entry(spec.FileKindAdd, "a", 2),
		entry(spec.FileKindDelete, "x", 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := names(got); s != "ADD:b@0 ADD:a@2 DELETE:x@1 " {
		t.Fatalf("merged %q", s)
	}
	_, err = Merge([]spec.ManifestEntry{entry(spec.FileKindAdd, "a", 0), entry(spec.FileKindAdd, "a", 0)})
	if !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("double add: %v", err)
	}
}

func TestStoreRoundTripAndStats(t *testing.T) {
	ctx := context.Background()
	s := NewStore(storage.NewMemory(), "db.db/t", "zstd")
	es := []spec.ManifestEntry{entry(spec.FileKindAdd, "a", 0), entry(spec.FileKindDelete, "b", 3)}
	es[1].Bucket = 5
	meta, err := s.WriteManifest(ctx, es, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if meta.NumAddedFiles != 1 || meta.NumDeletedFiles != 1 || *meta.MinBucket != 0 || *meta.MaxBucket != 5 || *meta.MinLevel != 0 || *meta.MaxLevel != 3 {
		t.Fatalf("meta %+v", meta)
	}
	list, _, err := s.WriteManifestList(ctx, []spec.ManifestFileMeta{meta})
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.ReadEntries(ctx, list)
	if err != nil || names(back) != names(es) {
		t.Fatalf("read back %q, %v", names(back), err)
	}
	if _, err := s.ReadManifest(ctx, spec.ManifestFileMeta{FileName: "manifest-missing"}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing manifest: %v", err)
	}
}

// Merge and the incremental Merger agree on random ADD/DELETE sequences,
// conflicts included.
func TestMergeMatchesMerger(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	for round := 0; round < 500; round++ {
		es := make([]spec.ManifestEntry, r.Intn(30))
		for i := range es {
			es[i] = entry(spec.FileKind(r.Intn(2)), fmt.Sprint("f", r.Intn(8)), int32(r.Intn(2)))
			es[i].Partition = []byte{byte(r.Intn(2))}
			if r.Intn(5) == 0 {
				es[i].File.ExtraFiles = []string{"x"}
			}
		}
		cut := 0
		if len(es) > 0 {
			cut = r.Intn(len(es))
		}
		got, err := Merge(es[:cut], nil, es[cut:])
		m := NewMerger(0)
		var werr error
		for i := range es {
			if werr = m.Add(&es[i]); werr != nil {
				break
			}
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("round %d: Merge error %v, Merger error %v", round, err, werr)
		}
		if err == nil && names(got) != names(m.Result()) {
			t.Fatalf("round %d: Merge %q, Merger %q", round, names(got), names(m.Result()))
		}
		inPlace, ierr := MergeInPlace(slices.Clone(es))
		if (ierr == nil) != (err == nil) || names(inPlace) != names(got) {
			t.Fatalf("round %d: MergeInPlace %q (%v), Merge %q (%v)", round, names(inPlace), ierr, names(got), err)
		}
	}
}
