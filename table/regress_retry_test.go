package table

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

type flakyFS struct {
	storage.Storage
	failOnce atomic.Bool
	target   string
}

func (f *flakyFS) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if strings.HasSuffix(p, f.target) && f.failOnce.CompareAndSwap(true, false) {
		return errors.New("transient: connection reset")
	}
	return f.Storage.PutIfAbsent(ctx, p, data)
}

// Commit fails after its APPEND snapshot, before its COMPACT one. Retrying
// the same identifier with the same *Commit re-publishes the APPEND (the
// cached "last committed identifier" was never updated), adding every file
// twice: the table can no longer be read.
func TestCommitRetryDoesNotDuplicateAppend(t *testing.T) {
	ctx := context.Background()
	fs := &flakyFS{Storage: storage.NewMemory(), target: "/snapshot/snapshot-2"}
	tb := newTestTable(t, fs, 1, "deletion-vectors.enabled", "true")
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "a", 1.0})
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := tb.NewCommit("job")
	fs.failOnce.Store(true)
	// The transient failure of the COMPACT snapshot is retried inside
	// Commit; committing the same identifier again changes nothing.
	first, err := c.Commit(ctx, 1, msgs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Commit(ctx, 1, msgs)
	if err != nil || again != first {
		t.Fatalf("second commit: snapshot %d (%v), first was %d", again, err, first)
	}
	if ids, _ := tb.Snapshots().IDs(ctx); len(ids) != 2 {
		t.Fatalf("snapshots %v, want one APPEND and one COMPACT", ids)
	}
	for _, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatalf("table unreadable after retry: %v", err)
		}
	}
}

// lostAnswerFS writes snapshot files but reports an error, as when an S3
// PUT succeeds and its response is lost (or an SDK retry then sees 412).
type lostAnswerFS struct {
	storage.Storage
	answer error
}

func (f *lostAnswerFS) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
		return err
	}
	if strings.Contains(p, "/snapshot/snapshot-") {
		return f.answer
	}
	return nil
}

// A snapshot write whose answer is lost is settled by reading it back: the
// commit succeeds once, with no duplicate snapshot.
func TestLostSnapshotAnswerIsReadBack(t *testing.T) {
	for _, answer := range []error{errors.New("connection reset"), storage.ErrExist} {
		ctx := context.Background()
		fs := &lostAnswerFS{Storage: storage.NewMemory(), answer: answer}
		tb := newTestTable(t, fs, 1, "write-only", "true")
		w, _ := tb.NewWrite(ctx)
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "a", 1.0}); err != nil {
			t.Fatal(err)
		}
		msgs, _ := w.PrepareCommit(ctx)
		w.Close()
		id, err := tb.NewCommit("job").Commit(ctx, 1, msgs)
		if err != nil || id != 1 {
			t.Fatalf("%v: commit gave snapshot %d, %v", answer, id, err)
		}
		if ids, _ := tb.Snapshots().IDs(ctx); len(ids) != 1 {
			t.Fatalf("%v: snapshots %v", answer, ids)
		}
	}
}
