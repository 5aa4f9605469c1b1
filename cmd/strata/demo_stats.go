package main

import (
	"slices"
	"sync"
	"time"

	"github.com/stratalake/strata/internal/latency"
)

// maxLatencySamples bounds the samples a latencies keeps for the whole run
// and for a status line's window.
const maxLatencySamples = 1 << 17

// latencies records durations from many goroutines: a uniform sample of
// all of them for the summary, and one of those since the last window
// call for the live status line.
type latencies struct {
	mu     sync.Mutex
	all    *latency.Sample
	recent *latency.Sample
	seed   uint64
}

func newLatencies() *latencies {
	return &latencies{all: latency.NewSample(maxLatencySamples, 1, 0), recent: latency.NewSample(maxLatencySamples, 2, 0), seed: 2}
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Add(d)
	l.recent.Add(d)
}

// window returns the percentiles qs of the durations added since the last
// call (zero when none were).
func (l *latencies) window(qs ...float64) []time.Duration {
	l.mu.Lock()
	recent := l.recent
	l.seed++
	l.recent = latency.NewSample(maxLatencySamples, l.seed, len(recent.Durations()))
	l.mu.Unlock()
	return latency.Percentiles(recent.Durations(), qs...)
}

// total returns how many durations were added and the percentiles qs of
// all of them.
func (l *latencies) total(qs ...float64) (int64, []time.Duration) {
	l.mu.Lock()
	sample := slices.Clone(l.all.Durations())
	n := l.all.Count()
	l.mu.Unlock()
	return n, latency.Percentiles(sample, qs...)
}

// freshness measures how long the rows of a commit take to reach the
// lookups: from the commit (and from the oldest event it holds) to the
// first lookup answered from that snapshot or a later one.
type freshness struct {
	mu       sync.Mutex
	seen     int64 // the newest snapshot a lookup answered from
	pending  []commitMark
	commit   *latencies // commit → first lookup that sees it
	event    *latencies // event made → first lookup that sees it
	lastSeen time.Duration
}

// commitMark is one commit not yet seen by a lookup.
type commitMark struct {
	snapshot          int64
	committed, oldest time.Time
}

func newFreshness() *freshness { return &freshness{commit: newLatencies(), event: newLatencies()} }

// committed records that snapshot landed at now, holding events made from
// oldest on.
func (f *freshness) committed(snapshot int64, oldest time.Time) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if snapshot <= f.seen { // a lookup saw it before we got here
		f.record(commitMark{snapshot, now, oldest}, now)
		return
	}
	f.pending = append(f.pending, commitMark{snapshot, now, oldest})
}

// observed records that a lookup answered from snapshot.
func (f *freshness) observed(snapshot int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if snapshot <= f.seen {
		return
	}
	f.seen = snapshot
	now := time.Now()
	i := 0
	for ; i < len(f.pending) && f.pending[i].snapshot <= snapshot; i++ {
		f.record(f.pending[i], now)
	}
	f.pending = f.pending[i:]
}

func (f *freshness) record(c commitMark, seen time.Time) {
	d := seen.Sub(c.committed)
	f.commit.add(d)
	f.event.add(seen.Sub(c.oldest))
	f.lastSeen = d
}

// last is the lag of the newest commit seen.
func (f *freshness) last() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastSeen
}
