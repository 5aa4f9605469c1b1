package table

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func commitRows(t *testing.T, tb *Table, user string, ident int64, rows ...spec.Row) []CommitMessage {
	t.Helper()
	var cs []change
	for _, r := range rows {
		cs = append(cs, change{spec.RowKindInsert, r})
	}
	msgs := writeAll(t, tb, cs, false)
	if _, err := tb.NewCommit(user).Commit(context.Background(), ident, msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// A COMPACT commit whose new files overlap live files of the same level is
// an LSM conflict (Java's ConflictDetection key-range check).
func TestCompactOverlapIsConflict(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	commitRows(t, tb, "w", 1, spec.Row{int64(1), "a", 0.0}, spec.Row{int64(9), "b", 0.0})
	w, _ := tb.NewWrite(ctx)
	if err := w.Compact(ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	w.Close()
	if _, err := tb.NewCommit("c").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	snap, _ := tb.Snapshots().Latest(ctx)
	files, _ := tb.liveFiles(ctx, snap)
	if len(files) != 1 || files[0].File.Level == 0 {
		t.Fatalf("live files %+v", files)
	}
	// Another compaction result claims the same key range at that level.
	dup := files[0].File
	dup.FileName = "data-overlapping-0.parquet"
	bad := []CommitMessage{{Partition: files[0].Partition, Bucket: files[0].Bucket, TotalBuckets: files[0].TotalBuckets, CompactAfter: []spec.DataFileMeta{dup}}}
	if _, err := tb.NewCommit("c").Commit(ctx, 2, bad); !errors.Is(err, spec.ErrConflict) || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("overlapping compaction result: %v, want an LSM conflict", err)
	}
}

// Files written for another bucket count than their partition's existing
// files are refused (the table was rescaled under a writer).
func TestBucketCountChangeIsConflict(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "write-only", "true")
	commitRows(t, tb, "w", 1, spec.Row{int64(1), "a", 0.0})
	s1 := *tb.Schema()
	s1.ID = 1
	opts := s1.Options.Clone()
	opts.Set("bucket", "3")
	s1.Options = *opts
	if err := tb.schemas.create(ctx, &s1); err != nil {
		t.Fatal(err)
	}
	tb3, err := Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := tb3.NewWrite(ctx)
	defer w.Close()
	if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(2), "b", 0.0}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	if _, err := tb3.NewCommit("w").Commit(ctx, 2, msgs); !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("commit across a bucket-count change: %v, want ErrConflict", err)
	}
}

// countingGets counts the manifest files read.
type countingGets struct {
	storage.Storage
	manifests atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, p string) ([]byte, error) {
	if strings.Contains(p, "/manifest/manifest-") && !strings.Contains(p, "manifest-list") {
		c.manifests.Add(1)
	}
	return c.Storage.Get(ctx, p)
}

// A partition-filtered plan skips the manifests whose partition stats rule
// the partition out.
func TestPartitionPruningSkipsManifests(t *testing.T) {
	ctx := context.Background()
	fs := &countingGets{Storage: storage.NewMemory()}
	fields, _ := spec.ParseColumns("p INT NOT NULL, id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, []string{"p"}, []string{"p", "id"}, spec.NewStringMap("bucket", "1", "write-only", "true"), nil)
	tb, err := Create(ctx, fs, "db.db/prune", sc)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 8; p++ { // one commit, so one manifest, per partition
		commitRows(t, tb, "w", int64(p), spec.Row{p, int64(1), fmt.Sprint(p)})
	}
	// A table opened afresh: the writer's has the manifests cached.
	if tb, err = Open(ctx, fs, "db.db/prune"); err != nil {
		t.Fatal(err)
	}
	fs.manifests.Store(0)
	plan, err := tb.NewScan(WithPartition(map[string]any{"p": int32(5)})).Plan(ctx)
	if err != nil || len(plan.Splits) != 1 {
		t.Fatalf("plan: %v %v", plan, err)
	}
	if n := fs.manifests.Load(); n != 1 {
		t.Fatalf("read %d manifests for one partition, want 1", n)
	}
	// Planning again decodes nothing: the manifests are cached.
	fs.manifests.Store(0)
	for _, opt := range []ScanOption{WithPartition(map[string]any{"p": int32(5)}), WithSnapshot(8)} {
		if _, err := tb.NewScan(opt).Plan(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.manifests.Load(); n != 7 {
		t.Fatalf("re-planning read %d manifests, want the 7 not read before", n)
	}
}

// changelog-producer.row-deduplicate reaches the lookup changelog: an
// update that changes nothing produces no -U/+U, and one that does, does.
func TestLookupChangelogRowDeduplicate(t *testing.T) {
	ctx := context.Background()
	for _, dedup := range []bool{false, true} {
		tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "lookup",
			"changelog-producer.row-deduplicate", fmt.Sprint(dedup))
		commitRows(t, tb, "w", 1, spec.Row{int64(1), "same", 1.0}, spec.Row{int64(2), "old", 1.0})
		before, _ := tb.Snapshots().LatestID(ctx)
		commitRows(t, tb, "w", 2, spec.Row{int64(1), "same", 1.0}, spec.Row{int64(2), "new", 1.0})
		last, _ := tb.Snapshots().LatestID(ctx)
		kinds := changelogKinds(t, tb, before+1, last)
		want := "[-U1 +U1 -U2 +U2]"
		if dedup {
			want = "[-U2 +U2]"
		}
		if fmt.Sprint(kinds) != want {
			t.Fatalf("row-deduplicate=%v: changelog %v, want %s", dedup, kinds, want)
		}
	}
}

// changelogKinds lists the changelog of snapshots from to to as kind and
// key, such as -U1.
func changelogKinds(t *testing.T, tb *Table, from, to int64) []string {
	t.Helper()
	var kinds []string
	for id := from; id <= to; id++ {
		for kv, err := range tb.Changelog(context.Background(), id) {
			if err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, kv.Kind.String()+fmt.Sprint(kv.Key[0]))
		}
	}
	return kinds
}

// changelog-producer.row-deduplicate-ignore-fields reaches the lookup
// changelog: an update that changes only an ignored column produces no
// -U/+U. (The writer once built its rewriter without the ignored fields.)
func TestLookupChangelogRowDeduplicateIgnoreFields(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "lookup",
		"changelog-producer.row-deduplicate", "true", "changelog-producer.row-deduplicate-ignore-fields", "score")
	commitRows(t, tb, "w", 1, spec.Row{int64(1), "same", 1.0}, spec.Row{int64(2), "old", 1.0})
	before, _ := tb.Snapshots().LatestID(ctx)
	commitRows(t, tb, "w", 2, spec.Row{int64(1), "same", 2.0}, spec.Row{int64(2), "new", 2.0})
	last, _ := tb.Snapshots().LatestID(ctx)
	kinds := changelogKinds(t, tb, before+1, last)
	if want := "[-U2 +U2]"; fmt.Sprint(kinds) != want {
		t.Fatalf("changelog %v, want %s", kinds, want)
	}
}

// Under a stream of flushes with no commit, a writer waits for compaction
// once a bucket has more sorted runs than num-sorted-run.stop-trigger, so
// the run count stays bounded even when compaction is slower than writing.
func TestStopTriggerBoundsSortedRuns(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "write-buffer-size", "2 kb", "write-buffer-spillable", "false",
		"num-sorted-run.compaction-trigger", "2", "num-sorted-run.stop-trigger", "3")
	w, err := tb.NewWrite(ctx, WithWaitCompaction(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	maxRuns := 0
	for i := int64(0); i < 20000; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i % 5000, "some value to fill the buffer", float64(i)}); err != nil {
			t.Fatal(err)
		}
		for _, bw := range w.buckets {
			maxRuns = max(maxRuns, bw.tree.NumSortedRuns())
		}
	}
	if limit := tb.opts.NumSortedRunStopTrigger + 1; maxRuns > limit {
		t.Fatalf("a bucket reached %d sorted runs; the stop trigger bounds it at %d", maxRuns, limit)
	}
	t.Logf("at most %d sorted runs", maxRuns)
}

// A compaction that deletes a file no snapshot holds is a conflict (another
// commit replaced it), even when nothing it adds overlaps.
func TestCompactDeletingMissingFileIsConflict(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "write-only", "true")
	msgs := commitRows(t, tb, "w", 1, spec.Row{int64(1), "a", 0.0})
	gone := msgs[0].NewFiles[0]
	gone.FileName = "data-never-committed-0.parquet"
	bad := []CommitMessage{{Partition: msgs[0].Partition, Bucket: msgs[0].Bucket, TotalBuckets: msgs[0].TotalBuckets,
		CompactBefore: []spec.DataFileMeta{gone}}}
	if _, err := tb.NewCommit("c").Commit(ctx, 1, bad); !errors.Is(err, spec.ErrConflict) || !strings.Contains(err.Error(), "not live") {
		t.Fatalf("deleting a missing file: %v, want a conflict", err)
	}
}

// New files written for another bucket count than the table's are refused.
func TestFileBucketCountMismatchIsConflict(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2, "write-only", "true")
	w, _ := tb.NewWrite(ctx)
	defer w.Close()
	if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "a", 0.0}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	msgs[0].TotalBuckets = 5
	if _, err := tb.NewCommit("w").Commit(ctx, 1, msgs); !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("files for 5 buckets in a 2-bucket table: %v, want ErrConflict", err)
	}
}

// sequence.field and rowkind.field work through the table's write path.
func TestSequenceAndRowKindFields(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING, ver BIGINT, op STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1",
		"sequence.field", "ver", "rowkind.field", "op"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/seq", sc)
	if err != nil {
		t.Fatal(err)
	}
	commitRows(t, tb, "w", 1,
		spec.Row{int64(1), "newer", int64(5), "+I"},
		spec.Row{int64(1), "older", int64(3), "+I"}, // arrives later, loses on ver
		spec.Row{int64(2), "gone", int64(1), "+I"},
		spec.Row{int64(2), "gone", int64(2), "-D"}, // deleted through rowkind.field
	)
	rows := scanAll(t, tb)
	if len(rows) != 1 || rows[0][1] != "newer" {
		t.Fatalf("rows %v, want only id 1 = newer", rows)
	}
}

// partial-update through the table: non-null fields of later records fill
// in, across commits and compaction.
func TestPartialUpdateEndToEnd(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, a STRING, b STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1", "merge-engine", "partial-update"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/pu", sc)
	if err != nil {
		t.Fatal(err)
	}
	commitRows(t, tb, "w", 1, spec.Row{int64(1), "a1", nil})
	commitRows(t, tb, "w", 2, spec.Row{int64(1), nil, "b1"})
	rows := scanAll(t, tb)
	if len(rows) != 1 || rows[0][1] != "a1" || rows[0][2] != "b1" {
		t.Fatalf("rows %v, want [1 a1 b1]", rows)
	}
}
