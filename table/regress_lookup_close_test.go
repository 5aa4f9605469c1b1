package table

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A Refresh held at its read of the latest snapshot while Close runs used
// to go on with the cache Close had set to nil: it built a state probing
// through a nil cache and dropped the replaced file's local file through
// it, a nil pointer dereference, as CacheStats after Close was. Now the
// refresh installs nothing and fails with lookupfile.ErrClosed, as reads
// after Close do, and Close is idempotent.
func TestLookupCloseRacingRefresh(t *testing.T) {
	ctx := context.Background()
	fs := &gatedFS{Storage: storage.NewMemory()}
	tb := newTestTable(t, fs, 1)
	commit := func(c int) {
		t.Helper()
		msgs := writeAll(t, tb, upserts(1, 20, func(id int64) spec.Row { return spec.Row{id, fmt.Sprint(c), 1.0} }), true)
		if _, err := tb.NewCommit("c").Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
	}
	commit(1)
	lk, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	if r, err := lk.Get(ctx, spec.Row{int64(5)}); err != nil || r == nil {
		t.Fatalf("get before close: %v, %v", r, err)
	}
	served := lk.Snapshot()
	commit(2) // compacted: replaces the file the lookup has a local file of

	gate := fs.gate("snapshot/LATEST")
	done := make(chan error, 1)
	go func() { _, err := lk.Refresh(ctx); done <- err }()
	<-gate.entered
	if err := lk.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate.open)
	if err := <-done; !errors.Is(err, lookupfile.ErrClosed) {
		t.Fatalf("refresh racing close: %v, want ErrClosed", err)
	}
	if got := lk.Snapshot(); got != served {
		t.Fatalf("the refresh installed snapshot %d after close (served %d)", got, served)
	}
	if _, err := lk.Refresh(ctx); !errors.Is(err, lookupfile.ErrClosed) {
		t.Fatalf("refresh after close: %v, want ErrClosed", err)
	}
	if _, err := lk.GetBatch(ctx, []spec.Row{{int64(5)}}); !errors.Is(err, lookupfile.ErrClosed) {
		t.Fatalf("get after close: %v, want ErrClosed", err)
	}
	if s := lk.CacheStats(); s.Files != 0 {
		t.Fatalf("cache stats after close: %+v", s)
	}
	if err := lk.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// Gets, refreshes and cache statistics racing Close (for the race
// detector: Close wrote the cache field they read) either work or fail
// with lookupfile.ErrClosed.
func TestLookupCloseRacingReads(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2)
	msgs := writeAll(t, tb, upserts(1, 200, func(id int64) spec.Row { return spec.Row{id, "v", 1.0} }), true)
	if _, err := tb.NewCommit("c").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	lk, err := tb.NewLookup(ctx, WithRefreshInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				var err error
				switch (g + i) % 3 {
				case 0:
					_, err = lk.Get(ctx, spec.Row{int64(1 + i%200)})
				case 1:
					_, err = lk.GetBatch(ctx, []spec.Row{{int64(1 + i%200)}, {int64(200 - i%200)}})
				case 2:
					_, err = lk.Refresh(ctx)
					_ = lk.CacheStats()
				}
				if errors.Is(err, lookupfile.ErrClosed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := lk.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call racing Close: %v", err)
	}
}
