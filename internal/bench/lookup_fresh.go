package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stratalake/strata/internal/latency"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// freshKeysPerCommit is how many random keys each freshness commit updates.
const freshKeysPerCommit = 10

// Freshness is how long after a commit returns its new values are served by
// a lookup that follows the table in the background.
type Freshness struct {
	Refresh   time.Duration `json:"refresh_interval_ns"`
	Commits   int           `json:"commits"`
	Updates   int           `json:"updates"`
	Seen      int           `json:"seen"`
	Unseen    int           `json:"unseen"`        // not served when the run ended
	CommitP50 float64       `json:"commit_p50_us"` // how long the commits took
	Latency   Latency       `json:"latency"`
}

// pendingUpdate is a committed value a lookup has yet to serve.
type pendingUpdate struct {
	key       int64
	want      []byte
	snapshot  int64
	committed time.Time
}

// runFreshness commits freshKeysPerCommit updates of random keys every
// interval for d through a writer of tb, while a poller watches target: as
// soon as target's lookup serves a snapshot at or after a commit's, the
// poller reads the commit's keys and records, for each key showing its new
// value, the time since the commit returned.
func runFreshness(ctx context.Context, tb *table.Table, target *StrataTarget, keys []int64, refresh, every, d time.Duration, seed uint64) (Freshness, error) {
	res := Freshness{Refresh: refresh}
	w, err := tb.NewWrite(ctx, table.WithWaitCompaction(false))
	if err != nil {
		return res, fmt.Errorf("freshness writer: %w", err)
	}
	defer w.Close()
	var mu sync.Mutex
	pending := map[int64]pendingUpdate{} // by key: a newer update replaces an older one
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan error, 1)
	rec := newRecorder(seed)
	go func() { polled <- pollFresh(pollCtx, target, &mu, pending, rec) }()
	commitRec := newRecorder(seed + 1)
	rng := rand.New(rand.NewPCG(seed, 11))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; <-tick.C {
		ups, err := commitUpdates(ctx, tb, w, rng, keys, int64(res.Commits), commitRec)
		if err != nil {
			stopPoll()
			<-polled
			return res, err
		}
		res.Commits++
		res.Updates += len(ups)
		mu.Lock()
		for _, u := range ups {
			pending[u.key] = u
		}
		mu.Unlock()
	}
	// Give the last commits two refresh intervals and a second to show.
	for wait := time.Now().Add(2*refresh + time.Second); time.Now().Before(wait); time.Sleep(time.Millisecond) {
		mu.Lock()
		left := len(pending)
		mu.Unlock()
		if left == 0 {
			break
		}
	}
	stopPoll()
	if err := <-polled; err != nil {
		return res, err
	}
	res.Latency = summarize([]*latency.Sample{rec})
	res.Seen, res.Unseen = int(res.Latency.Count), len(pending)
	res.CommitP50 = summarize([]*latency.Sample{commitRec}).P50us
	return res, ctx.Err()
}

// commitUpdates writes new values for random keys and commits them; the
// updates carry the commit's snapshot and the time the commit returned.
func commitUpdates(ctx context.Context, tb *table.Table, w *table.Write, rng *rand.Rand, keys []int64, id int64, rec *latency.Sample) ([]pendingUpdate, error) {
	ups := make([]pendingUpdate, 0, freshKeysPerCommit)
	for range freshKeysPerCommit {
		k := keys[rng.IntN(len(keys))]
		row := genRow(rng, k)
		if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
			return nil, fmt.Errorf("freshness write: %w", err)
		}
		ups = append(ups, pendingUpdate{key: k, want: encodeRow(row)})
	}
	start := time.Now()
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return nil, fmt.Errorf("freshness commit: %w", err)
	}
	snap, err := tb.NewCommit("bench-fresh").Commit(ctx, id, msgs)
	if err != nil {
		return nil, fmt.Errorf("freshness commit: %w", err)
	}
	now := time.Now()
	rec.Add(now.Sub(start))
	for i := range ups {
		ups[i].snapshot, ups[i].committed = snap, now
	}
	return ups, nil
}

// pollFresh watches the lookup's snapshot until ctx ends; for each pending
// update the served snapshot has reached, it reads the key and records the
// delay once the new value shows.
func pollFresh(ctx context.Context, target *StrataTarget, mu *sync.Mutex, pending map[int64]pendingUpdate, rec *latency.Sample) error {
	for ctx.Err() == nil {
		served := target.Lookup().Snapshot()
		mu.Lock()
		var due []pendingUpdate
		for _, u := range pending {
			if served >= u.snapshot {
				due = append(due, u)
			}
		}
		mu.Unlock()
		for _, u := range due {
			got, err := target.Get(ctx, u.key)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("freshness poll: %w", err)
			}
			if !bytes.Equal(got, u.want) {
				continue
			}
			seen := time.Now()
			mu.Lock()
			if cur, ok := pending[u.key]; ok && cur.committed.Equal(u.committed) {
				delete(pending, u.key)
				rec.Add(seen.Sub(u.committed))
			}
			mu.Unlock()
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}
