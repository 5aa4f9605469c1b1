package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stratalake/strata/table"
)

// unknownTable is the table label of requests that name no served table.
const unknownTable = "unknown"

// metrics are the server's Prometheus metrics, in its own registry.
type metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	keys            *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	snapshot        *prometheus.GaugeVec
	lag             *prometheus.GaugeVec
	refreshDuration *prometheus.HistogramVec
	refreshFailures *prometheus.CounterVec
	connsOpen       prometheus.GaugeFunc
	connsRefused    prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, open func() []*served, cache CacheStatsFunc, conns *atomic.Int64) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_requests_total", Help: "HTTP requests by handler and status code.",
		}, []string{"handler", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_lookup_request_duration_seconds", Help: "Lookup request latency by table and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"table", "code"}),
		keys: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_lookup_keys", Help: "Keys per lookup request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}, []string{"table"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_lookup_errors_total", Help: "Failed lookup requests by table and error code.",
		}, []string{"table", "code"}),
		snapshot: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_table_snapshot", Help: "Snapshot id lookups are answered from (0: empty table).",
		}, []string{"table"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_table_snapshot_lag_seconds", Help: "Commit time of the latest snapshot minus that of the served snapshot.",
		}, []string{"table"}),
		refreshDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_table_refresh_duration_seconds", Help: "Duration of refresh attempts.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60},
		}, []string{"table"}),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_table_refresh_failures_total", Help: "Failed refreshes; the table keeps serving its last snapshot.",
		}, []string{"table"}),
		connsOpen: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strata_http_connections_open", Help: "Open HTTP connections.",
		}, func() float64 { return float64(conns.Load()) }),
		connsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_http_connections_refused_total", Help: "Connections refused because the most allowed were open.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.keys, m.errors, m.snapshot, m.lag, m.refreshDuration, m.refreshFailures,
		m.connsOpen, m.connsRefused,
	)
	if cache != nil {
		reg.MustRegister(newCacheCollector(open, cache))
	}
	return m
}

// CacheStats is what a table's lookup cache reports, as running totals
// (Hits, Misses, Evictions) and current sizes (Bytes, Entries).
type CacheStats struct {
	Hits, Misses, Evictions int64
	Bytes, Entries          int64
}

// CacheStatsFunc reports the cache of one table's lookup, or false when it
// has none. It is called at every scrape, for every open table, and must
// be safe for concurrent use.
type CacheStatsFunc func(l *table.Lookup) (CacheStats, bool)

// lookupCacheStats reports a lookup's local lookup files (the default).
func lookupCacheStats(l *table.Lookup) (CacheStats, bool) {
	s := l.CacheStats()
	return CacheStats{Hits: s.Hits, Misses: s.Misses, Evictions: s.Evictions, Bytes: s.DiskBytes, Entries: int64(s.Files)}, true
}

// WithCacheStats exports the lookups' cache statistics as
// strata_lookup_cache_{hits,misses,evictions}_total and
// strata_lookup_cache_{bytes,entries}, per table, from f instead of the
// lookups' local lookup files (the default).
func WithCacheStats(f CacheStatsFunc) Option { return func(c *config) { c.cacheStats = f } }

// cacheCollector collects CacheStats at scrape time.
type cacheCollector struct {
	open                                    func() []*served
	stats                                   CacheStatsFunc
	hits, misses, evictions, bytes, entries *prometheus.Desc
}

func newCacheCollector(open func() []*served, stats CacheStatsFunc) *cacheCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"table"}, nil)
	}
	return &cacheCollector{
		open: open, stats: stats,
		hits:      desc("strata_lookup_cache_hits_total", "Lookup cache hits."),
		misses:    desc("strata_lookup_cache_misses_total", "Lookup cache misses."),
		evictions: desc("strata_lookup_cache_evictions_total", "Lookup cache evictions."),
		bytes:     desc("strata_lookup_cache_bytes", "Bytes the lookup cache holds."),
		entries:   desc("strata_lookup_cache_entries", "Entries the lookup cache holds."),
	}
}

// Describe sends the cache metrics' descriptions.
func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.evictions, c.bytes, c.entries} {
		ch <- d
	}
}

// Collect sends each open table's cache statistics.
func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.open() {
		s, ok := c.stats(t.lookup)
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits), t.name)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses), t.name)
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(s.Evictions), t.name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), t.name)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries), t.name)
	}
}
