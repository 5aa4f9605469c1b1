package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/spec"
)

// LookupConfig is the point-lookup scenario (`strata bench lookup`): a
// table of Rows rows of about 150 bytes with random keys from a KeySpace
// space in Buckets buckets, in each of Shapes, read through table.Lookup,
// with the same rows in pebble and Redis as baselines.
type LookupConfig struct {
	Rows     int     `json:"rows"`
	KeySpace int64   `json:"key_space"`
	Buckets  int     `json:"buckets"`
	Shapes   []Shape `json:"shapes"`
	// Sample is how many present (and as many absent) keys are read.
	Sample int `json:"sample"`
	// Duration is the length of each closed-loop measurement.
	Duration time.Duration `json:"duration_ns"`
	// Rates are the open-loop request rates, each run for RateDuration.
	Rates        []int         `json:"rates"`
	RateDuration time.Duration `json:"rate_duration_ns"`
	// Workers are the open-loop senders, each sending its share of the
	// requests on its own schedule (and, up to Conns, on a connection of
	// its own).
	Workers int `json:"workers"`
	// Batch is the number of keys per GetBatch / MGET.
	Batch int `json:"batch"`
	// Refresh is the lookups' background refresh interval; freshness
	// commits every FreshEvery for FreshDuration.
	Refresh       time.Duration `json:"refresh_ns"`
	FreshEvery    time.Duration `json:"fresh_every_ns"`
	FreshDuration time.Duration `json:"fresh_duration_ns"`
	// Conns is the number of connections (and client goroutines) of the
	// parallel runs against network targets (Redis).
	Conns int `json:"conns"`
	// PebbleCache is pebble's block cache in bytes (0: the same as the
	// Strata table's block cache, lookup.cache-max-memory-size, so that
	// both keep the same memory of blocks).
	PebbleCache int64 `json:"pebble_cache_bytes"`
	// CacheMemory is the Strata tables' lookup.cache-max-memory-size in
	// bytes (0: the option's default, 256 MiB).
	CacheMemory int64 `json:"cache_memory_bytes,omitempty"`
	// RedisServer is the redis-server binary; "" skips Redis.
	RedisServer string `json:"redis_server"`
	// HTTP measures the lookup service (package server on loopback, in
	// this process or, with ServeBinary, its own) through an HTTP client
	// with Conns connections, side by side with Redis, on the first
	// shape's table.
	HTTP bool `json:"http"`
	// ServeBinary, when set, runs the HTTP part's lookup server as
	// `ServeBinary --warehouse DIR serve` in its own process (the strata
	// binary), as Redis runs as its own; "" runs it in the benchmark's
	// process.
	ServeBinary string `json:"serve_binary,omitempty"`
	// InProcess measures table.Lookup in this process next to pebble and
	// Redis, per shape, with freshness and memory. Without it only the
	// HTTP and S3 parts run, on the first shape's table (no pebble, and
	// Redis only next to the HTTP service).
	InProcess bool `json:"in_process"`
	// S3 measures cold and warm lookups of the first shape's table copied
	// to a MinIO bucket, next to the same on local disk; skipped, and
	// said so, when no minio binary is found.
	S3 bool `json:"s3"`
	// Minio is the minio binary ("": minio in PATH, GOPATH/bin or GOBIN).
	Minio string `json:"minio,omitempty"`
	// ColdLookups is the least number of cold Gets of the S3 and
	// local-disk runs: one per data file in each fresh Lookup.
	ColdLookups int       `json:"cold_lookups"`
	Dir         string    `json:"-"` // scratch directory (default: a temporary one, removed after)
	Seed        uint64    `json:"seed"`
	Progress    io.Writer `json:"-"` // nil: quiet
}

// DefaultLookupConfig is the full scenario.
func DefaultLookupConfig() LookupConfig {
	return LookupConfig{Rows: 10_000_000, KeySpace: 1_000_000_000, Buckets: 4, Shapes: []Shape{ShapeCompacted, ShapeRuns},
		Sample: 100_000, Duration: 5 * time.Second, Rates: []int{1_000, 10_000}, RateDuration: 10 * time.Second,
		Workers: 8, Batch: 100, Refresh: 100 * time.Millisecond, FreshEvery: 100 * time.Millisecond,
		FreshDuration: 10 * time.Second, Conns: 8, RedisServer: "redis-server", HTTP: true, InProcess: true, S3: true,
		ColdLookups: 24, Seed: 1}
}

// QuickLookupConfig shrinks the scenario to finish in about a minute.
func QuickLookupConfig() LookupConfig {
	c := DefaultLookupConfig()
	c.Rows, c.Sample, c.Duration, c.RateDuration, c.FreshDuration = 50_000, 2_000, 500*time.Millisecond, time.Second, 2*time.Second
	return c
}

// Validate reports the first setting that cannot run.
func (c LookupConfig) Validate() error {
	switch {
	case c.CacheMemory < 0 || c.PebbleCache < 0:
		return fmt.Errorf("cache sizes must not be negative")
	case c.Rows <= 0 || c.KeySpace < 2 || c.Buckets <= 0 || c.Sample <= 0 || c.Batch <= 0 || c.Workers <= 0 || c.Conns <= 0:
		return fmt.Errorf("rows, keys (≥ 2), buckets, sample, batch, workers and conns must be positive")
	case c.S3 && c.ColdLookups <= 0:
		return fmt.Errorf("cold lookups must be positive")
	case c.Duration <= 0 || c.RateDuration <= 0 || c.FreshDuration < 0 || c.FreshEvery <= 0 || c.Refresh < 0:
		return fmt.Errorf("durations must be positive")
	case len(c.Shapes) == 0:
		return fmt.Errorf("no table shape to measure")
	case !c.InProcess && !c.HTTP && !c.S3:
		return fmt.Errorf("nothing to measure: in-process, HTTP and S3 all off")
	}
	for _, r := range c.Rates {
		if r <= 0 || r > 1_000_000 {
			return fmt.Errorf("rate %d: must be in 1..1000000", r)
		}
	}
	for _, s := range c.Shapes {
		if s != ShapeCompacted && s != ShapeRuns {
			return fmt.Errorf("shape %q: want %q or %q", s, ShapeCompacted, ShapeRuns)
		}
	}
	return nil
}

// LookupReport is everything one run measured.
type LookupReport struct {
	Config     LookupConfig `json:"config"`
	GOMAXPROCS int          `json:"gomaxprocs"`
	Started    time.Time    `json:"started"`
	// BlockCache is the Strata table's block cache for its lookup files
	// (lookup.cache-max-memory-size); Config.PebbleCache is pebble's.
	BlockCache int64 `json:"block_cache_bytes"`
	// RedisSkipped says why there are no Redis figures ("" when there are).
	RedisSkipped string         `json:"redis_skipped,omitempty"`
	Redis        *TargetFigures `json:"redis,omitempty"`
	RedisMemory  int64          `json:"redis_used_memory_bytes,omitempty"`
	PebbleBytes  int64          `json:"pebble_disk_bytes"`
	Shapes       []ShapeReport  `json:"shapes"`
	// HTTP is the lookup service next to Redis (nil when not measured).
	HTTP *HTTPReport `json:"http,omitempty"`
	// S3 is cold and warm lookups on MinIO and local disk; S3Skipped says
	// why there are none.
	S3        *S3Report `json:"s3,omitempty"`
	S3Skipped string    `json:"s3_skipped,omitempty"`
}

// TargetFigures are one target's measurements.
type TargetFigures struct {
	Target          string      `json:"target"`
	WarmSeconds     float64     `json:"warm_seconds"`
	GetHit          OpStats     `json:"get_hit"`
	GetMiss         OpStats     `json:"get_miss"`
	GetHitParallel  OpStats     `json:"get_hit_parallel"`
	GetMissParallel OpStats     `json:"get_miss_parallel"`
	Batch           OpStats     `json:"batch"`
	BatchParallel   OpStats     `json:"batch_parallel,omitzero"` // HTTP and Redis only
	Rates           []RateStats `json:"rates"`
}

// ShapeReport is one table shape's figures with pebble's, measured
// alongside.
type ShapeReport struct {
	Shape     Shape         `json:"shape"`
	Table     tableShape    `json:"table"`
	Strata    TargetFigures `json:"strata"`
	Pebble    TargetFigures `json:"pebble"`
	Memory    Memory        `json:"memory"`
	Freshness Freshness     `json:"freshness"`
}

// RunLookup loads the rows into pebble, Redis and a Strata table of each
// shape, and measures them; the first shape's table is also measured
// through the HTTP lookup service and on MinIO.
func RunLookup(ctx context.Context, cfg LookupConfig) (*LookupReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	blockCache, err := strataBlockCache(cfg.CacheMemory)
	if err != nil {
		return nil, err
	}
	cfg.CacheMemory = blockCache
	if cfg.PebbleCache == 0 {
		cfg.PebbleCache = blockCache
	}
	rep := &LookupReport{Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0), Started: time.Now().UTC(), BlockCache: blockCache}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "strata-bench-lookup-")
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	say := progressFunc(cfg.Progress)
	ds := newDataset(cfg.Rows, cfg.KeySpace, cfg.Seed, cfg.Sample)
	if !cfg.InProcess {
		return rep, runServedOnly(ctx, cfg, ds, rep, say)
	}
	db, err := ds.loadPebble(ctx, cfg.Dir, cfg.PebbleCache, say)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rep.PebbleBytes = int64(db.Metrics().DiskSpaceUsage())
	rr, err := runRedis(ctx, cfg, ds, rep, say)
	if err != nil {
		return nil, err
	}
	defer rr.stop()
	for i, shape := range cfg.Shapes {
		var served func(dir string, sh tableShape, lib Target) error
		if i == 0 {
			served = func(dir string, sh tableShape, lib Target) error {
				return runServed(ctx, cfg, ds, dir, shape, sh, lib, rr, rep, say)
			}
		}
		sr, err := runShape(ctx, cfg, ds, db, shape, served, say)
		if err != nil {
			return nil, fmt.Errorf("%s table: %w", shape, err)
		}
		rep.Shapes = append(rep.Shapes, sr)
	}
	return rep, rr.stop()
}

// runServedOnly loads the first shape's table and runs the HTTP and S3
// parts on it, with Redis loaded (not measured alone) for the HTTP
// comparison.
func runServedOnly(ctx context.Context, cfg LookupConfig, ds *dataset, rep *LookupReport, say func(string)) error {
	var rr *redisRun
	if cfg.HTTP {
		var err error
		if rr, err = startRedis(ctx, cfg, ds, rep, say); err != nil {
			return err
		}
		defer rr.stop()
	}
	shape := cfg.Shapes[0]
	dir := filepath.Join(cfg.Dir, "strata-"+string(shape))
	tb, err := ds.loadStrata(ctx, dir, cfg.Buckets, cfg.CacheMemory, shape, say)
	if err != nil {
		return err
	}
	sh, err := inspect(ctx, tb)
	if err != nil {
		return err
	}
	lib, err := NewStrataTarget(ctx, "strata", tb, 0)
	if err != nil {
		return err
	}
	defer lib.Close()
	if err := runServed(ctx, cfg, ds, dir, shape, sh, lib, rr, rep, say); err != nil {
		return err
	}
	return rr.stop()
}

// strataBlockCache is the block cache of the benchmark's tables: set, or
// the default lookup.cache-max-memory-size.
func strataBlockCache(set int64) (int64, error) {
	if set > 0 {
		return set, nil
	}
	opts, err := spec.ParseOptions(nil)
	if err != nil {
		return 0, err
	}
	return opts.LookupCacheMaxMemorySize, nil
}

// redisRun is the running Redis and its client; nil when Redis is skipped.
type redisRun struct {
	srv *RedisServer
	t   *RedisTarget
}

// target is the client, nil when Redis is skipped.
func (r *redisRun) target() Target {
	if r == nil {
		return nil
	}
	return r.t
}

// stop closes the client and stops the server (again: nothing more).
func (r *redisRun) stop() error {
	if r == nil {
		return nil
	}
	r.t.Close()
	return r.srv.Stop()
}

// runRedis starts Redis, loads the rows and measures it, leaving it running
// for the HTTP comparison; a missing redis-server is reported and skipped
// (nil, nil).
func runRedis(ctx context.Context, cfg LookupConfig, ds *dataset, rep *LookupReport, say func(string)) (*redisRun, error) {
	rr, err := startRedis(ctx, cfg, ds, rep, say)
	if rr == nil || err != nil {
		return nil, err
	}
	if err := rr.measure(ctx, cfg, ds, rep, say); err != nil {
		rr.stop()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return rr, nil
}

// startRedis starts Redis and loads the rows; a missing redis-server is
// reported and skipped (nil, nil).
func startRedis(ctx context.Context, cfg LookupConfig, ds *dataset, rep *LookupReport, say func(string)) (*redisRun, error) {
	if cfg.RedisServer == "" {
		rep.RedisSkipped = "Redis turned off (--redis-server \"\")"
		return nil, nil
	}
	bin, err := exec.LookPath(cfg.RedisServer)
	if errors.Is(err, exec.ErrNotFound) {
		rep.RedisSkipped = fmt.Sprintf("%s is not installed (apt-get install redis-server): Redis rows skipped", cfg.RedisServer)
		say(rep.RedisSkipped)
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find redis-server: %w", err)
	}
	dir := filepath.Join(cfg.Dir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("redis directory: %w", err)
	}
	srv, err := StartRedis(ctx, bin, dir)
	if err != nil {
		return nil, err
	}
	rr := &redisRun{srv: srv, t: NewRedisTarget(srv.Addr, cfg.Conns)}
	if err := rr.t.load(ctx, ds, say); err != nil {
		rr.stop()
		return nil, fmt.Errorf("redis: %w", err)
	}
	if rep.RedisMemory, err = rr.t.usedMemory(ctx); err != nil {
		rr.stop()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return rr, nil
}

// measure measures the loaded Redis into rep.
func (r *redisRun) measure(ctx context.Context, cfg LookupConfig, ds *dataset, rep *LookupReport, say func(string)) error {
	warmed, err := warm(ctx, r.t, ds.hits[:min(len(ds.hits), warmKeys)])
	if err != nil {
		return err
	}
	figs, err := measure(ctx, cfg, ds, closedScenarios(ds, cfg.Batch), prefixed(say, "redis"), measured{r.t, cfg.Conns})
	if err != nil {
		return err
	}
	figs[0].WarmSeconds = warmed
	rep.Redis = &figs[0]
	return nil
}

// runServed measures the table in dir through the HTTP lookup service next
// to Redis (when cfg.HTTP), and copied to MinIO next to local disk (when
// cfg.S3); lib is the in-process lookup of the table, the HTTP answers'
// reference.
func runServed(ctx context.Context, cfg LookupConfig, ds *dataset, dir string, shape Shape, sh tableShape, lib Target,
	rr *redisRun, rep *LookupReport, say func(string)) error {
	var err error
	if cfg.HTTP {
		if rep.HTTP, err = runHTTP(ctx, cfg, ds, dir, shape, sh, lib, rr.target(), prefixed(say, "http")); err != nil {
			return fmt.Errorf("http: %w", err)
		}
	}
	if cfg.S3 {
		if rep.S3, rep.S3Skipped, err = runS3(ctx, cfg, ds, dir, shape, sh, prefixed(say, "s3")); err != nil {
			return fmt.Errorf("s3: %w", err)
		}
	}
	return nil
}

// runShape loads one table shape and measures it with pebble alongside;
// served, when set, runs on the loaded table (in dir) before the
// freshness run changes it.
func runShape(ctx context.Context, cfg LookupConfig, ds *dataset, db *pebble.DB, shape Shape,
	served func(dir string, sh tableShape, lib Target) error, say func(string)) (ShapeReport, error) {
	sr := ShapeReport{Shape: shape}
	dir := filepath.Join(cfg.Dir, "strata-"+string(shape))
	tb, err := ds.loadStrata(ctx, dir, cfg.Buckets, cfg.CacheMemory, shape, say)
	if err != nil {
		return sr, err
	}
	if sr.Table, err = inspect(ctx, tb); err != nil {
		return sr, err
	}
	heap0, rss0, err := memNow()
	if err != nil {
		return sr, err
	}
	st, err := NewStrataTarget(ctx, "strata", tb, cfg.Refresh)
	if err != nil {
		return sr, err
	}
	defer st.Close()
	say(fmt.Sprintf("%s: warming %d files", shape, sr.Table.Files))
	warmSet := sr.Table.warmKeys(ds)
	if sr.Strata.WarmSeconds, err = warm(ctx, st, warmSet); err != nil {
		return sr, err
	}
	if sr.Memory.HeapInuse, sr.Memory.RSS, err = memNow(); err != nil {
		return sr, err
	}
	sr.Memory.HeapInuseDelta, sr.Memory.RSSDelta = sr.Memory.HeapInuse-heap0, sr.Memory.RSS-rss0
	pt := NewPebbleTarget(db)
	if sr.Pebble.WarmSeconds, err = warm(ctx, pt, warmSet); err != nil {
		return sr, err
	}
	// Every sampled key once in each engine, untimed: the figures then
	// measure warm caches however long each is measured (a second in
	// --quick, five in the full run), not the first touch of a block.
	for _, t := range []Target{st, pt} {
		if _, err := warm(ctx, t, ds.hits); err != nil {
			return sr, err
		}
		if _, err := warm(ctx, t, ds.misses); err != nil {
			return sr, err
		}
	}
	figs, err := measure(ctx, cfg, ds, closedScenarios(ds, cfg.Batch), prefixed(say, string(shape)),
		measured{st, runtime.GOMAXPROCS(0)}, measured{pt, runtime.GOMAXPROCS(0)})
	if err != nil {
		return sr, err
	}
	figs[0].WarmSeconds, figs[1].WarmSeconds = sr.Strata.WarmSeconds, sr.Pebble.WarmSeconds
	sr.Strata, sr.Pebble = figs[0], figs[1]
	if served != nil {
		if err := served(dir, sr.Table, st); err != nil {
			return sr, err
		}
	}
	if cfg.FreshDuration > 0 {
		say(fmt.Sprintf("%s: freshness, a commit every %v for %v", shape, cfg.FreshEvery, cfg.FreshDuration))
		if sr.Freshness, err = runFreshness(ctx, tb, st, ds.hits, cfg.Refresh, cfg.FreshEvery, cfg.FreshDuration, cfg.Seed); err != nil {
			return sr, err
		}
	}
	return sr, nil
}

// warmKeys is how many sampled keys a warm-up reads after the first and
// last key of every file.
const warmKeys = 100

// warmKeys are the keys a warm-up of the table reads: every file's first
// and last key, then warmKeys sampled ones.
func (sh tableShape) warmKeys(ds *dataset) []int64 {
	return append(slices.Clone(sh.firstLastKeys), ds.hits[:min(len(ds.hits), warmKeys)]...)
}

// warm reads every key once and returns how long it took.
func warm(ctx context.Context, t Target, keys []int64) (float64, error) {
	start := time.Now()
	for _, k := range keys {
		if _, err := t.Get(ctx, k); err != nil {
			return 0, fmt.Errorf("warm %s: %w", t.Name(), err)
		}
	}
	return time.Since(start).Seconds(), nil
}

// measured is a target and the client goroutines of its parallel runs.
type measured struct {
	t       Target
	clients int
}

// closedScenario is a closed-loop measurement: op builds a target's
// operation for the given client count; parallel runs use the target's
// clients.
type closedScenario struct {
	name     string
	out      func(*TargetFigures) *OpStats
	parallel bool
	op       func(t Target, clients int) func(context.Context, int, int) (int, error)
}

// closedScenarios are Get of hits and of misses, on one client and in
// parallel, and GetBatch of hits on one client.
func closedScenarios(ds *dataset, batch int) []closedScenario {
	return []closedScenario{
		getScenario("Get hits, 1 client", func(f *TargetFigures) *OpStats { return &f.GetHit }, false, ds.hits),
		getScenario("Get misses, 1 client", func(f *TargetFigures) *OpStats { return &f.GetMiss }, false, ds.misses),
		getScenario("Get hits, parallel", func(f *TargetFigures) *OpStats { return &f.GetHitParallel }, true, ds.hits),
		getScenario("Get misses, parallel", func(f *TargetFigures) *OpStats { return &f.GetMissParallel }, true, ds.misses),
		batchScenario(fmt.Sprintf("GetBatch of %d, 1 client", batch), func(f *TargetFigures) *OpStats { return &f.Batch }, false, ds.hits, batch),
	}
}

// serviceScenarios are the HTTP comparison's: single-key requests of hits
// and misses on one connection, of hits on all, and batches on one
// connection and on all.
func serviceScenarios(ds *dataset, batch int) []closedScenario {
	return []closedScenario{
		getScenario("Get hits, 1 client", func(f *TargetFigures) *OpStats { return &f.GetHit }, false, ds.hits),
		getScenario("Get misses, 1 client", func(f *TargetFigures) *OpStats { return &f.GetMiss }, false, ds.misses),
		getScenario("Get hits, parallel", func(f *TargetFigures) *OpStats { return &f.GetHitParallel }, true, ds.hits),
		batchScenario(fmt.Sprintf("GetBatch of %d, 1 client", batch), func(f *TargetFigures) *OpStats { return &f.Batch }, false, ds.hits, batch),
		batchScenario(fmt.Sprintf("GetBatch of %d, parallel", batch), func(f *TargetFigures) *OpStats { return &f.BatchParallel }, true, ds.hits, batch),
	}
}

// getScenario is a closed loop of Gets of keys.
func getScenario(name string, out func(*TargetFigures) *OpStats, parallel bool, keys []int64) closedScenario {
	return closedScenario{name, out, parallel, func(t Target, clients int) func(context.Context, int, int) (int, error) {
		return getOp(t, keys, clients)
	}}
}

// batchScenario is a closed loop of GetBatch of size keys.
func batchScenario(name string, out func(*TargetFigures) *OpStats, parallel bool, keys []int64, size int) closedScenario {
	return closedScenario{name, out, parallel, func(t Target, clients int) func(context.Context, int, int) (int, error) {
		return batchOp(t, keys, size, clients)
	}}
}

// measure runs every closed-loop scenario of scs and every rate on every
// (warm) target, one target after the other within a scenario so that
// targets compared see the same conditions.
func measure(ctx context.Context, cfg LookupConfig, ds *dataset, scs []closedScenario, say func(string), ts ...measured) ([]TargetFigures, error) {
	figs := make([]TargetFigures, len(ts))
	for i, m := range ts {
		figs[i].Target = m.t.Name()
	}
	for _, sc := range scs {
		for i, m := range ts {
			say(fmt.Sprintf("%s: %s", sc.name, m.t.Name()))
			clients := 1
			if sc.parallel {
				clients = m.clients
			}
			st, err := runClosed(ctx, clients, cfg.Duration, sc.op(m.t, clients))
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", sc.name, m.t.Name(), err)
			}
			*sc.out(&figs[i]) = st
		}
	}
	for _, rate := range cfg.Rates {
		for i, m := range ts {
			say(fmt.Sprintf("%d req/s for %v: %s", rate, cfg.RateDuration, m.t.Name()))
			rs, err := runFixedRate(ctx, m.t, ds.hits, rate, cfg.Workers, cfg.RateDuration)
			if err != nil {
				return nil, fmt.Errorf("%d req/s, %s: %w", rate, m.t.Name(), err)
			}
			figs[i].Rates = append(figs[i].Rates, rs)
		}
	}
	return figs, nil
}

// progressFunc prints progress lines to w (nothing when w is nil).
func progressFunc(w io.Writer) func(string) {
	if w == nil {
		return func(string) {}
	}
	start := time.Now()
	return func(s string) { fmt.Fprintf(w, "[%6.1fs] %s\n", time.Since(start).Seconds(), s) }
}

// prefixed labels progress lines with p.
func prefixed(say func(string), p string) func(string) { return func(s string) { say(p + ": " + s) } }
