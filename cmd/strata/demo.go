package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/maintain"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// demoTable is the table the demo (re)creates.
var demoTable = catalog.Identifier{Database: "strata_demo", Table: "risk_features"}

// demoFlags are strata demo's flags.
type demoFlags struct {
	duration, maintainEvery, refresh time.Duration
	rows, rate                       int64
	users, checkers                  int
	seed                             uint64
	json                             bool
}

// demoHelp is strata demo's help.
const demoHelp = `Run a small payments-risk feature store for --duration (30 s): features
streaming into a table, served by key while they change, kept compact by
the maintenance job, followed as a changelog and scanned in batch. Every
result is checked against an in-memory model.

The table, strata_demo.risk_features in the warehouse (dropped and created
again), holds one row per user_id. Three sources write to it, each setting
only its own columns: it is a partial-update table in which each source
owns a sequence group, ordered by the source's event time, and the
counters are aggregated (sum, max) inside their group:
  login stream     login_ts:  last_ip, device_id, login_count (sum)
  payments stream  txn_ts:    last_amount, txn_count (sum), txn_amount_sum
                              (sum), txn_amount_max (max), flagged_count (sum)
  credit bureau    bureau_ts: credit_score
A late event (a login uploaded by a phone that was offline, a bureau
correction) still counts, but does not overwrite the newer values of its
group. Compaction produces the changelog by looking keys up
(changelog-producer = lookup).

What runs, all in this process:
  - a backfill: one commit loading a login and a credit report per user;
  - a generator of --rate events a second over --users users: 70% payments,
    25% logins, 5% credit reports;
  - a risk check per payment: it looks the user's features up over HTTP
    from the lookup server (strata serve, started on 127.0.0.1) and flags
    the payment when its device is not the user's last login device and it
    is 1,000.00 or more or the credit score is below 580;
  - one writer of every event, committing every second; it is write-only,
    leaving compaction and expiration to
  - the maintenance job (strata maintain) every --maintain-every: it
    compacts (producing the changelog), expires snapshots beyond the last
    30, and deletes orphan files older than 1 h;
  - a change stream (strata tail --follow, consumer strata-demo) that
    replays the changelog into a copy of the table;
  - at the end, a last compaction and a batch scan of the risky users
    (flagged_count > 0).

A status line on stderr shows rows written and rows per second, the latest
snapshot, lookup latency (p50, p99 over the last interval), freshness (from
a commit to the first lookup answered from it), changes streamed and
payments flagged. At the end the demo checks that a full scan, a lookup of
every user over HTTP and the replayed changelog each equal the model, and
that the risky users found are the model's; prints a summary as "key:
value" lines (or with --json one JSON object on stdout; times in _ms and
_s keys; freshness_* is from a commit to the first lookup answered from
it, event_to_lookup_* from the oldest event of a commit being generated to
that lookup); and prints commands to explore the table, which it leaves in
place. A failed check exits 1.

It stops after --duration or --rows events, whichever comes first; SIGINT
(Ctrl-C) stops it early, still committing, checking and summarizing.

Examples:
  strata demo
  strata demo --duration 10s --users 1000 --json
  strata demo --warehouse s3://bucket/demo`

func newDemoCmd(e *env) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [--duration 30s] [--rows N] [--users N] [--rate N] [--json]",
		Short: "Run a live feature-store demo: stream, serve, compact, follow and scan a risk feature table",
		Long:  demoHelp,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runDemo(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "how long to stream events")
	fl.Int64Var(&f.rows, "rows", 0, "stop after this many events (0: no limit)")
	fl.IntVar(&f.users, "users", 10_000, "number of users")
	fl.Int64Var(&f.rate, "rate", 5_000, "events generated per second")
	fl.DurationVar(&f.maintainEvery, "maintain-every", 2*time.Second, "how often the maintenance job runs a round")
	fl.DurationVar(&f.refresh, "refresh", 100*time.Millisecond, "how often the lookup server moves to the latest snapshot")
	fl.IntVar(&f.checkers, "checkers", 8, "risk checks in flight at once (HTTP connections)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the event generator (0: random; the summary prints it)")
	fl.BoolVar(&f.json, "json", false, "print the summary as JSON on stdout (progress and hints go to stderr)")
	return cmd
}

func (f *demoFlags) check() error {
	switch {
	case f.duration <= 0:
		return usagef("--duration must be positive")
	case f.rows < 0:
		return usagef("--rows must not be negative")
	case f.users < 1:
		return usagef("--users must be at least 1")
	case f.rate < 1:
		return usagef("--rate must be at least 1")
	case f.maintainEvery <= 0 || f.refresh <= 0:
		return usagef("--maintain-every and --refresh must be positive")
	case f.checkers < 1:
		return usagef("--checkers must be at least 1")
	}
	if f.seed == 0 {
		f.seed = rand.Uint64()
	}
	return nil
}

// demoRun is one run of the demo: the table and the jobs around it.
type demoRun struct {
	e      *env
	f      demoFlags
	info   io.Writer // what the run says as it goes: stdout, stderr with --json
	cat    *catalog.Catalog
	t      *table.Table
	began  time.Time     // when the command started
	start  time.Time     // when the events started
	ran    time.Duration // how long events streamed
	latest atomic.Int64  // the newest snapshot committed by the run

	fresh    *freshness
	client   *lookupClient
	risk     *riskChecker
	writer   *demoWriter
	follower *changeFollower
	maint    maintStats
}

// maintStats adds up the maintenance job's rounds.
type maintStats struct {
	rounds, compactions, expired, orphans atomic.Int64
}

func runDemo(ctx context.Context, e *env, f demoFlags) error {
	r := &demoRun{e: e, f: f, info: e.stdout, fresh: newFreshness(), began: time.Now()}
	if f.json {
		r.info = e.stderr
	}
	// The run's own work outlives a SIGINT: it commits, checks and reports.
	work := context.WithoutCancel(ctx)
	if err := r.setup(work); err != nil {
		return err
	}
	srv, err := r.startServer(work)
	if err != nil {
		return err
	}
	defer srv.stop()
	r.follower = newChangeFollower(r.t)
	w, err := r.t.NewWrite(work)
	if err != nil {
		return err
	}
	defer w.Close()
	r.writer = &demoWriter{t: r.t, w: w, commit: r.t.NewCommit(demoCommitUser, table.WithoutExpire()),
		model: newDemoModel(), fresh: r.fresh, every: time.Second, onSnapshot: r.committed}
	gen := newGenerator(f.seed, f.users)
	snap, err := r.writer.backfill(work, gen, f.users)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.info, "backfilled %s users (a login and a credit report each) in snapshot %d\n", count(int64(f.users)), snap)
	// A failed background job ends the stream at once rather than after
	// --duration: its error is the run's.
	streamCtx, stopStream := context.WithCancelCause(ctx)
	defer stopStream(nil)
	follow := startJob(work, func(c context.Context) error { return r.follower.follow(c, 200*time.Millisecond) }, stopStream)
	maint := startJob(work, r.maintainLoop, stopStream)
	fmt.Fprintf(r.info, "streaming %s events a second for %s (seed %d); Ctrl-C stops early\n", count(f.rate), f.duration, f.seed)
	r.start = time.Now()
	prog := startDemoProgress(r)
	perr := r.stream(streamCtx, work, gen)
	r.ran = time.Since(r.start)
	prog.finish()
	merr := maint.stop()
	ferr := follow.stop()
	if err := errors.Join(perr, merr, ferr); err != nil {
		return err
	}
	fmt.Fprintf(r.info, "stopped after %s; compacting once more and checking the results\n", r.ran.Round(100*time.Millisecond))
	sum, cerr := r.finish(work)
	if sum == nil {
		return cerr
	}
	sum.Interrupted = ctx.Err() != nil
	sum.Checks = "passed: scan, lookups and changelog equal the model"
	if cerr != nil {
		sum.Checks = "FAILED: " + cerr.Error()
	}
	if err := r.report(sum); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("demo check failed: %w", cerr)
	}
	return nil
}

// setup (re)creates the demo table, with the change stream's consumer
// starting at its first snapshot.
func (r *demoRun) setup(ctx context.Context) error {
	cat, err := r.e.catalog(ctx)
	if err != nil {
		return err
	}
	r.cat = cat
	if err := cat.DropTable(ctx, demoTable); err == nil {
		fmt.Fprintf(r.info, "dropped the previous %s\n", demoTable)
	} else if !errors.Is(err, spec.ErrNotFound) {
		return err
	}
	fields, err := spec.ParseColumns(demoColumns)
	if err != nil {
		return err
	}
	sc, err := spec.NewSchema(fields, nil, []string{"user_id"}, demoOptions(), nil)
	if err != nil {
		return err
	}
	if r.t, err = cat.CreateTable(ctx, demoTable, sc); err != nil {
		return err
	}
	if err := r.t.ResetConsumer(ctx, demoConsumer, 1); err != nil {
		return err
	}
	fmt.Fprintf(r.info, "created %s in %s: features of %d users from 3 sources (partial-update, changelog-producer=lookup, 4 buckets)\n",
		demoTable, r.e.location(), r.f.users)
	return nil
}

// demoServer is the lookup server running in the process.
type demoServer struct {
	addr string
	job  *job
}

func (s *demoServer) stop() { _ = s.job.stop() }

// startServer starts the lookup server on a free local port, serving the
// demo table.
func (r *demoRun) startServer(ctx context.Context) (*demoServer, error) {
	srv, err := server.New(ctx, r.cat, server.WithTables(demoTable), server.WithRefreshInterval(r.f.refresh))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	addr := ln.Addr().String()
	fmt.Fprintf(r.info, "lookup server on http://%s (POST /v1/tables/%s/lookup)\n", addr, demoTable)
	r.client = newLookupClient(addr, demoTable.String(), r.f.checkers)
	r.risk = &riskChecker{client: r.client, fresh: r.fresh}
	return &demoServer{addr: addr, job: startJob(ctx, func(c context.Context) error { return srv.Serve(c, ln) }, nil)}, nil
}

// stream runs the pipeline until --duration, --rows or a SIGINT (sigCtx):
// generator → risk checks (payments) → writer. The writer commits what it
// has before stream returns.
func (r *demoRun) stream(sigCtx, ctx context.Context, gen *generator) error {
	g, gctx := errgroup.WithContext(ctx)
	genCtx, cancel := context.WithTimeout(sigCtx, r.f.duration)
	defer cancel()
	genCtx, cancelGen := context.WithCancel(genCtx)
	defer cancelGen()
	go func() { // a failed stage stops the generator
		<-gctx.Done()
		cancelGen()
	}()
	payments := make(chan demoEvent, 256)
	writes := make(chan demoEvent, 1024)
	var producers sync.WaitGroup
	producers.Add(1 + r.f.checkers)
	g.Go(func() error {
		defer producers.Done()
		defer close(payments)
		gen.run(genCtx, r.f.rate, r.f.rows, payments, writes)
		return nil
	})
	for range r.f.checkers {
		g.Go(func() error {
			defer producers.Done()
			return r.risk.run(gctx, payments, writes)
		})
	}
	go func() {
		producers.Wait()
		close(writes)
	}()
	g.Go(func() error { return r.writer.run(gctx, writes) })
	return g.Wait()
}

// committed notes a snapshot the run committed.
func (r *demoRun) committed(snap int64) {
	for {
		cur := r.latest.Load()
		if snap <= cur || r.latest.CompareAndSwap(cur, snap) {
			return
		}
	}
}

// maintainLoop runs a maintenance round every --maintain-every until ctx
// ends.
func (r *demoRun) maintainLoop(ctx context.Context) error {
	job, err := r.maintainJob()
	if err != nil {
		return err
	}
	tick := time.NewTicker(r.f.maintainEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := r.maintainRound(ctx, job); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// maintainJob is the demo's maintenance job over its table: compaction,
// expiration and orphan cleaning, as strata maintain runs them (with its
// smallest safe orphan age: no orphans are old enough in a demo).
func (r *demoRun) maintainJob() (*maintain.Job, error) {
	return maintain.New(r.cat, maintain.WithTables(demoTable), maintain.WithCommitUser("strata-demo-maintain"),
		maintain.WithOrphanCleaning(minOrphanAge))
}

// maintainRound runs one round and counts what it did.
func (r *demoRun) maintainRound(ctx context.Context, job *maintain.Job) error {
	reps, err := job.Round(ctx)
	if err != nil {
		return fmt.Errorf("maintenance: %w", err)
	}
	r.maint.rounds.Add(1)
	for _, rep := range reps {
		if rep.Err != nil {
			return fmt.Errorf("maintenance of %s: %w", rep.Table, rep.Err)
		}
		if s := rep.Compaction.Snapshot; s > 0 {
			r.maint.compactions.Add(1)
			r.committed(s)
		}
		r.maint.expired.Add(rep.Compaction.Expired.To - rep.Compaction.Expired.From + rep.Expired.To - rep.Expired.From)
		r.maint.orphans.Add(int64(len(rep.Orphans.Orphans)))
	}
	return nil
}

// job is a goroutine running fn until stopped.
type job struct {
	cancel context.CancelFunc
	done   chan error
}

// startJob runs fn in a goroutine; failed, if not nil, is called with its
// error as soon as it fails.
func startJob(ctx context.Context, fn func(context.Context) error, failed func(error)) *job {
	ctx, cancel := context.WithCancel(ctx)
	j := &job{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := fn(ctx)
		if err != nil && failed != nil {
			failed(err)
		}
		j.done <- err
	}()
	return j
}

// stop cancels the job and returns its error.
func (j *job) stop() error {
	j.cancel()
	return <-j.done
}

// demoProg is how the suggested commands name this program: "go run
// ./cmd/strata" when it runs from go run's temporary build.
func demoProg() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/strata"
	}
	return "strata"
}
