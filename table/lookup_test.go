package table

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var lookupSeed = flag.Uint64("lookup.seed", 0, "TestLookupModel: replay this seed")

// TestLookupModel: random writes, deletes and compactions on every merge
// engine and bucket mode; after each commit and Refresh, GetBatch of every
// key of the key space (present and absent) equals a full scan of the same
// snapshot.
func TestLookupModel(t *testing.T) {
	seed := *lookupSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./table -run TestLookupModel -lookup.seed=%d)", seed, seed)
	engines := []struct {
		name    string
		opts    []string
		deletes bool
	}{
		{"deduplicate", nil, true},
		{"deduplicate-dv", []string{"deletion-vectors.enabled", "true"}, true},
		{"deduplicate-seqfield", []string{"sequence.field", "a"}, true},
		{"partial-update", []string{"merge-engine", "partial-update"}, false},
		{"partial-update-dv", []string{"merge-engine", "partial-update", "deletion-vectors.enabled", "true",
			"partial-update.remove-record-on-delete", "true"}, true},
		{"aggregation", []string{"merge-engine", "aggregation", "fields.a.aggregate-function", "sum"}, true},
		{"first-row", []string{"merge-engine", "first-row"}, false},
		{"lookup-changelog", []string{"changelog-producer", "lookup"}, true},
		// A cache far smaller than the table: every lookup file is evicted
		// again at once, and the answers stay the same.
		{"tiny-cache", []string{"lookup.cache-max-disk-size", "1 kb", "lookup.cache-max-memory-size", "1 kb"}, true},
		{"tiny-cache-dv", []string{"deletion-vectors.enabled", "true",
			"lookup.cache-max-disk-size", "1 kb", "lookup.cache-max-memory-size", "1 kb"}, true},
	}
	modes := []struct {
		name string
		pk   []string
		opts []string
	}{
		{"fixed", []string{"p", "id"}, []string{"bucket", "3"}},
		{"dynamic", []string{"p", "id"}, []string{"bucket", "-1", "dynamic-bucket.target-row-num", "15"}},
		{"cross-partition", []string{"id"}, []string{"bucket", "-1", "dynamic-bucket.target-row-num", "15"}},
	}
	for ei, e := range engines {
		for mi, m := range modes {
			t.Run(e.name+"/"+m.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(ei*10+mi)))
				runLookupModel(t, rng, e.deletes, m.pk, append(append([]string{}, m.opts...), e.opts...))
			})
		}
	}
}

func runLookupModel(t *testing.T, rng *rand.Rand, deletes bool, pk, opts []string) {
	columns := "p STRING NOT NULL, id BIGINT NOT NULL, a BIGINT, b STRING"
	if slices.Contains(opts, "aggregation") && !slices.Contains(pk, "p") {
		// Cross-partition: p is a value column whose default aggregate
		// retracts it to null, which the writer refuses for NOT NULL p.
		columns = "p STRING, id BIGINT NOT NULL, a BIGINT, b STRING"
	}
	ctx := context.Background()
	fields, _ := spec.ParseColumns(columns)
	sc, err := spec.NewSchema(fields, []string{"p"}, pk, spec.NewStringMap(opts...), nil)
	if err != nil {
		t.Skipf("combination refused: %v", err)
	}
	tb, err := Create(ctx, storage.NewMemory(), "db.db/l", sc)
	if err != nil {
		t.Skipf("combination refused: %v", err)
	}
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0)) // refreshed by hand after each commit
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	parts := []string{"x", "y"}
	keyOf := func(p string, id int64) spec.Row {
		if len(pk) == 1 {
			return spec.Row{id}
		}
		return spec.Row{p, id}
	}
	for c := 0; c < 10; c++ {
		var cs []change
		for i := 0; i < 25; i++ {
			p, id := parts[rng.IntN(2)], rng.Int64N(40)
			kind := spec.RowKindInsert
			if deletes && rng.IntN(5) == 0 {
				kind = spec.RowKindDelete
			}
			var b any = fmt.Sprint("c", c, ".", i)
			if rng.IntN(4) == 0 {
				b = nil // partial-update keeps the older b
			}
			cs = append(cs, change{kind, spec.Row{p, id, rng.Int64N(100), b}})
		}
		if _, err := tb.NewCommit("u").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, cs, rng.IntN(3) == 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]spec.Row{}
		for _, r := range scanAll(t, tb, WithSnapshot(l.Snapshot())) {
			p, _ := r[0].(string) // null after a cross-partition aggregation retracted it
			want[fmt.Sprint(keyOf(p, r[1].(int64)))] = r
		}
		var keys []spec.Row
		for _, p := range parts {
			for id := int64(0); id < 45; id++ { // 40..44 are never written
				keys = append(keys, keyOf(p, id))
			}
		}
		res, err := l.GetBatch(ctx, keys)
		if err != nil {
			t.Fatalf("commit %d: %v", c, err)
		}
		if res.Snapshot != l.Snapshot() {
			t.Fatalf("answered from snapshot %d, lookup is at %d", res.Snapshot, l.Snapshot())
		}
		if st, bound := l.CacheStats(), tb.Options().LookupCacheMaxDiskSize; st.DiskBytes > bound {
			t.Fatalf("commit %d: %d bytes of lookup files, bound %d", c, st.DiskBytes, bound)
		}
		for i, k := range keys {
			w, got := want[fmt.Sprint(k)], res.Rows[i]
			if (w == nil) != (got == nil) || (w != nil && spec.CompareRows(w, got) != 0) {
				t.Fatalf("commit %d, snapshot %d, key %v: lookup %v, scan %v", c, res.Snapshot, k, got, w)
			}
		}
		checkShuffledAndSingle(t, rng, l, keys, want)
	}
	if st := l.CacheStats(); tb.Options().LookupCacheMaxDiskSize < 1<<20 && st.Evictions == 0 {
		t.Fatalf("a 1 kb cache evicted nothing: %+v", st)
	}
}

// checkShuffledAndSingle asks for keys again in a random order with
// duplicates, in batches small and large, and one at a time with Get: the
// answers must not depend on how keys are batched.
func checkShuffledAndSingle(t *testing.T, rng *rand.Rand, l *Lookup, keys []spec.Row, want map[string]spec.Row) {
	t.Helper()
	ctx := context.Background()
	mixed := append(slices.Clone(keys), keys[:len(keys)/3]...)
	rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	for from := 0; from < len(mixed); {
		to := min(len(mixed), from+1+rng.IntN(70))
		res, err := l.GetBatch(ctx, mixed[from:to])
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range mixed[from:to] {
			if w, got := want[fmt.Sprint(k)], res.Rows[i]; (w == nil) != (got == nil) || (w != nil && spec.CompareRows(w, got) != 0) {
				t.Fatalf("shuffled batch, key %v: lookup %v, scan %v", k, got, w)
			}
		}
		from = to
	}
	for range 10 {
		k := keys[rng.IntN(len(keys))]
		got, err := l.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if w := want[fmt.Sprint(k)]; (w == nil) != (got == nil) || (w != nil && spec.CompareRows(w, got) != 0) {
			t.Fatalf("Get(%v) = %v, scan %v", k, got, w)
		}
	}
}

// Lookups on the Java-written fixtures return the rows their README lists,
// at every snapshot (level 0 stays hidden until a COMPACT moves it up), and
// miss keys that were never written.
func TestLookupJavaFixtures(t *testing.T) {
	ctx := context.Background()
	fs := copyFixture(t, "test_pk_global_index_golden")
	tb, err := Open(ctx, fs, "default.db/test_pk_global_index_golden")
	if err != nil {
		t.Fatal(err)
	}
	for snap, n := range globalIndexVisible {
		l, err := tb.NewLookup(ctx, WithLookupSnapshot(snap))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 7; i++ {
			got, err := l.Get(ctx, spec.Row{int32(i)})
			if err != nil {
				t.Fatal(err)
			}
			var want spec.Row
			if i <= n {
				want = globalIndexRow(i)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("snapshot %d, key %d: got %v, want %v", snap, i, got, want)
			}
		}
	}
	fs = copyFixture(t, "test_pk_vector_golden")
	tb, err = Open(ctx, fs, "default.db/test_pk_vector_golden")
	if err != nil {
		t.Fatal(err)
	}
	l, err := tb.NewLookup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.GetBatch(ctx, []spec.Row{{int32(2)}, {int32(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[2 [0.9 0.1 0 0]] []]" {
		t.Errorf("vector fixture: %s", got)
	}
}

// Freshness: while a writer commits (and compacts) a new version of one key
// after another, the background refresh serves each within a bounded time,
// and concurrent readers never see a version or a snapshot go backwards.
func TestLookupFollowsCommits(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2, "deletion-vectors.enabled", "true")
	const interval = 20 * time.Millisecond
	l, err := tb.NewLookup(ctx, WithRefreshInterval(interval))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() { // a reader that must never go back in time
		var lastSnap int64
		lastScore := -1.0
		for {
			select {
			case <-stop:
				readerErr <- nil
				return
			default:
			}
			res, err := l.GetBatch(ctx, []spec.Row{{int64(7)}})
			if err != nil {
				readerErr <- err
				return
			}
			score := -1.0
			if r := res.Rows[0]; r != nil {
				score = r[2].(float64)
			}
			if res.Snapshot < lastSnap || score < lastScore {
				readerErr <- fmt.Errorf("went back: snapshot %d→%d, version %v→%v", lastSnap, res.Snapshot, lastScore, score)
				return
			}
			lastSnap, lastScore = res.Snapshot, score
		}
	}()
	var worst time.Duration
	for v := 1; v <= 15; v++ {
		cs := []change{{spec.RowKindInsert, spec.Row{int64(7), "v", float64(v)}}}
		if _, err := tb.NewCommit("w").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, cs, v%4 == 0)); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		for {
			r, err := l.Get(ctx, spec.Row{int64(7)})
			if err != nil {
				t.Fatal(err)
			}
			if r != nil && r[2].(float64) == float64(v) {
				break
			}
			if time.Since(committed) > 50*interval {
				t.Fatalf("version %d not served %s after its commit (refresh every %s)", v, time.Since(committed), interval)
			}
			time.Sleep(time.Millisecond)
		}
		worst = max(worst, time.Since(committed))
	}
	close(stop)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	t.Logf("slowest new version served %s after its commit (refresh every %s)", worst, interval)
}

// WithWarmUp builds every live file's lookup file when the lookup opens, so
// the first lookups build nothing.
func TestLookupWarmUp(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2)
	for c := 0; c < 3; c++ {
		if _, err := tb.NewCommit("w").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, upserts(int64(c*10), int64(c*10+9), func(id int64) spec.Row { return spec.Row{id, "v", 1.0} }), false)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := tb.NewLookup(ctx, WithWarmUp(), WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	built := l.CacheStats().Builds
	if built < 3 {
		t.Fatalf("warm-up built %d lookup files for at least 3 data files (%+v)", built, l.CacheStats())
	}
	for id := int64(0); id < 30; id++ {
		if r, err := l.Get(ctx, spec.Row{id}); err != nil || r == nil {
			t.Fatalf("key %d: %v, %v", id, r, err)
		}
	}
	if st := l.CacheStats(); st.Builds != built {
		t.Fatalf("lookups after warm-up built %d more files", st.Builds-built)
	}
}

// Bad keys are refused naming the problem, in Get and in batches of any
// size; rows of one batch are separate (appending to one leaves the next
// alone).
func TestLookupBadKeysAndSeparateRows(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2)
	cs := upserts(1, 40, func(id int64) spec.Row { return spec.Row{id, fmt.Sprint("name-", id), float64(id)} })
	if _, err := tb.NewCommit("u").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, cs, false)); err != nil {
		t.Fatal(err)
	}
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, bad := range []spec.Row{{}, {nil}, {int64(1), int64(2)}, {"one"}} {
		if _, err := l.Get(ctx, bad); !errors.Is(err, spec.ErrSchemaMismatch) {
			t.Errorf("Get(%v): %v, want ErrSchemaMismatch", bad, err)
		}
		keys := make([]spec.Row, 0, 60)
		for id := int64(1); id <= 59; id++ {
			keys = append(keys, spec.Row{id})
		}
		if _, err := l.GetBatch(ctx, append(keys, bad)); !errors.Is(err, spec.ErrSchemaMismatch) {
			t.Errorf("GetBatch with %v: %v, want ErrSchemaMismatch", bad, err)
		}
	}
	res, err := l.GetBatch(ctx, []spec.Row{{int64(3)}, {int64(4)}, {int64(99)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = append(res.Rows[0], "extra")
	if res.Rows[1][0] != int64(4) || res.Rows[1][1] != "name-4" || res.Rows[2] != nil {
		t.Fatalf("rows %v", res.Rows)
	}
}

// A lookup whose snapshot expired under it (its refresh lagging) finds the
// files of that snapshot gone: it refreshes and answers from the latest.
func TestLookupRefreshesWhenFilesExpired(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "snapshot.num-retained.min", "1", "snapshot.time-retained", "0 ms")
	commit := func(c int, compact bool) {
		msgs := writeAll(t, tb, upserts(1, 20, func(id int64) spec.Row { return spec.Row{id, fmt.Sprint(c), 1.0} }), compact)
		if _, err := tb.NewCommit("c", WithoutExpire()).Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
	}
	commit(1, true)
	lk, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	commit(2, true) // replaces snapshot 1's files
	if res, err := tb.ExpireSnapshots(ctx, WithExpireTime(time.Now().Add(time.Second))); err != nil || res.DataFiles == 0 {
		t.Fatalf("expire: %+v, %v; want snapshot 1's files deleted", res, err)
	}
	res, err := lk.GetBatch(ctx, []spec.Row{{int64(5)}})
	if err != nil {
		t.Fatalf("GetBatch after its snapshot expired: %v", err)
	}
	latest, _ := tb.Snapshots().LatestID(ctx)
	if res.Snapshot != latest || res.Rows[0] == nil || res.Rows[0][1] != "2" {
		t.Fatalf("answer %+v, want the row of snapshot %d", res, latest)
	}
}
