package table

import (
	"context"
	"errors"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// commitN commits n snapshots; snapshot i (from 1) upserts key i and
// rewrites key 0's name to "v<i>", so every snapshot reads differently.
func commitN(t *testing.T, tb *Table, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		commitRows(t, tb, "w", int64(i), spec.Row{int64(i), "row", float64(i)}, spec.Row{int64(0), "v" + strconv.Itoa(i), 0.0})
	}
}

// scanSorted scans and sorts the rows, for checkEqual.
func scanSorted(t *testing.T, tb *Table, opts ...ScanOption) []spec.Row {
	t.Helper()
	rows := scanAll(t, tb, opts...)
	slices.SortFunc(rows, spec.CompareRows)
	return rows
}

func tagNamesOf(tags []TagInfo) []string {
	var out []string
	for _, tg := range tags {
		out = append(out, tg.Name)
	}
	return out
}

func TestCreateTagAndList(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	if _, err := tb.CreateTag(ctx, "empty"); !errors.Is(err, spec.ErrNotFound) {
		t.Fatalf("tag of an empty table: %v", err)
	}
	commitN(t, tb, 1, 3)

	latest, err := tb.CreateTag(ctx, "b")
	if err != nil || latest.Snapshot.ID != 3 || latest.CreateTime != nil || latest.TimeRetained != nil {
		t.Fatalf("latest tag: %v %+v", err, latest)
	}
	// Without a retention the file is the snapshot file, byte for byte.
	tagBytes, _ := fs.Get(ctx, "db.db/t/tag/tag-b")
	snapBytes, _ := fs.Get(ctx, "db.db/t/snapshot/snapshot-3")
	if string(tagBytes) != string(snapBytes) {
		t.Errorf("tag file differs from its snapshot file:\n%s\n%s", tagBytes, snapBytes)
	}
	if _, err := tb.CreateTag(ctx, "a", TagFromSnapshot(3)); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	old, err := tb.CreateTag(ctx, "z-old", TagFromSnapshot(1), TagRetention(36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if old.Snapshot.ID != 1 || *old.TimeRetained != 36*time.Hour || old.CreateTime.Before(before) || old.CreateTime.After(time.Now()) {
		t.Errorf("retained tag: %+v", old)
	}

	tags, err := tb.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tagNamesOf(tags); !slices.Equal(got, []string{"z-old", "a", "b"}) {
		t.Errorf("tags by snapshot id then name: %v", got)
	}
	got, err := tb.Tag(ctx, "z-old")
	if err != nil || got.Snapshot.ID != 1 || *got.TimeRetained != 36*time.Hour || !got.CreateTime.Equal(*old.CreateTime) {
		t.Errorf("Tag: %v %+v", err, got)
	}

	if _, err := tb.CreateTag(ctx, "a", TagFromSnapshot(1)); !errors.Is(err, ErrTagExists) {
		t.Errorf("existing name: %v", err)
	}
	// Also when the new tag's bytes would be the same.
	if _, err := tb.CreateTag(ctx, "b"); !errors.Is(err, ErrTagExists) {
		t.Errorf("existing name, same snapshot: %v", err)
	}
	if tg, _ := tb.Tag(ctx, "a"); tg.Snapshot.ID != 3 {
		t.Errorf("a refused create overwrote the tag: %d", tg.Snapshot.ID)
	}
	if _, err := tb.CreateTag(ctx, "x", TagFromSnapshot(9)); !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "1..3") {
		t.Errorf("missing snapshot: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := tb.CreateTag(ctx, "x", TagRetention(d)); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("retention %v: %v", d, err)
		}
	}
	if _, err := tb.Tag(ctx, "nope"); !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "z-old") {
		t.Errorf("missing tag: %v", err)
	}
}

func TestTagNames(t *testing.T) {
	for _, ok := range []string{"v1", "release-2024.01", "1.0", "x y", "日本", "..", "007a"} {
		if err := ValidateTagName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", " v1", "v1\t", "a/b", `a\b`, "42", "0", "a\x00b", "a\nb", strings.Repeat("x", 252)} {
		if err := ValidateTagName(bad); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	tb := newTestTable(t, storage.NewMemory(), 1)
	commitN(t, tb, 1, 1)
	if _, err := tb.CreateTag(context.Background(), "12"); !errors.Is(err, ErrInvalidTag) {
		t.Errorf("CreateTag of a numeric name: %v", err)
	}
}

// tag.default-time-retained applies when CreateTag is given no retention.
func TestTagDefaultRetention(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, spec.OptTagDefaultTimeRetained, "2 d")
	commitN(t, tb, 1, 1)
	tg, err := tb.CreateTag(ctx, "d")
	if err != nil || tg.TimeRetained == nil || *tg.TimeRetained != 48*time.Hour || tg.CreateTime == nil {
		t.Fatalf("%v %+v", err, tg)
	}
	if tg, _ = tb.CreateTag(ctx, "e", TagRetention(time.Hour)); *tg.TimeRetained != time.Hour {
		t.Errorf("explicit retention: %v", *tg.TimeRetained)
	}
}

func TestDeleteTag(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	commitN(t, tb, 1, 2)
	if _, err := tb.CreateTag(ctx, "t1", TagFromSnapshot(1)); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.List(ctx, "db.db/t", true)
	if err := tb.DeleteTag(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := tb.DeleteTag(ctx, "t1"); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("deleting a missing tag: %v", err)
	}
	after, _ := fs.List(ctx, "db.db/t", true)
	if len(after) != len(files)-1 {
		t.Errorf("DeleteTag removed %d files, want the tag file only", len(files)-len(after))
	}
	if tags, _ := tb.Tags(ctx); len(tags) != 0 {
		t.Errorf("tags left: %v", tagNamesOf(tags))
	}
}

// A tag reads as its snapshot did, also after the snapshot file expired;
// lookups at a tag answer from it.
func TestScanAtTag(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2)
	commitN(t, tb, 1, 3)
	if _, err := tb.CreateTag(ctx, "two", TagFromSnapshot(2)); err != nil {
		t.Fatal(err)
	}
	atSnapshot := scanSorted(t, tb, WithSnapshot(2))
	checkEqual(t, "scan at tag", scanAll(t, tb, WithTag("two")), atSnapshot)
	if latest := scanAll(t, tb); len(latest) == len(atSnapshot) {
		t.Fatalf("snapshot 2 and 3 read alike; the test proves nothing")
	}
	// Expire snapshot 2's file: the tag still reads it.
	if err := fs.Delete(ctx, "db.db/t/snapshot/snapshot-2"); err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "scan at tag after expiry", scanAll(t, tb, WithTag("two")), atSnapshot)
	if _, err := tb.NewScan(WithSnapshot(2)).Plan(ctx); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("snapshot 2 is gone: %v", err)
	}
	// A tag of an expired snapshot can still be made from another tag.
	if again, err := tb.CreateTag(ctx, "again", TagFromSnapshot(2)); err != nil || again.Snapshot.ID != 2 {
		t.Errorf("tagging expired snapshot 2: %v %+v", err, again)
	}
	if _, err := tb.NewScan(WithTag("nope")).Plan(ctx); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("missing tag: %v", err)
	}
	// The option given last wins.
	checkEqual(t, "last option wins", scanAll(t, tb, WithTag("nope"), WithSnapshot(3)), scanSorted(t, tb))

	l, err := tb.NewLookup(ctx, WithLookupTag("two"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	row, err := l.Get(ctx, spec.Row{int64(0)})
	if err != nil || l.Snapshot() != 2 || row[1] != "v2" {
		t.Errorf("lookup at tag: %v snapshot %d row %v", err, l.Snapshot(), row)
	}
}

// writeSnapshotFiles writes bare snapshot files with the given commit
// times (ids from first), enough for AsOf.
func writeSnapshotFiles(t *testing.T, s *Snapshots, first int64, times ...int64) {
	t.Helper()
	for i, ms := range times {
		snap := &spec.Snapshot{Version: 3, ID: first + int64(i), CommitKind: spec.CommitKindAppend, TimeMillis: ms}
		if _, err := s.publish(context.Background(), snap); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotsAsOf(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	s := newSnapshots(fs, "t")
	if _, err := s.AsOf(ctx, time.UnixMilli(5)); !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "no snapshots") {
		t.Errorf("empty table: %v", err)
	}
	// Snapshots 1 and 2 have expired; 3..7 remain.
	writeSnapshotFiles(t, s, 1, 500, 800, 1000, 2000, 2000, 3000, 5000)
	for _, id := range []int64{1, 2} {
		if err := fs.Delete(ctx, s.path(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ms   int64
		want int64 // 0: an error
	}{
		{999, 0},     // before the earliest
		{1000, 3},    // exactly the earliest
		{1500, 3},    // between
		{2000, 5},    // two snapshots at one time: the newest
		{2999, 5},    //
		{3000, 6},    // exact
		{4999, 6},    //
		{5000, 7},    // exactly the latest
		{99999, 7},   // after the latest
		{-99999, 0},  // long before
		{2000000, 7}, //
	} {
		snap, err := s.AsOf(ctx, time.UnixMilli(tc.ms))
		switch {
		case tc.want == 0:
			if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "snapshot 3, was committed at 1970-01-01T00:00:01Z") {
				t.Errorf("%d: want an error naming the earliest snapshot, got %v", tc.ms, err)
			}
		case err != nil:
			t.Errorf("%d: %v", tc.ms, err)
		case snap.ID != tc.want:
			t.Errorf("%d: snapshot %d, want %d", tc.ms, snap.ID, tc.want)
		}
	}
}

// Scans as of a commit's time read that commit; between two commits, the
// earlier.
func TestScanAsOf(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	var times []int64
	for i := 1; i <= 3; i++ {
		commitN(t, tb, i, 1)
		snap, err := tb.Snapshots().Get(ctx, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, snap.TimeMillis)
		time.Sleep(3 * time.Millisecond) // distinct commit times
	}
	checkEqual(t, "as of commit 2", scanAll(t, tb, WithTimestamp(time.UnixMilli(times[1]))), scanSorted(t, tb, WithSnapshot(2)))
	checkEqual(t, "between 2 and 3", scanAll(t, tb, WithTimestamp(time.UnixMilli(times[2]-1))), scanSorted(t, tb, WithSnapshot(2)))
	checkEqual(t, "after the latest", scanAll(t, tb, WithTimestamp(time.Now().Add(time.Hour))), scanSorted(t, tb))
	if _, err := tb.NewScan(WithTimestamp(time.UnixMilli(times[0] - 1))).Plan(ctx); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("before the earliest: %v", err)
	}
	l, err := tb.NewLookup(ctx, WithLookupTimestamp(time.UnixMilli(times[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Snapshot() != 1 {
		t.Errorf("lookup as of commit 1 reads snapshot %d", l.Snapshot())
	}
}

func tagPathOf(tb *Table, name string) string { return path.Join(tb.Path(), "tag", "tag-"+name) }

// Of concurrent creators of one tag name exactly one wins; the others get
// ErrTagExists and the file holds the winner's snapshot.
func TestCreateTagRace(t *testing.T) {
	ctx := context.Background()
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, fs := range map[string]storage.Storage{"memory": storage.NewMemory(), "local": local} {
		t.Run(name, func(t *testing.T) {
			tb := newTestTable(t, fs, 1)
			commitN(t, tb, 1, 2)
			const n = 8
			type result struct {
				tag *TagInfo
				err error
			}
			results := make(chan result, n)
			for i := range n {
				go func() {
					tg, err := tb.CreateTag(ctx, "same", TagFromSnapshot(int64(i%2+1)))
					results <- result{tg, err}
				}()
			}
			var winner *TagInfo
			for range n {
				r := <-results
				switch {
				case r.err == nil && winner == nil:
					winner = r.tag
				case r.err == nil:
					t.Errorf("two creators succeeded")
				case !errors.Is(r.err, ErrTagExists):
					t.Errorf("loser: %v", r.err)
				}
			}
			got, err := tb.Tag(ctx, "same")
			if err != nil || winner == nil || got.Snapshot.ID != winner.Snapshot.ID {
				t.Errorf("tag %+v, winner %+v, %v", got, winner, err)
			}
		})
	}
}
