package bench

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/storage"
)

// servedFixture is a small table, its in-process lookup, and a lookup
// server over its warehouse with an HTTP target reading it.
type servedFixture struct {
	dir string // the warehouse
	ds  *dataset
	st  *StrataTarget
	hs  *HTTPServer
	ht  *HTTPTarget
}

func newServedFixture(t *testing.T) *servedFixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "compacted")
	f := &servedFixture{dir: dir, ds: newDataset(1500, 1_000_000, 1, 1000)}
	tb, err := f.ds.loadStrata(ctx, dir, 2, 0, ShapeCompacted, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if f.st, err = NewStrataTarget(ctx, "strata", tb, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	fs, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.hs, err = StartHTTPServer(ctx, fs, lookupTableID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.hs.Stop() })
	if f.ht, err = NewHTTPTarget(f.hs.URL, lookupTableID, 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ht.Close() })
	return f
}

// keys are 50 hits, then 50 misses.
func (f *servedFixture) keys() []int64 { return slices.Concat(f.ds.hits[:50], f.ds.misses[:50]) }

// The HTTP target, through a lookup server over the table's warehouse,
// returns what the in-process lookup returns, as the server's JSON: the
// rows of present keys and nothing for absent ones, by Get and by
// GetBatch.
func TestHTTPTargetAgrees(t *testing.T) {
	ctx := context.Background()
	f := newServedFixture(t)
	keys := f.keys()
	want, err := f.st.GetBatch(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.ht.GetBatch(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(raw []byte) []byte {
		t.Helper()
		if raw == nil {
			return nil
		}
		b, err := decodeJSONRow(raw)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, k := range keys {
		if (want[i] != nil) != (i < 50) {
			t.Fatalf("in-process: key %d (hit %v) gave %x", k, i < 50, want[i])
		}
		one, err := f.ht.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(decode(got[i]), want[i]) || !bytes.Equal(decode(one), want[i]) {
			t.Fatalf("key %d: http batch %s, http get %s, in-process %x", k, got[i], one, want[i])
		}
	}
	if _, err := f.ht.GetBatch(ctx, make([]int64, 1001)); err == nil {
		t.Error("a request of more keys than the server takes did not fail")
	}
	if err := f.hs.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ht.Get(ctx, keys[0]); err == nil {
		t.Error("a stopped server answered")
	}
}

// The sampled checks compare every checkEvery-th answer with the expected
// rows: a wrong expectation fails within checkEvery requests.
func TestHTTPTargetChecks(t *testing.T) {
	ctx := context.Background()
	f := newServedFixture(t)
	keys := f.keys()
	exp, err := expectedRows(ctx, f.st, f.ds)
	if err != nil {
		t.Fatal(err)
	}
	f.ht.Expect(exp)
	for range checkEvery {
		if _, err := f.ht.GetBatch(ctx, keys); err != nil {
			t.Fatalf("with the right expectations: %v", err)
		}
	}
	exp[keys[3]] = exp[keys[4]]
	var failed error
	for range checkEvery {
		if _, failed = f.ht.GetBatch(ctx, keys); failed != nil {
			break
		}
	}
	if failed == nil || !strings.Contains(failed.Error(), strconv.FormatInt(keys[3], 10)) {
		t.Errorf("a wrong row went unnoticed: %v", failed)
	}
}

// The read counter counts Get and GetRange requests and the bytes they
// return, and nothing for writes.
func TestReadCounter(t *testing.T) {
	ctx := context.Background()
	rc := newReadCounter(storage.NewMemory())
	if err := rc.Put(ctx, "a/b", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if reads, n := rc.counts(); reads != 0 || n != 0 {
		t.Fatalf("after a Put: %d reads, %d bytes", reads, n)
	}
	if _, err := rc.Get(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.GetRange(ctx, "a/b", 2, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Get(ctx, "a/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if reads, n := rc.counts(); reads != 3 || n != 13 {
		t.Fatalf("%d reads, %d bytes; want 3, 13", reads, n)
	}
}

// Cold lookups through fresh Lookups each build one lookup file per data
// file of a compacted table, fetching about the data from storage; warm
// ones fetch nothing.
func TestRunCold(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "compacted")
	ds := newDataset(1500, 1_000_000, 1, 1000)
	tb, err := ds.loadStrata(ctx, dir, 2, 0, ShapeCompacted, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := inspect(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := runCold(ctx, fs, "local", sh, 3, ds.hits, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(3 * sh.Files)
	if f.Cold.Count != n || f.Builds != n || f.Open.Count != 3 || 10*f.ColdBytes < 27*sh.DataBytes || f.ColdReads < n {
		t.Errorf("cold: %+v (files %d, %d bytes)", f, sh.Files, sh.DataBytes)
	}
	if f.Warm.Ops == 0 || f.WarmBytes != 0 || f.OpenBytes == 0 {
		t.Errorf("warm: %+v", f)
	}
}

// httpBenchTarget serves the benchmarks' table over HTTP and warms it.
func httpBenchTarget(b *testing.B, f *fixture) Target {
	fs, err := storage.NewLocal(filepath.Join(benchDir, string(ShapeCompacted)))
	if err != nil {
		b.Fatal(err)
	}
	hs, err := StartHTTPServer(context.Background(), fs, lookupTableID)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { hs.Stop() })
	ht, err := NewHTTPTarget(hs.URL, lookupTableID, 8)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ht.Close() })
	if _, err := warm(context.Background(), ht, f.shapes[ShapeCompacted].warmKeys(f.ds)); err != nil {
		b.Fatal(err)
	}
	return ht
}

// BenchmarkHTTPGet is a single-key request to the lookup service over
// loopback, client and server in this process.
func BenchmarkHTTPGet(b *testing.B) {
	f := lookupFixture(b)
	benchGet(b, f, httpBenchTarget(b, f))
}

// BenchmarkHTTPGetBatch is a 100-key request to the lookup service.
func BenchmarkHTTPGetBatch(b *testing.B) {
	f := lookupFixture(b)
	benchGetBatch(b, f, httpBenchTarget(b, f))
}

// splitRows takes the server's rows apart and refuses answers that do not
// hold one row per key, or a row of another key.
func TestSplitRows(t *testing.T) {
	keys := []int64{7, 8, 9}
	rows := make([][]byte, 3)
	body := []byte(`{"snapshot":3,"rows":[{"id":7,"note":"a \"}\" b"},null,{"id":9,"x":[1,{"y":2}]}]}` + "\n")
	if err := splitRows(body, keys, rows); err != nil {
		t.Fatal(err)
	}
	if string(rows[0]) != `{"id":7,"note":"a \"}\" b"}` || rows[1] != nil || string(rows[2]) != `{"id":9,"x":[1,{"y":2}]}` {
		t.Fatalf("rows %q", rows)
	}
	for _, bad := range []string{
		`{"snapshot":3,"rows":[null,null]}`,
		`{"snapshot":3,"rows":[null,null,null,null]}`,
		`{"snapshot":3,"rows":[{"id":77},null,null]}`,
		`{"snapshot":3,"rows":[null,null,{"id":9}`,
		`{"error":{"code":"internal"}}`,
	} {
		if err := splitRows([]byte(bad), keys, rows); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// helperServeEnv makes the test binary act as `strata --warehouse W serve
// --addr A --tables T` (TestMain), so that StartHTTPServerProcess can be
// tested without building the CLI.
const helperServeEnv = "STRATA_BENCH_HELPER_SERVE"

// helperServe serves as `strata serve` would, until SIGTERM; it returns the
// exit status.
func helperServe(args []string) int {
	opts := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		if strings.HasPrefix(args[i], "--") {
			opts[args[i]] = args[i+1]
			i++
		}
	}
	fs, err := storage.NewLocal(opts["--warehouse"])
	if err != nil {
		return 1
	}
	id, err := catalog.ParseIdentifier(opts["--tables"])
	if err != nil {
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, catalog.New(fs), server.WithTables(id))
	if err != nil {
		return 1
	}
	ln, err := net.Listen("tcp", opts["--addr"])
	if err != nil {
		return 1
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return 1
	}
	return 0
}

// The lookup server can run as its own process: it answers once started
// and exits cleanly on Stop.
func TestHTTPServerProcess(t *testing.T) {
	ctx := context.Background()
	f := newServedFixture(t)
	t.Setenv(helperServeEnv, "1")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "log")
	hs, err := StartHTTPServerProcess(ctx, bin, f.dir, lookupTableID, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Stop()
	ht, err := NewHTTPTarget(hs.URL, lookupTableID, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer ht.Close()
	keys := f.keys()
	got, err := ht.GetBatch(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] == nil || got[len(keys)-1] != nil {
		t.Errorf("rows %q", got)
	}
	if err := hs.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := ht.Get(ctx, keys[0]); err == nil {
		t.Error("a stopped server answered")
	}
}
