package latency

import (
	"testing"
	"time"
)

// Percentiles are nearest-rank over the sorted durations; an empty sample
// gives zeros.
func TestPercentiles(t *testing.T) {
	ds := make([]time.Duration, 0, 101)
	for i := 100; i >= 0; i-- {
		ds = append(ds, time.Duration(i))
	}
	got := Percentiles(ds, 0, 0.5, 0.99, 0.999, 1, 2)
	want := []time.Duration{0, 50, 99, 100, 100, 100}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("percentile %d: %v, want %v", i, got[i], want[i])
		}
	}
	if got := Percentiles(nil, 0.5); got[0] != 0 {
		t.Errorf("empty: %v", got)
	}
}

// Below its limit a Sample keeps everything; past it, it keeps the limit,
// counts every Add, and its sample stays uniform: the kept durations'
// median is near the median of all added.
func TestSampleReservoir(t *testing.T) {
	s := NewSample(1000, 1, 10)
	for i := range 1000 {
		s.Add(time.Duration(i))
	}
	if len(s.Durations()) != 1000 || s.Count() != 1000 {
		t.Fatalf("kept %d of %d", len(s.Durations()), s.Count())
	}
	for i := 1000; i < 100_000; i++ {
		s.Add(time.Duration(i))
	}
	if len(s.Durations()) != 1000 || s.Count() != 100_000 {
		t.Fatalf("kept %d of %d, want 1000 of 100000", len(s.Durations()), s.Count())
	}
	if p := Percentiles(s.Durations(), 0.5)[0]; p < 45_000 || p > 55_000 {
		t.Errorf("median of the sample %d, want near 50,000", p)
	}
	if s := NewSample(0, 1, 5); len(s.Durations()) != 0 || cap(s.Durations()) != 1 {
		t.Errorf("a limit below 1 is 1: cap %d", cap(s.Durations()))
	}
}

// Adding up to the preallocated room allocates nothing.
func TestSampleAddAllocatesNothing(t *testing.T) {
	s := NewSample(1<<10, 1, 1<<10)
	if a := testing.AllocsPerRun(500, func() { s.Add(time.Microsecond) }); a != 0 {
		t.Errorf("%.1f allocations per Add", a)
	}
}
