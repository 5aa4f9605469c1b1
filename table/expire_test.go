package table

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestExpireModel writes random upserts and deletes over many commits to
// tables of several kinds (deletion vectors, lookup changelog, dynamic
// buckets: index files and changelog files) whose commits expire old
// snapshots (at most 6 kept), tagging some snapshots on the way. After
// every commit every kept snapshot and every tag must read as the model
// says, and the files on storage must be exactly those the kept snapshots
// and tags reference: nothing a reader needs is gone, nothing else is left.
func TestExpireModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	kinds := map[string][]string{
		"plain":            nil,
		"dv":               {"deletion-vectors.enabled", "true"},
		"lookup-changelog": {"changelog-producer", "lookup"},
		"dynamic":          {"bucket", "-1", "dynamic-bucket.target-row-num", "40"},
	}
	for name, extra := range kinds {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			ctx := context.Background()
			fs := storage.NewMemory()
			opts := append([]string{"snapshot.num-retained.min", "2", "snapshot.num-retained.max", "6",
				"num-sorted-run.compaction-trigger", "3"}, extra...)
			tb := newTestTable(t, fs, 2, opts...)
			model := map[int64]spec.Row{}
			history := map[int64][]spec.Row{}
			tagged := map[string]int64{}
			ever := map[string]bool{} // every file a snapshot referenced while it was the latest
			for c := range 30 {
				w, err := tb.NewWrite(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for range 40 {
					id := rng.Int64N(120)
					if rng.IntN(4) == 0 {
						if old, ok := model[id]; ok {
							if err := w.WriteRow(ctx, spec.RowKindDelete, old); err != nil {
								t.Fatal(err)
							}
							delete(model, id)
						}
						continue
					}
					row := spec.Row{id, fmt.Sprintf("n%d-%d", id, c), rng.Float64()}
					if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
						t.Fatal(err)
					}
					model[id] = row
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				w.Close()
				before, _ := tb.Snapshots().LatestID(ctx)
				res, err := tb.NewCommit("expire-model").CommitSteps(ctx, int64(c), msgs)
				if err != nil || res.ExpireErr != nil {
					t.Fatalf("commit %d: %v (expire: %v)", c, err, res.ExpireErr)
				}
				// What each new snapshot reads while it is young; level-0
				// files stay hidden in some kinds until compacted, so the
				// model is checked on the latest COMPACT or plain snapshot.
				for id := before + 1; id <= res.Last(); id++ {
					history[id] = scanAll(t, tb, WithSnapshot(id))
					s, err := tb.Snapshots().Get(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					maps.Copy(ever, referencedFiles(t, tb, []*spec.Snapshot{s}, nil))
				}
				if name == "plain" {
					checkEqual(t, "latest", scanAll(t, tb), modelRows(model))
				}
				if c%7 == 3 {
					name := fmt.Sprintf("t%d", c)
					writeTestTag(t, tb, name, res.Last())
					tagged[name] = res.Last()
				}
				checkRetained(t, tb, history, tagged, ever, 6)
			}
		})
	}
}

// checkRetained checks the kept snapshots (at most max of them) and the
// tags against the model, and the files on storage against what they
// reference.
func checkRetained(t *testing.T, tb *Table, history map[int64][]spec.Row, tagged map[string]int64, ever map[string]bool, max int) {
	t.Helper()
	ctx := context.Background()
	ids, err := tb.Snapshots().IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) > max {
		t.Fatalf("%d snapshots kept (%v), at most %d wanted", len(ids), ids, max)
	}
	if e, _ := tb.Snapshots().EarliestID(ctx); e != ids[0] {
		t.Fatalf("EarliestID %d, the oldest snapshot file is %d", e, ids[0])
	}
	var refs, tagRefs []*spec.Snapshot
	for _, id := range ids {
		checkEqual(t, fmt.Sprintf("snapshot %d", id), scanAll(t, tb, WithSnapshot(id)), slices.SortedFunc(slices.Values(history[id]), spec.CompareRows))
		s, err := tb.Snapshots().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, s)
	}
	tags, err := tb.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != len(tagged) {
		t.Fatalf("%d tags, %d made", len(tags), len(tagged))
	}
	for _, tag := range tags {
		tagRefs = append(tagRefs, tag.Snapshot)
	}
	want := referencedFiles(t, tb, refs, tagRefs)
	got := storedFiles(t, tb)
	for p := range want {
		if !got[p] {
			t.Fatalf("%s is referenced by a kept snapshot or tag but was deleted", p)
		}
	}
	for p := range got {
		// A file no snapshot ever referenced (a writer's leftover) is the
		// orphan cleaner's, not expiration's.
		if !want[p] && ever[p] {
			t.Fatalf("%s is left on storage though no kept snapshot or tag references it", p)
		}
	}
}

// referencedFiles is every file the snapshots need (metadata, live data
// files, changelog files) and the tags' snapshots need (the same but the
// changelog, which expiration does not keep for tags).
func referencedFiles(t *testing.T, tb *Table, snaps, tags []*spec.Snapshot) map[string]bool {
	t.Helper()
	ctx := context.Background()
	refs := map[string]bool{}
	for i, s := range slices.Concat(snaps, tags) {
		changelog := i < len(snaps)
		if err := tb.metadataFiles(ctx, s, changelog, func(p string, _ bool) { refs[p] = true }); err != nil {
			t.Fatal(err)
		}
		live, err := tb.liveFiles(ctx, s)
		if err != nil {
			t.Fatalf("snapshot %d: %v", s.ID, err)
		}
		if changelog && s.ChangelogManifestList != nil {
			cl, err := tb.manifests.ReadEntries(ctx, *s.ChangelogManifestList)
			if err != nil {
				t.Fatal(err)
			}
			live = append(live, cl...)
		}
		for _, e := range live {
			p, err := tb.dataFilePath(e)
			if err != nil {
				t.Fatal(err)
			}
			refs[p] = true
		}
	}
	return refs
}

// storedFiles lists the table's files other than its schemas, snapshots,
// tags and consumers.
func storedFiles(t *testing.T, tb *Table) map[string]bool {
	t.Helper()
	infos, err := tb.fs.List(context.Background(), tb.Path(), true)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, fi := range infos {
		rel := strings.TrimPrefix(fi.Path, tb.Path()+"/")
		if fi.IsDir || slices.ContainsFunc([]string{"schema/", "snapshot/", "changelog/", "tag/", "consumer/"}, func(d string) bool { return strings.HasPrefix(rel, d) }) {
			continue
		}
		files[fi.Path] = true
	}
	return files
}

// writeTestTag tags snapshot id as Java would without a retention: the
// snapshot's JSON under tag/tag-<name>.
func writeTestTag(t *testing.T, tb *Table, name string, id int64) {
	t.Helper()
	ctx := context.Background()
	s, err := tb.Snapshots().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.fs.Put(ctx, path.Join(tb.Path(), "tag", "tag-"+name), spec.EncodeSnapshot(s)); err != nil {
		t.Fatal(err)
	}
}

// A consumer's next snapshot and everything after it survive expiration;
// so do the snapshots still the latest within the retained time.
func TestExpireKeepsConsumersAndRecentSnapshots(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "snapshot.num-retained.min", "1")
	commit := func(i int) {
		msgs := writeAll(t, tb, upserts(int64(i), int64(i), func(id int64) spec.Row { return spec.Row{id, "x", 1.0} }), false)
		if _, err := tb.NewCommit("c", WithoutExpire()).Commit(ctx, int64(i), msgs); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		commit(i)
	}
	consumer := path.Join(tb.Path(), "consumer", "consumer-reader")
	if err := tb.fs.Put(ctx, consumer, spec.EncodeConsumer(&spec.Consumer{NextSnapshot: 4})); err != nil {
		t.Fatal(err)
	}
	// Every snapshot is younger than the default hour.
	if res, err := tb.ExpireSnapshots(ctx); err != nil || res.From != res.To {
		t.Fatalf("expired %+v, %v; want nothing (all within snapshot.time-retained)", res, err)
	}
	later := time.Now().Add(2 * time.Hour)
	res, err := tb.ExpireSnapshots(ctx, WithExpireTime(later))
	if err != nil || res.From != 1 || res.To != 4 {
		t.Fatalf("expired %+v, %v; want 1..3 (the consumer reads 4 next)", res, err)
	}
	if err := tb.fs.Delete(ctx, consumer); err != nil {
		t.Fatal(err)
	}
	res, err = tb.ExpireSnapshots(ctx, WithExpireTime(later), WithExpireLimit(2))
	if err != nil || res.From != 4 || res.To != 6 {
		t.Fatalf("expired %+v, %v; want 4..5 (limit 2)", res, err)
	}
	latest, _ := tb.Snapshots().LatestID(ctx)
	res, err = tb.ExpireSnapshots(ctx, WithExpireTime(later))
	if err != nil || res.From != 6 || res.To != latest {
		t.Fatalf("expired %+v, %v; want 6..%d (1 retained)", res, err, latest-1)
	}
	checkEqual(t, "latest", scanAll(t, tb), modelRows(map[int64]spec.Row{
		0: {int64(0), "x", 1.0}, 1: {int64(1), "x", 1.0}, 2: {int64(2), "x", 1.0}, 3: {int64(3), "x", 1.0}, 4: {int64(4), "x", 1.0},
		5: {int64(5), "x", 1.0}, 6: {int64(6), "x", 1.0}, 7: {int64(7), "x", 1.0}, 8: {int64(8), "x", 1.0}, 9: {int64(9), "x", 1.0}}))
	for _, bad := range []ExpireOption{WithRetainMin(0), WithExpireLimit(0), WithRetainMax(0), WithTimeRetained(-time.Second)} {
		if _, err := tb.ExpireSnapshots(ctx, bad); err == nil {
			t.Fatal("a bad expire option was accepted")
		}
	}
}

var expireCommits = flag.Int("expire.commits", 1000, "commits of TestExpireManyCommits (the acceptance run: 10000)")

// A table written for many commits, each expiring by the table's options,
// keeps at most snapshot.num-retained.max snapshots, and its storage holds
// exactly the files those snapshots reference.
func TestExpireManyCommits(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "snapshot.num-retained.min", "5", "snapshot.num-retained.max", "20")
	model := map[int64]spec.Row{}
	for c := range *expireCommits {
		w, err := tb.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			id := int64((c*7 + i*13) % 500)
			row := spec.Row{id, fmt.Sprint(c), float64(i)}
			if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
				t.Fatal(err)
			}
			model[id] = row
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		res, err := tb.NewCommit("many").CommitSteps(ctx, int64(c), msgs)
		if err != nil || res.ExpireErr != nil {
			t.Fatalf("commit %d: %v (expire: %v)", c, err, res.ExpireErr)
		}
	}
	ids, err := tb.Snapshots().IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 20 {
		t.Fatalf("%d snapshots kept after %d commits, want 20", len(ids), *expireCommits)
	}
	var snaps []*spec.Snapshot
	for _, id := range ids {
		s, err := tb.Snapshots().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	want, got := referencedFiles(t, tb, snaps, nil), storedFiles(t, tb)
	if !maps.Equal(want, got) {
		t.Fatalf("storage holds %d files, the kept snapshots reference %d", len(got), len(want))
	}
	checkEqual(t, "latest", scanAll(t, tb), modelRows(model))
	t.Logf("%d commits: snapshots %d..%d kept, %d files on storage", *expireCommits, ids[0], ids[len(ids)-1], len(got))
}

// With changelog.num-retained.max beyond the snapshots', expiring
// snapshots leave their changelog behind (changelog/changelog-<id>, its
// files and manifests), Changelog still reads it, and it expires on its own
// retention; storage holds exactly what snapshots and long-lived
// changelogs reference, which orphan cleaning leaves alone.
func TestExpireDecoupledChangelog(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "changelog-producer", "input", "snapshot.num-retained.min", "1",
		"snapshot.num-retained.max", "3", "changelog.num-retained.max", "8")
	changelogs := map[int64][]string{}
	readChangelog := func(id int64) []string {
		var out []string
		for kv, err := range tb.Changelog(ctx, id) {
			if err != nil {
				t.Fatalf("changelog of %d: %v", id, err)
			}
			out = append(out, fmt.Sprint(kv.Kind, kv.Value))
		}
		slices.Sort(out)
		return out
	}
	for c := range 20 {
		msgs := writeAll(t, tb, upserts(int64(c), int64(c+3), func(id int64) spec.Row { return spec.Row{id, fmt.Sprint(c), 1.0} }), false)
		res, err := tb.NewCommit("cl").CommitSteps(ctx, int64(c), msgs)
		if err != nil || res.ExpireErr != nil {
			t.Fatalf("commit %d: %v (expire: %v)", c, err, res.ExpireErr)
		}
		for id := res.Last(); id > 0 && changelogs[id] == nil; id-- {
			changelogs[id] = readChangelog(id)
		}
		ids, _ := tb.Snapshots().IDs(ctx)
		if len(ids) > 3 {
			t.Fatalf("commit %d: %d snapshots kept, at most 3", c, len(ids))
		}
		latest := ids[len(ids)-1]
		cids, err := tb.changelogIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range cids {
			if id >= ids[0] || id < latest-7 {
				t.Fatalf("commit %d: long-lived changelog %d beside snapshots %v (keep 8)", c, id, ids)
			}
		}
		for id := max(1, latest-7); id <= latest; id++ {
			if got := readChangelog(id); !slices.Equal(got, changelogs[id]) {
				t.Fatalf("commit %d: changelog %d = %v, was %v", c, id, got, changelogs[id])
			}
		}
	}
	if _, err := tb.CleanOrphans(ctx, WithOrphanAge(0), WithOrphanTime(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	ids, _ := tb.Snapshots().IDs(ctx)
	latest := ids[len(ids)-1]
	for id := latest - 7; id <= latest; id++ {
		if got := readChangelog(id); !slices.Equal(got, changelogs[id]) {
			t.Fatalf("after orphan cleaning: changelog %d = %v, was %v", id, got, changelogs[id])
		}
	}
	// Storage holds what the snapshots and the long-lived changelogs need.
	var snaps []*spec.Snapshot
	for _, id := range ids {
		s, _ := tb.Snapshots().Get(ctx, id)
		snaps = append(snaps, s)
	}
	want := referencedFiles(t, tb, snaps, nil)
	cids, _ := tb.changelogIDs(ctx)
	for _, id := range cids {
		c, err := tb.longLivedChangelog(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.ChangelogManifestList == nil {
			continue // a COMPACT snapshot: no changelog of its own
		}
		metas, err := tb.manifests.ReadManifestList(ctx, *c.ChangelogManifestList)
		if err != nil {
			t.Fatal(err)
		}
		want[tb.manifests.Path(*c.ChangelogManifestList)] = true
		for _, m := range metas {
			want[tb.manifests.Path(m.FileName)] = true
		}
		entries, _ := tb.manifests.ReadEntries(ctx, *c.ChangelogManifestList)
		for _, e := range entries {
			p, _ := tb.dataFilePath(e)
			want[p] = true
		}
	}
	if got := storedFiles(t, tb); !maps.Equal(got, want) {
		var extra, missing []string
		for p := range got {
			if !want[p] {
				extra = append(extra, p)
			}
		}
		for p := range want {
			if !got[p] {
				missing = append(missing, p)
			}
		}
		t.Fatalf("storage holds %d files, snapshots and changelogs reference %d: unreferenced %v, missing %v", len(got), len(want), extra, missing)
	}
	// Without a changelog producer the changelog is the data files: refused.
	none := newTestTableAt(t, fs, "db.db/none", 1, "snapshot.num-retained.min", "1", "snapshot.num-retained.max", "3", "changelog.num-retained.max", "8")
	if _, err := none.ExpireSnapshots(ctx); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("expire with changelog-producer none outliving snapshots: %v, want ErrUnsupported", err)
	}
}

// A tag created with a retention is deleted by the first expiration after
// it passes; one without stays.
func TestExpireTagRetention(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	msgs := writeAll(t, tb, upserts(1, 3, func(id int64) spec.Row { return spec.Row{id, "x", 1.0} }), false)
	if _, err := tb.NewCommit("c").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.CreateTag(ctx, "daily", TagRetention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.CreateTag(ctx, "release"); err != nil {
		t.Fatal(err)
	}
	if res, err := tb.ExpireSnapshots(ctx, WithExpireTime(time.Now().Add(30*time.Minute))); err != nil || len(res.TagsExpired) != 0 {
		t.Fatalf("before the retention: %+v, %v", res, err)
	}
	res, err := tb.ExpireSnapshots(ctx, WithExpireTime(time.Now().Add(2*time.Hour)))
	if err != nil || !slices.Equal(res.TagsExpired, []string{"daily"}) {
		t.Fatalf("after the retention: %+v, %v", res, err)
	}
	tags, err := tb.Tags(ctx)
	if err != nil || len(tags) != 1 || tags[0].Name != "release" {
		t.Fatalf("tags left: %v, %v", tags, err)
	}
}
