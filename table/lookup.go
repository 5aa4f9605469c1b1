package table

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/internal/scratch"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A Lookup answers point reads by primary key from one snapshot at a time:
// for each key exactly the row a batch scan of that snapshot returns, or a
// miss. The key is routed as a write would route it (partition from the
// key, bucket by Paimon's hash or the dynamic-bucket HASH index; every
// partition for cross-partition keys), only files whose key range holds the
// key are probed, and their records for the key are merged as a scan merges
// them (lookupState, mergeSplit). Refresh moves it to the latest snapshot;
// every answer comes from one snapshot, which it names.

// LookupOption configures a Lookup.
type LookupOption func(*Lookup)

// WithLookupSnapshot pins the lookup to snapshot id: no background refresh
// (an explicit Refresh still moves it to the latest).
func WithLookupSnapshot(id int64) LookupOption {
	return func(l *Lookup) { l.travel, l.interval = travel{snapshotID: id}, 0 }
}

// DefaultLookupRefresh is how often a lookup looks for a new snapshot in the
// background unless WithRefreshInterval says otherwise.
const DefaultLookupRefresh = time.Second

// WithRefreshInterval sets how often the lookup follows new snapshots in the
// background; 0 turns the background refresh off (Refresh still works).
func WithRefreshInterval(d time.Duration) LookupOption { return func(l *Lookup) { l.interval = d } }

// WithLookupCacheDir sets the directory of the lookup's local files (by
// default a new temporary directory, removed by Close). The files are
// bounded by lookup.cache-max-disk-size, and their blocks in memory by
// lookup.cache-max-memory-size.
func WithLookupCacheDir(dir string) LookupOption { return func(l *Lookup) { l.cacheDir = dir } }

// WithWarmUp builds the local lookup file of every live data file when the
// lookup opens (and of new files at each refresh), so that no request
// waits for one.
func WithWarmUp() LookupOption { return func(l *Lookup) { l.warm = true } }

// WithRefreshHook calls fn after every background refresh with the snapshot
// served and the refresh's error, if any (for logs and metrics). A failed
// refresh leaves the previous snapshot serving.
func WithRefreshHook(fn func(snapshot int64, took time.Duration, err error)) LookupOption {
	return func(l *Lookup) { l.hook = fn }
}

// Lookup is a table's point-read handle. It is safe for concurrent use.
type Lookup struct {
	t          *Table
	travel     travel // a pinned snapshot (timetravel.go); none: the latest
	interval   time.Duration
	hook       func(int64, time.Duration, error)
	pkIdx      []int // primary-key columns in the row
	keyTypes   []spec.DataType
	valueTypes []spec.DataType
	partIdx    []int // partition columns in the row
	partTypes  []spec.DataType
	bucketKey  *bucketKey
	warm       bool
	stop       context.CancelFunc
	done       chan struct{}
	cacheDir   string
	cache      *lookupfile.Cache // set once by NewLookup; closed, never nil, after Close
	ownDir     *scratch.Dir      // cacheDir, when NewLookup made it
	closeOnce  sync.Once
	closeErr   error

	mu     sync.RWMutex
	state  *lookupState
	closed bool // under mu: Close has started, no refresh installs a state
	// refreshing admits one Refresh at a time, so that each reads the
	// latest snapshot after the one before it installed its state: a
	// refresh that read an older latest can never replace a newer state.
	refreshing chan struct{}
	running    atomic.Int32 // GetBatch calls in progress
}

// LookupResult is the answer to a batch: the snapshot it was read at, and
// one row per key in order (nil for a miss).
type LookupResult struct {
	Snapshot int64
	Rows     []spec.Row
}

// NewLookup opens a lookup at the latest snapshot (or the one
// WithLookupSnapshot, WithLookupTag or WithLookupTimestamp pins).
// Tables without a primary key have nothing to look up by.
func (t *Table) NewLookup(ctx context.Context, opts ...LookupOption) (*Lookup, error) {
	if t.appendOnly() {
		return nil, fmt.Errorf("%w: lookups need a primary key", ErrUnsupported)
	}
	l := &Lookup{t: t, interval: DefaultLookupRefresh, refreshing: make(chan struct{}, 1)}
	for _, o := range opts {
		o(l)
	}
	for _, name := range t.schema.PrimaryKeys {
		l.pkIdx = append(l.pkIdx, t.schema.FieldIndex(name))
	}
	for _, name := range t.schema.PartitionKeys {
		l.partIdx = append(l.partIdx, t.schema.FieldIndex(name))
	}
	l.keyTypes, l.valueTypes, l.partTypes = t.layout.KeyTypes(), fieldTypes(t.schema.Fields), t.partitionTypes()
	var err error
	if l.bucketKey, err = t.newBucketKey(); err != nil {
		return nil, err
	}
	if err := l.openCache(); err != nil {
		return nil, err
	}
	snap, err := t.resolve(ctx, l.travel)
	if err == nil {
		l.state, err = l.newState(ctx, snap)
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	if l.interval > 0 {
		bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
		l.stop, l.done = cancel, make(chan struct{})
		go l.follow(bg)
	}
	return l, nil
}

// follow refreshes every interval until Close.
func (l *Lookup) follow(ctx context.Context) {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		_, err := l.Refresh(ctx)
		if l.hook != nil && ctx.Err() == nil {
			l.hook(l.Snapshot(), time.Since(start), err)
		}
	}
}

// KeyFields are the primary-key columns a key gives, in order.
func (l *Lookup) KeyFields() []spec.DataField {
	out := make([]spec.DataField, len(l.pkIdx))
	for i, j := range l.pkIdx {
		out[i] = l.t.schema.Fields[j]
	}
	return out
}

// Snapshot is the id of the snapshot answers come from (0: empty table).
func (l *Lookup) Snapshot() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.state.id()
}

// Serves reports whether the lookup answers from snap: the same id and the
// same snapshot file, so that a snapshot committed after a rollback under a
// rolled-back snapshot's id does not pass for it.
func (l *Lookup) Serves(snap *spec.Snapshot) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return sameSnapshot(l.state.snapshot(), snap)
}

// sameSnapshot compares ids and delta manifest lists, whose names are
// random: after a rollback a new snapshot may reuse an old one's id.
func sameSnapshot(a, b *spec.Snapshot) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.DeltaManifestList == b.DeltaManifestList && a.TimeMillis == b.TimeMillis
}

// Refresh moves the lookup to the latest snapshot; the local lookup files of
// data files still live are kept. It reports whether the snapshot changed.
// After a rollback the latest snapshot may be older than the one served:
// the lookup follows it. Concurrent calls (the background refresh, a
// server's refresher, GetBatch after a missing file) run one at a time,
// each reading the latest snapshot after the previous one's state is in
// place, so that answers never go back to an older snapshot otherwise.
func (l *Lookup) Refresh(ctx context.Context) (bool, error) {
	select {
	case l.refreshing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l.refreshing }()
	snap, err := l.t.snapshots.Latest(ctx)
	if err != nil {
		return false, err
	}
	l.mu.RLock()
	old, closed := l.state, l.closed
	l.mu.RUnlock()
	if closed {
		return false, errLookupClosed
	}
	if snap == nil || sameSnapshot(snap, old.snapshot()) {
		return false, nil
	}
	next, err := l.newState(ctx, snap)
	if err != nil {
		return false, err
	}
	faultpoint.Hit(faultpoint.LookupRefreshBuilt)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, errLookupClosed
	}
	old, l.state = l.state, next
	l.mu.Unlock()
	// Files that left the table lose their local files now; a lookup
	// still reading one keeps it until it releases it.
	for name := range old.files {
		if !next.files[name] {
			l.cache.Drop(name)
		}
	}
	return true, nil
}

// Get returns the row of key (the primary-key values, in KeyFields order),
// or nil when the snapshot has none. A data file found gone is handled as
// GetBatch handles it.
func (l *Lookup) Get(ctx context.Context, key spec.Row) (spec.Row, error) {
	st := l.current()
	var rows [1]spec.Row
	err := l.getBatch(ctx, st, []spec.Row{key}, rows[:])
	if next := l.retryState(ctx, st, err); next != nil {
		rows[0] = nil
		err = l.getBatch(ctx, next, []spec.Row{key}, rows[:])
	}
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// GetBatch looks up every key in one snapshot. The rows of one batch may
// share memory (their strings, say), so keeping one keeps the others' too.
// A large batch is split across goroutines when cores are idle: when fewer
// batches than GOMAXPROCS are running.
//
// A lookup that follows the latest snapshot and finds a data file gone
// (its snapshot expired while a refresh lagged) refreshes and answers from
// the latest snapshot instead.
func (l *Lookup) GetBatch(ctx context.Context, keys []spec.Row) (LookupResult, error) {
	st := l.current()
	res, err := l.getBatchAt(ctx, st, keys)
	if next := l.retryState(ctx, st, err); next != nil {
		return l.getBatchAt(ctx, next, keys)
	}
	return res, err
}

// current is the state answers come from now.
func (l *Lookup) current() *lookupState {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.state
}

// retryState returns the state to read again at after a read at st failed
// with err, or nil when the error stands. A lookup that follows the latest
// snapshot and found a data file gone reads again at any state other than
// st: one its own refresh installed, or one a concurrent refresh installed
// (its own refresh then finds nothing newer).
func (l *Lookup) retryState(ctx context.Context, st *lookupState, err error) *lookupState {
	if err == nil || l.travel != (travel{}) || !errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if cur := l.current(); cur != st {
		return cur
	}
	// A failed refresh leaves st in place: the read's error stands.
	_, _ = l.Refresh(ctx)
	if cur := l.current(); cur != st {
		return cur
	}
	return nil
}

// getBatchAt is GetBatch at state st.
func (l *Lookup) getBatchAt(ctx context.Context, st *lookupState, keys []spec.Row) (LookupResult, error) {
	running := int(l.running.Add(1))
	defer l.running.Add(-1)
	res := LookupResult{Snapshot: st.id(), Rows: make([]spec.Row, len(keys))}
	workers := min(runtime.GOMAXPROCS(0)-running+1, len(keys)/minKeysPerWorker)
	if workers <= 1 {
		if err := l.getBatch(ctx, st, keys, res.Rows); err != nil {
			return LookupResult{}, err
		}
		return res, nil
	}
	var g errgroup.Group
	per := (len(keys) + workers - 1) / workers
	for from := per; from < len(keys); from += per {
		to := min(from+per, len(keys))
		g.Go(func() error { return l.getBatch(ctx, st, keys[from:to], res.Rows[from:to]) })
	}
	err := l.getBatch(ctx, st, keys[:per], res.Rows[:per])
	if err = errors.Join(err, g.Wait()); err != nil {
		return LookupResult{}, err
	}
	return res, nil
}

// minKeysPerWorker is the smallest share of a batch worth a goroutine
// (waking a parked thread costs about as much as reading tens of keys).
const minKeysPerWorker = 32

// errLookupClosed is what a Refresh racing Close, or after it, returns
// (reads of data files fail with the closed cache's ErrClosed).
var errLookupClosed = fmt.Errorf("table: lookup: %w", lookupfile.ErrClosed)

// Close stops the background refresh and removes the local files. Calls
// racing it fail with an error wrapping lookupfile.ErrClosed (a read
// already holding a local file finishes first); later Closes do nothing.
func (l *Lookup) Close() error {
	l.closeOnce.Do(func() {
		if l.stop != nil {
			l.stop()
			<-l.done
		}
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.closeErr = l.cache.Close()
		if l.ownDir != nil {
			l.closeErr = errors.Join(l.closeErr, l.ownDir.Remove())
		}
	})
	return l.closeErr
}

// openCache makes the local lookup-file cache.
func (l *Lookup) openCache() error {
	if l.cacheDir == "" {
		// A killed process's directory is removed by a later one.
		dir, err := scratch.MkdirTemp("", "strata-lookup-")
		if err != nil {
			return fmt.Errorf("lookup cache: %w", err)
		}
		l.cacheDir, l.ownDir = dir.Path(), dir
	}
	c, err := lookupfile.NewCache(l.cacheDir, l.t.opts.LookupCacheMaxDiskSize, l.t.opts.LookupCacheMaxMemorySize)
	if err != nil {
		return fmt.Errorf("lookup cache: %w", err)
	}
	l.cache = c
	return nil
}

// CacheStats reports the local lookup files: count, bytes, hits, builds.
func (l *Lookup) CacheStats() lookupfile.CacheStats { return l.cache.Stats() }

// newState reads a snapshot for lookups; each bucket probes its files
// through the lookup's cache.
func (l *Lookup) newState(ctx context.Context, snap *spec.Snapshot) (*lookupState, error) {
	t := l.t
	st, err := t.newLookupState(ctx, snap)
	if err != nil {
		return nil, err
	}
	for _, b := range st.list {
		dir := b.dir
		b.probe = lsm.NewFileLookup(l.cache, l.keyTypes, l.valueTypes,
			func(ctx context.Context, f *lsm.File) lsm.PositionedRun {
				return t.openPositioned(ctx, dir, f.Meta, nil)
			})
		if !l.warm {
			continue
		}
		for _, f := range b.files {
			if err := b.probe.Warm(ctx, f.File); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// lookupState is what one snapshot holds for lookups: each bucket's live
// files with decoded key ranges and deletion vectors, and for dynamic
// buckets each partition's key hashes.
type lookupState struct {
	snap    *spec.Snapshot
	files   map[string]bool // live data file names
	buckets map[bucketRef]*lookupBucket
	list    []*lookupBucket            // every bucket, by partition and bucket; id is the index
	parts   map[string][]*lookupBucket // by partition, by bucket
	hashes  map[string]map[int32]int32 // dynamic buckets: partition → key hash → bucket
}

// bucketRef names a bucket of a partition (a serialized BinaryRow).
type bucketRef struct {
	partition string
	bucket    int32
}

// lookupBucket is one bucket's files in a snapshot: those a lookup reads
// (not level 0 where batch scans skip it), in the snapshot's order.
type lookupBucket struct {
	id        int32
	partition []byte
	bucket    int32
	dir       string
	files     []lookupFile
	dvs       map[string]*spec.DeletionVector
	probe     *lsm.FileLookup
}

// lookupFile is a data file with its key range in lookup encoding.
type lookupFile struct {
	*lsm.File
	min, max []byte
}

// bucket returns the partition's bucket, or nil when the snapshot has no
// file in it.
func (st *lookupState) bucket(partition []byte, bucket int32) *lookupBucket {
	bs := st.parts[string(partition)]
	i, ok := slices.BinarySearchFunc(bs, bucket, func(b *lookupBucket, n int32) int { return cmp.Compare(b.bucket, n) })
	if !ok {
		return nil
	}
	return bs[i]
}

// snapshot is the state's snapshot, nil for an empty table.
func (st *lookupState) snapshot() *spec.Snapshot {
	if st == nil {
		return nil
	}
	return st.snap
}

func (st *lookupState) id() int64 {
	if st == nil || st.snap == nil {
		return 0
	}
	return st.snap.ID
}

// newLookupState reads a snapshot's files, deletion vectors and HASH index
// (the local lookup files of files still live are kept by the cache).
func (t *Table) newLookupState(ctx context.Context, snap *spec.Snapshot) (*lookupState, error) {
	st := &lookupState{snap: snap, files: map[string]bool{}, buckets: map[bucketRef]*lookupBucket{}, parts: map[string][]*lookupBucket{}}
	if snap == nil {
		return st, nil
	}
	entries, err := t.liveFiles(ctx, snap)
	if err != nil {
		return nil, err
	}
	var dvs map[string]map[string]*spec.DeletionVector
	if t.opts.DeletionVectorsEnabled && snap.IndexManifest != nil {
		if dvs, err = t.readDVs(ctx, *snap.IndexManifest); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		k := splitKey(e.Partition, e.Bucket)
		ref := bucketRef{string(e.Partition), e.Bucket}
		b := st.buckets[ref]
		if b == nil {
			pp, err := t.partitionPath(e.Partition)
			if err != nil {
				return nil, err
			}
			b = &lookupBucket{partition: e.Partition, bucket: e.Bucket, dir: t.bucketDir(pp, e.Bucket), dvs: dvs[k]}
			st.buckets[ref] = b
			st.parts[string(e.Partition)] = append(st.parts[string(e.Partition)], b)
		}
		st.files[e.File.FileName] = true
		if t.skipLevel0() && e.File.Level == 0 {
			continue // batch scans skip it
		}
		f, err := t.lookupFile(e.File)
		if err != nil {
			return nil, err
		}
		b.files = append(b.files, f)
	}
	for _, bs := range st.parts {
		slices.SortFunc(bs, func(a, b *lookupBucket) int { return cmp.Compare(a.bucket, b.bucket) })
		st.list = append(st.list, bs...)
	}
	slices.SortFunc(st.list, func(a, b *lookupBucket) int {
		if c := bytes.Compare(a.partition, b.partition); c != 0 {
			return c
		}
		return cmp.Compare(a.bucket, b.bucket)
	})
	for i, b := range st.list {
		b.id = int32(i)
	}
	if t.dynamicBuckets() {
		if st.hashes, err = t.lookupHashes(ctx, snap); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// lookupFile decodes a data file's key range and encodes it for lookups.
func (t *Table) lookupFile(meta spec.DataFileMeta) (lookupFile, error) {
	f, err := t.decodedFile(meta)
	if err != nil {
		return lookupFile{}, err
	}
	lf := lookupFile{File: f}
	if lf.min, err = lookupfile.EncodeKey(nil, t.layout.KeyTypes(), f.MinKey); err == nil {
		lf.max, err = lookupfile.EncodeKey(nil, t.layout.KeyTypes(), f.MaxKey)
	}
	if err != nil {
		return lookupFile{}, fmt.Errorf("key range of %s: %w", meta.FileName, err)
	}
	return lf, nil
}

// lookupHashes maps each partition's key hashes to their bucket, from the
// snapshot's HASH index files.
func (t *Table) lookupHashes(ctx context.Context, snap *spec.Snapshot) (map[string]map[int32]int32, error) {
	out := map[string]map[int32]int32{}
	if snap.IndexManifest == nil {
		return out, nil
	}
	byBucket, _, err := t.readHashIndexes(ctx, snap.IndexManifest)
	if err != nil {
		return nil, err
	}
	for k, hs := range byBucket {
		part, bucket, ok := parseSplitKey(k)
		if !ok {
			return nil, fmt.Errorf("%w: HASH index of %q", spec.ErrCorrupt, k)
		}
		m := out[part]
		if m == nil {
			m = map[int32]int32{}
			out[part] = m
		}
		for _, h := range hs {
			m[h] = bucket
		}
	}
	return out, nil
}
