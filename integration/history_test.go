package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/maintain"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

var (
	historySeed = flag.Uint64("history.seed", 0,
		"seed of TestHistory's first round (0: from the clock)")
	historyDuration = flag.Duration("history.duration", 0,
		"how long TestHistory runs in all, in rounds of -history.round (default: one round)")
	historyRound = flag.Duration("history.round", 3*time.Second,
		"traffic of one TestHistory round; each round is a new table and one check")
	historyInject = flag.String("history.inject", "",
		"a fault TestHistory must catch: stale-scan, stale-lookup, dup-commit or broken-model")
)

// TestHistory runs concurrent writers (each checkpoint committed exactly
// once, retried through injected failures and lost answers of the
// snapshot publish), a compaction job, scanners of the latest snapshot, a
// table lookup refreshed in the background and by hand at once, a lookup
// server over HTTP, and two streaming readers (one of them restarted now
// and then, resuming by consumer id) against one table; records every
// operation's invocation, response and snapshot; and checks the history
// with porcupine against histModel (history_model_test.go): snapshot
// isolation and linearizability for scans, monotonic reads for lookups,
// exactly-once for checkpoints, no gap and no repeat for streams. After
// the traffic it also counts each checkpoint's snapshots in the table.
//
// The seed fixes the rows, the keys and the faults; the goroutines'
// interleaving is the machine's, so a replay (-history.seed) reruns the
// same traffic, not the same history. A failed check writes porcupine's
// visualization of the history and names its file.
//
// The long run (docs/testing.md):
//
//	go test ./integration -run 'TestHistory$' -history.duration=10m -timeout 0 -v
//
// A round with an odd seed runs on local disk, with an even one in memory
// (with -short, always in memory); rounds count their seeds up.
//
// -history.inject=stale-scan|stale-lookup|dup-commit|broken-model plants a
// fault the check must report (the run then fails).
func TestHistory(t *testing.T) {
	seed := *historySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	round := *historyRound
	if testing.Short() {
		round = min(round, 2*time.Second)
	}
	deadline := time.Now().Add(*historyDuration)
	var total histCounts
	rounds := 2 // one in memory, one on local disk: odd seeds' warehouse
	if testing.Short() {
		rounds = 1
	}
	for r := 0; r < rounds || time.Now().Before(deadline); r++ {
		s := seed + uint64(r)
		local := s%2 == 1 && !testing.Short()
		t.Logf("round %d (local disk: %v): seed %d (replay: go test ./integration -run 'TestHistory$' -history.seed=%d)", r, local, s, s)
		h := runHistory(t, histConfig{seed: s, traffic: round, inject: *historyInject, local: local})
		start := time.Now()
		checkHistory(t, h, *historyInject == "broken-model")
		t.Logf("seed %d: checked %d operations in %v (%d steps)", s, len(h.ops), time.Since(start).Round(time.Millisecond), histSteps.Swap(0))
		total.add(h.counts)
		if t.Failed() {
			break
		}
	}
	t.Logf("checked: %s", total)
}

type histConfig struct {
	seed    uint64
	traffic time.Duration
	inject  string
	local   bool // a local-disk warehouse instead of memory
}

// histCounts are what a run did, for the log.
type histCounts struct {
	rounds, commits, retries, conflicts, scans, lookups, served, streamed, restarts int64
	faults                                                                          map[string]int64
}

func (c *histCounts) add(o histCounts) {
	c.rounds++
	c.commits += o.commits
	c.retries += o.retries
	c.conflicts += o.conflicts
	c.scans += o.scans
	c.lookups += o.lookups
	c.served += o.served
	c.streamed += o.streamed
	c.restarts += o.restarts
	if c.faults == nil {
		c.faults = map[string]int64{}
	}
	for k, v := range o.faults {
		c.faults[k] += v
	}
}

func (c histCounts) String() string {
	return fmt.Sprintf("%d rounds: %d checkpoints committed (%d attempts retried after a failure, %d redone after a conflict), "+
		"%d scans, %d table lookups, %d served lookups, %d streamed snapshots (%d stream restarts), faults %v",
		c.rounds, c.commits, c.retries, c.conflicts, c.scans, c.lookups, c.served, c.streamed, c.restarts, c.faults)
}

// histRun is one run's record.
type histRun struct {
	ops     []porcupine.Operation
	acked   map[ckpt]int64 // checkpoint → the APPEND snapshot its commit reported
	fs      storage.Storage
	counts  histCounts
	clients []string
}

// recorder collects operations from all goroutines, with timestamps from
// one monotonic clock.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (r *recorder) now() int64 { return time.Since(r.start).Nanoseconds() }

func (r *recorder) add(client int, call int64, in histInput, out histOutput) {
	ret := r.now()
	r.mu.Lock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	r.mu.Unlock()
}

// histMaxTraffic bounds a round's traffic when some kind of operation is
// slow to complete.
const histMaxTraffic = 2 * time.Minute

const (
	histWriters  = 3
	histOwnKeys  = 16 // keys writer w owns: [w*16, w*16+16)
	histShared   = 8  // keys every writer writes now and then, after the owned ones
	histKeySpace = histWriters*histOwnKeys + histShared
)

// histCkptRows are writer w's rows at checkpoint c: the same on every
// attempt, so a redone or retried checkpoint writes exactly them.
func histCkptRows(seed uint64, w, c int) []histChange {
	rng := rand.New(rand.NewPCG(seed, uint64(w)<<32|uint64(c)))
	rows := make([]histChange, 3+rng.IntN(6))
	for i := range rows {
		id := int64(w*histOwnKeys + rng.IntN(histOwnKeys))
		if rng.IntN(25) == 0 {
			id = int64(histWriters*histOwnKeys + rng.IntN(histShared))
		}
		rows[i] = histChange{id: id, v: fmt.Sprintf("w%d-c%d-%d", w, c, i), n: 1}
	}
	return rows
}

func runHistory(t *testing.T, cfg histConfig) *histRun {
	t.Helper()
	var base storage.Storage = storage.NewMemory()
	if cfg.local {
		l, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		base = l
	}
	fs := newFaultStorage(base, cfg.seed)
	cat := catalog.New(fs)
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, v STRING, n BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(
		"bucket", "2", "merge-engine", "aggregation",
		"fields.v.aggregate-function", "last_non_null_value", "fields.n.aggregate-function", "sum",
		"changelog-producer", "input", "num-sorted-run.compaction-trigger", "3",
		// Nothing expires: every snapshot stays readable for the streams.
		"snapshot.num-retained.min", "100000", "snapshot.num-retained.max", "100000",
		"commit.max-retries", "3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := catalog.Identifier{Database: "db", Table: "hist"}
	tb, err := cat.CreateTable(context.Background(), id, sc)
	if err != nil {
		t.Fatal(err)
	}
	// The traffic runs for cfg.traffic, and on (up to histMaxTraffic) until
	// every kind of operation has completed a few times, so that a slow
	// machine (the race detector) still checks something of each.
	ctx, cancel := context.WithTimeout(context.Background(), histMaxTraffic)
	defer cancel()
	rec := &recorder{start: time.Now()}
	h := &histRun{acked: map[ckpt]int64{}, fs: base}
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []error
		counts  struct{ commits, retries, conflicts, scans, lookups, served, streamed, restarts atomic.Int64 }
		ackedMu sync.Mutex
	)
	fail := func(err error) {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
		cancel()
	}
	client := func(name string) int {
		h.clients = append(h.clients, name)
		return len(h.clients) - 1
	}

	// Writers: one long-lived Write each, a checkpoint at a time.
	for w := range histWriters {
		cid := client(fmt.Sprintf("writer %d", w))
		wg.Go(func() {
			hw := &histWriter{t: tb, w: w, seed: cfg.seed}
			defer hw.close()
			for c := 1; ctx.Err() == nil; c++ {
				rows := histCkptRows(cfg.seed, w, c)
				call := rec.now()
				snap, err := hw.commit(ctx, c, rows)
				counts.retries.Add(hw.retries)
				counts.conflicts.Add(hw.conflicts)
				hw.retries, hw.conflicts = 0, 0
				if err != nil {
					fail(fmt.Errorf("writer %d checkpoint %d: %w", w, c, err))
					return
				}
				rec.add(cid, call, histInput{kind: opCommit, ck: ckpt{w, c}, rows: rows}, histOutput{snapshot: snap})
				counts.commits.Add(1)
				ackedMu.Lock()
				h.acked[ckpt{w, c}] = snap
				ackedMu.Unlock()
				if cfg.inject == "dup-commit" && c == 3 {
					// A checkpoint committed again under another
					// identifier, as a committer that lost track would.
					if _, err := hw.commit(ctx, 1000+c, rows); err != nil {
						fail(err)
						return
					}
				}
			}
		})
	}

	// A compaction job, as strata maintain runs it beside the writers.
	wg.Go(func() {
		job, err := maintain.New(cat, maintain.WithTables(id), maintain.WithCommitUser("compactor"),
			maintain.WithFullCompactionEvery(500*time.Millisecond))
		if err != nil {
			fail(err)
			return
		}
		for ctx.Err() == nil {
			if _, err := job.Round(ctx); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("compaction job: %w", err))
				return
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	})

	// Scanners of the latest snapshot, through the columnar read.
	for i := range 2 {
		cid := client(fmt.Sprintf("scanner %d", i))
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				call := rec.now()
				opts := []table.ScanOption{table.WithParallelism(2)}
				if cfg.inject == "stale-scan" && n%7 == 6 {
					if id, err := tb.Snapshots().LatestID(ctx); err == nil && id > 1 {
						opts = append(opts, table.WithSnapshot(id-1)) // claims the latest, reads the one before
					}
				}
				snap, rows, err := histScan(ctx, tb.NewScan(opts...))
				if errors.Is(err, errInjected) {
					continue // a read the fault storage failed: no answer
				}
				if err != nil {
					fail(fmt.Errorf("scan: %w", err))
					return
				}
				rec.add(cid, call, histInput{kind: opScan}, histOutput{snapshot: snap, rows: rows})
				counts.scans.Add(1)
				sleepCtx(ctx, time.Millisecond)
			}
		})
	}

	// A table lookup refreshed in the background and, at the same time, by
	// an explicit Refresh loop; two readers ask it.
	lk, err := tb.NewLookup(context.Background(), table.WithRefreshInterval(3*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := lk.Refresh(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, errInjected) {
				fail(fmt.Errorf("lookup refresh: %w", err))
				return
			}
			sleepCtx(ctx, 2*time.Millisecond)
		}
	})
	var pinned atomic.Pointer[table.Lookup] // stale-lookup: a lookup pinned at snapshot 1
	for i := range 2 {
		cid := client(fmt.Sprintf("lookup reader %d", i))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.seed, 100+uint64(i)))
			for n := 0; ctx.Err() == nil; n++ {
				keys := histKeys(rng)
				call := rec.now()
				l := lk
				if cfg.inject == "stale-lookup" && i == 0 && n%10 == 9 {
					if p := histPinned(ctx, tb, &pinned); p != nil {
						l = p
					}
				}
				res, err := l.GetBatch(ctx, keysRows(keys))
				if errors.Is(err, errInjected) {
					continue
				}
				if err != nil {
					fail(fmt.Errorf("lookup: %w", err))
					return
				}
				rec.add(cid, call, histInput{kind: opLookup, client: clientLookup, keys: keys}, histOutput{snapshot: res.Snapshot, rows: lookupRows(res.Rows)})
				counts.lookups.Add(1)
				sleepCtx(ctx, time.Millisecond)
			}
		})
	}
	defer func() {
		if p := pinned.Load(); p != nil {
			p.Close()
		}
	}()

	// The lookup server, asked over HTTP by two clients.
	srv, err := server.New(context.Background(), cat, server.WithTables(id), server.WithRefreshInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	url := "http://" + ln.Addr().String() + "/v1/tables/db.hist/lookup"
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := range 2 {
		cid := client(fmt.Sprintf("server client %d", i))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.seed, 200+uint64(i)))
			for ctx.Err() == nil {
				keys := histKeys(rng)
				call := rec.now()
				snap, rows, err := serverLookup(ctx, hc, url, keys)
				if err != nil && strings.Contains(err.Error(), errInjected.Error()) {
					continue
				}
				if err != nil {
					fail(fmt.Errorf("served lookup: %w", err))
					return
				}
				rec.add(cid, call, histInput{kind: opLookup, client: clientServer, keys: keys}, histOutput{snapshot: snap, rows: rows})
				counts.served.Add(1)
			}
		})
	}

	// Two streaming readers from the first snapshot; the second stops now
	// and then in the middle of a snapshot and resumes by consumer id.
	for i := range 2 {
		name := fmt.Sprintf("stream %d", i)
		cid := client(name)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.seed, 300+uint64(i)))
			consumer := fmt.Sprintf("hist-%d", i)
			last := rec.now() // when the previous snapshot was done
			for ctx.Err() == nil {
				var (
					cur     []histChange
					curSnap int64
					restart bool
				)
				done := func(_ context.Context, snap int64) error {
					if snap != curSnap && len(cur) > 0 {
						return fmt.Errorf("snapshot %d done after changes of %d", snap, curSnap)
					}
					rec.add(cid, last, histInput{kind: opStream, client: clientStream0 + histClient(i)}, histOutput{snapshot: snap, changes: cur})
					counts.streamed.Add(1)
					last, cur = rec.now(), nil
					restart = i == 1 && rng.IntN(4) == 0
					return nil
				}
				st, err := tb.NewStream(table.WithStart(table.FromEarliest()), table.WithFollow(3*time.Millisecond),
					table.WithConsumer(consumer), table.OnSnapshotDone(done))
				if err != nil {
					fail(err)
					return
				}
				stopped := false
				for ch, err := range st.Changes(ctx) {
					if errors.Is(err, errInjected) {
						stopped = true // resumed from the consumer
						break
					}
					if err != nil {
						fail(fmt.Errorf("%s: %w", name, err))
						return
					}
					if restart {
						// Stop inside the next snapshot: its changes so far
						// are not done and come again from the consumer.
						stopped = true
						break
					}
					if ch.Kind != spec.RowKindInsert {
						fail(fmt.Errorf("%s: change of kind %v", name, ch.Kind))
						return
					}
					curSnap = ch.Snapshot
					cur = append(cur, histChange{id: ch.Row[0].(int64), v: ch.Row[1].(string), n: ch.Row[2].(int64)})
				}
				if !stopped {
					return
				}
				counts.restarts.Add(1)
			}
		})
	}

	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for rec.now() < cfg.traffic.Nanoseconds() || counts.commits.Load() < 5 || counts.scans.Load() < 3 ||
			counts.lookups.Load() < 3 || counts.served.Load() < 3 || counts.streamed.Load() < 3 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		cancel()
	})
	wg.Wait()
	stopServe()
	if err := <-served; err != nil {
		t.Errorf("server: %v", err)
	}
	for _, err := range errs {
		t.Errorf("seed %d: %v", cfg.seed, err)
	}
	h.ops = rec.ops
	h.counts = histCounts{commits: counts.commits.Load(), retries: counts.retries.Load(), conflicts: counts.conflicts.Load(),
		scans: counts.scans.Load(), lookups: counts.lookups.Load(), served: counts.served.Load(),
		streamed: counts.streamed.Load(), restarts: counts.restarts.Load(), faults: fs.counts()}
	// A last scan, quiet: it must see every acknowledged commit.
	call := rec.now()
	snap, rows, err := histScan(context.Background(), tb.NewScan())
	if err != nil {
		t.Fatalf("seed %d: last scan: %v", cfg.seed, err)
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client("last scan"), Input: histInput{kind: opScan}, Call: call,
		Output: histOutput{snapshot: snap, rows: rows}, Return: rec.now()})
	t.Logf("seed %d: %d operations in %v; %s", cfg.seed, len(h.ops), time.Duration(rec.now()).Round(time.Millisecond), h.counts)
	if c := h.counts; c.commits < 5 || c.scans < 3 || c.lookups < 3 || c.served < 3 || c.streamed < 3 {
		t.Errorf("seed %d: some kind of operation did not complete 3 times in %v: %s", cfg.seed, histMaxTraffic, h.counts)
	}
	return h
}

// checkHistory checks h against the model and the table's snapshots
// against the acknowledged checkpoints.
func checkHistory(t *testing.T, h *histRun, brokenModel bool) {
	t.Helper()
	model := histModel(brokenModel)
	res, info := porcupine.CheckOperationsVerbose(model, h.ops, time.Minute)
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Errorf("the history check did not finish in a minute (%d operations)", len(h.ops))
	default:
		// Kept after the test, to look at in a browser.
		path := filepath.Join(os.TempDir(), fmt.Sprintf("strata-history-%d.html", time.Now().UnixNano()))
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			path = "none: " + err.Error()
		}
		t.Errorf("the history of %d operations is not linearizable under the table's model (visualization: %s); %s",
			len(h.ops), path, historyHint(h.ops, info))
	}
	checkExactlyOnce(t, h)
}

// historyHint points at the culprit next to porcupine's visualization:
// the longest order porcupine found that explains part of the history,
// and the operation with the earliest response outside it, which no order
// could place.
func historyHint(ops []porcupine.Operation, info porcupine.LinearizationInfo) string {
	var best []porcupine.Operation
	for _, part := range info.PartialLinearizationsOperations() {
		for _, lin := range part {
			if len(lin) > len(best) {
				best = lin
			}
		}
	}
	ordered := map[[2]int64]bool{}
	for _, op := range best {
		ordered[[2]int64{op.Call, op.Return}] = true
	}
	var stuck *porcupine.Operation
	for i := range ops {
		if !ordered[[2]int64{ops[i].Call, ops[i].Return}] && (stuck == nil || ops[i].Return < stuck.Return) {
			stuck = &ops[i]
		}
	}
	hint := fmt.Sprintf("the longest order found explains %d operations", len(best))
	if len(best) > 0 {
		last := best[len(best)-1]
		hint += fmt.Sprintf(", ending with %s", describeHistOp(last.Input, last.Output))
	}
	if stuck != nil {
		hint += fmt.Sprintf("; no order places %s (called at %v, answered at %v)", describeHistOp(stuck.Input, stuck.Output),
			time.Duration(stuck.Call), time.Duration(stuck.Return))
	}
	return hint
}

// checkExactlyOnce reads every snapshot: each checkpoint has at most one
// APPEND snapshot, and an acknowledged one has exactly the one its commit
// reported.
func checkExactlyOnce(t *testing.T, h *histRun) {
	t.Helper()
	ctx := context.Background()
	tb, err := catalog.New(h.fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "hist"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tb.Snapshots().IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appends := map[string][]int64{}
	for _, id := range ids {
		s, err := tb.Snapshots().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.CommitKind == spec.CommitKindAppend {
			k := fmt.Sprintf("%s/%d", s.CommitUser, s.CommitIdentifier)
			appends[k] = append(appends[k], id)
		}
	}
	for k, snaps := range appends {
		if len(snaps) > 1 {
			t.Errorf("checkpoint %s committed %d times: snapshots %v", k, len(snaps), snaps)
		}
	}
	for ck, snap := range h.acked {
		k := fmt.Sprintf("writer-%d/%d", ck.writer, ck.n)
		if got := appends[k]; len(got) != 1 || got[0] != snap {
			t.Errorf("checkpoint %s acknowledged at snapshot %d, the table has it at %v", k, snap, got)
		}
	}
}

// histScan plans s and reads its splits as Arrow batches.
func histScan(ctx context.Context, s *table.Scan) (int64, map[int64]histRow, error) {
	plan, err := s.Plan(ctx)
	if err != nil {
		return 0, nil, err
	}
	rows := map[int64]histRow{}
	if plan.Snapshot == nil {
		return 0, rows, nil
	}
	for _, sp := range plan.Splits {
		for b, err := range s.ReadSplit(ctx, sp) {
			if err != nil {
				return 0, nil, err
			}
			ids, vs, ns := b.Column(0).(*array.Int64), b.Column(1).(*array.String), b.Column(2).(*array.Int64)
			for i := range int(b.NumRows()) {
				if _, dup := rows[ids.Value(i)]; dup {
					return 0, nil, fmt.Errorf("key %d read twice", ids.Value(i))
				}
				rows[ids.Value(i)] = histRow{v: vs.Value(i), n: ns.Value(i)}
			}
			b.Release()
		}
	}
	return plan.Snapshot.ID, rows, nil
}

func histKeys(rng *rand.Rand) []int64 {
	keys := make([]int64, 1+rng.IntN(4))
	for i := range keys {
		keys[i] = rng.Int64N(histKeySpace)
	}
	return keys
}

func keysRows(keys []int64) []spec.Row {
	out := make([]spec.Row, len(keys))
	for i, k := range keys {
		out[i] = spec.Row{k}
	}
	return out
}

func lookupRows(rows []spec.Row) map[int64]histRow {
	out := map[int64]histRow{}
	for _, r := range rows {
		if r != nil {
			out[r[0].(int64)] = histRow{v: r[1].(string), n: r[2].(int64)}
		}
	}
	return out
}

// histPinned opens, once, a lookup pinned at snapshot 1 (stale-lookup).
func histPinned(ctx context.Context, tb *table.Table, p *atomic.Pointer[table.Lookup]) *table.Lookup {
	if l := p.Load(); l != nil {
		return l
	}
	l, err := tb.NewLookup(ctx, table.WithLookupSnapshot(1))
	if err != nil {
		return nil
	}
	if !p.CompareAndSwap(nil, l) {
		l.Close()
	}
	return p.Load()
}

// serverLookup asks the lookup server for keys.
func serverLookup(ctx context.Context, hc *http.Client, url string, keys []int64) (int64, map[int64]histRow, error) {
	var body bytes.Buffer
	body.WriteString(`{"keys":[`)
	for i, k := range keys {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"id":%d}`, k)
	}
	body.WriteString(`]}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Snapshot int64 `json:"snapshot"`
		Rows     []*struct {
			ID int64  `json:"id"`
			V  string `json:"v"`
			N  int64  `json:"n"`
		} `json:"rows"`
	}
	if resp.StatusCode != http.StatusOK {
		var e bytes.Buffer
		e.ReadFrom(resp.Body)
		return 0, nil, fmt.Errorf("status %d: %s", resp.StatusCode, e.String())
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, nil, err
	}
	if len(out.Rows) != len(keys) {
		return 0, nil, fmt.Errorf("%d rows for %d keys", len(out.Rows), len(keys))
	}
	rows := map[int64]histRow{}
	for i, r := range out.Rows {
		if r != nil {
			if r.ID != keys[i] {
				return 0, nil, fmt.Errorf("row %d has key %d, asked %d", i, r.ID, keys[i])
			}
			rows[r.ID] = histRow{v: r.V, n: r.N}
		}
	}
	return out.Snapshot, rows, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
