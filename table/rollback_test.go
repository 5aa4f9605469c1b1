package table

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func snapshotIDs(t *testing.T, tb *Table) []int64 {
	t.Helper()
	ids, err := tb.Snapshots().IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestRollbackToSnapshot(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2)
	commitN(t, tb, 1, 5)
	for name, id := range map[string]int64{"t2": 2, "t4": 4, "t5": 5, "t3": 3} {
		if _, err := tb.CreateTag(ctx, name, TagFromSnapshot(id)); err != nil {
			t.Fatal(err)
		}
	}
	want := scanSorted(t, tb, WithSnapshot(3))
	files, _ := fs.List(ctx, "db.db/t/bucket-0", false)
	// Commits may add COMPACT snapshots: whatever comes after 3 goes.
	before := snapshotIDs(t, tb)
	after3 := before[slices.Index(before, 3)+1:]

	res, err := tb.Rollback(ctx, ToSnapshot(3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.ID != 3 || !slices.Equal(res.DeletedSnapshots, after3) ||
		!slices.Equal(res.DeletedTags, []string{"t4", "t5"}) || res.Restored {
		t.Errorf("result %+v", res)
	}
	if ids := snapshotIDs(t, tb); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Errorf("snapshots after rollback: %v", ids)
	}
	if latest, _ := tb.Snapshots().LatestID(ctx); latest != 3 {
		t.Errorf("latest %d", latest)
	}
	checkEqual(t, "latest after rollback", scanAll(t, tb), want)
	if tags, _ := tb.Tags(ctx); !slices.Equal(tagNamesOf(tags), []string{"t2", "t3"}) {
		t.Errorf("tags after rollback: %v", tagNamesOf(tags))
	}
	if after, _ := fs.List(ctx, "db.db/t/bucket-0", false); len(after) != len(files) {
		t.Errorf("data files deleted: %d before, %d after", len(files), len(after))
	}

	// The next commit is snapshot 4, on top of snapshot 3.
	commitRows(t, tb, "w2", 1, spec.Row{int64(100), "new", 1.0})
	if ids := snapshotIDs(t, tb); !slices.Equal(ids, []int64{1, 2, 3, 4}) {
		t.Errorf("snapshots after a new commit: %v", ids)
	}
	want = append(want, spec.Row{int64(100), "new", 1.0})
	slices.SortFunc(want, spec.CompareRows)
	checkEqual(t, "after a new commit", scanAll(t, tb), want)

	// Rolling back to the latest changes nothing.
	res, err = tb.Rollback(ctx, ToSnapshot(4))
	if err != nil || len(res.DeletedSnapshots) != 0 || len(res.DeletedTags) != 0 {
		t.Errorf("no-op rollback: %v %+v", err, res)
	}
}

// Rolling back to a tag whose snapshot expired writes the snapshot file
// back from the tag and makes it the earliest as well as the latest.
func TestRollbackToExpiredTag(t *testing.T) {
	ctx := context.Background()
	for _, byID := range []bool{false, true} {
		fs := storage.NewMemory()
		tb := newTestTable(t, fs, 1)
		commitN(t, tb, 1, 4)
		tag, err := tb.CreateTag(ctx, "first", TagFromSnapshot(1))
		if err != nil {
			t.Fatal(err)
		}
		want := scanSorted(t, tb, WithSnapshot(1))
		for _, id := range []int64{1, 2} { // expire snapshots 1 and 2
			if err := fs.Delete(ctx, tb.Snapshots().path(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tb.Snapshots().writeHint(ctx, "EARLIEST", 3); err != nil {
			t.Fatal(err)
		}
		to := ToTag("first")
		if byID {
			to = ToSnapshot(1) // found through the tag, as in Paimon
		}
		res, err := tb.Rollback(ctx, to)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Restored || res.DeletedSnapshots[0] != 3 {
			t.Errorf("result %+v", res)
		}
		if ids := snapshotIDs(t, tb); !slices.Equal(ids, []int64{1}) {
			t.Errorf("snapshots: %v", ids)
		}
		if e, _ := tb.Snapshots().EarliestID(ctx); e != 1 {
			t.Errorf("earliest %d", e)
		}
		restored, _ := fs.Get(ctx, tb.Snapshots().path(1))
		if string(restored) != string(spec.EncodeSnapshot(tag.Snapshot)) {
			t.Errorf("restored snapshot file:\n%s", restored)
		}
		checkEqual(t, "after rollback to an expired tag", scanAll(t, tb), want)
		commitRows(t, tb, "w2", 1, spec.Row{int64(7), "x", 0.0})
		if ids := snapshotIDs(t, tb); !slices.Equal(ids, []int64{1, 2}) {
			t.Errorf("after a new commit: %v", ids)
		}
	}
}

func TestRollbackRefusals(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	commitN(t, tb, 1, 2)
	for _, tc := range []struct {
		to   RollbackTarget
		want error
	}{
		{ToSnapshot(7), spec.ErrNotFound},
		{ToSnapshot(0), spec.ErrNotFound},
		{ToTag("nope"), spec.ErrNotFound},
		{ToTag("future"), ErrRollbackRefused},
	} {
		if tc.to.tag == "future" {
			// A tag of a snapshot after the latest (left by some other
			// tool): rolling "back" to it is refused.
			snap, _ := tb.Snapshots().Get(ctx, 2)
			snap.ID = 9
			if err := fs.Put(ctx, tagPathOf(tb, "future"), spec.EncodeSnapshot(snap)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tb.Rollback(ctx, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.to, err, tc.want)
		}
	}
	if ids := snapshotIDs(t, tb); !slices.Equal(ids, []int64{1, 2}) {
		t.Errorf("a refused rollback changed the snapshots: %v", ids)
	}
}

// hookFS runs a hook once, on the first Get or Delete of a path with the
// given suffix, before the operation itself.
type hookFS struct {
	storage.Storage
	suffix string
	op     string
	fired  atomic.Bool
	hook   func()
}

func (h *hookFS) maybe(op, p string) {
	if op == h.op && strings.HasSuffix(p, h.suffix) && h.fired.CompareAndSwap(false, true) {
		h.hook()
	}
}

func (h *hookFS) Get(ctx context.Context, p string) ([]byte, error) {
	h.maybe("get", p)
	return h.Storage.Get(ctx, p)
}

func (h *hookFS) Delete(ctx context.Context, p string) error {
	h.maybe("delete", p)
	return h.Storage.Delete(ctx, p)
}

// A commit that lands before the rollback's first write refuses the
// rollback with nothing changed; one that lands while it deletes is kept
// and reported.
func TestRollbackConcurrentCommit(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, op, suffix string
		refused          bool
	}{
		// Reading the tag happens after the listing, before any write.
		{"before", "get", "tag/tag-t2", true},
		// At the deletion of snapshot 4 LATEST says 2, but snapshot 3
		// exists, so the committer lists, finds the newest and publishes
		// on top of it: the rollback must leave that alone and report it.
		{"during", "delete", "snapshot/snapshot-4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hookFS{Storage: storage.NewMemory(), op: tc.op, suffix: tc.suffix}
			tb := newTestTable(t, h, 1)
			commitN(t, tb, 1, 4)
			if _, err := tb.CreateTag(ctx, "t2", TagFromSnapshot(2)); err != nil {
				t.Fatal(err)
			}
			before := snapshotIDs(t, tb)
			var concurrent int64
			h.hook = func() {
				msgs := writeAll(t, tb, []change{{spec.RowKindInsert, spec.Row{int64(50), "late", 0.0}}}, false)
				id, err := tb.NewCommit("other").Commit(ctx, 1, msgs)
				if err != nil {
					t.Errorf("concurrent commit: %v", err)
				}
				concurrent = id
			}
			res, err := tb.Rollback(ctx, ToTag("t2"))
			if !errors.Is(err, spec.ErrConflict) {
				t.Fatalf("want a conflict, got %v (%+v)", err, res)
			}
			if errors.Is(err, ErrRollbackRefused) != tc.refused {
				t.Errorf("refused: %v", err)
			}
			ids := snapshotIDs(t, tb)
			if tc.refused && !slices.Equal(ids[:len(before)], before) {
				t.Errorf("a refused rollback deleted snapshots: %v, before %v", ids, before)
			}
			if !slices.Contains(ids, concurrent) {
				t.Errorf("the concurrent commit's snapshot %d was deleted (left: %v)", concurrent, ids)
			}
			if !tc.refused && !strings.Contains(err.Error(), "snapshot ") {
				t.Errorf("the error does not name the late snapshot: %v", err)
			}
		})
	}
}

// Long-lived changelog files after the target go, and their LATEST hint
// moves, as Java's RollbackHelper does.
func TestRollbackChangelogs(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	commitN(t, tb, 1, 3)
	for _, id := range []string{"1", "2", "3"} {
		if err := fs.Put(ctx, "db.db/t/changelog/changelog-"+id, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tb.Rollback(ctx, ToSnapshot(1))
	if err != nil || !slices.Equal(res.DeletedChangelogs, []int64{2, 3}) {
		t.Fatalf("%v %+v", err, res)
	}
	if hint, _ := fs.Get(ctx, "db.db/t/changelog/LATEST"); string(hint) != "1" {
		t.Errorf("changelog LATEST %q", hint)
	}
	if _, err := fs.Stat(ctx, "db.db/t/changelog/changelog-1"); err != nil {
		t.Errorf("changelog-1: %v", err)
	}
}

// A lookup following the latest snapshot follows a rollback, and tells a
// snapshot committed after it from the rolled-back one of the same id.
func TestLookupFollowsRollback(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	commitN(t, tb, 1, 3)
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	name := func() any {
		t.Helper()
		row, err := l.Get(ctx, spec.Row{int64(0)})
		if err != nil || row == nil {
			t.Fatalf("lookup: %v %v", err, row)
		}
		return row[1]
	}
	served := l.Snapshot()
	if name() != "v3" {
		t.Fatalf("before: %v", name())
	}
	if _, err := tb.Rollback(ctx, ToSnapshot(1)); err != nil {
		t.Fatal(err)
	}
	if changed, err := l.Refresh(ctx); err != nil || !changed || l.Snapshot() != 1 || name() != "v1" {
		t.Fatalf("after rollback: %v %v snapshot %d %v", changed, err, l.Snapshot(), name())
	}
	// Commit until the id served before comes round again.
	for i := 0; ; i++ {
		commitRows(t, tb, "w2", int64(i+1), spec.Row{int64(0), "new", 0.0})
		if latest, _ := tb.Snapshots().LatestID(ctx); latest >= served {
			break
		}
	}
	latest, _ := tb.Snapshots().Latest(ctx)
	if l.Serves(latest) {
		t.Fatalf("Serves says the lookup serves snapshot %d already", latest.ID)
	}
	if _, err := l.Refresh(ctx); err != nil || name() != "new" || !l.Serves(latest) {
		t.Errorf("after new commits: %v %v", err, name())
	}
}
