package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/bench"
)

func newBenchCmd(e *env) *cobra.Command {
	var a benchAllFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run every benchmark scenario against baselines measured in the same run (or one, by subcommand)",
		Long:  benchAllHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown bench subcommand %q: want write, lookup, scan or compare, or none to run every scenario", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runBenchAll(e, cmd, &a) },
	}
	addBenchAllFlags(cmd.Flags(), &a)
	cmd.AddCommand(newBenchWriteCmd(e), newBenchLookupCmd(e), newBenchScanCmd(e), newBenchCompareCmd(e))
	return cmd
}

const benchWriteHelp = `Write --rows upserts of 150-byte rows (id BIGINT key and six value columns)
with random keys from a --keys key space into a Strata table with --buckets
buckets and otherwise default options (a streaming writer: compaction in the
background, a commit every --commit-every rows), then the same stream into
pebble (WAL on, one synced batch per commit interval, its memtable flushed at
the end). Both run in this process, one after the other, and see the same
rows from the same generator.

  --api arrow   Strata is handed Arrow record batches of --batch rows
                (table.Write.Write; a batch is also cut at every commit);
  --api rows    one row of Go values at a time (WriteRow).
  --storage local   Strata's table on local disk, in the scratch directory;
  --storage minio   in a bucket of a MinIO server started on loopback
                    (--minio; its data in the scratch directory) and stopped
                    afterwards. Pebble stays on local disk either way.

Reported for each engine: rows/s overall and for the first and last tenth
of the rows (the time rows [0, N/10) took, and rows [9N/10, N) with the final
commit, so whether the rate holds), rows/s per core (over GOMAXPROCS), the
CPU time the process used, write amplification (bytes written to storage per
byte of rows ingested), the peak resident memory of the process during the
engine's run, and Strata's sorted runs per bucket in its last snapshot
(compaction may still be running). Peak memory is the kernel's high-water
mark (VmHWM), reset before each engine by writing 5 to /proc/self/clear_refs
after a garbage collection; MinIO's own memory and CPU are not counted, and
without /proc (not Linux) the peak is unknown.

--cli also runs the strata write command (this binary, in a child process)
on the same rows as JSON Lines, written to a file first and not timed,
with --commit-every; its tenths are taken when it reports the commits that
end them, its CPU time and peak memory from its resource usage (bytes
written are not counted). The report adds its rate against the API's.

Prints the run's conditions (date, command, machine, load, git revision),
then a table and the Strata/pebble ratios; --json FILE also writes the raw
numbers as JSON ("-": to stdout, instead of the table). --cpuprofile FILE
writes a CPU profile of Strata's timed run only. Scratch data goes to a
temporary directory, removed afterwards, or to --dir (kept; it must not hold
an earlier run's).`

// newBenchWriteCmd is `strata bench write`.
func newBenchWriteCmd(e *env) *cobra.Command {
	cfg := bench.WriteConfig{API: bench.APIArrow, Storage: bench.StorageLocal}
	var api, where, jsonPath, cpuProfile string
	var runCLI bool
	var opts []string
	cmd := &cobra.Command{
		Use:   "write",
		Short: "Upserts of 150-byte rows over a large key space, compaction on; baseline pebble",
		Long:  benchWriteHelp,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.API, cfg.Storage = bench.WriteAPI(api), bench.WriteStorage(where)
			for _, o := range opts {
				k, v, ok := strings.Cut(o, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("--option %q: want key=value", o)
				}
				cfg.Options = append(cfg.Options, strings.TrimSpace(k), strings.TrimSpace(v))
			}
			if runCLI {
				bin, err := os.Executable()
				if err != nil {
					return fmt.Errorf("--cli: this command's binary: %w", err)
				}
				cfg.CLI = bin
			}
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			cfg.Progress = e.stderr
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				cfg.CPUProfile = f
			}
			started, machine := time.Now(), bench.DescribeMachine()
			rep, err := bench.RunWrite(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			conds := bench.CommandConditions(started, commandLine(cmd), machine)
			if jsonPath != "" {
				b, err := rep.JSON()
				if err != nil {
					return err
				}
				if jsonPath == "-" {
					fmt.Fprintln(e.stderr, conds)
					_, err = e.stdout.Write(b)
					return err
				}
				if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
					return fmt.Errorf("--json: %w", err)
				}
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n\n%s", conds, rep.Text())
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Rows, "rows", 2_000_000, "rows to write")
	f.Int64Var(&cfg.KeySpace, "keys", 10_000_000, "size of the key space")
	f.IntVar(&cfg.Buckets, "buckets", 4, "table buckets")
	f.IntVar(&cfg.CommitEvery, "commit-every", 100_000, "rows per commit")
	f.StringVar(&api, "api", string(bench.APIArrow), "how Strata is handed the rows: arrow (record batches) or rows (WriteRow)")
	f.IntVar(&cfg.BatchRows, "batch", bench.DefaultBatchRows, "rows per Arrow record batch (--api arrow)")
	f.StringVar(&where, "storage", string(bench.StorageLocal), "where Strata's table lives: local or minio (MinIO on loopback); pebble is on local disk")
	f.BoolVar(&runCLI, "cli", false, "also run strata write (this binary) on the same rows as JSON Lines, on local disk")
	f.StringVar(&cfg.Minio, "minio", "", "minio binary for --storage minio (default: minio in PATH, GOPATH/bin or GOBIN)")
	f.StringVar(&cfg.Dir, "dir", "", "scratch directory (default: a temporary one)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	f.StringVar(&jsonPath, "json", "", "also write the raw numbers as JSON to this file (\"-\": stdout, instead of the table)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of Strata's timed run to this file")
	f.StringArrayVarP(&opts, "option", "o", nil, "a table option key=value for Strata's table (repeatable; e.g. write-only=true): what a figure would be with another setting")
	return cmd
}

const benchLookupHelp = `Point lookups by primary key through the lookup library (table.Lookup), through
the HTTP lookup service, and cold from S3 (MinIO), each figure next to
baselines measured in the same run.

Data: --rows rows of ~150 bytes (id BIGINT key, random even keys from a --keys
key space; odd keys of the same space are the misses) written to a Strata
table on local disk in --buckets buckets, in two shapes measured separately
(--shapes): "compacted" (fully compacted, one sorted run per bucket) and
"runs" (written in 5 commits with write-only=true: 5 sorted runs per bucket).
The same keys and values go into pebble (fully compacted, with a block cache
of --pebble-cache-mb, by default the size of the Strata table's
lookup.cache-max-memory-size, --cache-mb, itself 256 MiB by default) and
into Redis: a redis-server the benchmark starts on a free 127.0.0.1 port with
no persistence (--save "" --appendonly no) and stops afterwards. Without
redis-server (--redis-server), the Redis figures are skipped and the output
says so. Timed in-process reads end with the row as Go values, as an
application needs it: Strata's decoded row, pebble's value bytes decoded.

Scenarios (ratio = Strata / baseline):
  warm Get        after reading every file's first and last key and 100
                  sampled keys: p50/p99
                  latency and lookups/s of Get, hits and misses apart, on 1
                  goroutine and on GOMAXPROCS goroutines (Redis: --conns
                  connections, its peak GET/s); baseline pebble Get of the
                  same keys, and Redis GET over loopback.
  batches         GetBatch of --batch keys: keys/s; baselines pebble (one Get
                  per key) and Redis MGET.
  fixed rate      open loop at each of --rates req/s for --rate-duration, sent
                  by --workers senders (goroutines), each with its own
                  precomputed schedule: sender s sends requests s, s+workers,
                  ... at start + n/rate whether or not its earlier ones
                  returned, sleeping in between with nanosleep (Go timers wake
                  up to 1 ms late here) and waking 80 µs early; latency counts
                  from the scheduled time (no coordinated omission), so the
                  senders' own lateness is charged too, and reported apart
                  (--json: send_lag). No channels, no dispatcher and no
                  allocation per request in the generator, the same for every
                  target. p50/p99 of hits per target. A target that cannot
                  keep up shows "≥ … (N% dropped)": requests not sent within
                  --rate-duration after the run are dropped.
  freshness       a writer commits updates of 10 random keys every
                  --fresh-every for --fresh-duration while the lookup follows
                  the table (--refresh); p50/p99 time from a commit returning
                  to the new value being served, against the refresh interval.
  memory          Go heap in use and process RSS (VmRSS) after the warm-up,
                  and their growth since before the lookup opened, against the
                  table's data size on disk (and Redis's used_memory).

On the first shape's table, before its freshness run:
  HTTP service    (--http) the lookup server ("strata serve" with its
                  defaults, 1s refresh, no token) on a free 127.0.0.1 port:
                  by default its own process, this binary's serve, as Redis
                  is redis-server (--http-process=false: package server in
                  the benchmark's process, sharing its Go runtime with the
                  clients), read by the benchmark's own lean
                  HTTP/1.1 client (keep-alive on at most --conns connections,
                  one buffer per connection: about go-redis's cost per request,
                  so the client does not starve the server of the 2 cores they
                  share), keys sent as JSON; each answer's rows array is split
                  into the rows' JSON bytes, not decoded (a Redis client only
                  receives bytes too), every row checked to name its key, and
                  every 64th answer decoded in full and compared with the
                  in-process lookup's rows. Side by side with Redis on the
                  same keys (one after the other within each scenario):
                  single-key requests p50/p99 (hits, misses) on 1 connection,
                  peak requests/s on --conns, --batch-key requests keys/s
                  against MGET on 1 and on --conns connections, and the
                  fixed-rate runs, p50/p99 against Redis GET. Ratio = HTTP /
                  Redis, with the issue's targets beside: p99 under 1 ms at
                  10,000 req/s, peak single-key ≥ 0.5× Redis GET, batches ≥
                  Redis MGET keys/s. --in-process=false runs only this part
                  (and --s3) on the first shape, skipping pebble, the
                  in-process figures, freshness and memory.
  cold on S3      (--s3) the table copied to a bucket of a MinIO server the
                  benchmark starts on loopback (--minio; skipped, and said so,
                  when minio is not installed). Fresh Lookups (empty local
                  lookup-file cache) each Get one key of every data file: a
                  cold Get fetches the file and builds its lookup file;
                  --cold-lookups cold Gets at least, then warm Gets for
                  --duration. p50/p99 of cold and warm Gets, Lookup open time,
                  and bytes and requests fetched from storage per cold Get
                  (a counting wrapper of the storage), next to the same on
                  local disk.

Each closed-loop measurement lasts --duration. --quick shrinks everything
(50,000 rows, short runs) to finish in about a minute (HTTP and S3 included); flags given explicitly
still win. Prints the run's conditions (date, command, machine, load, git
revision) and a Markdown table; --json FILE also writes the raw numbers.
Scratch data goes to a temporary directory (or --dir) and is removed
afterwards.`

// newBenchLookupCmd is `strata bench lookup`.
func newBenchLookupCmd(e *env) *cobra.Command {
	cfg := bench.DefaultLookupConfig()
	var quick bool
	var jsonPath, shapes, rates, cpuProfile string
	httpProcess := true
	var pebbleCacheMB, cacheMB int64
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "Point lookups (in-process, over HTTP, cold on MinIO); baselines pebble and Redis",
		Long:  benchLookupHelp,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if quick {
				applyQuick(cmd, &cfg)
			}
			var err error
			if cfg.Shapes, cfg.Rates, err = parseShapesRates(shapes, rates); err != nil {
				return err
			}
			cfg.PebbleCache, cfg.CacheMemory = pebbleCacheMB<<20, cacheMB<<20
			if cfg.HTTP && httpProcess {
				if cfg.ServeBinary, err = os.Executable(); err != nil {
					return fmt.Errorf("--http-process: %w", err)
				}
			}
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			cfg.Progress = e.stderr
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			started, machine := time.Now(), bench.DescribeMachine()
			rep, err := bench.RunLookup(cmd.Context(), cfg)
			if perr := stop(); err == nil {
				err = perr
			}
			if err != nil {
				return err
			}
			if jsonPath != "" {
				if err := bench.WriteLookupJSON(jsonPath, rep); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n\n%s", bench.CommandConditions(started, commandLine(cmd), machine), bench.LookupMarkdown(rep))
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&quick, "quick", false, "shrink everything to finish in about a minute")
	f.IntVar(&cfg.Rows, "rows", cfg.Rows, "rows in the table")
	f.Int64Var(&cfg.KeySpace, "keys", cfg.KeySpace, "size of the key space")
	f.IntVar(&cfg.Buckets, "buckets", cfg.Buckets, "table buckets")
	f.StringVar(&shapes, "shapes", "compacted,runs", "table shapes to measure: compacted, runs")
	f.IntVar(&cfg.Sample, "sample", cfg.Sample, "present keys read (and as many absent ones)")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each closed-loop measurement")
	f.StringVar(&rates, "rates", "1000,10000", "open-loop request rates (req/s), comma-separated; \"\" for none")
	f.DurationVar(&cfg.RateDuration, "rate-duration", cfg.RateDuration, "length of each open-loop run")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, "open-loop senders, each on its own schedule")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "keys per GetBatch / MGET")
	f.DurationVar(&cfg.Refresh, "refresh", cfg.Refresh, "the lookup's background refresh interval")
	f.DurationVar(&cfg.FreshEvery, "fresh-every", cfg.FreshEvery, "interval between freshness commits")
	f.DurationVar(&cfg.FreshDuration, "fresh-duration", cfg.FreshDuration, "length of the freshness run (0: none)")
	f.IntVar(&cfg.Conns, "conns", cfg.Conns, "Redis and HTTP connections (and client goroutines) in parallel runs")
	f.Int64Var(&pebbleCacheMB, "pebble-cache-mb", 0, "pebble block cache in MiB (0: the same as Strata's, --cache-mb)")
	f.Int64Var(&cacheMB, "cache-mb", 0, "the Strata tables' lookup.cache-max-memory-size in MiB, their lookup files' block cache (0: the option's default, 256 MiB)")
	f.StringVar(&cfg.RedisServer, "redis-server", cfg.RedisServer, "redis-server binary (\"\": skip Redis)")
	f.BoolVar(&cfg.HTTP, "http", cfg.HTTP, "also measure the HTTP lookup service next to Redis (first shape)")
	f.BoolVar(&httpProcess, "http-process", httpProcess, "run the HTTP lookup server as its own process (this binary's serve), as Redis runs as its own; false: in the benchmark's process")
	f.BoolVar(&cfg.InProcess, "in-process", cfg.InProcess, "measure the in-process lookup next to pebble and Redis, freshness and memory (false: only --http and --s3)")
	f.BoolVar(&cfg.S3, "s3", cfg.S3, "also measure cold and warm lookups on MinIO next to local disk (first shape; skipped without minio)")
	f.StringVar(&cfg.Minio, "minio", "", "minio binary (default: minio in PATH, GOPATH/bin or GOBIN)")
	f.IntVar(&cfg.ColdLookups, "cold-lookups", cfg.ColdLookups, "least number of cold Gets per storage (one per data file and fresh Lookup)")
	f.StringVar(&cfg.Dir, "dir", "", "scratch directory (default: a temporary one)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	f.StringVar(&jsonPath, "json", "", "also write the raw numbers as JSON to this file")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark's process to this file (the in-process lookups and all clients; the HTTP server too with --http-process=false)")
	return cmd
}

// startCPUProfile starts profiling the process into path ("": nothing) and
// returns the function that stops it.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return nil
	}, nil
}

// applyQuick replaces the settings whose flags were not given with the
// quick scenario's.
func applyQuick(cmd *cobra.Command, cfg *bench.LookupConfig) {
	q := bench.QuickLookupConfig()
	set := map[string]func(){
		"rows":           func() { cfg.Rows = q.Rows },
		"sample":         func() { cfg.Sample = q.Sample },
		"duration":       func() { cfg.Duration = q.Duration },
		"rate-duration":  func() { cfg.RateDuration = q.RateDuration },
		"fresh-duration": func() { cfg.FreshDuration = q.FreshDuration },
	}
	for name, apply := range set {
		if !cmd.Flags().Changed(name) {
			apply()
		}
	}
}

// parseShapesRates parses --shapes and --rates.
func parseShapesRates(shapes, rates string) ([]bench.Shape, []int, error) {
	var ss []bench.Shape
	for _, s := range strings.Split(shapes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ss = append(ss, bench.Shape(s))
		}
	}
	var rs []int
	for _, r := range strings.Split(rates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		n, err := strconv.Atoi(r)
		if err != nil {
			return nil, nil, usagef("--rates: %q is not a number", r)
		}
		rs = append(rs, n)
	}
	return ss, rs, nil
}
