package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LookupMarkdown renders the report as Markdown: per table shape, every
// Strata figure next to pebble's and Redis's (measured in the same run) and
// the ratio Strata / baseline.
func LookupMarkdown(rep *LookupReport) string {
	var b strings.Builder
	c := rep.Config
	fmt.Fprintf(&b, "## strata bench lookup\n\n%s rows of ~%d B (random keys from a %s key space) in %d buckets; "+
		"GOMAXPROCS %d; %s present and %s absent keys read; ratio = Strata / baseline "+
		"(below 1 is better for latency, above 1 for throughput).\n\n",
		count(int64(c.Rows)), rowBytes, count(c.KeySpace), c.Buckets, rep.GOMAXPROCS, count(int64(c.Sample)), count(int64(c.Sample)))
	fmt.Fprintf(&b, "Block caches: Strata's lookup files %s (lookup.cache-max-memory-size), pebble %s.\n\n",
		bytesStr(rep.BlockCache), bytesStr(c.PebbleCache))
	switch {
	case !c.InProcess:
		fmt.Fprintf(&b, "In-process lookups, pebble, freshness and memory not measured (--in-process=false).\n\n")
	case rep.Redis == nil:
		fmt.Fprintf(&b, "Redis: %s.\n\n", rep.RedisSkipped)
	default:
		fmt.Fprintf(&b, "Redis: its own redis-server on loopback (no persistence), %d connections in parallel runs, "+
			"measured once (it has no table shape); used_memory %s.\n\n", c.Conns, bytesStr(rep.RedisMemory))
	}
	for _, sr := range rep.Shapes {
		writeShape(&b, rep, sr)
	}
	if rep.HTTP != nil {
		writeHTTP(&b, rep)
	}
	if rep.S3 != nil {
		writeS3(&b, rep.S3, rep.Config.Duration)
	} else if rep.S3Skipped != "" {
		fmt.Fprintf(&b, "### Cold lookups on S3 (MinIO)\n\nSkipped: %s.\n\n", rep.S3Skipped)
	}
	return b.String()
}

// writeShape renders one shape's two tables: reads, then freshness and
// memory.
func writeShape(b *strings.Builder, rep *LookupReport, sr ShapeReport) {
	fmt.Fprintf(b, "### %s: %d sorted run(s) per bucket, %d files, %s on disk (pebble: %s)\n\n",
		sr.Shape, sr.Table.MaxRuns, sr.Table.Files, bytesStr(sr.Table.DataBytes), bytesStr(rep.PebbleBytes))
	fmt.Fprintln(b, "| scenario | Strata | pebble | Strata/pebble | Redis | Strata/Redis |")
	fmt.Fprintln(b, "|---|---:|---:|---:|---:|---:|")
	par := fmt.Sprintf("%d goroutines", rep.GOMAXPROCS)
	if rep.Redis != nil {
		par += fmt.Sprintf(" (Redis: %d conns)", rep.Config.Conns)
	}
	for _, kind := range []struct {
		name string
		one  func(TargetFigures) OpStats
		par  func(TargetFigures) OpStats
	}{
		{"hit", func(f TargetFigures) OpStats { return f.GetHit }, func(f TargetFigures) OpStats { return f.GetHitParallel }},
		{"miss", func(f TargetFigures) OpStats { return f.GetMiss }, func(f TargetFigures) OpStats { return f.GetMissParallel }},
	} {
		lat := func(q func(Latency) float64) func(TargetFigures) float64 {
			return func(f TargetFigures) float64 { return q(kind.one(f).Latency) }
		}
		row(b, rep, sr, "Get "+kind.name+" p50, 1 client", latStr, lat(func(l Latency) float64 { return l.P50us }))
		row(b, rep, sr, "Get "+kind.name+" p99, 1 client", latStr, lat(func(l Latency) float64 { return l.P99us }))
		row(b, rep, sr, "Get "+kind.name+" lookups/s, 1 client", rateStr, func(f TargetFigures) float64 { return kind.one(f).OpsPerSec })
		row(b, rep, sr, "Get "+kind.name+" lookups/s, "+par, rateStr, func(f TargetFigures) float64 { return kind.par(f).OpsPerSec })
	}
	row(b, rep, sr, fmt.Sprintf("GetBatch of %d keys/s (pebble: %d Gets; Redis: MGET)", rep.Config.Batch, rep.Config.Batch),
		rateStr, func(f TargetFigures) float64 { return f.Batch.KeysPerSec })
	for i, rate := range rep.Config.Rates {
		for _, q := range quantiles {
			name := fmt.Sprintf("%s req/s open loop, hits: %s", count(int64(rate)), q.name)
			rateRow(b, rep, sr, name, i, q.of)
		}
	}
	fmt.Fprintln(b)
	writeShapeOther(b, rep, sr)
}

// row writes a table row of one figure for Strata, pebble and Redis.
func row(b *strings.Builder, rep *LookupReport, sr ShapeReport, name string, format func(float64) string, fig func(TargetFigures) float64) {
	s, p := fig(sr.Strata), fig(sr.Pebble)
	redis, redisRatio := "–", "–"
	if rep.Redis != nil {
		r := fig(*rep.Redis)
		redis, redisRatio = format(r), ratio(s, r)
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", name, format(s), format(p), ratio(s, p), redis, redisRatio)
}

// quantiles are the open-loop rows' latency quantiles.
var quantiles = []struct {
	name string
	of   func(Latency) float64
}{{"p50", func(l Latency) float64 { return l.P50us }}, {"p99", func(l Latency) float64 { return l.P99us }}}

// rateCell is the i-th open-loop run's latency quantile, marking a target
// that could not keep up.
func rateCell(f TargetFigures, i int, of func(Latency) float64) (string, float64) {
	if i >= len(f.Rates) {
		return "–", 0
	}
	r := f.Rates[i]
	v := of(r.Latency)
	if r.Dropped > 0 {
		return fmt.Sprintf("≥ %s (%d%% dropped)", latStr(v), 100*r.Dropped/max(1, r.Scheduled)), v
	}
	return latStr(v), v
}

// rateRow writes an open-loop latency row.
func rateRow(b *strings.Builder, rep *LookupReport, sr ShapeReport, name string, i int, of func(Latency) float64) {
	s, sv := rateCell(sr.Strata, i, of)
	p, pv := rateCell(sr.Pebble, i, of)
	redis, redisRatio := "–", "–"
	if rep.Redis != nil {
		var rv float64
		redis, rv = rateCell(*rep.Redis, i, of)
		redisRatio = ratio(sv, rv)
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", name, s, p, ratio(sv, pv), redis, redisRatio)
}

// writeShapeOther renders freshness, memory and warm-up against their
// baselines.
func writeShapeOther(b *strings.Builder, rep *LookupReport, sr ShapeReport) {
	fmt.Fprintln(b, "| | Strata | baseline | Strata/baseline |")
	fmt.Fprintln(b, "|---|---:|---:|---:|")
	f := sr.Freshness
	if f.Commits > 0 {
		refresh := float64(f.Refresh.Microseconds())
		base := "refresh interval " + latStr(refresh)
		fmt.Fprintf(b, "| freshness p50: commit returned → new value served (%d updates in %d commits, %d unseen) | %s | %s | %s |\n",
			f.Updates, f.Commits, f.Unseen, latStr(f.Latency.P50us), base, ratio(f.Latency.P50us, refresh))
		fmt.Fprintf(b, "| freshness p99 | %s | %s | %s |\n", latStr(f.Latency.P99us), base, ratio(f.Latency.P99us, refresh))
	}
	m, disk := sr.Memory, float64(sr.Table.DataBytes)
	fmt.Fprintf(b, "| Go heap in use after warm-up (%s for the lookup) | %s | data on disk %s | %s |\n",
		signedBytes(m.HeapInuseDelta), bytesStr(m.HeapInuse), bytesStr(sr.Table.DataBytes), ratio(float64(m.HeapInuse), disk))
	fmt.Fprintf(b, "| process RSS after warm-up (%s for the lookup) | %s | data on disk %s | %s |\n",
		signedBytes(m.RSSDelta), bytesStr(m.RSS), bytesStr(sr.Table.DataBytes), ratio(float64(m.RSS), disk))
	if rep.Redis != nil {
		fmt.Fprintf(b, "| process RSS after warm-up | %s | Redis used_memory %s | %s |\n",
			bytesStr(m.RSS), bytesStr(rep.RedisMemory), ratio(float64(m.RSS), float64(rep.RedisMemory)))
	}
	fmt.Fprintf(b, "| warm-up: Get of every file's first and last key + %d keys | %.3f s | pebble, same keys: %.3f s | %s |\n\n",
		warmKeys, sr.Strata.WarmSeconds, sr.Pebble.WarmSeconds, ratio(sr.Strata.WarmSeconds, sr.Pebble.WarmSeconds))
}

// WriteLookupJSON writes the report's raw numbers to path.
func WriteLookupJSON(path string, rep *LookupReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func ratio(s, base float64) string {
	if s == 0 || base == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", s/base)
}

// latStr renders microseconds in a readable unit.
func latStr(us float64) string {
	switch {
	case us == 0:
		return "–"
	case us < 1:
		return fmt.Sprintf("%.0f ns", us*1e3)
	case us < 1e3:
		return fmt.Sprintf("%.3g µs", us)
	case us < 1e6:
		return fmt.Sprintf("%.3g ms", us/1e3)
	}
	return fmt.Sprintf("%.2f s", us/1e6)
}

func rateStr(x float64) string {
	if x == 0 {
		return "–"
	}
	return count(int64(x + 0.5))
}

// count renders n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func bytesStr(n int64) string {
	const mib = 1 << 20
	switch a := max(n, -n); {
	case a >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case a >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}

// signedBytes is a size change: +n or −n.
func signedBytes(n int64) string {
	if n < 0 {
		return "−" + bytesStr(-n)
	}
	return "+" + bytesStr(n)
}
