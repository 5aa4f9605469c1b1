package table

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/internal/scratch"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// CommitMessage is what a writer hands to the committer for one bucket of one
// partition: the files it added, and what its compactions replaced.
type CommitMessage struct {
	Partition    []byte // serialized BinaryRow
	Bucket       int32
	TotalBuckets int32
	// NewFiles are level-0 files from flushes (the APPEND snapshot).
	NewFiles []spec.DataFileMeta
	// CompactBefore and CompactAfter are the files compaction removed and
	// added (the COMPACT snapshot); an upgrade appears in both under the
	// same name at two levels.
	CompactBefore []spec.DataFileMeta
	CompactAfter  []spec.DataFileMeta
	// NewChangelog (input producer) and CompactChangelog (lookup and
	// full-compaction producers) are changelog files.
	NewChangelog     []spec.DataFileMeta
	CompactChangelog []spec.DataFileMeta
	// NewIndexFiles replace the bucket's index files of their type
	// (deletion vectors, written with compaction results).
	NewIndexFiles []spec.IndexManifestEntry
	// BaseSnapshot is the snapshot the writer read the bucket at (0 for an
	// empty table): the committer checks what was published after it for
	// concurrent writers of the same bucket.
	BaseSnapshot int64
}

// IsEmpty reports whether the message changes nothing.
func (m *CommitMessage) IsEmpty() bool {
	return len(m.NewFiles) == 0 && len(m.CompactBefore) == 0 && len(m.CompactAfter) == 0 &&
		len(m.NewChangelog) == 0 && len(m.CompactChangelog) == 0 && len(m.NewIndexFiles) == 0
}

// WriteOption configures a Write.
type WriteOption func(*Write)

// WithWaitCompaction makes PrepareCommit wait for running compactions, as
// batch writes do (the default); streaming writers turn it off to keep
// compaction in the background across commits.
func WithWaitCompaction(wait bool) WriteOption { return func(w *Write) { w.waitCompaction = wait } }

// Write buffers rows per bucket and turns them into level-0 files, compacting
// in the background. It is not safe for concurrent use.
type Write struct {
	t              *Table
	buckets        map[string]*bucketWriter // by splitKey(partition, bucket)
	restored       map[string][]spec.DataFileMeta
	restoredDVs    map[string]map[string]*spec.DeletionVector // by splitKey
	restoredParts  map[string]restoredBucket
	bucketKey      *bucketKey
	waitCompaction bool
	commits        int // PrepareCommit calls, for full-compaction.delta-commits
	spiller        *lsm.Spiller
	spillDir       string
	// Dynamic buckets: the assigner and the HASH index of the snapshot the
	// write started from.
	assigner              *bucketAssigner
	global                *globalIndex // cross-partition upserts
	hashes                *hashIndex
	assignerID, assigners int32
	base                  int64 // the snapshot the write started from (0: none)
	// The buckets' bases, moved forward at each PrepareCommit
	// (writebase.go); the last snapshot read for them; the names of files
	// this writer produced and has not yet seen committed; the commit user
	// that committed them.
	bases   map[string]*bucketBase
	scanned int64
	own     map[string]bool
	user    string // the commit user that committed the writer's files
	// Local lookup files of the files compaction looks keys up in
	// (lookup tables only), under a directory of the spill directory.
	cache    *lookupfile.Cache
	cacheDir *scratch.Dir
	adds     int // rows added, for the buffers' total
	// slots bound the buckets' background compactions running at once:
	// one per core (a compaction decodes, merges and encodes on separate
	// goroutines, but waits on storage too; one at a time measured 18%
	// slower over 10M upserts).
	slots compaction.Slots
}

// lookupCache returns the writer's lookup-file cache, made on first use;
// nil for tables whose compaction looks nothing up.
func (w *Write) lookupCache() (*lookupfile.Cache, error) {
	if w.cache != nil || !w.t.needLookup() || w.t.opts.WriteOnly {
		return w.cache, nil
	}
	// A killed process's directory is removed by a later one.
	dir, err := scratch.MkdirTemp(w.spillDir, "strata-lookup-")
	if err != nil {
		return nil, fmt.Errorf("lookup cache: %w", err)
	}
	c, err := lookupfile.NewCache(dir.Path(), w.t.opts.LookupCacheMaxDiskSize, w.t.opts.LookupCacheMaxMemorySize)
	if err != nil {
		dir.Remove()
		return nil, fmt.Errorf("lookup cache: %w", err)
	}
	w.cache, w.cacheDir = c, dir
	return c, nil
}

// WithAssigner makes this writer assigner id of n for a dynamic-bucket
// table: it creates only buckets b with b % n == id % n, so several writer
// processes can add keys to one partition, as Paimon's parallel assigners
// do. Every key must always be routed to the same writer.
func WithAssigner(id, n int) WriteOption {
	return func(w *Write) { w.assignerID, w.assigners = int32(id), int32(n) }
}

// WithSpillDir sets the local directory write buffers spill to
// (write-buffer-spillable); the default is the system's temporary directory.
func WithSpillDir(dir string) WriteOption { return func(w *Write) { w.spillDir = dir } }

// initSpill sets up spilling as write-buffer-spillable (default true) and
// write-buffer-spill.max-disk-size (default unlimited) say.
func (w *Write) initSpill() {
	if !w.t.opts.WriteBufferSpillable {
		return
	}
	w.spiller = &lsm.Spiller{Dir: w.spillDir, ValueTypes: fieldTypes(w.t.schema.Fields), KeyIndex: w.t.layout.KeyIndex,
		MaxBytes: w.t.opts.WriteBufferSpillMaxDiskSize}
}

// NewWrite starts a write on top of the table's latest snapshot.
func (t *Table) NewWrite(ctx context.Context, opts ...WriteOption) (*Write, error) {
	if err := t.checkWritable(); err != nil {
		return nil, err
	}
	w := &Write{restoredParts: map[string]restoredBucket{}, t: t, buckets: map[string]*bucketWriter{}, restored: map[string][]spec.DataFileMeta{}, waitCompaction: true,
		slots: compaction.NewSlots(runtime.GOMAXPROCS(0))}
	for _, o := range opts {
		o(w)
	}
	w.initSpill()
	var err error
	if w.bucketKey, err = t.newBucketKey(); err != nil {
		return nil, err
	}
	if !t.appendOnly() {
		if _, err := t.newMergeFunction(); err != nil {
			return nil, err
		}
	}
	snap, err := t.snapshots.Latest(ctx)
	if err != nil {
		return nil, err
	}
	if snap != nil {
		w.base = snap.ID
		files, err := t.liveFiles(ctx, snap)
		if err != nil {
			return nil, err
		}
		for _, e := range files {
			k := splitKey(e.Partition, e.Bucket)
			w.restored[k] = append(w.restored[k], e.File)
			if _, ok := w.restoredParts[k]; !ok {
				w.restoredParts[k] = restoredBucket{e.Partition, e.Bucket}
			}
		}
		if t.opts.DeletionVectorsEnabled && snap.IndexManifest != nil {
			if w.restoredDVs, err = t.readDVs(ctx, *snap.IndexManifest); err != nil {
				return nil, err
			}
		}
	}
	if t.appendOnly() {
		w.spiller = nil // rows are written as they come; nothing to sort
	} else if t.crossPartition() {
		if w.global, err = t.newGlobalIndex(ctx, snap); err != nil {
			return nil, err
		}
	} else if t.dynamicBuckets() {
		if w.assigners <= 0 {
			w.assignerID, w.assigners = 0, 1
		}
		w.assigner = t.newBucketAssigner(w.assignerID, w.assigners)
		var idx *string
		if snap != nil {
			idx = snap.IndexManifest
		}
		if w.hashes, err = t.newHashIndex(ctx, idx); err != nil {
			return nil, err
		}
	}
	return w, nil
}

type restoredBucket struct {
	partition []byte
	bucket    int32
}

func (w *Write) bucketWriter(ctx context.Context, partition []byte, bucket int32) (*bucketWriter, error) {
	k := splitKey(partition, bucket)
	if bw, ok := w.buckets[k]; ok {
		return bw, nil
	}
	cache, err := w.lookupCache()
	if err != nil {
		return nil, err
	}
	bw, err := w.t.newBucketWriter(partition, bucket, w.restored[k], w.restoredDVs[k], cache, w.slots, w.spiller)
	if err != nil {
		return nil, err
	}
	if w.assigner != nil {
		restored, err := w.hashes.bucket(ctx, k)
		if err != nil {
			return nil, err
		}
		bw.hashes = newHashSet(restored)
	}
	delete(w.restored, k)
	w.buckets[k] = bw
	return bw, nil
}

// BucketOf returns the bucket a row belongs to: Paimon's hash of the
// bucket-key BinaryRow modulo the bucket count.
func (w *Write) BucketOf(row spec.Row) (int32, error) { return w.bucketKey.bucket(row) }

// bucketKey hashes a row's bucket-key columns to its fixed bucket.
type bucketKey struct {
	idx     []int
	types   []spec.DataType
	buckets int
}

func (t *Table) newBucketKey() (*bucketKey, error) {
	k := &bucketKey{buckets: t.opts.Bucket}
	for _, name := range t.schema.BucketKeys() {
		i := t.schema.FieldIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("%w: bucket key %s is not a column", spec.ErrInvalidSchema, name)
		}
		k.idx = append(k.idx, i)
		k.types = append(k.types, t.schema.Fields[i].Type)
	}
	return k, nil
}

// bucket is Paimon's hash of the bucket-key BinaryRow modulo the bucket
// count.
func (k *bucketKey) bucket(row spec.Row) (int32, error) {
	vals := make(spec.Row, len(k.idx))
	for i, j := range k.idx {
		vals[i] = row[j]
	}
	b, err := spec.EncodeBinaryRow(k.types, vals, spec.RowKindInsert)
	if err != nil {
		return 0, err
	}
	return int32(spec.Bucket(spec.HashBinaryRow(b), k.buckets)), nil
}

// WriteRow adds one row with its change kind. The row must have one value
// per column, of the column's Go type (see package spec). A -U/-D the
// table's merge engine cannot take is refused (lsm.RetractRule) and nothing
// is kept.
func (w *Write) WriteRow(ctx context.Context, kind spec.RowKind, row spec.Row) error {
	if err := w.t.checkRow(row); err != nil {
		return err
	}
	// Refuse what the merge engine cannot take before routing changes
	// anything. A dropped record (ignore-delete) is still routed, as Paimon
	// assigns its bucket before the writer drops it.
	kind, keep, err := w.t.rowKinds.Resolve(kind, row)
	if err != nil {
		return err
	}
	partition, err := w.t.partitionOf(row)
	if err != nil {
		return err
	}
	if w.global != nil {
		if !keep {
			return nil
		}
		rs, err := w.routeCrossPartition(kind, row, partition)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := w.add(ctx, r.kind, r.row, r.partition, r.bucket, 0); err != nil {
				return err
			}
		}
		return nil
	}
	if w.t.appendOnly() {
		if kind.IsRetract() {
			return fmt.Errorf("%w: %s in an append table (no primary key): rows can only be inserted", spec.ErrSchemaMismatch, kind)
		}
		var bucket int32 // bucket-unaware tables keep everything in bucket-0
		if w.t.opts.Bucket > 0 {
			if bucket, err = w.BucketOf(row); err != nil {
				return err
			}
		}
		return w.add(ctx, spec.RowKindInsert, row, partition, bucket, 0)
	}
	key := w.t.layout.KeyOf(row)
	var bucket, hash int32
	if w.assigner != nil {
		if hash, err = w.t.keyHash(key); err != nil {
			return err
		}
		if bucket, err = w.assigner.assign(ctx, partition, hash, w.hashes); err != nil {
			return err
		}
	} else if bucket, err = w.BucketOf(row); err != nil {
		return err
	}
	if !keep {
		return nil
	}
	return w.add(ctx, kind, row, partition, bucket, hash)
}

// add buffers one routed record in its partition-bucket's writer.
func (w *Write) add(ctx context.Context, kind spec.RowKind, row spec.Row, partition []byte, bucket, hash int32) error {
	bw, err := w.bucketWriter(ctx, partition, bucket)
	if err != nil {
		return err
	}
	if bw.hashes != nil {
		bw.hashes.add(hash)
	}
	if err := bw.tree.Add(kind, row); err != nil {
		return err
	}
	return w.flushIfFull(ctx, bw, 1)
}

// flushIfFull spills or flushes a bucket's buffer once it holds
// write-buffer-size. A columnar buffer is flushed, not spilled.
func (w *Write) flushIfFull(ctx context.Context, bw *bucketWriter, rows int) error {
	if bw.tree.BufferBytes() >= w.t.opts.WriteBufferSize {
		return bw.tree.FlushMemory(ctx)
	}
	// write-buffer-size also bounds the buffers of all buckets together,
	// as Paimon's writer shares one memory pool among its buckets: past
	// it, the largest buffer goes. The sum is taken every few rows.
	prev := w.adds
	if w.adds += rows; prev/memoryCheckEvery == w.adds/memoryCheckEvery || len(w.buckets) < 2 {
		return nil
	}
	var total int64
	var largest *bucketWriter
	for _, b := range w.buckets {
		n := b.tree.BufferBytes()
		total += n
		if largest == nil || n > largest.tree.BufferBytes() {
			largest = b
		}
	}
	if total < w.t.opts.WriteBufferSize {
		return nil
	}
	return largest.tree.FlushMemory(ctx)
}

// memoryCheckEvery is how many rows pass between checks of the buffers'
// total size.
const memoryCheckEvery = 1024

// checkRow validates arity and nullability of a row.
func (t *Table) checkRow(row spec.Row) error {
	if len(row) != len(t.schema.Fields) {
		return fmt.Errorf("%w: row has %d values, table has %d columns", spec.ErrSchemaMismatch, len(row), len(t.schema.Fields))
	}
	for i, f := range t.schema.Fields {
		if row[i] == nil && !f.Type.Nullable {
			return fmt.Errorf("%w: column %s is NOT NULL", spec.ErrSchemaMismatch, f.Name)
		}
	}
	return nil
}

func (w *Write) sortedBuckets() []string {
	keys := make([]string, 0, len(w.buckets))
	for k := range w.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// PrepareOption configures one PrepareCommit.
type PrepareOption func(*prepareConfig)

type prepareConfig struct{ wait bool }

// WaitForCompaction makes one PrepareCommit wait for the running
// compactions (or not), whatever WithWaitCompaction chose for the Write: a
// streaming writer that leaves compaction in the background between
// commits waits at the end of its input, as Paimon's do. Tables that need
// lookups wait at every commit unless lookup-wait is false.
func WaitForCompaction(wait bool) PrepareOption { return func(c *prepareConfig) { c.wait = wait } }

// PrepareCommit flushes every bucket and returns one message per bucket that
// changed. The write can go on afterwards.
func (w *Write) PrepareCommit(ctx context.Context, opts ...PrepareOption) ([]CommitMessage, error) {
	cfg := prepareConfig{wait: w.waitCompaction}
	for _, o := range opts {
		o(&cfg)
	}
	// A table read through lookups (changelog-producer=lookup, deletion
	// vectors, first-row) shows its rows only once compacted out of level
	// 0: with lookup-wait, as Paimon's, every commit waits for that.
	cfg.wait = cfg.wait || w.t.needLookup() && w.t.opts.LookupWait
	w.commits++
	if w.fullCompactionDue() {
		for _, b := range w.sortedBuckets() {
			if err := w.buckets[b].compact(ctx, true); err != nil {
				return nil, fmt.Errorf("bucket %d: %w", w.buckets[b].bucket, err)
			}
		}
	}
	// Buckets flush in parallel: each is an independent tree, and a flush
	// (sort, merge, encode, compress) is CPU-bound.
	buckets := w.sortedBuckets()
	out := make([]CommitMessage, len(buckets))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, b := range buckets {
		g.Go(func() error {
			msg, err := w.buckets[b].prepareCommit(gctx, cfg.wait)
			out[i] = msg
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var msgs []CommitMessage
	compacted := false
	for _, m := range out {
		if !m.IsEmpty() {
			msgs = append(msgs, m)
			compacted = compacted || len(m.CompactAfter) > 0
		}
	}
	w.advanceBases(ctx, msgs)
	if compacted {
		faultpoint.Hit(faultpoint.CompactBeforeCommit)
	}
	return msgs, nil
}

// Compact compacts every bucket that has files (all of them with full, as a
// dedicated compaction job does) and waits; progress, when set, is called
// after each bucket. The result reaches the table through PrepareCommit and
// Commit.
func (w *Write) Compact(ctx context.Context, full bool, progress func(done, total int)) error {
	for k := range w.restored {
		rb := w.restoredParts[k]
		if _, err := w.bucketWriter(ctx, rb.partition, rb.bucket); err != nil {
			return err
		}
	}
	buckets := w.sortedBuckets()
	for i, b := range buckets {
		if err := w.buckets[b].compact(ctx, full); err != nil {
			return fmt.Errorf("bucket %d: %w", w.buckets[b].bucket, err)
		}
		if progress != nil {
			progress(i+1, len(buckets))
		}
	}
	return nil
}

// Close stops background compactions. Files not yet committed stay behind as
// orphans.
func (w *Write) Close() {
	for _, bw := range w.buckets {
		bw.tree.Close()
	}
	if w.cache != nil {
		_ = w.cache.Close()
		_ = w.cacheDir.Remove()
		w.cache = nil
	}
}

// setNextSeq makes the bucket's next record get sequence number seq; tests
// use it to line up with Java-written files.
func (w *Write) setNextSeq(bucket int32, seq int64) {
	bw, _ := w.bucketWriter(context.Background(), spec.SerializedEmptyRow(), bucket)
	_ = bw.tree.SetNextSequence(seq)
}

// fullCompactionDue reports whether this commit must run a full compaction:
// every full-compaction.delta-commits commits, or every commit for the
// full-compaction changelog producer without that option (as Flink does).
func (w *Write) fullCompactionDue() bool {
	if w.t.opts.WriteOnly {
		return false
	}
	if d := w.t.opts.FullCompactionDeltaCommits; d != nil && *d > 0 {
		return w.commits%*d == 0
	}
	return w.t.opts.ChangelogProducer == spec.ChangelogProducerFullCompaction
}
