package lookupfile

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// filePrefix starts the name of every file a Cache creates in its directory;
// NewCache deletes files with this prefix left by an earlier process.
const filePrefix = "strata-lookup-"

// Cache keeps lookup files for data files on local disk: it builds a data
// file's lookup file on first use, shares it between concurrent users,
// deletes least recently used files beyond a disk bound, and gives all its
// files one block cache of bounded memory. It is safe for concurrent use.
//
// The directory must belong to one Cache at a time: NewCache deletes the
// files an earlier Cache left there, since they cannot be trusted (a crash
// may have left them half built, and nothing records which data file each
// one was built from).
type Cache struct {
	dir        string
	createdDir bool
	token      string // in every file name, so two caches never share one
	maxDisk    int64
	block      *BlockCache

	closeCtx    context.Context // done once Close starts; cancels builds
	cancelBuild context.CancelFunc
	building    sync.WaitGroup

	// ready holds the built entries by name, read without mu: an Acquire of
	// a built file takes a reference with an atomic add and nothing else.
	ready sync.Map
	clock atomic.Uint64 // stamps releases, for least-recently-used eviction
	hits  atomic.Int64  // Acquires served from ready
	over  atomic.Bool   // files exceed the disk bound, all of them held

	mu        sync.Mutex
	closed    bool
	seq       uint64
	entries   map[string]*entry // by data-file name; built or building
	files     map[*entry]bool   // every entry with a file on disk
	diskBytes int64             // total size of files
	stats     CacheStats        // counters; Files, DiskBytes and Hits filled by Stats
}

// entry is one data file's lookup file, built or being built.
type entry struct {
	name    string
	path    string
	ready   chan struct{} // closed when the build has finished
	err     error         // the build's error, set before ready closes
	file    *File         // set before ready closes on success
	size    int64
	refs    atomic.Int64  // Acquires not yet released (and the builder); dead once removed
	lastUse atomic.Uint64 // the cache's clock at the last release
	dropped atomic.Bool   // left the table: delete when refs reach 0
}

// dead is the reference count of a removed entry: no Acquire can take it.
const dead = math.MinInt64 / 2

// tryRef takes a reference to e unless e has been removed.
func (e *entry) tryRef() bool {
	for {
		r := e.refs.Load()
		if r < 0 {
			return false
		}
		if e.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// CacheStats are a Cache's counters, for metrics.
type CacheStats struct {
	// Files is the number of lookup files on disk (built and not deleted).
	Files int
	// DiskBytes is their total size.
	DiskBytes int64
	// Hits counts Acquires served by a file already built.
	Hits int64
	// Misses counts Acquires that built the file or waited for a build.
	Misses int64
	// Builds counts files built successfully.
	Builds int64
	// Evictions counts files deleted to keep within the disk bound.
	Evictions int64
	// Corrupt counts files dropped because a read found them damaged.
	Corrupt int64
}

// NewCache returns a cache keeping its files in dir (created if missing)
// within maxDiskBytes of files not currently acquired, and their blocks in
// a block cache of maxMemoryBytes. Files left in dir by an earlier Cache
// are deleted.
func NewCache(dir string, maxDiskBytes, maxMemoryBytes int64) (*Cache, error) {
	if maxDiskBytes < 0 || maxMemoryBytes < 0 {
		return nil, fmt.Errorf("lookupfile: negative cache bound (disk %d, memory %d)", maxDiskBytes, maxMemoryBytes)
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lookupfile: cache dir: %w", err)
	}
	if err := removeLeftovers(dir, filePrefix); err != nil {
		return nil, err
	}
	var tok [6]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("lookupfile: %w", err)
	}
	c := &Cache{
		dir:        dir,
		createdDir: errors.Is(statErr, fs.ErrNotExist),
		token:      hex.EncodeToString(tok[:]),
		maxDisk:    maxDiskBytes,
		block:      NewBlockCache(maxMemoryBytes),
		entries:    make(map[string]*entry),
		files:      make(map[*entry]bool),
	}
	c.closeCtx, c.cancelBuild = context.WithCancel(context.Background())
	return c, nil
}

// removeLeftovers deletes the files in dir whose names start with prefix.
func removeLeftovers(dir, prefix string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("lookupfile: cache dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("lookupfile: removing leftover: %w", err)
			}
		}
	}
	return nil
}

// Acquire returns the lookup file for the data file called name, building
// it with build on first use: build must write a lookup file at path
// (usually with Build) or return an error. Concurrent Acquires of one name
// share one build. The file stays on disk, and open, until release is
// called (release is idempotent); then it may be evicted and closed, so
// the File must not be used after release. A failed build leaves nothing
// behind and is tried again by the next Acquire. If File.Get reports
// spec.ErrCorrupt, DropCorrupt the file and Acquire it again to rebuild.
//
// ctx bounds this call: a waiting Acquire returns ctx's error when ctx is
// done, and the building one passes ctx (also cancelled by Close) to build.
// If the Acquire building the file is cancelled, those waiting for it
// build it themselves.
func (c *Cache) Acquire(ctx context.Context, name string, build func(ctx context.Context, path string) error) (*File, func(), error) {
	e, err := c.acquire(ctx, name, build)
	if err != nil {
		return nil, nil, err
	}
	return e.file, c.releaser(e), nil
}

// With runs fn with the lookup file of the data file called name, acquired
// as Acquire acquires it and released when fn returns; it returns fn's
// error. The File must not be used after fn returns. Unlike Acquire it
// allocates nothing when the file is built: the way for hot paths.
func (c *Cache) With(ctx context.Context, name string, build func(ctx context.Context, path string) error, fn func(*File) error) error {
	e, err := c.acquire(ctx, name, build)
	if err != nil {
		return err
	}
	defer c.release(e)
	return fn(e.file)
}

// acquire returns name's entry, built, with a reference taken for the
// caller.
func (c *Cache) acquire(ctx context.Context, name string, build func(ctx context.Context, path string) error) (*entry, error) {
	if v, ok := c.ready.Load(name); ok && v.(*entry).tryRef() {
		c.hits.Add(1)
		return v.(*entry), nil
	}
	counted := false
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, fmt.Errorf("lookupfile: acquire %s: %w", name, ErrClosed)
		}
		e := c.entries[name]
		if e == nil {
			if !counted {
				c.stats.Misses++
			}
			e = c.newEntryLocked(name)
			c.mu.Unlock()
			return c.build(ctx, e, build)
		}
		e.refs.Add(1) // entries in c.entries are not removed
		if e.file != nil {
			if !counted {
				c.hits.Add(1)
			}
			c.mu.Unlock()
			return e, nil
		}
		if !counted {
			c.stats.Misses++
			counted = true
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.release(e)
			return nil, fmt.Errorf("lookupfile: acquire %s: %w", name, ctx.Err())
		}
		if e.err == nil {
			return e, nil
		}
		c.release(e)
		if !isContextErr(e.err) || ctx.Err() != nil {
			return nil, e.err
		}
		// The builder's context ended, not ours: build it ourselves.
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// newEntryLocked registers a new entry for name, held by its builder.
func (c *Cache) newEntryLocked(name string) *entry {
	c.seq++
	e := &entry{
		name:  name,
		path:  filepath.Join(c.dir, fmt.Sprintf("%s%s-%d.sst", filePrefix, c.token, c.seq)),
		ready: make(chan struct{}),
	}
	e.refs.Store(1)
	c.entries[name] = e
	c.building.Add(1)
	return e
}

// build runs build for e, opens the result and publishes it to e's waiters.
func (c *Cache) build(ctx context.Context, e *entry, build func(context.Context, string) error) (_ *entry, err error) {
	defer c.building.Done()
	finished := false
	defer func() {
		if !finished { // build panicked: fail the entry so waiters wake
			c.finish(e, nil, 0, fmt.Errorf("lookupfile: building %s panicked", e.name))
		}
	}()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.closeCtx, cancel)()
	f, size, err := c.buildAndOpen(bctx, e, build)
	finished = true
	if err != nil && c.closeCtx.Err() != nil && ctx.Err() == nil {
		// Close cancelled it: the caller's context did not end.
		err = fmt.Errorf("lookupfile: acquire %s: %w", e.name, ErrClosed)
	}
	if err = c.finish(e, f, size, err); err != nil {
		return nil, err
	}
	return e, nil
}

// buildAndOpen calls build and opens what it wrote; on error it deletes
// whatever build left at e.path.
func (c *Cache) buildAndOpen(ctx context.Context, e *entry, build func(context.Context, string) error) (*File, int64, error) {
	err := build(ctx, e.path)
	if err == nil {
		err = ctx.Err() // a build that ignored cancellation still lost
	}
	var f *File
	var st os.FileInfo
	if err == nil {
		f, err = Open(e.path, c.block)
	}
	if err == nil {
		if st, err = os.Stat(e.path); err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		_ = os.Remove(e.path)
		return nil, 0, fmt.Errorf("lookupfile: building %s: %w", e.name, err)
	}
	return f, st.Size(), nil
}

// finish publishes the outcome of e's build. On success e joins the files
// on disk and the cache evicts down to its bound; on failure (or if the
// cache closed meanwhile) e leaves the cache and its file is deleted.
func (c *Cache) finish(e *entry, f *File, size int64, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.closed {
		_ = f.Close()
		_ = os.Remove(e.path)
		err = fmt.Errorf("lookupfile: acquire %s: %w", e.name, ErrClosed)
	}
	if err != nil {
		e.err = err
		e.refs.Add(-1)
		if c.entries[e.name] == e {
			delete(c.entries, e.name)
		}
		close(e.ready)
		return err
	}
	e.file, e.size = f, size
	e.lastUse.Store(c.clock.Add(1))
	c.files[e] = true
	if !e.dropped.Load() { // dropped while building: its last release deletes it
		c.ready.Store(e.name, e)
	}
	c.diskBytes += size
	c.stats.Builds++
	close(e.ready)
	c.evictLocked()
	return nil
}

// releaser returns the release function for one Acquire of e.
func (c *Cache) releaser(e *entry) func() {
	var once sync.Once
	return func() { once.Do(func() { c.release(e) }) }
}

// release drops one reference to e, which becomes the most recently used.
// The last release of a dropped file deletes it, and one of any file while
// the files exceed the disk bound evicts; other releases take no lock.
func (c *Cache) release(e *entry) {
	e.lastUse.Store(c.clock.Add(1))
	if e.refs.Add(-1) != 0 || !(e.dropped.Load() || c.over.Load()) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.file == nil || c.closed || !c.files[e] {
		return
	}
	if e.dropped.Load() {
		if e.refs.CompareAndSwap(0, dead) {
			c.removeLocked(e)
		}
		return
	}
	c.evictLocked()
}

// evictLocked deletes least recently used unreferenced files while the
// files on disk exceed the bound. (Sorting every file costs little next to
// the build of the file that pushed the cache over its bound.)
func (c *Cache) evictLocked() {
	defer func() { c.over.Store(c.diskBytes > c.maxDisk) }()
	if c.diskBytes <= c.maxDisk {
		return
	}
	byUse := make([]*entry, 0, len(c.files))
	for e := range c.files {
		byUse = append(byUse, e)
	}
	slices.SortFunc(byUse, func(a, b *entry) int { return cmp.Compare(a.lastUse.Load(), b.lastUse.Load()) })
	for _, e := range byUse {
		if c.diskBytes <= c.maxDisk {
			return
		}
		if !e.refs.CompareAndSwap(0, dead) {
			continue // in use
		}
		if c.entries[e.name] == e {
			delete(c.entries, e.name)
		}
		c.removeLocked(e)
		c.stats.Evictions++
	}
}

// removeLocked closes and deletes e's file. e must be dead (unreferenced
// and marked so).
func (c *Cache) removeLocked(e *entry) {
	c.ready.CompareAndDelete(e.name, e)
	delete(c.files, e)
	c.diskBytes -= e.size
	_ = e.file.Close()
	_ = os.Remove(e.path)
}

// Drop forgets the lookup file of the data file called name, which has
// left the table: the file is deleted now, or when the last Acquire holding
// it releases it. A later Acquire of name builds a new file.
func (c *Cache) Drop(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[name]; e != nil {
		c.dropLocked(e)
	}
}

// dropLocked takes e out of the cache; its file is deleted now or by its
// last release.
func (c *Cache) dropLocked(e *entry) {
	delete(c.entries, e.name)
	c.ready.CompareAndDelete(e.name, e)
	e.dropped.Store(true)
	if c.files[e] && e.refs.CompareAndSwap(0, dead) {
		c.removeLocked(e)
	}
}

// DropCorrupt forgets f, the lookup file of the data file called name,
// after a read from it failed with spec.ErrCorrupt: as Drop, but only if
// the cache still holds f under name, so that callers who read the same
// damaged file concurrently drop it once and not the file built to replace
// it. A later Acquire of name builds it again.
func (c *Cache) DropCorrupt(name string, f *File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[name]
	if e == nil || e.file != f {
		return
	}
	c.stats.Corrupt++
	c.dropLocked(e)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Hits = c.hits.Load()
	s.Files = len(c.files)
	s.DiskBytes = c.diskBytes
	return s
}

// Close cancels builds in progress and waits for them, closes every file
// (Files still acquired then return ErrClosed) and deletes every file the
// cache created, and the directory if NewCache created it and it is empty.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cancelBuild()
	c.mu.Unlock()
	c.building.Wait() // builders see closed and delete their output

	c.mu.Lock()
	var errs []error
	for e := range c.files {
		if err := e.file.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	c.files = map[*entry]bool{}
	c.entries = map[string]*entry{}
	c.ready.Clear()
	c.diskBytes = 0
	c.mu.Unlock()
	c.block.Close()
	// Temporaries of builds that failed to clean up, if any.
	if err := removeLeftovers(c.dir, filePrefix+c.token); err != nil {
		errs = append(errs, err)
	}
	if c.createdDir {
		_ = os.Remove(c.dir) // best effort: others may have put files there
	}
	return errors.Join(errs...)
}
