package table

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A lookup whose snapshot expired under it reads a data file that is gone,
// while another goroutine's refresh moves it to the latest snapshot: its
// own refresh then finds nothing newer. GetBatch used to retry only when
// its own refresh moved, and returned the missing file's error; Get did
// not retry at all. Both read again at the state now current.
func TestLookupRetriesAfterConcurrentRefresh(t *testing.T) {
	for _, batch := range []bool{true, false} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			ctx := context.Background()
			fs := &gatedFS{Storage: storage.NewMemory()}
			tb := newTestTable(t, fs, 1, "snapshot.num-retained.min", "1", "snapshot.time-retained", "0 ms")
			commit := func(c int) {
				t.Helper()
				msgs := writeAll(t, tb, upserts(1, 20, func(id int64) spec.Row { return spec.Row{id, fmt.Sprint(c), 1.0} }), true)
				if _, err := tb.NewCommit("c", WithoutExpire()).Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
			}
			commit(1)
			lk, err := tb.NewLookup(ctx, WithRefreshInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			defer lk.Close()
			old := lk.current()
			if len(old.list) != 1 || len(old.list[0].files) != 1 {
				t.Fatalf("the first commit left %d buckets, want one with one file", len(old.list))
			}
			gone := old.list[0].files[0].Meta.FileName
			commit(2) // compacted: replaces the first commit's file
			if res, err := tb.ExpireSnapshots(ctx, WithExpireTime(time.Now().Add(time.Second))); err != nil || res.DataFiles == 0 {
				t.Fatalf("expire: %+v, %v; want the first commit's file deleted", res, err)
			}

			// The lookup reads the deleted file at the first commit's
			// state; a refresh elsewhere installs the latest before the
			// read fails.
			gate := fs.gate(gone)
			type answer struct {
				row  spec.Row
				snap int64
				err  error
			}
			done := make(chan answer, 1)
			go func() {
				if batch {
					res, err := lk.GetBatch(ctx, []spec.Row{{int64(5)}})
					var row spec.Row
					if err == nil {
						row = res.Rows[0]
					}
					done <- answer{row, res.Snapshot, err}
					return
				}
				row, err := lk.Get(ctx, spec.Row{int64(5)})
				done <- answer{row, 0, err}
			}()
			select {
			case <-gate.entered:
			case a := <-done:
				t.Fatalf("the lookup never read %s: row %v, error %v", gone, a.row, a.err)
			}
			if moved, err := lk.Refresh(ctx); err != nil || !moved {
				t.Fatalf("the other refresh: moved %v, %v", moved, err)
			}
			close(gate.open)
			a := <-done
			latest, _ := tb.Snapshots().LatestID(ctx)
			if a.err != nil || a.row == nil || a.row[1] != "2" || (batch && a.snap != latest) {
				t.Fatalf("answer: row %v at snapshot %d, error %v; want the row of snapshot %d", a.row, a.snap, a.err, latest)
			}
		})
	}
}
