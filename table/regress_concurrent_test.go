package table

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Two writers open the same snapshot and change the same buckets; the
// first commit lands, the second must be refused with nothing published
// (before the conflict checks it landed and lost or reordered rows), and
// succeeds when written again from the latest snapshot. The table then
// holds every key once, in commit order.
func TestConcurrentWritersOfOneBucket(t *testing.T) {
	val := func(tag string) func(id int64) spec.Row {
		return func(id int64) spec.Row { return spec.Row{int64(id), tag, float64(id)} }
	}
	cases := []struct {
		name   string
		opts   []string
		before []change
		a, b   []change
		want   []spec.Row
	}{
		{"dv-updates", []string{"deletion-vectors.enabled", "true"}, upserts(1, 100, val("old")),
			upserts(1, 50, val("a")), upserts(51, 100, val("b")),
			append(rowsOf(upserts(1, 50, val("a"))), rowsOf(upserts(51, 100, val("b")))...)},
		{"dv-deletes", []string{"deletion-vectors.enabled", "true"}, upserts(1, 100, val("old")),
			deletes(1, 100), deletes(1, 100), nil},
		{"same-key-order", nil, nil,
			upserts(1, 10, val("a")), upserts(1, 10, val("b")), rowsOf(upserts(1, 10, val("b")))},
		{"lookup-changelog", []string{"changelog-producer", "lookup"}, upserts(1, 20, val("old")),
			upserts(1, 10, val("a")), upserts(11, 20, val("b")),
			append(rowsOf(upserts(1, 10, val("a"))), rowsOf(upserts(11, 20, val("b")))...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 1, tc.opts...)
			if tc.before != nil {
				if _, err := tb.NewCommit("setup").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, tc.before, true)); err != nil {
					t.Fatal(err)
				}
			}
			compact := tb.needLookup()
			ma, mb := writeAll(t, tb, tc.a, compact), writeAll(t, tb, tc.b, compact)
			if _, err := tb.NewCommit("a").Commit(ctx, BatchCommitIdentifier, ma); err != nil {
				t.Fatal(err)
			}
			latest, _ := tb.Snapshots().LatestID(ctx)
			res, err := tb.NewCommit("b").CommitSteps(ctx, BatchCommitIdentifier, mb)
			if !errors.Is(err, spec.ErrConflict) {
				t.Fatalf("second writer of the bucket: err = %v, want a conflict", err)
			}
			if now, _ := tb.Snapshots().LatestID(ctx); now != latest || res.Last() != 0 {
				t.Fatalf("a refused commit published snapshots %d..%d (result %+v)", latest+1, now, res)
			}
			if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, tc.b, compact)); err != nil {
				t.Fatalf("written again from the latest snapshot: %v", err)
			}
			if tb.skipLevel0() { // level 0 is hidden: compact it up
				if _, err := tb.NewCommit("c").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, nil, true)); err != nil {
					t.Fatal(err)
				}
			}
			checkEqual(t, tc.name, scanAll(t, tb), tc.want)
		})
	}
}

// Writers of different buckets do not conflict.
func TestConcurrentWritersOfOtherBuckets(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 4, "deletion-vectors.enabled", "true")
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	byBucket := map[int32][]change{}
	for id := int64(0); id < 200; id++ {
		row := spec.Row{id, "x", 1.0}
		b, _ := w.BucketOf(row)
		byBucket[b] = append(byBucket[b], change{spec.RowKindInsert, row})
	}
	m0, m1 := writeAll(t, tb, byBucket[0], true), writeAll(t, tb, byBucket[1], true)
	if _, err := tb.NewCommit("a").Commit(ctx, BatchCommitIdentifier, m0); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, m1); err != nil {
		t.Fatalf("writers of disjoint buckets conflict: %v", err)
	}
	want := append(rowsOf(byBucket[0]), rowsOf(byBucket[1])...)
	slices.SortFunc(want, spec.CompareRows)
	checkEqual(t, "two buckets", scanAll(t, tb), want)
}

// Dynamic buckets and cross-partition upserts route keys through an index
// read when the writer started: a second writer of the same partition (or,
// cross-partition, of the table) is refused, so no key lands in two
// buckets or two partitions.
func TestConcurrentWritersOfKeyIndex(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pk         []string
		partA      string
		partB      string
		overlapped bool
	}{
		{"dynamic-distinct-keys", []string{"dt", "id"}, "p", "p", false},
		{"cross-partition-same-keys", []string{"id"}, "p1", "p2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fields, _ := spec.ParseColumns("dt STRING NOT NULL, id BIGINT NOT NULL, v STRING")
			sc, err := spec.NewSchema(fields, []string{"dt"}, tc.pk, spec.NewStringMap("bucket", "-1", "dynamic-bucket.target-row-num", "20"), nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/k", sc)
			if err != nil {
				t.Fatal(err)
			}
			gen := func(dt, tag string, from int64) []change {
				var cs []change
				for id := from; id < from+50; id++ {
					cs = append(cs, change{spec.RowKindInsert, spec.Row{dt, id, tag}})
				}
				return cs
			}
			fromB := int64(50)
			if tc.overlapped {
				fromB = 0
			}
			ma, mb := writeAll(t, tb, gen(tc.partA, "a", 0), false), writeAll(t, tb, gen(tc.partB, "b", fromB), false)
			if _, err := tb.NewCommit("a").Commit(ctx, BatchCommitIdentifier, ma); err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, mb); !errors.Is(err, spec.ErrConflict) {
				t.Fatalf("second writer of the key index: err = %v, want a conflict", err)
			}
			if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, gen(tc.partB, "b", fromB), false)); err != nil {
				t.Fatal(err)
			}
			// One more upsert of every key: each must still be one row.
			again := append(gen(tc.partB, "c", 0), gen(tc.partB, "c", 50)...)
			if _, err := tb.NewCommit("c").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, again, false)); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, r := range scanAll(t, tb) {
				k := fmt.Sprint(r[1])
				if len(tc.pk) == 2 {
					k = fmt.Sprint(r[0], "/", r[1])
				}
				if seen[k]++; seen[k] > 1 {
					t.Fatalf("key %s twice", k)
				}
			}
			if len(seen) != 100 {
				t.Fatalf("%d keys, want 100", len(seen))
			}
		})
	}
}

// A writer's rows land while its compaction loses to a compaction job that
// replaced the same files: CommitSteps reports the APPEND snapshot and an
// error wrapping ErrCompactionNotCommitted, never a failed write.
func TestCompactionConflictAfterAppend(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "merge-engine", "aggregation", "fields.score.aggregate-function", "sum")
	for i := 0; i < 3; i++ {
		if _, err := tb.NewCommit("setup").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, upserts(1, 10, func(id int64) spec.Row { return spec.Row{id, "x", 1.0} }), false)); err != nil {
			t.Fatal(err)
		}
	}
	job := writeAll(t, tb, nil, true)
	mine := writeAll(t, tb, upserts(1, 10, func(id int64) spec.Row { return spec.Row{id, "x", 1.0} }), true)
	if _, err := tb.NewCommit("job").Commit(ctx, BatchCommitIdentifier, job); err != nil {
		t.Fatal(err)
	}
	res, err := tb.NewCommit("writer").CommitSteps(ctx, BatchCommitIdentifier, mine)
	if !errors.Is(err, ErrCompactionNotCommitted) || !errors.Is(err, spec.ErrConflict) || res.Append == 0 || res.Compact != 0 {
		t.Fatalf("result %+v, err %v: want the APPEND committed and ErrCompactionNotCommitted", res, err)
	}
	for _, r := range scanAll(t, tb) {
		if r[2] != 4.0 {
			t.Fatalf("row %v: sum %v, want 4 (three setup writes and the writer's rows, once)", r, r[2])
		}
	}
}

// Writers of disjoint key ranges of one bucket do not conflict (without
// deletion vectors, whose compactions would).
func TestConcurrentWritersOfDisjointKeys(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "write-only", "true")
	row := func(id int64) spec.Row { return spec.Row{id, "x", 1.0} }
	ma, mb := writeAll(t, tb, upserts(1, 10, row), false), writeAll(t, tb, upserts(11, 20, row), false)
	if _, err := tb.NewCommit("a").Commit(ctx, BatchCommitIdentifier, ma); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, mb); err != nil {
		t.Fatalf("writers of disjoint keys conflict: %v", err)
	}
	checkEqual(t, "disjoint keys", scanAll(t, tb), rowsOf(upserts(1, 20, row)))
}

// The cross-partition key index is built from every level: a deletion-vector
// table's batch scan hides level 0, and an index built that way took a key
// deleted in level 0 for live in its old partition (found by
// TestConcurrentWriters, seed 625: a writer that opened between another's
// APPEND and COMPACT snapshots kept a moved key in its old partition).
func TestCrossPartitionIndexSeesLevel0(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("p STRING NOT NULL, id BIGINT NOT NULL, v STRING")
	sc, err := spec.NewSchema(fields, []string{"p"}, []string{"id"}, spec.NewStringMap("bucket", "-1",
		"merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true", "deletion-vectors.enabled", "true"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, storage.NewMemory(), "db.db/x", sc)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(msgs []CommitMessage) {
		t.Helper()
		if _, err := tb.NewCommit("u").Commit(ctx, BatchCommitIdentifier, msgs); err != nil {
			t.Fatal(err)
		}
	}
	commit(writeAll(t, tb, []change{{spec.RowKindInsert, spec.Row{"p1", int64(8), "a"}}}, true))
	// The delete stays in level 0: only its APPEND is committed.
	msgs := writeAll(t, tb, []change{{spec.RowKindDelete, spec.Row{"p1", int64(8), nil}}}, false)
	for i := range msgs {
		msgs[i].CompactBefore, msgs[i].CompactAfter, msgs[i].CompactChangelog, msgs[i].NewIndexFiles = nil, nil, nil, nil
	}
	commit(msgs)
	commit(writeAll(t, tb, []change{{spec.RowKindInsert, spec.Row{"p2", int64(8), "b"}}}, true))
	commit(writeAll(t, tb, nil, true))
	checkEqual(t, "key 8 after its delete", scanAll(t, tb), []spec.Row{{"p2", int64(8), "b"}})
}

// A -D keeps the key's place in the cross-partition index, as Paimon's
// GlobalIndexAssigner does: a later record of the key in the same write
// goes to the same bucket, so an aggregation with remove-record-on-delete
// folds the write's records ([-D, +I 6] → +I 6) onto the older row (18):
// 24, in the key's first partition. Strata freed the key on -D and gave
// the +I a bucket of its own: 6 (found by TestConcurrentWriters, seed
// 108669873).
func TestCrossPartitionDeleteKeepsIndexPlace(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("p STRING NOT NULL, id BIGINT NOT NULL, a BIGINT")
	sc, err := spec.NewSchema(fields, []string{"p"}, []string{"id"}, spec.NewStringMap("bucket", "-1",
		"dynamic-bucket.target-row-num", "1", "merge-engine", "aggregation", "fields.a.aggregate-function", "sum",
		"aggregation.remove-record-on-delete", "true"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, storage.NewMemory(), "db.db/x", sc)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(cs ...change) {
		t.Helper()
		if _, err := tb.NewCommit("u").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, cs, false)); err != nil {
			t.Fatal(err)
		}
	}
	// One key a bucket: key 5 in bucket 0, key 1 in bucket 1.
	commit(change{spec.RowKindInsert, spec.Row{"p1", int64(5), int64(1)}})
	commit(change{spec.RowKindInsert, spec.Row{"p1", int64(1), int64(18)}})
	// Removing key 5 leaves bucket 0 with room; key 1's +I must still go
	// to bucket 1, after its -D.
	commit(change{spec.RowKindDelete, spec.Row{"p2", int64(5), nil}}, change{spec.RowKindDelete, spec.Row{"p2", int64(1), nil}},
		change{spec.RowKindInsert, spec.Row{"p1", int64(1), int64(6)}})
	if rows := scanAll(t, tb); fmt.Sprint(rows) != "[[p1 1 24]]" {
		t.Fatalf("rows %v, want [[p1 1 24]]", rows)
	}
}

// A writer's compaction is computed from its own view: its base snapshot
// and its own rows. Another writer's APPEND since that base left records
// the compaction never saw in level 0; when they are older (lower sequence
// numbers) than the rows compacted, the compaction must not land. It did:
// writer B appended key 1 = b at sequence 10, writer A (same base, so its
// numbers all lie above: its APPEND is ordered after B's) deleted key 1 and
// rewrote key 2, compacted to the top level dropping the delete, and
// committed. B's older key 1 came back; a later lookup compaction took
// B's level-0 key 2 for newer than A's top-level row and marked A's row
// deleted, so B's old value won for good (found by TestConcurrentWriters,
// seed 291251816).
func TestCompactionAfterForeignAppend(t *testing.T) {
	row := func(tag string) func(id int64) spec.Row {
		return func(id int64) spec.Row { return spec.Row{id, tag, float64(id)} }
	}
	for _, tc := range []struct {
		name string
		opts []string
	}{
		{"dv-lookup", []string{"deletion-vectors.enabled", "true", "changelog-producer", "lookup"}},
		{"lookup-changelog", []string{"changelog-producer", "lookup"}},
		{"merge-on-read", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 1, tc.opts...)
			if _, err := tb.NewCommit("setup").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, upserts(1, 10, row("old")), true)); err != nil {
				t.Fatal(err)
			}
			// Both writers read snapshot 1. B's rows get sequence numbers
			// 10-11; A's surviving records (after its in-memory merge) 13-14.
			// B's own compaction has not landed yet (lookup tables compact
			// on every commit): just its APPEND.
			mb := writeAll(t, tb, upserts(1, 2, row("b")), false)
			for i := range mb {
				mb[i].CompactBefore, mb[i].CompactAfter, mb[i].CompactChangelog, mb[i].NewIndexFiles = nil, nil, nil, nil
			}
			ma := writeAll(t, tb, append(upserts(1, 3, row("a")), append(deletes(1, 1), upserts(2, 2, row("a"))...)...), true)
			if _, err := tb.NewCommit("b").Commit(ctx, BatchCommitIdentifier, mb); err != nil {
				t.Fatal(err)
			}
			ca := tb.NewCommit("a")
			res, err := ca.CommitSteps(ctx, BatchCommitIdentifier, ma)
			if !errors.Is(err, ErrCompactionNotCommitted) || res.Append == 0 || res.Compact != 0 {
				t.Fatalf("A's commit: result %+v, err %v: want its APPEND to land and its compaction, blind to B's rows, refused", res, err)
			}
			// B's rows and A's are committed, A's new file included (its
			// writer, upgrading it before compacting it away, deleted it).
			scanAll(t, tb, WithAllLevels())
			if _, err := ca.Recompact(ctx, BatchCommitIdentifier, ma, 1); err != nil {
				t.Fatalf("A's compaction redone from the latest snapshot: %v", err)
			}
			want := append(rowsOf(upserts(2, 3, row("a"))), rowsOf(upserts(4, 10, row("old")))...)
			checkEqual(t, "after A's compaction", scanAll(t, tb), want)
			if _, err := tb.NewCommit("c").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, nil, true)); err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "after a full compaction", scanAll(t, tb), want)
		})
	}
}
