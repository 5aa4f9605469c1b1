package table

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A streaming writer outlives the snapshots it started from. Its messages
// used to carry the snapshot the writer was opened at, so each commit
// checked every snapshot since (a cost growing with the table's history)
// and, once the first of them expired, every commit failed: "snapshot 1,
// published after this writer's view, has expired". With Paimon's
// defaults (snapshot.time-retained 1 h) a writer committing every second
// stopped after an hour. Here snapshots expire at every commit, all but
// the last two (so the writer's last commit outlives the maintenance
// job's compaction that follows it; with one kept, that compaction could
// expire it before the writer read it, when a millisecond passed); the
// compaction is another commit user's.
func TestWriterOutlivesExpiredSnapshots(t *testing.T) {
	for _, writeOnly := range []string{"true", "false"} {
		t.Run("write-only="+writeOnly, func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 8, "snapshot.num-retained.min", "2", "snapshot.time-retained", "0 ms",
				"write-only", writeOnly)
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			want := map[int64]string{}
			for c := 1; c <= 12; c++ {
				for id := int64(1); id <= 3; id += int64(c%2 + 1) { // a few of the 8 buckets
					v := fmt.Sprintf("c%d", c)
					if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, v, float64(c)}); err != nil {
						t.Fatal(err)
					}
					want[id] = v
				}
				latest, err := tb.Snapshots().LatestID(ctx)
				if err != nil {
					t.Fatal(err)
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					// Everything published so far is this writer's own or a
					// compaction below its sequence numbers: the base is the
					// latest snapshot, and the committer checks nothing older.
					if m.BaseSnapshot != latest {
						t.Fatalf("commit %d: bucket %d's base is snapshot %d, want the latest, %d", c, m.Bucket, m.BaseSnapshot, latest)
					}
				}
				if _, err := tb.NewCommit("stream").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatalf("commit %d: %v", c, err)
				}
				if writeOnly == "true" && c%4 == 0 {
					if _, err := tb.Compact(ctx, true, "maintain", nil); err != nil {
						t.Fatalf("the maintenance job's compaction after commit %d: %v", c, err)
					}
				}
			}
			// Buckets first written now, long after the snapshot the writer
			// started from expired (late rows for an old partition, or a new
			// one): their base is the latest snapshot too.
			for id := int64(31); id <= 60; id++ {
				if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, "new", 0.0}); err != nil {
					t.Fatal(err)
				}
				want[id] = "new"
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("stream").Commit(ctx, 13, msgs); err != nil {
				t.Fatalf("the commit to buckets first written now: %v", err)
			}
			got := map[int64]string{}
			for row, err := range tb.NewScan().Rows(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				got[row[0].(int64)] = row[1].(string)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("scan %v, want %v", got, want)
			}
		})
	}
}

// The base moves only past snapshots that cannot conflict: a second
// writer's records of the same keys, numbered as high as this writer's,
// stay in the window, and the commit is refused however many of this
// writer's own commits came before.
func TestWriterBaseStopsAtAConflict(t *testing.T) {
	tb := newTestTable(t, storage.NewMemory(), 1)
	a, b := openWrite(t, tb), openWrite(t, tb)
	commit := func(w *Write, user string, id int64, keys ...int64) error {
		return commitKeys(t, w, user, id, user, keys...)
	}
	for i := int64(1); i <= 3; i++ {
		if err := commit(a, "a", i, 100*i, 100*i+1); err != nil {
			t.Fatalf("a's commit %d: %v", i, err)
		}
	}
	// b numbers its records from 0, as a did: they overlap a's in both
	// keys and sequence numbers.
	if err := commit(b, "b", 1, 100, 250); !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("b's commit over a's keys: %v, want ErrConflict", err)
	}
	if err := commit(a, "a", 4, 400); err != nil {
		t.Fatalf("a's commit 4: %v", err)
	}
}

// Two assigners of a dynamic-bucket table, one job committing both as one
// commit user, outlive the snapshots they started from: each passes the
// other's appends to the partition as its job's own, as the committer
// does, and no commit checks an expired snapshot.
func TestParallelAssignersOutliveExpiredSnapshots(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "-1", "dynamic-bucket.target-row-num", "25",
		"snapshot.num-retained.min", "1", "snapshot.time-retained", "0 ms"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/pa", sc)
	if err != nil {
		t.Fatal(err)
	}
	var ws [2]*Write
	for id := range ws {
		if ws[id], err = tb.NewWrite(ctx, WithAssigner(id, 2)); err != nil {
			t.Fatal(err)
		}
		defer ws[id].Close()
	}
	for round := int64(1); round <= 8; round++ {
		var all []CommitMessage
		for id, w := range ws {
			for k := round * 40; k < round*40+40; k++ {
				if assignerOf(t, tb, k, 2) != id {
					continue
				}
				if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{k, "v"}); err != nil {
					t.Fatal(err)
				}
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, msgs...)
		}
		if _, err := tb.NewCommit("job").Commit(ctx, round, all); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if rows := scanAll(t, tb); len(rows) != 8*40 {
		t.Fatalf("%d rows, want %d", len(rows), 8*40)
	}
}

// A writer whose view expired before it committed again (a backfill that
// commits once, hours after it opened, while a streaming job and the
// maintenance job commit and expire snapshots) commits when the latest
// snapshot's files show that nothing in its buckets can conflict. It used
// to fail: "snapshot 2, published after this writer's view, has expired".
// Here at most one snapshot is kept.
func TestWriterCommitsAfterItsViewExpired(t *testing.T) {
	for _, writeOnly := range []string{"true", "false"} {
		t.Run("write-only="+writeOnly, func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 2, "snapshot.num-retained.min", "1", "snapshot.num-retained.max", "1",
				"write-only", writeOnly)
			a, b := openWrite(t, tb), openWrite(t, tb)
			ka, kb := keysInBucket(t, a, 0, 3), keysInBucket(t, a, 1, 3)
			if err := commitKeys(t, a, "a", 1, "a1", ka...); err != nil {
				t.Fatalf("a's first commit: %v", err)
			}
			for i := int64(1); i <= 3; i++ {
				if err := commitKeys(t, b, "b", i, fmt.Sprint("b", i), kb...); err != nil {
					t.Fatalf("b's commit %d: %v", i, err)
				}
			}
			if writeOnly == "true" {
				if _, err := tb.Compact(ctx, true, "maintain", nil); err != nil {
					t.Fatal(err)
				}
			}
			expireAllButLatest(t, tb)
			if err := commitKeys(t, a, "a", 2, "a2", ka...); err != nil {
				t.Fatalf("a's commit after its view expired: %v", err)
			}
			got := map[int64]string{}
			for _, row := range scanAll(t, tb) {
				got[row[0].(int64)] = row[1].(string)
			}
			for _, k := range ka {
				if got[k] != "a2" {
					t.Errorf("key %d: %q, want a2", k, got[k])
				}
			}
			for _, k := range kb {
				if got[k] != "b3" {
					t.Errorf("key %d: %q, want b3", k, got[k])
				}
			}
		})
	}
}

// The latest files are judged as the expired snapshots would have been: a
// second writer's records of the same keys, numbered as the first's, keep
// the first's commit refused.
func TestWriterRefusedAfterItsViewExpired(t *testing.T) {
	for _, writeOnly := range []string{"true", "false"} {
		t.Run("write-only="+writeOnly, func(t *testing.T) {
			tb := newTestTable(t, storage.NewMemory(), 1, "snapshot.num-retained.min", "1", "snapshot.num-retained.max", "1",
				"write-only", writeOnly)
			a, b := openWrite(t, tb), openWrite(t, tb)
			for i := int64(1); i <= 3; i++ {
				if err := commitKeys(t, b, "b", i, "b", 1); err != nil {
					t.Fatalf("b's commit %d: %v", i, err)
				}
			}
			expireAllButLatest(t, tb)
			if err := commitKeys(t, a, "a", 1, "a", 1); !errors.Is(err, spec.ErrConflict) {
				t.Fatalf("a's commit over b's key: %v, want ErrConflict", err)
			}
		})
	}
}

func openWrite(t *testing.T, tb *Table) *Write {
	t.Helper()
	w, err := tb.NewWrite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// keysInBucket returns the first n keys from 1 on that w routes to bucket.
func keysInBucket(t *testing.T, w *Write, bucket int32, n int) []int64 {
	t.Helper()
	var out []int64
	for k := int64(1); len(out) < n; k++ {
		b, err := w.BucketOf(spec.Row{k, "", 0.0})
		if err != nil {
			t.Fatal(err)
		}
		if b == bucket {
			out = append(out, k)
		}
	}
	return out
}

// commitKeys writes keys with value v through w and commits them as user's
// commit id.
func commitKeys(t *testing.T, w *Write, user string, id int64, v string, keys ...int64) error {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{k, v, 1.0}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.t.NewCommit(user).Commit(ctx, id, msgs)
	return err
}

// A bucket the writer had not written when its view expired, changed by
// another writer in the expired snapshots, is judged then: the writer's
// later records there, numbered from the bucket as it restored it, are
// refused, not committed over the other writer's as if after them.
func TestWriterRefusedInABucketChangedWhileItsViewExpired(t *testing.T) {
	tb := newTestTable(t, storage.NewMemory(), 2, "snapshot.num-retained.min", "1", "snapshot.num-retained.max", "1",
		"write-only", "true")
	a, b := openWrite(t, tb), openWrite(t, tb)
	ka, kb := keysInBucket(t, a, 0, 2), keysInBucket(t, a, 1, 2)
	if err := commitKeys(t, a, "a", 1, "a1", ka...); err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		if err := commitKeys(t, b, "b", i, "b", kb...); err != nil {
			t.Fatal(err)
		}
	}
	expireAllButLatest(t, tb)
	// a's next commit, to its own bucket only, passes the expired ones.
	if err := commitKeys(t, a, "a", 2, "a2", ka...); err != nil {
		t.Fatalf("a's commit to its bucket: %v", err)
	}
	if err := commitKeys(t, a, "a", 3, "a3", kb...); !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("a's commit over b's keys, numbered as b's: %v, want ErrConflict", err)
	}
}

// expireAllButLatest expires every snapshot but the latest, as the
// maintenance job would with one snapshot retained (a write-only table's
// commits expire none), and checks that only the latest is left.
func expireAllButLatest(t *testing.T, tb *Table) {
	t.Helper()
	ctx := context.Background()
	if _, err := tb.ExpireSnapshots(ctx, WithRetainMin(1), WithRetainMax(1), WithTimeRetained(0)); err != nil {
		t.Fatal(err)
	}
	earliest, err := tb.Snapshots().EarliestID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest, err := tb.Snapshots().LatestID(ctx); err != nil || earliest != latest {
		t.Fatalf("snapshots %d to %d left (%v), want only the latest", earliest, latest, err)
	}
}

// A compacting writer of a table that looks keys up is not judged by the
// latest snapshot's file names when its view expired (found in review):
// another job's deletion-vector compaction of an all-delete file leaves
// only files the writer holds, yet replaced the bucket's deletion vectors,
// and a maintenance compaction can empty a bucket whose rows the writer's
// lookups still find. Both commits stay refused, and the deleted rows stay
// deleted.
func TestLookupWriterRefusedAfterItsViewExpired(t *testing.T) {
	ctx := context.Background()
	t.Run("deletion-vectors", func(t *testing.T) {
		tb := newTestTable(t, storage.NewMemory(), 1, "deletion-vectors.enabled", "true")
		a := openWrite(t, tb)
		if err := commitKeys(t, a, "a", 1, "a", 1, 2, 3); err != nil {
			t.Fatal(err)
		}
		b := openWrite(t, tb)
		if err := b.WriteRow(ctx, spec.RowKindDelete, spec.Row{int64(1), nil, nil}); err != nil {
			t.Fatal(err)
		}
		if err := commitKeys(t, b, "b", 1, "b"); err != nil {
			t.Fatal(err)
		}
		expireAllButLatest(t, tb)
		if err := commitKeys(t, a, "a", 2, "a2", 3); !errors.Is(err, spec.ErrConflict) {
			t.Fatalf("a's commit after b's deletion-vector compaction expired: %v, want ErrConflict", err)
		}
		for _, r := range scanAll(t, tb) {
			if r[0].(int64) == 1 {
				t.Fatalf("key 1, deleted by b, is back: %v", r)
			}
		}
	})
	t.Run("partial-update, bucket emptied", func(t *testing.T) {
		tb := newTestTable(t, storage.NewMemory(), 1, "changelog-producer", "lookup",
			"merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true")
		a := openWrite(t, tb)
		if err := commitKeys(t, a, "a", 1, "a", 1); err != nil {
			t.Fatal(err)
		}
		if err := commitKeys(t, a, "a", 2, "a", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.CreateTag(ctx, "daily"); err != nil { // keeps a's files readable
			t.Fatal(err)
		}
		b := openWrite(t, tb)
		for _, k := range []int64{1, 2} {
			if err := b.WriteRow(ctx, spec.RowKindDelete, spec.Row{k, nil, nil}); err != nil {
				t.Fatal(err)
			}
		}
		if err := commitKeys(t, b, "b", 1, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.Compact(ctx, true, "maintain", nil); err != nil {
			t.Fatal(err)
		}
		expireAllButLatest(t, tb)
		// a sets only the name of key 1: the score of the row b deleted
		// must not come back.
		if err := a.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "a2", nil}); err != nil {
			t.Fatal(err)
		}
		msgs, err := a.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.NewCommit("a").Commit(ctx, 3, msgs); !errors.Is(err, spec.ErrConflict) {
			t.Fatalf("a's commit over the emptied bucket: %v, want ErrConflict", err)
		}
		for _, r := range scanAll(t, tb) {
			if r[0].(int64) == 1 && r[2] != nil {
				t.Fatalf("key 1's score %v came back from the row b deleted", r[2])
			}
		}
	})
}
