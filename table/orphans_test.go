package table

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Orphan cleaning deletes exactly the planted unreferenced files (once
// past the age guard), never a file a kept snapshot or a tag needs, nor
// files outside the directories it owns.
func TestCleanOrphans(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "snapshot.num-retained.min", "2", "deletion-vectors.enabled", "true")
	for i := range 8 {
		cs := upserts(int64(i*10), int64(i*10+15), func(id int64) spec.Row { return spec.Row{id, "v", float64(i)} })
		msgs := writeAll(t, tb, cs, i%3 == 2)
		if _, err := tb.NewCommit("o", WithoutExpire()).Commit(ctx, int64(i), msgs); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			latest, _ := tb.Snapshots().LatestID(ctx)
			writeTestTag(t, tb, "keep", latest)
		}
	}
	if _, err := tb.ExpireSnapshots(ctx, WithTimeRetained(0)); err != nil {
		t.Fatal(err)
	}
	// What the writer left unreferenced (a DV index file, say) is an orphan
	// too; the planted files come on top.
	before, err := tb.CleanOrphans(ctx, WithDryRun(), WithOrphanTime(time.Now().Add(48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	planted := []string{
		path.Join(tb.Path(), "bucket-0", "data-orphan-0.parquet"),
		path.Join(tb.Path(), "manifest", "manifest-orphan-0"),
		path.Join(tb.Path(), "index", "index-orphan-0"),
		path.Join(tb.Path(), "snapshot", "tmp-snapshot-9"),
	}
	kept := []string{
		path.Join(tb.Path(), "README"),
		path.Join(tb.Path(), "schema", "schema-orphan"),
		path.Join(tb.Path(), "other", "bucket-0", "data-x.parquet"),
	}
	for _, p := range slices.Concat(planted, kept) {
		if err := fs.Put(ctx, p, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	// Young files are kept by the guard.
	res, err := tb.CleanOrphans(ctx, WithOrphanAge(time.Hour))
	if err != nil || len(res.Orphans) != 0 || res.Young != len(planted)+len(before.Orphans) {
		t.Fatalf("young orphans: %+v, %v; want none deleted, %d young", res, err, len(planted)+len(before.Orphans))
	}
	later := WithOrphanTime(time.Now().Add(48 * time.Hour))
	dry, err := tb.CleanOrphans(ctx, WithDryRun(), later)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(slices.Concat(planted, before.Orphans)))
	if got := slices.Sorted(slices.Values(dry.Orphans)); !slices.Equal(got, want) {
		t.Fatalf("dry run found %v, want %v", got, want)
	}
	for _, p := range want {
		if _, err := fs.Stat(ctx, p); err != nil {
			t.Fatalf("dry run deleted %s: %v", p, err)
		}
	}
	snapsBefore := map[int64][]spec.Row{}
	ids, _ := tb.Snapshots().IDs(ctx)
	for _, id := range ids {
		snapsBefore[id] = scanAll(t, tb, WithSnapshot(id))
	}
	res, err = tb.CleanOrphans(ctx, later)
	if err != nil || len(res.Orphans) != len(want) {
		t.Fatalf("clean: %+v, %v", res, err)
	}
	for _, p := range want {
		if _, err := fs.Stat(ctx, p); err == nil {
			t.Fatalf("%s survived", p)
		}
	}
	for _, p := range kept {
		if _, err := fs.Stat(ctx, p); err != nil {
			t.Fatalf("%s, outside what orphan cleaning owns, was deleted: %v", p, err)
		}
	}
	for id, rows := range snapsBefore {
		checkEqual(t, "snapshot after cleaning", scanAll(t, tb, WithSnapshot(id)), slices.SortedFunc(slices.Values(rows), spec.CompareRows))
	}
	tags, err := tb.Tags(ctx)
	if err != nil || len(tags) != 1 {
		t.Fatalf("tags: %v %v", tags, err)
	}
	var snaps []*spec.Snapshot
	for _, id := range ids {
		s, _ := tb.Snapshots().Get(ctx, id)
		snaps = append(snaps, s)
	}
	refs := referencedFiles(t, tb, snaps, []*spec.Snapshot{tags[0].Snapshot})
	stored := storedFiles(t, tb)
	for p := range refs {
		if !stored[p] {
			t.Fatalf("%s, referenced, was deleted", p)
		}
	}
	if again, err := tb.CleanOrphans(ctx, later); err != nil || len(again.Orphans) != 0 {
		t.Fatalf("second clean: %+v, %v", again, err)
	}
}

// A process killed while writing leaves the hidden temporary file of a
// local write behind (a data file, a manifest, a snapshot's): List never
// shows it, so orphan cleaning used to keep it forever. It deletes it once
// past the age guard (found by the crash harness, integration/crash_test.go).
func TestCleanOrphansLocalLeftovers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	fs, err := storage.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTestTable(t, fs, 1)
	msgs := writeAll(t, tb, upserts(0, 10, func(id int64) spec.Row { return spec.Row{id, "v", 1.0} }), false)
	if _, err := tb.NewCommit("o").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	rows := len(scanAll(t, tb))
	dir := filepath.Join(root, filepath.FromSlash(tb.Path()))
	old := time.Now().Add(-2 * time.Hour)
	var planted []string
	for _, p := range []string{"bucket-0/.data-x-0.parquet.1.tmp", "manifest/.manifest-x-0.2.tmp", "snapshot/.snapshot-9.3.tmp"} {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.WriteFile(fp, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(fp, old, old); err != nil {
			t.Fatal(err)
		}
		planted = append(planted, path.Join(tb.Path(), p))
	}
	young := filepath.Join(dir, "bucket-0", ".data-y-0.parquet.4.tmp") // a write in progress
	if err := os.WriteFile(young, []byte("writing"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := tb.CleanOrphans(ctx, WithOrphanAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Orphans)
	slices.Sort(planted)
	if !slices.Equal(res.Orphans, planted) || res.Young != 1 {
		t.Fatalf("orphans %v (young %d), want %v (young 1)", res.Orphans, res.Young, planted)
	}
	for _, p := range planted {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); !os.IsNotExist(err) {
			t.Fatalf("%s still there: %v", p, err)
		}
	}
	if _, err := os.Stat(young); err != nil {
		t.Fatalf("the young temporary file: %v", err)
	}
	if got := scanAll(t, tb); len(got) != rows {
		t.Fatalf("%d rows after cleaning, want %d", len(got), rows)
	}
}
