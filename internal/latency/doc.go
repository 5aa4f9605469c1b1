// Package latency keeps a bounded, uniform sample of measured durations
// and reads nearest-rank percentiles from it: one implementation for the
// benchmarks' latency figures and the demo's live and final ones.
//
// A Sample keeps every duration until it holds its maximum, then
// reservoir sampling (Vitter's algorithm R) keeps a uniform sample of all
// those added, so a long run's percentiles cost bounded memory. A Sample
// is not safe for concurrent use: give each goroutine its own and merge
// their Durations, or guard one with a mutex.
package latency
