package table

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// listCounting counts the tag listings, one per expiration run.
type listCounting struct {
	storage.Storage
	tagLists atomic.Int64
}

func (l *listCounting) List(ctx context.Context, prefix string, recursive bool) ([]storage.FileInfo, error) {
	if strings.HasSuffix(strings.TrimSuffix(prefix, "/"), "/tag") {
		l.tagLists.Add(1)
	}
	return l.Storage.List(ctx, prefix, recursive)
}

// A committer skips the expiration runs that could find nothing, and runs
// again once the number of snapshots or the time can expire one: the
// expirations are those of a run after every commit.
func TestCommitSkipsExpiringUntilSomethingCan(t *testing.T) {
	ctx := context.Background()
	fs := &listCounting{Storage: storage.NewMemory()}
	const retained = 300 * time.Millisecond
	tb := newTestTable(t, fs, 1, "snapshot.num-retained.min", "2", "snapshot.num-retained.max", "5",
		"snapshot.time-retained", "300 ms", "num-sorted-run.compaction-trigger", "50", "num-sorted-run.stop-trigger", "60")
	w := openWrite(t, tb) // no compaction: a snapshot per commit
	c := tb.NewCommit("u")
	commit := func(id int64) {
		t.Helper()
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, "v", 1.0}); err != nil {
			t.Fatal(err)
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Commit(ctx, id, msgs); err != nil {
			t.Fatal(err)
		}
	}
	earliest := func() int64 {
		t.Helper()
		id, err := tb.Snapshots().EarliestID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	start := time.Now()
	for id := int64(1); id <= 5; id++ {
		commit(id)
	}
	if time.Since(start) >= retained {
		t.Skip("the machine took longer than the time retained to make five commits")
	}
	// Within the time retained and at most five snapshots, nothing can
	// expire: the first commit's run says nothing can before the third
	// snapshot, whose run (the second snapshot's time known) says nothing
	// can before the sixth or the time retained; the others skip.
	if n := fs.tagLists.Load(); n != 2 || earliest() != 1 {
		t.Fatalf("after 5 quick commits: %d expiration runs, earliest snapshot %d; want 2 and 1", n, earliest())
	}
	// A sixth snapshot is one more than snapshot.num-retained.max keeps.
	commit(6)
	if n := fs.tagLists.Load(); n != 3 || earliest() != 2 {
		t.Fatalf("after the 6th commit: %d expiration runs, earliest snapshot %d; want 3 and 2", n, earliest())
	}
	// Once the snapshots age past the time retained, all but the last
	// snapshot.num-retained.min expire at the next commit.
	time.Sleep(retained + 50*time.Millisecond)
	commit(7)
	if e := earliest(); e != 6 {
		t.Fatalf("after the time retained: earliest snapshot %d, want 6 (two kept)", e)
	}
}
