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

// The snapshot PUT lands, its answer is lost (timeout), and the read-back
// fails too (same expired deadline / transient error): the outcome is
// unknown. Retrying Commit with the same *Commit must not publish twice.
type unknownOutcomeFS struct {
	storage.Storage
	armed   atomic.Bool
	failGet atomic.Bool
}

func (f *unknownOutcomeFS) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
		return err
	}
	if strings.Contains(p, "/snapshot/snapshot-") && f.armed.CompareAndSwap(true, false) {
		f.failGet.Store(true)
		return context.DeadlineExceeded
	}
	return nil
}

func (f *unknownOutcomeFS) Get(ctx context.Context, p string) ([]byte, error) {
	if strings.Contains(p, "/snapshot/snapshot-") && f.failGet.CompareAndSwap(true, false) {
		return nil, context.DeadlineExceeded
	}
	return f.Storage.Get(ctx, p)
}

func TestRetryAfterUnknownOutcomeCommitsOnce(t *testing.T) {
	ctx := context.Background()
	fs := &unknownOutcomeFS{Storage: storage.NewMemory()}
	tb := newTestTable(t, fs, 1, "write-only", "true")
	c := tb.NewCommit("job")
	for ckpt := int64(1); ckpt <= 2; ckpt++ {
		w, _ := tb.NewWrite(ctx)
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{ckpt, "a", 1.0}); err != nil {
			t.Fatal(err)
		}
		msgs, _ := w.PrepareCommit(ctx)
		w.Close()
		if ckpt == 2 {
			fs.armed.Store(true)
		}
		// The commit settles the unknown outcome itself (its retry finds
		// the snapshot); a caller retrying after an error must fare as well.
		if _, err := c.Commit(ctx, ckpt, msgs); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrUncertainCommit) {
				t.Fatal(err)
			}
			if _, err := c.Commit(ctx, ckpt, msgs); err != nil {
				t.Fatalf("checkpoint %d: retry after an unknown outcome: %v", ckpt, err)
			}
		}
	}
	ids, _ := tb.Snapshots().IDs(ctx)
	if len(ids) != 2 {
		t.Errorf("snapshots %v for 2 checkpoints", ids)
	}
	for _, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatalf("table unreadable: %v", err)
		}
	}
}

// An S3 PUT lands, the SDK retries and sees 412 (ErrExist), and the
// read-back fails once: publish calls it a lost race and commits again.
type existThenFailGetFS struct {
	storage.Storage
	armed   atomic.Bool
	failGet atomic.Bool
}

func (f *existThenFailGetFS) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
		return err
	}
	if strings.Contains(p, "/snapshot/snapshot-") && f.armed.CompareAndSwap(true, false) {
		f.failGet.Store(true)
		return storage.ErrExist
	}
	return nil
}

func (f *existThenFailGetFS) Get(ctx context.Context, p string) ([]byte, error) {
	if strings.Contains(p, "/snapshot/snapshot-") && f.failGet.CompareAndSwap(true, false) {
		return nil, errors.New("transient: connection reset")
	}
	return f.Storage.Get(ctx, p)
}

func TestExistPlusFailedReadBackCommitsOnce(t *testing.T) {
	ctx := context.Background()
	fs := &existThenFailGetFS{Storage: storage.NewMemory()}
	tb := newTestTable(t, fs, 1, "write-only", "true")
	w, _ := tb.NewWrite(ctx)
	if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "a", 1.0}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	w.Close()
	fs.armed.Store(true)
	if id, err := tb.NewCommit("job").Commit(ctx, 1, msgs); err != nil || id != 1 {
		t.Fatalf("commit: snapshot %d, %v; want snapshot 1 (the read-back settles the race)", id, err)
	}
	ids, _ := tb.Snapshots().IDs(ctx)
	if len(ids) != 1 {
		t.Errorf("snapshots %v for one checkpoint", ids)
	}
	for _, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatalf("table unreadable: %v", err)
		}
	}
}
