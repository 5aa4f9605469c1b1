package lookupfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

// builder returns a build function writing n even records (value i's
// length varies with seed so files of different names differ), counting
// its calls.
func builder(n, seed int, calls *atomic.Int64) func(context.Context, string) error {
	return func(ctx context.Context, path string) error {
		if calls != nil {
			calls.Add(1)
		}
		_, err := Build(ctx, path, evenRecords(n, 100+seed%7), n)
		return err
	}
}

func newTestCache(t *testing.T, maxDisk, maxMem int64) (*Cache, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := NewCache(dir, maxDisk, maxMem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c, dir
}

// diskUsage sums the sizes of the files in dir.
func diskUsage(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		files++
		bytes += info.Size()
	}
	return files, bytes
}

func mustGet(t *testing.T, f *File, i int, want bool) {
	t.Helper()
	_, ok, err := f.Get(testKey(i))
	if err != nil || ok != want {
		t.Fatalf("Get(%d) on %s = %v, %v; want found=%v", i, f.Path(), ok, err, want)
	}
}

func TestCacheBuildsOnFirstUseThenHits(t *testing.T) {
	c, dir := newTestCache(t, 1<<30, 1<<20)
	var calls atomic.Int64
	ctx := context.Background()
	f1, rel1, err := c.Acquire(ctx, "data-1.parquet", builder(100, 1, &calls))
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, f1, 10, true)
	mustGet(t, f1, 11, false)
	f2, rel2, err := c.Acquire(ctx, "data-1.parquet", builder(100, 1, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if f1 != f2 || calls.Load() != 1 {
		t.Fatalf("second Acquire: same file %v, builds %d; want the same file, 1 build", f1 == f2, calls.Load())
	}
	rel1()
	rel1() // idempotent: must not release f2's reference
	rel2()
	f3, rel3, err := c.Acquire(ctx, "data-1.parquet", builder(100, 1, &calls))
	if err != nil {
		t.Fatal(err)
	}
	defer rel3()
	if f3 != f1 || calls.Load() != 1 {
		t.Fatal("Acquire after release rebuilt the file")
	}
	st := c.Stats()
	files, bytes := diskUsage(t, dir)
	want := CacheStats{Files: 1, DiskBytes: bytes, Hits: 2, Misses: 1, Builds: 1}
	if st != want || files != 1 {
		t.Fatalf("Stats = %+v (dir holds %d files), want %+v", st, files, want)
	}
}

func TestCacheConcurrentAcquireBuildsOnce(t *testing.T) {
	c, _ := newTestCache(t, 1<<30, 1<<20)
	const n = 16
	var calls atomic.Int64
	gate := make(chan struct{})
	build := func(ctx context.Context, path string) error {
		<-gate // hold the build until every Acquire has arrived
		return builder(500, 0, &calls)(ctx, path)
	}
	files := make([]*File, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, rel, err := c.Acquire(context.Background(), "same", build)
			if err == nil {
				defer rel()
				_, _, err = f.Get(testKey(4))
			}
			files[i], errs[i] = f, err
		}()
	}
	waitFor(t, func() bool { return c.Stats().Misses == n })
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Acquire %d: %v", i, errs[i])
		}
		if files[i] != files[0] {
			t.Fatalf("Acquire %d got a different file", i)
		}
	}
	if calls.Load() != 1 || c.Stats().Builds != 1 {
		t.Fatalf("%d builds for %d concurrent Acquires, want 1", calls.Load(), n)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCacheDiskBound acquires many files, keeping a few held at times; the
// bytes on disk must never exceed the bound plus the one file just built
// (held files aside), Stats must match the directory, and evicted files
// must be gone.
func TestCacheDiskBound(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe.sst")
	size, err := Build(context.Background(), probe, evenRecords(300, 106), 300)
	if err != nil {
		t.Fatal(err)
	}
	bound := 4*size + size/2
	c, dir := newTestCache(t, bound, 1<<20)
	ctx := context.Background()
	paths := map[string]bool{} // every file built; each build has its own path
	var held []func()
	var heldBytes int64
	for i := range 60 {
		name := fmt.Sprintf("data-%d", i%25) // names come back after eviction
		f, rel, err := c.Acquire(ctx, name, builder(300, i%25, nil))
		if err != nil {
			t.Fatal(err)
		}
		mustGet(t, f, 20, true)
		paths[f.Path()] = true
		if i%10 == 3 { // hold this one for a while
			st, _ := os.Stat(f.Path())
			held, heldBytes = append(held, rel), heldBytes+st.Size()
		} else {
			rel()
		}
		if i%10 == 8 {
			for _, r := range held {
				r()
			}
			held, heldBytes = nil, 0
		}
		st := c.Stats()
		files, bytes := diskUsage(t, dir)
		if files != st.Files || bytes != st.DiskBytes {
			t.Fatalf("step %d: Stats say %d files/%d bytes, dir holds %d/%d", i, st.Files, st.DiskBytes, files, bytes)
		}
		if limit := bound + heldBytes + 2*size; bytes > limit {
			t.Fatalf("step %d: %d bytes on disk, bound %d + held %d + one file", i, bytes, bound, heldBytes)
		}
		if held == nil && bytes > bound {
			t.Fatalf("step %d: %d bytes on disk with nothing held, bound %d", i, bytes, bound)
		}
	}
	st := c.Stats()
	if st.Evictions == 0 || st.Builds <= 25 {
		t.Fatalf("Stats %+v: expected evictions and rebuilds of evicted names", st)
	}
	exist := 0
	for p := range paths {
		if _, err := os.Stat(p); err == nil {
			exist++
		}
	}
	if int64(len(paths)) != st.Builds || exist != st.Files || int64(len(paths)-exist) != st.Evictions {
		t.Fatalf("of %d files built, %d exist; Stats %+v: evicted files must be deleted", len(paths), exist, st)
	}
}

// TestCacheEvictsLeastRecentlyUsedNeverHeld checks which file goes: the
// least recently released, never one still acquired, and that an evicted
// file is deleted and its File closed.
func TestCacheEvictsLeastRecentlyUsedNeverHeld(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe.sst")
	size, err := Build(context.Background(), probe, evenRecords(300, 100), 300)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCache(t, 2*size+size/2, 1<<20) // room for two files
	ctx := context.Background()
	acquire := func(name string) (*File, func()) {
		f, rel, err := c.Acquire(ctx, name, builder(300, 0, nil))
		if err != nil {
			t.Fatal(err)
		}
		return f, rel
	}
	fa, relA := acquire("a") // held throughout
	fb, relB := acquire("b")
	relB()
	fc, relC := acquire("c") // a, b, c on disk: b is the only candidate
	relC()
	if _, err := os.Stat(fb.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("b (least recently used) not deleted: %v", err)
	}
	if _, _, err := fb.Get(testKey(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("evicted File still open: %v", err)
	}
	mustGet(t, fa, 2, true) // held: never evicted
	mustGet(t, fc, 2, true)
	relA()
	if fc2, relC2 := acquire("c"); fc2 != fc { // a hit that makes a the least recently used
		t.Fatal("c was rebuilt")
	} else {
		relC2()
	}
	fd, relD := acquire("d")
	defer relD()
	if _, err := os.Stat(fa.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a not evicted once released: %v", err)
	}
	mustGet(t, fc, 2, true)
	mustGet(t, fd, 2, true)
	if st := c.Stats(); st.Evictions != 2 || st.Files != 2 {
		t.Fatalf("Stats %+v, want 2 evictions, 2 files", st)
	}
}

func TestCacheDrop(t *testing.T) {
	c, dir := newTestCache(t, 1<<30, 1<<20)
	ctx := context.Background()
	var calls atomic.Int64
	f, rel, err := c.Acquire(ctx, "x", builder(50, 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	rel()
	c.Drop("x") // unreferenced: deleted at once
	if _, err := os.Stat(f.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dropped file still on disk: %v", err)
	}
	c.Drop("never-acquired")

	g, relG, err := c.Acquire(ctx, "x", builder(50, 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("Acquire after Drop: %d builds, want a rebuild", calls.Load())
	}
	c.Drop("x") // held: deleted on release
	mustGet(t, g, 4, true)
	if _, err := os.Stat(g.Path()); err != nil {
		t.Fatalf("held dropped file deleted early: %v", err)
	}
	h, relH, err := c.Acquire(ctx, "x", builder(50, 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	if h == g || calls.Load() != 3 {
		t.Fatal("Acquire after Drop returned the dropped file")
	}
	relG()
	if _, err := os.Stat(g.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dropped file not deleted on release: %v", err)
	}
	relH()
	if files, _ := diskUsage(t, dir); files != 1 || c.Stats().Files != 1 {
		t.Fatalf("dir holds %d files, Stats %+v; want only the new x", files, c.Stats())
	}
}

// DropCorrupt drops the damaged file it is given, once: a second reader of
// the same damaged file does not drop the file built to replace it.
func TestCacheDropCorrupt(t *testing.T) {
	c, _ := newTestCache(t, 1<<30, 1<<20)
	ctx := context.Background()
	var calls atomic.Int64
	g, relG, err := c.Acquire(ctx, "x", builder(50, 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	relG()
	c.DropCorrupt("x", g)
	h, relH, err := c.Acquire(ctx, "x", builder(50, 0, &calls))
	if err != nil {
		t.Fatal(err)
	}
	defer relH()
	if h == g || calls.Load() != 2 {
		t.Fatalf("Acquire after DropCorrupt: same file %v, %d builds; want a new build", h == g, calls.Load())
	}
	c.DropCorrupt("x", g) // a late reader of the old file
	if _, rel, err := c.Acquire(ctx, "x", builder(50, 0, &calls)); err != nil || calls.Load() != 2 {
		t.Fatalf("DropCorrupt of the old file dropped the new one: %v, %d builds", err, calls.Load())
	} else {
		rel()
	}
	mustGet(t, h, 2, true)
	if st := c.Stats(); st.Corrupt != 1 {
		t.Fatalf("Stats %+v, want Corrupt 1", st)
	}
}

func TestCacheBuildFailureLeavesNothingAndRetries(t *testing.T) {
	c, dir := newTestCache(t, 1<<30, 1<<20)
	ctx := context.Background()
	boom := errors.New("boom")
	failing := func(ctx context.Context, path string) error {
		_ = os.WriteFile(path, []byte("half a file"), 0o644)
		return boom
	}
	if _, _, err := c.Acquire(ctx, "x", failing); !errors.Is(err, boom) {
		t.Fatalf("Acquire: %v, want the build's error", err)
	}
	junk := func(ctx context.Context, path string) error {
		return os.WriteFile(path, bytes.Repeat([]byte("junk"), 100), 0o644)
	}
	if _, _, err := c.Acquire(ctx, "x", junk); !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("Acquire of a junk build: %v, want ErrCorrupt", err)
	}
	if files, _ := diskUsage(t, dir); files != 0 {
		t.Fatalf("failed builds left %d files", files)
	}
	f, rel, err := c.Acquire(ctx, "x", builder(50, 0, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	mustGet(t, f, 2, true)
	if st := c.Stats(); st.Builds != 1 || st.Misses != 3 || st.Files != 1 {
		t.Fatalf("Stats %+v", st)
	}
}

func TestCacheWaiterBuildsWhenBuilderCancelled(t *testing.T) {
	c, _ := newTestCache(t, 1<<30, 1<<20)
	var calls atomic.Int64
	started := make(chan struct{})
	blocking := func(ctx context.Context, path string) error {
		calls.Add(1)
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	bctx, cancel := context.WithCancel(context.Background())
	builderErr := make(chan error, 1)
	go func() {
		_, _, err := c.Acquire(bctx, "x", blocking)
		builderErr <- err
	}()
	<-started
	waiter := make(chan error, 1)
	go func() {
		f, rel, err := c.Acquire(context.Background(), "x", builder(50, 0, &calls))
		if err == nil {
			_, _, err = f.Get(testKey(2))
			rel()
		}
		waiter <- err
	}()
	waitFor(t, func() bool { return c.Stats().Misses == 2 })
	cancel()
	if err := <-builderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled builder: %v", err)
	}
	if err := <-waiter; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if calls.Load() != 2 || c.Stats().Builds != 1 {
		t.Fatalf("%d build calls, Stats %+v", calls.Load(), c.Stats())
	}

	// A waiter whose own context ends stops waiting.
	hold := make(chan struct{})
	go func() {
		_, _, _ = c.Acquire(context.Background(), "y", func(ctx context.Context, path string) error {
			<-hold
			return builder(50, 0, nil)(ctx, path)
		})
	}()
	waitFor(t, func() bool { return c.Stats().Misses == 3 })
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer wcancel()
	if _, _, err := c.Acquire(wctx, "y", builder(50, 0, nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter with expired ctx: %v", err)
	}
	close(hold)
}

func TestCacheStartupClearsLeftoversAndCloseRemovesAll(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{filePrefix + "old-1.sst", filePrefix + "old-2.sst.tmp-9", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := NewCache(dir, 1<<30, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "keep.txt" {
		t.Fatalf("after NewCache dir holds %v, want only keep.txt", names)
	}
	f, rel, err := c.Acquire(context.Background(), "x", builder(50, 0, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Acquire(context.Background(), "y", builder(50, 1, nil)); err != nil {
		t.Fatal(err) // never released
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	rel() // after Close: harmless
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "keep.txt" {
		t.Fatalf("after Close dir holds %v, want only keep.txt", names)
	}
	if _, _, err := f.Get(testKey(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after cache Close: %v", err)
	}
	if _, _, err := c.Acquire(context.Background(), "x", builder(50, 0, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// A directory NewCache created goes too.
	own := filepath.Join(t.TempDir(), "a", "b")
	c2, err := NewCache(own, 1<<30, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c2.Acquire(context.Background(), "x", builder(50, 0, nil)); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(own); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Close left the directory it created: %v", err)
	}
}

func TestCacheCloseCancelsBuilds(t *testing.T) {
	c, dir := newTestCache(t, 1<<30, 1<<20)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Acquire(context.Background(), "x", func(ctx context.Context, path string) error {
			_ = os.WriteFile(path+".partial", nil, 0o644) // some output to clean up
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		done <- err
	}()
	<-started
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire cancelled by Close: %v, want ErrClosed", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Close left %v (%v)", dir, err)
	}
}

// TestCacheMemoryBound reads many files through one cache: the shared
// block cache never holds more than its bound.
func TestCacheMemoryBound(t *testing.T) {
	const maxMem = 1 << 20
	c, _ := newTestCache(t, 1<<30, maxMem)
	ctx := context.Background()
	for i := range 6 {
		f, rel, err := c.Acquire(ctx, fmt.Sprintf("f%d", i), builder(4000, i, nil))
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 8000; k += 2 {
			mustGet(t, f, k, true)
		}
		rel()
		if got := c.block.Size(); got > maxMem {
			t.Fatalf("block cache holds %d bytes, bound %d", got, maxMem)
		}
	}
	if c.block.Size() == 0 {
		t.Fatal("block cache unused")
	}
}

func TestNewCacheRejectsNegativeBounds(t *testing.T) {
	if _, err := NewCache(t.TempDir(), -1, 0); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("NewCache(-1): %v", err)
	}
}

// With acquires the file for the call only: the file is built once, shared,
// released afterwards (so it can be evicted), and fn's error comes back.
func TestCacheWith(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe.sst")
	size, err := Build(context.Background(), probe, evenRecords(300, 100), 300)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCache(t, size+size/2, 1<<20) // room for one file
	ctx := context.Background()
	var calls atomic.Int64
	var first *File
	err = c.With(ctx, "a", builder(300, 0, &calls), func(f *File) error {
		first = f
		mustGet(t, f, 2, true)
		return c.With(ctx, "a", builder(300, 0, &calls), func(g *File) error {
			if g != f {
				t.Fatal("a second With built another file")
			}
			return nil
		})
	})
	if err != nil || calls.Load() != 1 {
		t.Fatalf("With: %v, %d builds", err, calls.Load())
	}
	boom := errors.New("boom")
	if err := c.With(ctx, "b", builder(300, 0, &calls), func(*File) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	if _, _, err := first.Get(testKey(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("a was not released and evicted for b: %v", err)
	}
	if st := c.Stats(); st.Evictions != 1 || st.Files != 1 || st.Hits != 1 {
		t.Fatalf("Stats %+v, want 1 eviction, 1 file, 1 hit", st)
	}
	if err := c.With(ctx, "c", func(context.Context, string) error { return boom }, func(*File) error {
		t.Fatal("fn called without a file")
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("build error: %v", err)
	}
}

// Goroutines acquire, read and release files while others drop them and
// builds push the cache over its disk bound: a held file must never be
// closed or deleted under its holder, and once all is released the cache
// is back within its bound.
func TestCacheConcurrentChurn(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe.sst")
	size, err := Build(context.Background(), probe, evenRecords(200, 100), 200)
	if err != nil {
		t.Fatal(err)
	}
	c, dir := newTestCache(t, 3*size, 1<<20) // room for three of eight names
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 300 {
				name := fmt.Sprintf("f%d", rng.IntN(8))
				if g == 0 && rng.IntN(3) == 0 {
					c.Drop(name)
					continue
				}
				err := c.With(ctx, name, builder(200, 0, nil), func(f *File) error {
					_, ok, err := f.Get(testKey(2 * rng.IntN(200)))
					if err == nil && !ok {
						err = errors.New("a present key missing")
					}
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if files, bytes := diskUsage(t, dir); bytes > 3*size || files > 3 {
		t.Fatalf("%d files, %d bytes on disk after the churn; bound %d", files, bytes, 3*size)
	}
}
