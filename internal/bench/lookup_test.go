package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// fixture is a dataset loaded into Strata tables of some shapes and pebble.
type fixture struct {
	ds     *dataset
	tables map[Shape]*table.Table
	shapes map[Shape]tableShape
	db     *pebble.DB
}

func buildFixture(ctx context.Context, dir string, rows, buckets int, shapes ...Shape) (*fixture, error) {
	f := &fixture{ds: newDataset(rows, 1_000_000, 1, 1000), tables: map[Shape]*table.Table{}, shapes: map[Shape]tableShape{}}
	quiet := func(string) {}
	for _, s := range shapes {
		tb, err := f.ds.loadStrata(ctx, filepath.Join(dir, string(s)), buckets, 0, s, quiet)
		if err != nil {
			return nil, err
		}
		if f.shapes[s], err = inspect(ctx, tb); err != nil {
			return nil, err
		}
		f.tables[s] = tb
	}
	cache, err := strataBlockCache(0)
	if err != nil {
		return nil, err
	}
	f.db, err = f.ds.loadPebble(ctx, dir, cache, quiet) // the tables' block cache size
	return f, err
}

// Every target returns the same rows for the same keys, by Get and by
// GetBatch: the rows written for present keys, nothing for absent ones; and
// the two shapes are what they claim to be.
func TestLookupTargetsAgree(t *testing.T) {
	ctx := context.Background()
	f, err := buildFixture(ctx, t.TempDir(), 1500, 2, ShapeCompacted, ShapeRuns)
	if err != nil {
		t.Fatal(err)
	}
	defer f.db.Close()
	if s := f.shapes[ShapeCompacted]; s.MaxRuns != 1 || s.Buckets != 2 {
		t.Errorf("compacted shape %+v", s)
	}
	if s := f.shapes[ShapeRuns]; s.MaxRuns != SortedRuns || s.Buckets != 2 {
		t.Errorf("runs shape %+v", s)
	}
	targets := []Target{NewPebbleTarget(f.db)}
	for _, s := range []Shape{ShapeCompacted, ShapeRuns} {
		st, err := NewStrataTarget(ctx, "strata-"+string(s), f.tables[s], 0)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		targets = append(targets, st)
	}
	if rt := startTestRedis(t, f.ds); rt != nil {
		targets = append(targets, rt)
	}
	hits, misses := f.ds.hits[:100], f.ds.misses[:100]
	keys := append(append([]int64{}, hits...), misses...)
	want, err := targets[0].GetBatch(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		if (v != nil) != (i < len(hits)) {
			t.Fatalf("pebble: key %d (hit %v) gave %x", keys[i], i < len(hits), v)
		}
	}
	for _, tg := range targets {
		got, err := tg.GetBatch(ctx, keys)
		if err != nil {
			t.Fatalf("%s: %v", tg.Name(), err)
		}
		for i, k := range keys {
			one, err := tg.Get(ctx, k)
			if err != nil {
				t.Fatalf("%s: %v", tg.Name(), err)
			}
			if !bytes.Equal(got[i], want[i]) || !bytes.Equal(one, want[i]) {
				t.Fatalf("%s: key %d: batch %x, get %x, pebble %x", tg.Name(), k, got[i], one, want[i])
			}
		}
	}
}

// startTestRedis starts redis-server loaded with ds, or returns nil (the
// test goes on without Redis) when it is not installed outside CI; .ci/run
// installs it, so in CI its absence fails.
func startTestRedis(t *testing.T, ds *dataset) *RedisTarget {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not installed (.ci/run installs it)")
		}
		t.Log("redis-server not installed: Redis not compared")
		return nil
	}
	srv, err := StartRedis(context.Background(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	rt := NewRedisTarget(srv.Addr, 2)
	t.Cleanup(func() { rt.Close() })
	if err := rt.load(context.Background(), ds, func(string) {}); err != nil {
		t.Fatal(err)
	}
	return rt
}

// slowTarget answers every Get after a fixed delay.
type slowTarget struct{ delay time.Duration }

func (s slowTarget) Name() string { return "slow" }
func (s slowTarget) Get(context.Context, int64) ([]byte, error) {
	time.Sleep(s.delay)
	return nil, nil
}
func (s slowTarget) GetBatch(context.Context, []int64) ([][]byte, error) { return nil, nil }
func (s slowTarget) Close() error                                        { return nil }

// The open-loop run charges a target that cannot keep up for the requests
// it delays (latency from the scheduled time grows), where a closed loop
// would see only its service time.
func TestFixedRateOpenLoop(t *testing.T) {
	ctx := context.Background()
	keys := []int64{1, 2, 3}
	fast, err := runFixedRate(ctx, slowTarget{}, keys, 1000, 4, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Scheduled != 200 || fast.Completed != 200 || fast.Dropped != 0 {
		t.Errorf("fast target: %+v", fast)
	}
	// One worker, 10 ms per request, 200 requests/s: a request waits for
	// the ones before it, 5 ms more each.
	slow, err := runFixedRate(ctx, slowTarget{10 * time.Millisecond}, keys, 200, 1, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if slow.Completed+slow.Dropped != slow.Scheduled || slow.Latency.P99us < 100e3 || slow.Latency.P50us < 40e3 {
		t.Errorf("slow target: %+v", slow)
	}
}

// A sender allocates nothing per request (its recorders are made up front):
// the generator adds no garbage of its own to the process it measures.
func TestSenderAllocations(t *testing.T) {
	ctx := context.Background()
	const total = 2000
	start := time.Now().Add(-time.Hour) // every request already due: no sleeping
	allocs := testing.AllocsPerRun(1, func() {
		rec, lag := newRecorderCap(1, total), newRecorderCap(2, total)
		sent, lost, err := sendScheduled(ctx, slowTarget{}, []int64{1, 2, 3}, 0, 1, total, 1000, start, start.Add(2*time.Hour), rec, lag)
		if err != nil || sent != total || lost != 0 {
			t.Fatalf("sent %d, lost %d, %v", sent, lost, err)
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations for %d requests", allocs, total)
	}
}

// The whole scenario runs on a tiny table and reports every figure.
func TestRunLookupTiny(t *testing.T) {
	cfg := DefaultLookupConfig()
	cfg.Rows, cfg.Sample, cfg.Buckets, cfg.Conns, cfg.Workers = 1000, 100, 2, 2, 4
	cfg.Duration, cfg.Rates, cfg.RateDuration = 20*time.Millisecond, []int{300}, 50*time.Millisecond
	cfg.Refresh, cfg.FreshEvery, cfg.FreshDuration = 20*time.Millisecond, 30*time.Millisecond, 150*time.Millisecond
	cfg.ColdLookups = 4
	cfg.Dir = t.TempDir()
	rep, err := RunLookup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Shapes) != 2 || (rep.Redis == nil) == (rep.RedisSkipped == "") {
		t.Fatalf("report %+v", rep)
	}
	for _, sr := range rep.Shapes {
		for _, f := range []TargetFigures{sr.Strata, sr.Pebble} {
			if f.GetHit.Ops == 0 || f.GetMiss.Ops == 0 || f.GetHitParallel.Clients != rep.GOMAXPROCS ||
				f.Batch.Keys != f.Batch.Ops*int64(cfg.Batch) || len(f.Rates) != 1 || f.Rates[0].Scheduled != 15 {
				t.Errorf("%s %s: %+v", sr.Shape, f.Target, f)
			}
		}
		if sr.Freshness.Commits == 0 || sr.Freshness.Seen == 0 || sr.Memory.RSS == 0 || sr.Table.DataBytes == 0 {
			t.Errorf("%s: freshness %+v memory %+v table %+v", sr.Shape, sr.Freshness, sr.Memory, sr.Table)
		}
	}
	checkServed(t, rep)
	md := LookupMarkdown(rep)
	for _, want := range []string{"### compacted: 1 sorted run(s)", "### runs: 5 sorted run(s)", "| Get hit p99, 1 client |",
		"| GetBatch of 100 keys/s", "| 300 req/s open loop, hits: p99 |", "| freshness p99 |", "| process RSS after warm-up",
		"### Strata HTTP lookup service vs Redis (compacted table)", "| peak single-key requests/s, hits, 2 connections |",
		"| 300 req/s open loop, single-key hits (4 senders): p99 |", "### Cold lookups"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := WriteLookupJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte(`"get_hit_parallel"`)) {
		t.Errorf("json: %v %.200s", err, b)
	}
}

// Without the in-process part only the HTTP comparison runs, on the first
// shape's table, with Redis beside it (when installed) but not measured
// alone.
func TestRunLookupServedOnly(t *testing.T) {
	cfg := DefaultLookupConfig()
	cfg.Rows, cfg.Sample, cfg.Buckets, cfg.Conns, cfg.Workers = 1000, 100, 2, 2, 2
	cfg.Duration, cfg.Rates, cfg.RateDuration = 20*time.Millisecond, []int{300}, 50*time.Millisecond
	cfg.InProcess, cfg.S3, cfg.Shapes = false, false, []Shape{ShapeRuns, ShapeCompacted}
	cfg.Dir = t.TempDir()
	rep, err := RunLookup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Shapes) != 0 || rep.Redis != nil || rep.HTTP == nil || rep.HTTP.Shape != ShapeRuns || rep.S3 != nil {
		t.Fatalf("report %+v", rep)
	}
	if f := rep.HTTP.Strata; f.GetHit.Ops == 0 || f.BatchParallel.Ops == 0 || len(f.Rates) != 1 || f.Rates[0].Completed == 0 {
		t.Errorf("http figures %+v", f)
	}
	md := LookupMarkdown(rep)
	for _, want := range []string{"not measured (--in-process=false)", "### Strata HTTP lookup service vs Redis (runs table)",
		"| 300 req/s open loop: the senders' own lateness, p99"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// checkServed checks the HTTP and S3 parts of a tiny run's report; S3 is
// skipped only where minio is not installed, and never in CI (.ci/run
// installs it).
func checkServed(t *testing.T, rep *LookupReport) {
	t.Helper()
	h := rep.HTTP
	if h == nil || h.Shape != ShapeCompacted || (h.Redis == nil) != (rep.Redis == nil) {
		t.Fatalf("http report %+v", h)
	}
	for _, f := range append([]TargetFigures{h.Strata}, derefs(h.Redis)...) {
		if f.GetHit.Ops == 0 || f.GetMiss.Ops == 0 || f.GetHitParallel.Clients != rep.Config.Conns ||
			f.BatchParallel.Keys != f.BatchParallel.Ops*int64(rep.Config.Batch) || len(f.Rates) != 1 || f.Rates[0].Completed == 0 {
			t.Errorf("http comparison, %s: %+v", f.Target, f)
		}
	}
	switch {
	case rep.S3 == nil && rep.S3Skipped == "":
		t.Fatal("no S3 report and no reason")
	case rep.S3 == nil && os.Getenv("CI") != "":
		t.Fatalf("S3 skipped in CI: %s", rep.S3Skipped)
	case rep.S3 == nil:
		t.Logf("S3 skipped: %s", rep.S3Skipped)
	default:
		for _, f := range []ColdFigures{rep.S3.S3, rep.S3.Local} {
			if f.Cold.Count < 4 || f.Builds != f.Cold.Count || f.ColdBytes < rep.S3.DataBytes || f.Warm.Ops == 0 {
				t.Errorf("cold lookups, %s: %+v", f.Storage, f)
			}
		}
	}
}

func derefs(f *TargetFigures) []TargetFigures {
	if f == nil {
		return nil
	}
	return []TargetFigures{*f}
}

// benchRows is the size of the Go benchmarks' table.
const benchRows = 200_000

var (
	benchOnce    sync.Once
	benchFixture *fixture
	benchErr     error
	benchDir     string
)

// lookupFixture builds the benchmarks' compacted 200k-row table and pebble
// once per test binary.
func lookupFixture(b *testing.B) *fixture {
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "strata-bench-lookup-"); benchErr != nil {
			return
		}
		benchFixture, benchErr = buildFixture(context.Background(), benchDir, benchRows, 4, ShapeCompacted, ShapeRuns)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFixture
}

func TestMain(m *testing.M) {
	if os.Getenv(helperServeEnv) == "1" {
		os.Exit(helperServe(os.Args[1:]))
	}
	code := m.Run()
	if benchFixture != nil && benchFixture.db != nil {
		benchFixture.db.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// strataBenchTarget opens a warm lookup on the benchmarks' table.
func strataBenchTarget(b *testing.B, f *fixture, shape Shape) Target {
	st, err := NewStrataTarget(context.Background(), "strata", f.tables[shape], 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := warm(context.Background(), st, f.shapes[shape].warmKeys(f.ds)); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchGet reads hits and misses one key at a time.
func benchGet(b *testing.B, f *fixture, t Target) {
	ctx := context.Background()
	for _, kind := range []struct {
		name string
		keys []int64
	}{{"hit", f.ds.hits}, {"miss", f.ds.misses}} {
		b.Run(kind.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if _, err := t.Get(ctx, kind.keys[i%len(kind.keys)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b, i)
		})
	}
}

// benchGetBatch reads hits 100 keys at a time.
func benchGetBatch(b *testing.B, f *fixture, t Target) {
	ctx := context.Background()
	keys := f.ds.hits
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		off := (i * 100) % (len(keys) - 100)
		if _, err := t.GetBatch(ctx, keys[off:off+100]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i*100)/b.Elapsed().Seconds(), "keys/s")
	cpu.report(b, i)
}

// cpuClock measures the process's CPU time (user and system, every
// goroutine and the garbage collector): on a shared machine a steadier cost
// per operation than wall time, which counts time spent waiting for a core.
type cpuClock time.Duration

func startCPU() cpuClock { return cpuClock(processCPU()) }

// report adds the CPU time per operation since start as "cpu-ns/op".
func (c cpuClock) report(b *testing.B, ops int) {
	if ops > 0 {
		b.ReportMetric(float64(processCPU()-time.Duration(c))/float64(ops), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLookupGet is Strata's warm Get on a compacted 200k-row,
// 4-bucket table (compare with BenchmarkPebbleGet: -bench 'Lookup|Pebble').
func BenchmarkLookupGet(b *testing.B) {
	f := lookupFixture(b)
	benchGet(b, f, strataBenchTarget(b, f, ShapeCompacted))
}

// BenchmarkLookupGetRuns is Strata's Get on the table of 5 sorted runs per
// bucket: a hit probes every run, a miss every run's filter.
func BenchmarkLookupGetRuns(b *testing.B) {
	f := lookupFixture(b)
	benchGet(b, f, strataBenchTarget(b, f, ShapeRuns))
}

// BenchmarkLookupGetBatch is Strata's GetBatch of 100 keys.
func BenchmarkLookupGetBatch(b *testing.B) {
	f := lookupFixture(b)
	benchGetBatch(b, f, strataBenchTarget(b, f, ShapeCompacted))
}

// BenchmarkPebbleGet is the baseline: pebble Get of the same keys, with a
// block cache of the Strata table's size (256 MiB).
func BenchmarkPebbleGet(b *testing.B) {
	f := lookupFixture(b)
	benchGet(b, f, NewPebbleTarget(f.db))
}

// BenchmarkPebbleGetBatch is the baseline of GetBatch: 100 pebble Gets.
func BenchmarkPebbleGetBatch(b *testing.B) {
	f := lookupFixture(b)
	benchGetBatch(b, f, NewPebbleTarget(f.db))
}

// The ingested pebble DB holds each key's last row, across and within
// ingested chunks, as Set after Set would.
func TestLoadPebbleLastRowWins(t *testing.T) {
	defer func(n int) { pebbleChunk = n }(pebbleChunk)
	pebbleChunk = 700
	ds := newDataset(5000, 3000, 7, 100) // 1,500 even keys: many repeats
	want := map[int64][]byte{}
	if err := ds.generate(func(_ int, id int64, row spec.Row) error { want[id] = encodeRow(row); return nil }); err != nil {
		t.Fatal(err)
	}
	db, err := ds.loadPebble(context.Background(), t.TempDir(), 1<<20, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pt := NewPebbleTarget(db)
	for id := int64(0); id < 3000; id++ {
		got, err := pt.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[id]) {
			t.Fatalf("key %d: %x, want %x", id, got, want[id])
		}
	}
	if len(want) > 1500 || len(want) < 1000 {
		t.Fatalf("%d distinct keys: the test wants repeats", len(want))
	}
}
