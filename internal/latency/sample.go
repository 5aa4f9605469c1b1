package latency

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Sample is a bounded uniform sample of the durations added to it.
type Sample struct {
	max int
	n   int64
	ds  []time.Duration
	rng *rand.Rand
}

// NewSample is a Sample keeping at most limit durations (at least 1), its
// replacements drawn from a generator seeded with seed; room for prealloc
// of them (at most limit) is made up front, so that adding that many
// allocates nothing.
func NewSample(limit int, seed uint64, prealloc int) *Sample {
	limit = max(limit, 1)
	return &Sample{max: limit, ds: make([]time.Duration, 0, min(max(prealloc, 0), limit)), rng: rand.New(rand.NewPCG(seed, 7))}
}

// Add records d.
func (s *Sample) Add(d time.Duration) {
	s.n++
	if len(s.ds) < s.max {
		s.ds = append(s.ds, d)
	} else if j := s.rng.Int64N(s.n); j < int64(s.max) {
		s.ds[j] = d
	}
}

// Count is how many durations were added, kept or not.
func (s *Sample) Count() int64 { return s.n }

// Durations are the kept durations, in no order; the slice is the
// Sample's own until the next Add.
func (s *Sample) Durations() []time.Duration { return s.ds }

// Percentiles sorts ds in place and returns its nearest-rank percentiles
// qs (each in [0, 1]: 0.5 the median, 1 the largest); zeros when ds is
// empty.
func Percentiles(ds []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	for i, q := range qs {
		q = min(max(q, 0), 1)
		out[i] = ds[int(q*float64(len(ds)-1)+0.5)]
	}
	return out
}
