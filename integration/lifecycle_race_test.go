package integration

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/maintain"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

var lifecycleDuration = flag.Duration("lifecycle.duration", 20*time.Second,
	"how long TestLifecycleRace runs its traffic on each storage (the acceptance run: 1m)")

// lifecycleRetained is the test table's snapshot.time-retained: a reader
// that starts on a snapshot and finishes within it of the snapshot being
// superseded must never miss a file.
const lifecycleRetained = 4 * time.Second

// TestLifecycleRace runs, on local disk and on MinIO, two write-only
// writers, two maintenance jobs (compaction, expiration after their
// commits and their own, orphan cleaning with a short guard), readers
// pinned at the snapshot that was latest when they started, and a lookup
// following the table, all at once. No reader or lookup may fail on a
// missing file it was allowed to read; afterwards every kept snapshot
// reads, the latest equals the writers' model, the retention holds and no
// unreferenced file older than the guard is left.
func TestLifecycleRace(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			runLifecycleRace(t, backendStorage(t, backend), *lifecycleDuration)
		})
	}
}

func runLifecycleRace(t *testing.T, fs storage.Storage, d time.Duration) {
	tb := newTable(t, fs, "life", "write-only", "true", "snapshot.num-retained.min", "2",
		"snapshot.num-retained.max", "30", "snapshot.time-retained", fmt.Sprintf("%d ms", lifecycleRetained.Milliseconds()))
	cat := catalog.New(fs)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
		cancel()
	}
	models := make([]map[int64]string, 2)
	for w := range models {
		models[w] = map[int64]string{}
		wg.Go(func() { lifecycleWriter(ctx, tb, w, models[w], report) })
	}
	// The orphan age must exceed the longest a writer or a compaction holds
	// files before committing (retries on a contended S3 commit take
	// seconds): a shorter guard deletes files a commit then lands.
	const guard = 15 * time.Second
	for j := range 2 {
		wg.Go(func() { lifecycleMaintainer(ctx, cat, j, guard, report) })
	}
	var reads, lateReads atomic.Int64
	for range 2 {
		wg.Go(func() { lifecycleReader(ctx, tb, &reads, &lateReads, report) })
	}
	var gets atomic.Int64
	wg.Go(func() { lifecycleLookup(ctx, tb, &gets, report) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d pinned reads (%d finished past the retention, not checked), %d lookup batches", reads.Load(), lateReads.Load(), gets.Load())
	checkLifecycleAfter(t, cat, tb, models, guard)
}

// lifecycleWriter commits batches of keys of its own (id % 2 == w) until
// ctx ends, recording each committed value in model.
func lifecycleWriter(ctx context.Context, tb *table.Table, w int, model map[int64]string, report func(error)) {
	rng := rand.New(rand.NewPCG(uint64(w), 11))
	commit := tb.NewCommit(fmt.Sprintf("writer-%d", w))
	for n := int64(1); ctx.Err() == nil; n++ {
		wr, err := tb.NewWrite(ctx)
		if err != nil {
			if ctx.Err() == nil {
				report(fmt.Errorf("writer %d: %w", w, err))
			}
			return
		}
		batch := map[int64]string{}
		for range 20 {
			id := int64(2*rng.IntN(500) + w)
			batch[id] = fmt.Sprintf("w%d-%d", w, n)
			if err := wr.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, batch[id]}); err != nil {
				wr.Close()
				if ctx.Err() == nil {
					report(fmt.Errorf("writer %d: %w", w, err))
				}
				return
			}
		}
		msgs, err := wr.PrepareCommit(ctx)
		wr.Close()
		if err != nil {
			if ctx.Err() == nil {
				report(fmt.Errorf("writer %d: %w", w, err))
			}
			return
		}
		// Commit even as the test ends, so that the model stays exact.
		_, err = commit.Commit(context.WithoutCancel(ctx), n, msgs)
		if errors.Is(err, spec.ErrConflict) {
			continue // the other writer's keys share this one's key range: a refused commit lands nothing
		}
		if err != nil {
			report(fmt.Errorf("writer %d commit %d: %w", w, n, err))
			return
		}
		for id, v := range batch {
			model[id] = v
		}
	}
}

// lifecycleMaintainer runs maintenance rounds until ctx ends. Steps may
// lose to the other job (a compaction conflict after retries); any other
// failure is the test's.
func lifecycleMaintainer(ctx context.Context, cat *catalog.Catalog, j int, guard time.Duration, report func(error)) {
	job, err := maintain.New(cat, maintain.WithTables(catalog.Identifier{Database: "db", Table: "life"}),
		maintain.WithOrphanCleaning(guard), maintain.WithFullCompactionEvery(3*time.Second),
		maintain.WithCommitUser(fmt.Sprintf("maintain-%d", j)))
	if err != nil {
		report(err)
		return
	}
	for ctx.Err() == nil {
		reps, err := job.Round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			report(fmt.Errorf("maintainer %d: %w", j, err))
			return
		}
		for _, r := range reps {
			if r.Err != nil && !errors.Is(r.Err, spec.ErrConflict) && !errors.Is(r.Err, table.ErrCompactionNotCommitted) {
				report(fmt.Errorf("maintainer %d: %w", j, r.Err))
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lifecycleReader reads, again and again, the snapshot that was latest
// when it started. A read that fails must have outlived the retention:
// its snapshot superseded longer than snapshot.time-retained ago.
func lifecycleReader(ctx context.Context, tb *table.Table, reads, late *atomic.Int64, report func(error)) {
	for ctx.Err() == nil {
		id, err := tb.Snapshots().LatestID(ctx)
		if err != nil || id == 0 {
			if ctx.Err() == nil && err != nil {
				report(fmt.Errorf("reader: latest: %w", err))
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		start := time.Now()
		var rerr error
		for _, err := range tb.NewScan(table.WithSnapshot(id)).Rows(ctx) {
			if err != nil {
				rerr = err
				break
			}
		}
		reads.Add(1)
		if rerr == nil || ctx.Err() != nil {
			continue
		}
		// Allowed only if the snapshot had been superseded for longer than
		// the retention when the read ended.
		next, err := tb.Snapshots().Get(context.Background(), id+1)
		if err == nil && time.Since(time.UnixMilli(next.TimeMillis)) > lifecycleRetained {
			late.Add(1)
			continue
		}
		report(fmt.Errorf("reader of snapshot %d (started %v ago) failed within the retention: %w", id, time.Since(start).Round(time.Millisecond), rerr))
		return
	}
}

// lifecycleLookup looks random keys up through a lookup following the
// table; it must never fail.
func lifecycleLookup(ctx context.Context, tb *table.Table, gets *atomic.Int64, report func(error)) {
	lk, err := tb.NewLookup(ctx, table.WithRefreshInterval(100*time.Millisecond))
	if err != nil {
		if ctx.Err() == nil {
			report(fmt.Errorf("lookup: %w", err))
		}
		return
	}
	defer lk.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	keys := make([]spec.Row, 50)
	for ctx.Err() == nil {
		for i := range keys {
			keys[i] = spec.Row{int64(rng.IntN(1000))}
		}
		if _, err := lk.GetBatch(ctx, keys); err != nil {
			if ctx.Err() == nil {
				report(fmt.Errorf("lookup: %w", err))
			}
			return
		}
		gets.Add(1)
	}
}

// checkLifecycleAfter runs a last maintenance round once the guard has
// passed, then checks the kept
// snapshots, the latest one against the model, the retention and that no
// orphan older than the guard is left.
func checkLifecycleAfter(t *testing.T, cat *catalog.Catalog, tb *table.Table, models []map[int64]string, guard time.Duration) {
	ctx := context.Background()
	// Every file the traffic left is older than the guard by the last round.
	time.Sleep(guard)
	job, err := maintain.New(cat, maintain.WithTables(catalog.Identifier{Database: "db", Table: "life"}), maintain.WithOrphanCleaning(guard))
	if err != nil {
		t.Fatal(err)
	}
	reps, err := job.Round(ctx)
	if err != nil || reps[0].Err != nil {
		t.Fatalf("last round: %v %+v", err, reps)
	}
	t.Logf("last round: compacted into snapshot %d, %d orphans deleted", reps[0].Compaction.Snapshot, len(reps[0].Orphans.Orphans))
	// A round expires at most snapshot.expire.limit (50) snapshots a
	// commit: traffic faster than the rounds leaves more than that behind,
	// which further rounds must take down to the retention.
	var ids []int64
	for round := 0; ; round++ {
		if ids, err = tb.Snapshots().IDs(ctx); err != nil {
			t.Fatal(err)
		}
		if len(ids) <= 30 || round == 10 {
			break
		}
		if reps, err = job.Round(ctx); err != nil || reps[0].Err != nil {
			t.Fatalf("round %d after the traffic: %v %+v", round+2, err, reps)
		}
	}
	if len(ids) > 30 {
		t.Fatalf("%d snapshots kept after rounds of expiration, snapshot.num-retained.max is 30", len(ids))
	}
	for _, id := range ids {
		for _, err := range tb.NewScan(table.WithSnapshot(id)).Rows(ctx) {
			if err != nil {
				t.Fatalf("kept snapshot %d: %v", id, err)
			}
		}
	}
	want := map[int64]string{}
	for _, m := range models {
		for id, v := range m {
			want[id] = v
		}
	}
	got := map[int64]string{}
	for r, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got[r[0].(int64)] = r[1].(string)
	}
	if len(got) != len(want) {
		t.Fatalf("latest snapshot has %d keys, the writers committed %d", len(got), len(want))
	}
	for id, v := range want {
		if got[id] != v {
			t.Fatalf("key %d = %q, the writers' last commit wrote %q", id, got[id], v)
		}
	}
	left, err := tb.CleanOrphans(ctx, table.WithDryRun(), table.WithOrphanAge(guard))
	if err != nil || len(left.Orphans) != 0 {
		t.Fatalf("orphans older than %v left after the last round: %v %v", guard, left.Orphans, err)
	}
	t.Logf("after: snapshots %d..%d kept, %d keys", ids[0], ids[len(ids)-1], len(got))
}
