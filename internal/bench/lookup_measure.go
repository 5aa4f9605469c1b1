package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/internal/latency"
)

// maxSamples bounds the latencies one goroutine's sample keeps.
const maxSamples = 1 << 18

// newRecorder is one goroutine's latency sample.
func newRecorder(seed uint64) *latency.Sample { return latency.NewSample(maxSamples, seed, 0) }

// newRecorderCap is a latency sample with room for n durations (at most
// maxSamples) made up front.
func newRecorderCap(seed uint64, n int) *latency.Sample {
	return latency.NewSample(maxSamples, seed, n)
}

// Latency is a latency distribution's summary, in microseconds.
type Latency struct {
	Count  int64   `json:"count"`
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	P999us float64 `json:"p999_us"`
	Maxus  float64 `json:"max_us"`
}

// summarize merges the goroutines' samples and takes nearest-rank
// percentiles of the sorted sample.
func summarize(rs []*latency.Sample) Latency {
	var all []time.Duration
	var n int64
	for _, r := range rs {
		all = append(all, r.Durations()...)
		n += r.Count()
	}
	if len(all) == 0 {
		return Latency{}
	}
	q := latency.Percentiles(all, 0.50, 0.90, 0.99, 0.999, 1)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return Latency{Count: n, P50us: us(q[0]), P90us: us(q[1]), P99us: us(q[2]), P999us: us(q[3]), Maxus: us(q[4])}
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
	recs := make([]*latency.Sample, clients)
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
				recs[c].Add(time.Since(t0))
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
	get := func(ctx context.Context, key int64) error { _, err := t.Get(ctx, key); return err }
	if r, ok := t.(rowReader); ok {
		get = func(ctx context.Context, key int64) error { _, err := r.GetRow(ctx, key); return err }
	}
	return func(ctx context.Context, c, i int) (int, error) {
		return 1, get(ctx, keys[(c*len(keys)/clients+i)%len(keys)])
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
		if r, ok := t.(rowReader); ok {
			_, err := r.GetRows(ctx, batch)
			return len(batch), err
		}
		_, err := t.GetBatch(ctx, batch)
		return len(batch), err
	}
}

// RateStats is one open-loop run at a fixed request rate.
type RateStats struct {
	Rate      int     `json:"rate"`
	Senders   int     `json:"senders"`
	Seconds   float64 `json:"seconds"`
	Scheduled int64   `json:"scheduled"`
	Completed int64   `json:"completed"`
	// Dropped requests were not sent by the end of the run's grace period
	// (the target could not keep up); their latency is counted as the wait
	// until then, a lower bound.
	Dropped int64   `json:"dropped"`
	Latency Latency `json:"latency"`
	// SendLag is how late idle senders sent requests after their scheduled
	// time (0 when on time or early): the generator's own precision, which
	// Latency includes.
	SendLag Latency `json:"send_lag"`
}

// runFixedRate sends Gets of keys at rate per second for d, open loop, from
// senders goroutines, each with its own precomputed schedule: sender s
// sends requests s, s+senders, s+2·senders, …, request n due at start +
// n/rate, whether or not its other requests returned in time. A sender
// sleeps until a request is due (on a timerfd, waking up to wakeEarly
// before: see sleeper), sends it and records its latency from its scheduled time
// (or from when it was sent, if early): a target that holds a sender past
// its next due time is charged the wait (no coordinated omission). There
// are no channels, no dispatching goroutine and no allocation per request
// in the generator. Requests not sent within d after the end are dropped.
func runFixedRate(ctx context.Context, t Target, keys []int64, rate, senders int, d time.Duration) (RateStats, error) {
	total := max(1, int(float64(rate)*d.Seconds()))
	senders = max(1, min(senders, total))
	start := time.Now().Add(time.Millisecond) // every sender ready
	end := start.Add(2 * d)
	per := (total + senders - 1) / senders
	recs, lags := make([]*latency.Sample, senders), make([]*latency.Sample, senders)
	errs := make([]error, senders)
	var completed, dropped atomic.Int64
	var wg sync.WaitGroup
	for s := range senders {
		recs[s], lags[s] = newRecorderCap(uint64(s), per), newRecorderCap(uint64(s)+1<<32, per)
		wg.Go(func() {
			sent, lost, err := sendScheduled(ctx, t, keys, s, senders, total, rate, start, end, recs[s], lags[s])
			completed.Add(sent)
			dropped.Add(lost)
			errs[s] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return RateStats{}, err
	}
	return RateStats{Rate: rate, Senders: senders, Seconds: time.Since(start).Seconds(), Scheduled: int64(total),
		Completed: completed.Load(), Dropped: dropped.Load(), Latency: summarize(recs), SendLag: summarize(lags)}, ctx.Err()
}

// sendScheduled is sender s of runFixedRate: it sends its requests as they
// fall due, recording their latencies in rec and, for requests it was idle
// before, its own lateness in lag. It returns how many requests completed
// and how many were dropped.
func sendScheduled(ctx context.Context, t Target, keys []int64, s, senders, total, rate int, start, end time.Time,
	rec, lag *latency.Sample) (sent, lost int64, err error) {
	sl, err := newSleeper()
	if err != nil {
		return 0, 0, err
	}
	defer sl.close()
	for n := s; n < total; n += senders {
		if err := ctx.Err(); err != nil {
			return sent, lost, err
		}
		due := start.Add(time.Duration(int64(n) * int64(time.Second) / int64(rate)))
		idle := time.Now().Before(due)
		if idle {
			if err := sleepUntil(sl, due); err != nil {
				return sent, lost, err
			}
		}
		at := time.Now()
		if at.After(end) {
			lost++
			rec.Add(max(0, end.Sub(due)))
			continue
		}
		if idle {
			lag.Add(max(0, at.Sub(due)))
		}
		if _, err := t.Get(ctx, keys[n%len(keys)]); err != nil {
			return sent, lost, err
		}
		rec.Add(time.Since(minTime(at, due)))
		sent++
	}
	return sent, lost, nil
}

// sleepUntil sleeps until about wakeEarly before t: long waits on a Go
// timer (about a millisecond late here), the last two milliseconds on sl.
func sleepUntil(sl *sleeper, t time.Time) error {
	if d := time.Until(t) - 2*time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	if d := time.Until(t) - wakeEarly; d > 0 {
		return sl.sleep(d)
	}
	return nil
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
	rss, err = readRSS("/proc/self/status")
	return int64(ms.HeapInuse), rss, err
}

// readRSS is VmRSS from a /proc status file, in bytes (0 where there is
// no /proc).
func readRSS(status string) (int64, error) { return readStatus(status, "VmRSS:") }

// readStatus is a field in kB of a /proc status file ("VmRSS:"), in
// bytes (0 where there is no /proc).
func readStatus(status, field string) (int64, error) {
	f, err := os.Open(status)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", field, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, sc.Err()
}
