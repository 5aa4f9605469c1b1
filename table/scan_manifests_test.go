package table

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// readAllEntries sizes one slice by the manifest list's counts; whatever
// the counts say, the merged entries are those of the manifests.
func TestReadAllEntriesWithWrongCounts(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2, "num-sorted-run.compaction-trigger", "2")
	for i := int64(0); i < 6; i++ {
		commitRows(t, tb, "w", i, spec.Row{i, fmt.Sprint(i), 1.0}, spec.Row{int64(0), fmt.Sprint(i), 2.0})
	}
	snap, err := tb.snapshots.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := tb.manifests.ReadManifestFiles(ctx, snap.BaseManifestList, snap.DeltaManifestList)
	if err != nil || len(metas) < 2 {
		t.Fatal(len(metas), err)
	}
	var parts [][]spec.ManifestEntry
	for _, m := range metas {
		es, err := tb.manifests.ReadManifest(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, es)
	}
	want, err := manifest.Merge(parts...)
	if err != nil {
		t.Fatal(err)
	}
	deletes := 0
	for _, p := range parts {
		for _, e := range p {
			if e.Kind == spec.FileKindDelete {
				deletes++
			}
		}
	}
	if deletes == 0 {
		t.Fatal("no DELETE entries to merge")
	}
	for name, change := range map[string]func(m *spec.ManifestFileMeta){
		"right":    func(m *spec.ManifestFileMeta) {},
		"more":     func(m *spec.ManifestFileMeta) { m.NumAddedFiles++ },
		"fewer":    func(m *spec.ManifestFileMeta) { m.NumAddedFiles--; m.NumDeletedFiles-- },
		"negative": func(m *spec.ManifestFileMeta) { m.NumAddedFiles = -5 },
		"huge":     func(m *spec.ManifestFileMeta) { m.NumAddedFiles, m.FileSize = 1<<40, 1<<41 },
	} {
		for i := range metas {
			changed := append([]spec.ManifestFileMeta(nil), metas...)
			change(&changed[i])
			got, err := tb.readAllEntries(ctx, changed)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s counts in manifest %d: %v\n got %v\nwant %v", name, i, err, got, want)
			}
		}
	}
}
