package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
)

// The steps of RunAll: each runs its scenario with the baselines and
// picks the headline figures for the summary, the figures BENCHMARKS.md's
// sections quote.

// higher is a row where a larger value favours Strata (rates).
func higher(scenario, metric, unit string, s float64, base string, b float64) SummaryRow {
	return SummaryRow{Scenario: scenario, Metric: metric, Unit: unit, Strata: s, Baseline: base, BaselineValue: b,
		Ratio: ratioOf(s, b), HigherIsBetter: true}
}

// lower is a row where a smaller value favours Strata (times, sizes).
func lower(scenario, metric, unit string, s float64, base string, b float64) SummaryRow {
	r := higher(scenario, metric, unit, s, base, b)
	r.HigherIsBetter = false
	return r
}

// skipped marks a row's baseline as not measured.
func skipped(r SummaryRow, why string) SummaryRow {
	r.BaselineValue, r.Ratio, r.Skipped = 0, 0, why
	return r
}

func ratioOf(s, b float64) float64 {
	if s == 0 || b == 0 {
		return 0
	}
	return s / b
}

func runAllWrite(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	w, err := RunWrite(ctx, cfg.Write)
	if err != nil {
		return nil, nil, err
	}
	rep.Write = w
	s, p := w.Strata, w.Pebble
	const scn = "write"
	rows := []SummaryRow{
		higher(scn, fmt.Sprintf("upserts/s, %s rows", count(int64(w.Rows))), "rows/s", s.RowsPerSec, "pebble", p.RowsPerSec),
		higher(scn, "upserts/s, first tenth of the rows", "rows/s", s.FirstTenthPerSec, "pebble", p.FirstTenthPerSec),
		higher(scn, "upserts/s, last tenth of the rows", "rows/s", s.LastTenthPerSec, "pebble", p.LastTenthPerSec),
		lower(scn, "write amplification", "×", s.WriteAmp, "pebble", p.WriteAmp),
	}
	if s.PeakRSS > 0 && p.PeakRSS > 0 {
		rows = append(rows, lower(scn, "peak RSS", "B", float64(s.PeakRSS), "pebble", float64(p.PeakRSS)))
	}
	if w.CLI != nil {
		rows = append(rows, higher(scn, "`strata write` from JSON Lines, upserts/s", "rows/s", w.CLI.RowsPerSec,
			"the Go API (Arrow batches)", s.RowsPerSec))
	}
	for i, v := range cfg.WriteVariants {
		vc := cfg.Write
		vc.Options, vc.CLI, vc.CPUProfile = v.Options, "", nil
		dir, cleanup, err := scratchDir(cfg.Write.Dir, "strata-bench-variant-")
		if err != nil {
			return rows, nil, err
		}
		vc.Dir = filepath.Join(dir, fmt.Sprintf("variant-%d", i))
		res, err := RunWriteStrata(ctx, vc)
		cleanup()
		if err != nil {
			// The figures measured so far stay in the summary.
			return rows, nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		rep.WriteVariants = append(rep.WriteVariants, WriteVariantReport{WriteVariant: v, Strata: res})
		rows = append(rows, higher("write, "+v.Name, "upserts/s", "rows/s", res.RowsPerSec, "pebble", p.RowsPerSec))
	}
	return rows, nil, nil
}

// WriteVariantReport is Strata's run of one write variant.
type WriteVariantReport struct {
	WriteVariant
	Strata WriteResult `json:"strata"`
}

func runAllLookup(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	l, err := RunLookup(ctx, cfg.Lookup)
	if err != nil {
		return nil, nil, err
	}
	rep.Lookup = l
	var notes []string
	if l.RedisSkipped != "" {
		notes = append(notes, "Redis: "+l.RedisSkipped)
	}
	if !cfg.Lookup.S3 {
		notes = append(notes, "cold lookups on S3 not measured here: `strata bench lookup` measures them")
	}
	var rows []SummaryRow
	for i, sr := range l.Shapes {
		rows = append(rows, inProcessRows(l, sr, i == 0)...)
	}
	if l.HTTP != nil {
		rows = append(rows, httpRows(l)...)
	}
	if len(l.Shapes) > 0 && l.Shapes[0].Freshness.Commits > 0 {
		f := l.Shapes[0].Freshness
		refresh := float64(f.Refresh.Microseconds())
		base := "the refresh interval"
		rows = append(rows,
			lower("freshness", "commit returned → new value served, p50", "µs", f.Latency.P50us, base, refresh),
			lower("freshness", "commit returned → new value served, p99", "µs", f.Latency.P99us, base, refresh))
		if f.Unseen > 0 {
			notes = append(notes, fmt.Sprintf("freshness: %d of %d updates not served by the end of the run", f.Unseen, f.Updates))
		}
	}
	return rows, notes, nil
}

// inProcessRows are one shape's in-process figures against pebble and, for
// the first shape, Redis.
func inProcessRows(l *LookupReport, sr ShapeReport, redis bool) []SummaryRow {
	scn := fmt.Sprintf("lookup, in process (%s)", sr.Shape)
	type fig struct {
		metric, unit string
		high         bool
		of           func(TargetFigures) float64
		redisBase    string
	}
	figs := []fig{
		{"Get hit p50, 1 client", "µs", false, func(f TargetFigures) float64 { return f.GetHit.Latency.P50us }, "Redis GET"},
		{"Get hit p99, 1 client", "µs", false, func(f TargetFigures) float64 { return f.GetHit.Latency.P99us }, "Redis GET"},
		{"Get hit lookups/s, 1 client", "lookups/s", true, func(f TargetFigures) float64 { return f.GetHit.OpsPerSec }, "Redis GET"},
		{"Get miss p99, 1 client", "µs", false, func(f TargetFigures) float64 { return f.GetMiss.Latency.P99us }, ""},
		{fmt.Sprintf("GetBatch of %d, keys/s", l.Config.Batch), "keys/s", true, func(f TargetFigures) float64 { return f.Batch.KeysPerSec }, "Redis MGET"},
	}
	if i := slices.Index(l.Config.Rates, 10_000); i >= 0 {
		figs = append(figs, fig{"10k req/s open loop p99", "µs", false, func(f TargetFigures) float64 {
			if i < len(f.Rates) {
				return f.Rates[i].Latency.P99us
			}
			return 0
		}, "Redis GET"})
	}
	var rows []SummaryRow
	for _, f := range figs {
		mk := lower
		if f.high {
			mk = higher
		}
		rows = append(rows, mk(scn, f.metric, f.unit, f.of(sr.Strata), "pebble", f.of(sr.Pebble)))
		if !redis || f.redisBase == "" {
			continue
		}
		if l.Redis == nil {
			rows = append(rows, skipped(mk(scn, f.metric, f.unit, f.of(sr.Strata), f.redisBase, 0), l.RedisSkipped))
			continue
		}
		rows = append(rows, mk(scn, f.metric, f.unit, f.of(sr.Strata), f.redisBase, f.of(*l.Redis)))
	}
	return rows
}

// httpRows are the lookup service's figures against Redis.
func httpRows(l *LookupReport) []SummaryRow {
	h := l.HTTP
	const scn = "lookup over HTTP"
	conns := fmt.Sprintf("%d connections", h.Conns)
	type fig struct {
		metric, unit, base string
		high               bool
		of                 func(TargetFigures) float64
	}
	figs := []fig{
		{"single-key hit p50, 1 connection", "µs", "Redis GET", false, func(f TargetFigures) float64 { return f.GetHit.Latency.P50us }},
		{"single-key hit p99, 1 connection", "µs", "Redis GET", false, func(f TargetFigures) float64 { return f.GetHit.Latency.P99us }},
		{"peak single-key requests/s, " + conns, "req/s", "Redis GET", true, func(f TargetFigures) float64 { return f.GetHitParallel.OpsPerSec }},
		{fmt.Sprintf("%d-key batches, keys/s, %s", l.Config.Batch, conns), "keys/s", "Redis MGET", true,
			func(f TargetFigures) float64 { return f.BatchParallel.KeysPerSec }},
	}
	if i := slices.Index(l.Config.Rates, 10_000); i >= 0 {
		figs = append(figs, fig{"10k req/s open loop p99", "µs", "Redis GET", false, func(f TargetFigures) float64 {
			if i < len(f.Rates) {
				return f.Rates[i].Latency.P99us
			}
			return 0
		}})
	}
	var rows []SummaryRow
	for _, f := range figs {
		mk := lower
		if f.high {
			mk = higher
		}
		if h.Redis == nil {
			rows = append(rows, skipped(mk(scn, f.metric, f.unit, f.of(h.Strata), f.base, 0), l.RedisSkipped))
		} else {
			rows = append(rows, mk(scn, f.metric, f.unit, f.of(h.Strata), f.base, f.of(*h.Redis)))
		}
	}
	return rows
}

func runAllScan(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	s, err := RunScan(ctx, cfg.Scan)
	if err != nil {
		return nil, nil, err
	}
	rep.Scan = s
	var notes []string
	if s.DuckDBSkipped != "" {
		notes = append(notes, "DuckDB: "+s.DuckDBSkipped)
	}
	threads := slices.Max(cfg.Scan.Readers)
	var rows []SummaryRow
	for _, lr := range s.Layouts {
		rows = append(rows, scanRows(s, lr, threads)...)
	}
	return rows, notes, nil
}

// scanRows are a layout's scans against DuckDB with as many threads as
// Strata has readers, and the 1% filter against Strata's full scan.
func scanRows(s *ScanReport, lr ScanLayoutReport, threads int) []SummaryRow {
	scn := "scan, " + string(lr.Layout)
	base := fmt.Sprintf("DuckDB, %s", plural(threads, "thread"))
	var rows []SummaryRow
	var full *ScanFigure
	for _, sr := range lr.Scenarios {
		st := sameReaders(sr.Strata, threads, nil)
		if st == nil {
			continue
		}
		if sr.Scenario == "full" {
			full = st
		}
		metric := fmt.Sprintf("%s, MB/s, %s", scanNames[sr.Scenario], plural(threads, "reader"))
		if d := sameDuck(sr.DuckDB, threads); d != nil {
			rows = append(rows, higher(scn, metric, "MB/s", st.MBPerSec, base, d.MBPerSec))
		} else {
			rows = append(rows, skipped(higher(scn, metric, "MB/s", st.MBPerSec, base, 0), s.DuckDBSkipped))
		}
		if sr.Where != "" && full != nil {
			rows = append(rows, lower(scn, fmt.Sprintf("1%% key-range filter, time, %s", plural(threads, "reader")), "s",
				st.Best, "Strata's full scan", full.Best))
		}
	}
	return rows
}

// scanNames are the scan scenarios as the summary names them.
var scanNames = map[string]string{"full": "full scan", "projection": "3-column projection", "filter-1%": "1% key-range filter"}

// sameDuck is the DuckDB figure with threads threads, nil if none.
func sameDuck(fs []ScanFigure, threads int) *ScanFigure {
	for i := range fs {
		if fs[i].Readers == threads && fs[i].Skipped == "" {
			return &fs[i]
		}
	}
	return nil
}

func runAllPlan(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	p, err := RunPlan(ctx, cfg.Plan)
	if err != nil {
		return nil, nil, err
	}
	rep.Plan = p
	scn := fmt.Sprintf("planning, %s live files", count(int64(p.Config.Files)))
	base := "decoding the manifests"
	return []SummaryRow{
		lower(scn, fmt.Sprintf("plan the whole table (%d splits), best", p.All.Count), "s", p.All.Best, base, p.Decode.Best),
		lower(scn, "plan one partition, best", "s", p.Partition.Best, base, p.Decode.Best),
	}, nil, nil
}

func runAllCompact(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	c, err := RunCompact(ctx, cfg.Compact)
	if err != nil {
		return nil, nil, err
	}
	rep.Compact = c
	scn := fmt.Sprintf("compaction, %d runs per bucket", c.Strata.RunsBefore)
	base := "pebble manual compaction"
	return []SummaryRow{
		higher(scn, fmt.Sprintf("full compaction of %s upserts, rows/s", count(int64(c.Config.Rows))), "rows/s",
			c.Strata.RowsPerSec, base, c.Pebble.RowsPerSec),
		lower(scn, "bytes written", "B", float64(c.Strata.BytesWritten), base, float64(c.Pebble.BytesWritten)),
	}, nil, nil
}

func runAllMaintain(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	m, err := RunMaintain(ctx, cfg.Maintain)
	if err != nil {
		return nil, nil, err
	}
	rep.Maintain = m
	scn := fmt.Sprintf("maintenance, %d snapshots", m.Config.Snapshots)
	return []SummaryRow{
		lower(scn, fmt.Sprintf("compaction job: %d files into one run per bucket", m.Compact.Files), "s",
			m.Compact.Seconds, m.Compact.Baseline, m.Compact.BaselineSeconds),
		lower(scn, "expire all snapshots but the latest", "s", m.Expire.Seconds, m.Expire.Baseline, m.Expire.BaselineSeconds),
		lower(scn, "clean orphan files", "s", m.Orphans.Seconds, m.Orphans.Baseline, m.Orphans.BaselineSeconds),
	}, nil, nil
}

func runAllJava(ctx context.Context, cfg *AllConfig, rep *AllReport) ([]SummaryRow, []string, error) {
	if cfg.Java == nil {
		return nil, []string{cfg.JavaSkipped}, errStepSkipped
	}
	j, err := RunJavaPeer(ctx, *cfg.Java)
	if err != nil {
		return nil, nil, err
	}
	rep.Java = j
	const scn = "Java Paimon peer"
	const base = "Java Paimon"
	sw, jw := j.StrataWrite, j.JavaWrite
	sh, jh := j.StrataLookup.Hits, j.JavaLookup.Hits
	return []SummaryRow{
		higher(scn, fmt.Sprintf("write: upserts/s, %s rows", count(int64(sw.Rows))), "rows/s", sw.RowsPerSec, base, jw.RowsPerSec),
		lower(scn, "write: bytes on disk after", "B", float64(j.StrataDiskBytes), base, float64(jw.BytesWritten)),
		lower(scn, "warm Get hit p50, 1 thread", "µs", sh.P50us, base, jh.P50us),
		lower(scn, "warm Get hit p99, 1 thread", "µs", sh.P99us, base, jh.P99us),
		higher(scn, "warm Get hit lookups/s, 1 thread", "lookups/s", sh.PerSec(), base, jh.PerSec()),
		higher(scn, "warm Get miss lookups/s, 1 thread", "lookups/s", j.StrataLookup.Misses.PerSec(), base, j.JavaLookup.Misses.PerSec()),
	}, nil, nil
}
