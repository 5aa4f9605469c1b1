package table

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// For the rows Java wrote in each level-0 file of the global-index fixture,
// Strata's new file must get the same manifest entry, apart from the file's
// name, size and creation time.
func TestManifestEntryMatchesJava(t *testing.T) {
	ctx := context.Background()
	mdir := filepath.Join(fixtureWarehouse, "default.db/test_pk_global_index_golden/manifest")
	javaEntries := map[string]spec.ManifestEntry{}
	files, _ := filepath.Glob(filepath.Join(mdir, "manifest-*"))
	for _, f := range files {
		if filepath.Base(f)[:len("manifest-list")] == "manifest-list" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		es, err := spec.DecodeManifestEntries(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Kind == spec.FileKindAdd && e.File.Level == 0 {
				javaEntries[e.File.FileName] = e
			}
		}
	}
	if len(javaEntries) != 3 {
		t.Fatalf("found %d level-0 Java files, want 3", len(javaEntries))
	}
	fields, err := spec.ParseColumns("id INT NOT NULL, name STRING, category STRING")
	if err != nil {
		t.Fatal(err)
	}
	for name, je := range javaEntries {
		t.Run(name, func(t *testing.T) {
			_, kb, _ := spec.DeserializeBinaryRow(je.File.MinKey)
			k, _, _ := spec.DecodeBinaryRow([]spec.DataType{spec.IntType.NotNull()}, kb)
			first := k[0].(int32)
			sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1"), nil)
			if err != nil {
				t.Fatal(err)
			}
			fs := storage.NewMemory()
			tb, err := Create(ctx, fs, "default.db/t", sc)
			if err != nil {
				t.Fatal(err)
			}
			// Java's sequence numbers continue across its earlier files;
			// start ours at the same number.
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			w.setNextSeq(0, je.File.MinSequenceNumber)
			for id := first; id < first+2; id++ {
				cat := "odd"
				if id%2 == 0 {
					cat = "even"
				}
				if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, "name-" + string(rune('0'+id)), cat}); err != nil {
					t.Fatal(err)
				}
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("test").Commit(ctx, BatchCommitIdentifier, msgs); err != nil {
				t.Fatal(err)
			}
			snap, _ := tb.Snapshots().Latest(ctx)
			es, err := tb.manifests.ReadEntries(ctx, snap.DeltaManifestList)
			if err != nil || len(es) != 1 {
				t.Fatalf("entries %v %v", es, err)
			}
			got := es[0]
			// Name, size and time differ by nature.
			got.File.FileName, got.File.FileSize, got.File.CreationTime = je.File.FileName, je.File.FileSize, je.File.CreationTime
			if !reflect.DeepEqual(got, je) {
				t.Fatalf("entry differs\n got %+v\nwant %+v", got, je)
			}
			// The serialized BinaryRows are compared byte for byte.
			for what, pair := range map[string][2][]byte{
				"min key": {got.File.MinKey, je.File.MinKey}, "max key": {got.File.MaxKey, je.File.MaxKey},
				"key min":   {got.File.KeyStats.MinValues, je.File.KeyStats.MinValues},
				"key max":   {got.File.KeyStats.MaxValues, je.File.KeyStats.MaxValues},
				"value min": {got.File.ValueStats.MinValues, je.File.ValueStats.MinValues},
				"value max": {got.File.ValueStats.MaxValues, je.File.ValueStats.MaxValues},
			} {
				if !bytes.Equal(pair[0], pair[1]) {
					t.Errorf("%s: %x, Java %x", what, pair[0], pair[1])
				}
			}
		})
	}
}
