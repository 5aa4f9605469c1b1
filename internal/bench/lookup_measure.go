package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples bounds the latencies one recorder keeps: past it, reservoir
// sampling keeps a uniform sample of all of them.
const maxSamples = 1 << 18

// recorder collects latencies of one goroutine.
type recorder struct {
	samples []time.Duration
	n       int64
	rng     *rand.Rand
}

func newRecorder(seed uint64) *recorder {
	return &recorder{rng: rand.New(rand.NewPCG(seed, 7))}
}

func (r *recorder) add(d time.Duration) {
	r.n++
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, d)
	} else if j := r.rng.Int64N(r.n); j < maxSamples {
		r.samples[j] = d
	}
}

// Latency is a latency distribution's summary, in microseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50us float64 `json:"p50_us"`
	P90us float64 `json:"p90_us"`
	P99us float64 `json:"p99_us"`
	Maxus float64 `json:"max_us"`
}

// summarize merges the recorders' samples and takes nearest-rank
// percentiles of the sorted sample.
func summarize(rs []*recorder) Latency {
	var all []time.Duration
	var n int64
	for _, r := range rs {
		all = append(all, r.samples...)
		n += r.n
	}
	if len(all) == 0 {
		return Latency{}
	}
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[int(q*float64(len(all)-1))]) / 1e3
	}
	return Latency{Count: n, P50us: at(0.50), P90us: at(0.90), P99us: at(0.99), Maxus: at(1)}
}

// OpStats is one closed-loop measurement: clients goroutines each issuing
// the next operation as soon as the last returns.
type OpStats struct {
	Clients    int     `json:"clients"`
	Ops        int64   `json:"ops"`
	Keys       int64   `json:"keys"`
	Seconds    float64 `json:"seconds"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	KeysPerSec float64 `json:"keys_per_sec"`
	Latency    Latency `json:"latency"`
}

// runClosed runs op on clients goroutines for d. op(ctx, client, i) does
// the client's i-th operation and returns the keys it read.
func runClosed(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, client, i int) (int, error)) (OpStats, error) {
	clients = max(1, clients)
	recs := make([]*recorder, clients)
	keys := make([]int64, clients)
	errs := make([]error, clients)
	var failed atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		recs[c] = newRecorder(uint64(c))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !failed.Load() && ctx.Err() == nil; i++ {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				n, err := op(ctx, c, i)
				if err != nil {
					errs[c] = err
					failed.Store(true)
					return
				}
				recs[c].add(time.Since(t0))
				keys[c] += int64(n)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return OpStats{}, err
	}
	if err := ctx.Err(); err != nil {
		return OpStats{}, err
	}
	secs := time.Since(start).Seconds()
	st := OpStats{Clients: clients, Seconds: secs, Latency: summarize(recs)}
	st.Ops = st.Latency.Count
	for _, k := range keys {
		st.Keys += k
	}
	st.OpsPerSec, st.KeysPerSec = float64(st.Ops)/secs, float64(st.Keys)/secs
	return st, nil
}

// getOp is a closed-loop Get of keys, each client starting at its own
// offset.
func getOp(t Target, keys []int64, clients int) func(context.Context, int, int) (int, error) {
	return func(ctx context.Context, c, i int) (int, error) {
		_, err := t.Get(ctx, keys[(c*len(keys)/clients+i)%len(keys)])
		return 1, err
	}
}

// batchOp is a closed-loop GetBatch of size consecutive keys.
func batchOp(t Target, keys []int64, size, clients int) func(context.Context, int, int) (int, error) {
	return func(ctx context.Context, c, i int) (int, error) {
		off := (c*len(keys)/clients + i*size) % len(keys)
		batch := keys[off:min(off+size, len(keys))]
		if len(batch) < size && len(keys) >= size {
			batch = keys[:size]
		}
		_, err := t.GetBatch(ctx, batch)
		return len(batch), err
	}
}

// RateStats is one open-loop run at a fixed request rate.
type RateStats struct {
	Rate      int     `json:"rate"`
	Seconds   float64 `json:"seconds"`
	Scheduled int64   `json:"scheduled"`
	Completed int64   `json:"completed"`
	// Dropped requests were still queued when the run's grace period
	// ended (the target could not keep up); their latency is counted as
	// the wait until then, a lower bound.
	Dropped int64   `json:"dropped"`
	Latency Latency `json:"latency"`
}

// runFixedRate sends Gets of keys at rate per second for d, open loop: a
// ticker-driven generator queues each request when its scheduled time
// comes, whether or not earlier ones returned; workers goroutines send them.
// Latency counts from the scheduled time, so a stalled target is charged for
// the requests it delayed (no coordinated omission) — except for the
// generator's own lateness up to its timer grain (see schedule). Requests
// not started within d after the end are dropped.
func runFixedRate(ctx context.Context, t Target, keys []int64, rate, workers int, d time.Duration) (RateStats, error) {
	total := max(1, int(float64(rate)*d.Seconds()))
	jobs := make(chan time.Time, total)
	start := time.Now()
	end := start.Add(2 * d)
	recs := make([]*recorder, workers)
	errs := make([]error, workers)
	var completed, dropped atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		recs[w] = newRecorder(uint64(w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += workers {
				sched, ok := <-jobs
				if !ok {
					return
				}
				if errs[w] != nil || time.Now().After(end) {
					dropped.Add(1)
					recs[w].add(max(0, end.Sub(sched)))
					continue
				}
				if _, err := t.Get(ctx, keys[i%len(keys)]); err != nil {
					errs[w] = err
					continue
				}
				recs[w].add(time.Since(sched))
				completed.Add(1)
			}
		}()
	}
	schedule(ctx, jobs, start, rate, total)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return RateStats{}, err
	}
	return RateStats{Rate: rate, Seconds: time.Since(start).Seconds(), Scheduled: int64(total),
		Completed: completed.Load(), Dropped: dropped.Load(), Latency: summarize(recs)}, ctx.Err()
}

// timerGrain is how often the generator wakes. Go's timers here wake up to
// a millisecond late, so sub-millisecond send times cannot be kept: a
// request is queued at the first wake-up after its time, and that much
// lateness (up to timerGrain) is the benchmark's, not the target's. More
// (the generator starved, say, by an in-process target's load) is charged.
const timerGrain = time.Millisecond

// schedule queues request n, due at start + n/rate, at the first wake-up
// after that time, stamped with the time its latency counts from:
// min(now, due + timerGrain). It closes jobs after the last.
func schedule(ctx context.Context, jobs chan<- time.Time, start time.Time, rate, total int) {
	defer close(jobs)
	tick := time.NewTicker(timerGrain)
	defer tick.Stop()
	interval := time.Second / time.Duration(rate)
	for sent := 0; sent < total; {
		now := time.Now()
		for due := min(total, int(now.Sub(start)/interval)+1); sent < due; sent++ {
			at := start.Add(time.Duration(sent) * interval)
			jobs <- minTime(now, at.Add(timerGrain))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Memory is the process's memory after a warm-up, next to the data's size.
type Memory struct {
	HeapInuse      int64 `json:"heap_inuse_bytes"`
	RSS            int64 `json:"rss_bytes"`
	HeapInuseDelta int64 `json:"heap_inuse_delta_bytes"` // since before the lookup opened
	RSSDelta       int64 `json:"rss_delta_bytes"`
}

// memNow collects garbage, returns freed memory to the OS and reads the
// heap in use and VmRSS.
func memNow() (heap, rss int64, err error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err = readRSS()
	return int64(ms.HeapInuse), rss, err
}

// readRSS is VmRSS from /proc/self/status, in bytes (0 where there is no
// /proc).
func readRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, sc.Err()
}
