package bench

import (
	"fmt"
	"strings"
	"time"
)

// writeHTTP renders the lookup service next to Redis, with the issue's
// targets beside the figures they concern.
func writeHTTP(b *strings.Builder, rep *LookupReport) {
	h, c := rep.HTTP, rep.Config
	fmt.Fprintf(b, "### Strata HTTP lookup service vs Redis (%s table)\n\n", h.Shape)
	where := "runs in this process (sharing the clients' Go runtime)"
	if h.Process {
		where = "runs as its own process (`strata serve`, as Redis runs as redis-server)"
	}
	fmt.Fprintf(b, "The lookup server (`strata serve`: package server with its defaults, refresh every %v, no token) "+
		"%s on 127.0.0.1 over the table on local disk; the client is the benchmark's lean "+
		"HTTP/1.1 client with keep-alive on at most %d connections, keys sent as JSON numbers, each answer's rows "+
		"split into their JSON bytes (not decoded, as a Redis client receives bytes; every 64th answer is decoded "+
		"and checked). Redis: GET and MGET over loopback on %d connections (go-redis). Both run side by side (one "+
		"after the other within each scenario) on the same keys and share the machine's %d cores with their "+
		"clients; ratio = HTTP / Redis. Open loop: %d senders, each on its own schedule; latency from the "+
		"scheduled time.\n\n",
		h.Refresh, where, h.Conns, h.Conns, rep.GOMAXPROCS, c.Workers)
	if h.Redis == nil {
		fmt.Fprintf(b, "Redis: %s.\n\n", rep.RedisSkipped)
	}
	fmt.Fprintln(b, "| scenario | Strata HTTP | Redis | HTTP/Redis | target |")
	fmt.Fprintln(b, "|---|---:|---:|---:|---|")
	one, conns := "1 connection", fmt.Sprintf("%d connections", h.Conns)
	lat := func(op func(TargetFigures) OpStats, q func(Latency) float64) func(TargetFigures) float64 {
		return func(f TargetFigures) float64 { return q(op(f).Latency) }
	}
	hit := func(f TargetFigures) OpStats { return f.GetHit }
	miss := func(f TargetFigures) OpStats { return f.GetMiss }
	batch := func(f TargetFigures) OpStats { return f.Batch }
	p50, p99 := quantiles[0].of, quantiles[1].of
	for _, r := range []struct {
		name, target string
		format       func(float64) string
		fig          func(TargetFigures) float64
	}{
		{"single-key request, hit: p50, " + one, "", latStr, lat(hit, p50)},
		{"single-key request, hit: p99, " + one, "", latStr, lat(hit, p99)},
		{"single-key request, miss: p50, " + one, "", latStr, lat(miss, p50)},
		{"single-key request, miss: p99, " + one, "", latStr, lat(miss, p99)},
		{"single-key requests/s, hits, " + one, "", rateStr, func(f TargetFigures) float64 { return f.GetHit.OpsPerSec }},
		{"peak single-key requests/s, hits, " + conns, "≥ 0.5× Redis GET", rateStr,
			func(f TargetFigures) float64 { return f.GetHitParallel.OpsPerSec }},
		{fmt.Sprintf("%d-key batch (Redis: MGET): p50, %s", c.Batch, one), "", latStr, lat(batch, p50)},
		{fmt.Sprintf("%d-key batch: keys/s, %s", c.Batch, one), "≥ Redis MGET", rateStr,
			func(f TargetFigures) float64 { return f.Batch.KeysPerSec }},
		{fmt.Sprintf("%d-key batch: keys/s, %s", c.Batch, conns), "≥ Redis MGET", rateStr,
			func(f TargetFigures) float64 { return f.BatchParallel.KeysPerSec }},
	} {
		cmpRow(b, r.name, h.Strata, h.Redis, r.format, r.fig, r.target)
	}
	for i, rate := range c.Rates {
		for _, q := range quantiles {
			target := ""
			if rate == 10_000 && q.name == "p99" {
				target = "< 1 ms"
			}
			s, sv := rateCell(h.Strata, i, q.of)
			redis, redisRatio := "–", "–"
			if h.Redis != nil {
				var rv float64
				redis, rv = rateCell(*h.Redis, i, q.of)
				redisRatio = ratio(sv, rv)
			}
			fmt.Fprintf(b, "| %s req/s open loop, single-key hits (%d senders): %s | %s | %s | %s | %s |\n",
				count(int64(rate)), c.Workers, q.name, s, redis, redisRatio, target)
		}
		lag := func(f TargetFigures) float64 { return f.Rates[i].SendLag.P99us }
		cmpRow(b, fmt.Sprintf("%s req/s open loop: the senders' own lateness, p99 (included above)", count(int64(rate))),
			h.Strata, h.Redis, latStr, lag, "")
	}
	if h.ServerRSS > 0 {
		redis, redisRatio := "–", "–"
		if rep.RedisMemory > 0 {
			redis, redisRatio = "used_memory "+bytesStr(rep.RedisMemory), ratio(float64(h.ServerRSS), float64(rep.RedisMemory))
		}
		fmt.Fprintf(b, "| server process RSS after the runs | %s | %s | %s |  |\n", bytesStr(h.ServerRSS), redis, redisRatio)
	}
	fmt.Fprintln(b)
}

// cmpRow writes a row of the HTTP comparison: a figure of Strata's and of
// Redis's (nil: skipped), their ratio and the target.
func cmpRow(b *strings.Builder, name string, strata TargetFigures, redis *TargetFigures, format func(float64) string,
	fig func(TargetFigures) float64, target string) {
	v := fig(strata)
	r, rr := "–", "–"
	if redis != nil {
		rv := fig(*redis)
		r, rr = format(rv), ratio(v, rv)
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", name, format(v), r, rr, target)
}

// writeS3 renders cold and warm lookups on MinIO next to local disk.
func writeS3(b *strings.Builder, s *S3Report, d time.Duration) {
	fmt.Fprintf(b, "### Cold lookups: S3 (MinIO) vs local disk (%s table: %d files, %s; copied to MinIO: %s in %.1f s)\n\n",
		s.Shape, s.Files, bytesStr(s.DataBytes), bytesStr(s.CopyBytes), s.CopySeconds)
	fmt.Fprintf(b, "Each of %d fresh Lookups (empty local lookup-file cache, no refresh) opens, then Gets one key "+
		"of every data file (its first key, or its last in every other round): cold, the Get fetches the file from "+
		"storage and builds its local lookup file. Then warm Gets of sampled hits on the last Lookup for %v, 1 client. "+
		"MinIO is its own process on loopback with its data on local disk; storage reads are counted by a wrapper "+
		"of storage.Storage (Get and GetRange: requests and bytes). Local-disk reads come from the OS page cache "+
		"(the files were just written).\n\n", s.S3.Rounds, d)
	fmt.Fprintln(b, "| | S3 (MinIO) | local disk | S3/local |")
	fmt.Fprintln(b, "|---|---:|---:|---:|")
	perOpen := func(f ColdFigures, n int64) float64 { return float64(n) / float64(max(1, f.Rounds)) }
	perCold := func(f ColdFigures, n int64) float64 { return float64(n) / float64(max(1, f.Cold.Count)) }
	meanFile := s.DataBytes / int64(max(1, s.Files))
	for _, r := range []struct {
		name   string
		format func(float64) string
		fig    func(ColdFigures) float64
	}{
		{"fresh Lookup open (snapshot, manifests): p50", latStr, func(f ColdFigures) float64 { return f.Open.P50us }},
		{"bytes read per open", fbytes, func(f ColdFigures) float64 { return perOpen(f, f.OpenBytes) }},
		{fmt.Sprintf("cold Get (%d, one per file and Lookup): p50", s.S3.Cold.Count), latStr, func(f ColdFigures) float64 { return f.Cold.P50us }},
		{"cold Get: p99", latStr, func(f ColdFigures) float64 { return f.Cold.P99us }},
		{"cold Get: max", latStr, func(f ColdFigures) float64 { return f.Cold.Maxus }},
		{fmt.Sprintf("bytes fetched from storage per cold Get (mean data file %s)", bytesStr(meanFile)), fbytes,
			func(f ColdFigures) float64 { return perCold(f, f.ColdBytes) }},
		{"storage reads (Get, GetRange) per cold Get", decimal, func(f ColdFigures) float64 { return perCold(f, f.ColdReads) }},
		{"lookup files built per cold Get", decimal, func(f ColdFigures) float64 { return perCold(f, f.Builds) }},
		{"warm Get: p50, 1 client", latStr, func(f ColdFigures) float64 { return f.Warm.Latency.P50us }},
		{"warm Get: p99, 1 client", latStr, func(f ColdFigures) float64 { return f.Warm.Latency.P99us }},
		{"warm Gets/s, 1 client", rateStr, func(f ColdFigures) float64 { return f.Warm.OpsPerSec }},
		{"bytes fetched from storage by all warm Gets", fbytes, func(f ColdFigures) float64 { return float64(f.WarmBytes) }},
	} {
		sv, lv := r.fig(s.S3), r.fig(s.Local)
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.name, r.format(sv), r.format(lv), ratio(sv, lv))
	}
	fmt.Fprintln(b)
}

// fbytes renders a byte count (0 as "0 B").
func fbytes(n float64) string {
	if n < 1024 {
		return fmt.Sprintf("%.0f B", n)
	}
	return bytesStr(int64(n + 0.5))
}

// decimal renders a mean count.
func decimal(x float64) string { return fmt.Sprintf("%.2f", x) }
