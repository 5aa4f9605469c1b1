package table

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"

	"github.com/google/uuid"

	"github.com/stratalake/strata/spec"
)

// Dynamic buckets (bucket = -1): a key's bucket is whatever bucket its key
// hash was first assigned to; new keys fill a bucket up to
// dynamic-bucket.target-row-num, then open the next one. The assignment is
// kept in HASH index files (one per partition-bucket: the key hashes as
// big-endian int32s) listed in the index manifest, as Java Paimon keeps it.

// dynamicBuckets reports whether the table assigns buckets dynamically.
func (t *Table) dynamicBuckets() bool { return t.opts.Bucket == spec.BucketDynamic }

// keyHash is the hash a dynamic-bucket assigner works with: the trimmed
// primary key BinaryRow's hash.
func (t *Table) keyHash(key spec.Row) (int32, error) {
	b, err := spec.EncodeBinaryRow(t.layout.KeyTypes(), key, spec.RowKindInsert)
	if err != nil {
		return 0, err
	}
	return spec.HashBinaryRow(b), nil
}

// bucketAssigner is Java's HashBucketAssigner for one writer: assigner id
// of numAssigners, owning buckets b with b % numAssigners == id.
type bucketAssigner struct {
	t            *Table
	id, num      int32
	partitions   map[string]*partitionIndex
	rng          *rand.Rand
	targetRowNum int64
	maxBuckets   int32
}

// partitionIndex is one partition's assignment state.
type partitionIndex struct {
	hash2bucket  map[int32]int32
	counts       map[int32]int64 // rows per owned bucket
	nonFull      []int32         // owned buckets below target, oldest first
	upperReached bool
}

func (t *Table) newBucketAssigner(id, num int32) *bucketAssigner {
	mb := int32(t.opts.DynamicBucketMaxBuckets)
	if mb <= 0 {
		mb = 32767
	}
	return &bucketAssigner{t: t, id: id, num: num, partitions: map[string]*partitionIndex{},
		rng: rand.New(rand.NewPCG(uint64(id), 7)), targetRowNum: t.opts.DynamicBucketTargetRowNum, maxBuckets: mb}
}

func (a *bucketAssigner) mine(b int32) bool { return b%a.num == a.id%a.num }

// load builds a partition's index from the HASH files of the snapshot the
// write started from.
func (a *bucketAssigner) load(ctx context.Context, partition []byte, index *hashIndex) (*partitionIndex, error) {
	idx := &partitionIndex{hash2bucket: map[int32]int32{}, counts: map[int32]int64{}}
	buckets, err := index.partition(ctx, partition)
	if err != nil {
		return nil, err
	}
	for b, hs := range buckets {
		for _, h := range hs {
			idx.hash2bucket[h] = b
		}
		if a.mine(b) {
			idx.counts[b] = int64(len(hs))
		}
	}
	for b := range idx.counts {
		idx.nonFull = append(idx.nonFull, b)
	}
	slices.Sort(idx.nonFull)
	return idx, nil
}

// assign returns the bucket of a key hash in a partition.
func (a *bucketAssigner) assign(ctx context.Context, partition []byte, hash int32, index *hashIndex) (int32, error) {
	idx, ok := a.partitions[string(partition)]
	if !ok {
		var err error
		if idx, err = a.load(ctx, partition, index); err != nil {
			return 0, err
		}
		a.partitions[string(partition)] = idx
	}
	if b, ok := idx.hash2bucket[hash]; ok {
		return b, nil
	}
	for len(idx.nonFull) > 0 {
		b := idx.nonFull[0]
		if idx.counts[b] < a.targetRowNum {
			idx.counts[b]++
			idx.hash2bucket[hash] = b
			return b, nil
		}
		idx.nonFull = idx.nonFull[1:]
	}
	if !idx.upperReached {
		for b := int32(0); b < a.maxBuckets; b++ {
			if _, used := idx.counts[b]; a.mine(b) && !used {
				idx.counts[b] = 1
				idx.nonFull = append(idx.nonFull, b)
				idx.hash2bucket[hash] = b
				return b, nil
			}
		}
		if a.t.opts.DynamicBucketMaxBuckets <= 0 {
			return 0, fmt.Errorf("%w: too many buckets in one partition (%d)", ErrUnsupported, a.maxBuckets)
		}
		idx.upperReached = true
	}
	owned := make([]int32, 0, len(idx.counts))
	for b := range idx.counts {
		owned = append(owned, b)
	}
	if len(owned) == 0 {
		return 0, fmt.Errorf("%w: assigner %d of %d owns no bucket below dynamic-bucket.max-buckets=%d", spec.ErrInvalidSchema, a.id, a.num, a.t.opts.DynamicBucketMaxBuckets)
	}
	slices.Sort(owned)
	b := owned[a.rng.IntN(len(owned))]
	idx.hash2bucket[hash] = b
	return b, nil
}

// hashIndex is a snapshot's HASH index, loaded a partition at a time (a
// writer touching a few partitions of a large table reads only theirs).
type hashIndex struct {
	t       *Table
	entries map[string]spec.IndexManifestEntry // by splitKey
	loaded  map[string][]int32
}

func (t *Table) newHashIndex(ctx context.Context, indexManifest *string) (*hashIndex, error) {
	h := &hashIndex{t: t, entries: map[string]spec.IndexManifestEntry{}, loaded: map[string][]int32{}}
	if indexManifest == nil {
		return h, nil
	}
	es, err := t.manifests.ReadIndexManifest(ctx, *indexManifest)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Kind == spec.FileKindAdd && e.IndexType == spec.IndexTypeHash {
			h.entries[splitKey(e.Partition, e.Bucket)] = e
		}
	}
	return h, nil
}

// bucket returns one bucket's key hashes.
func (h *hashIndex) bucket(ctx context.Context, key string) ([]int32, error) {
	if hs, ok := h.loaded[key]; ok {
		return hs, nil
	}
	e, ok := h.entries[key]
	if !ok {
		return nil, nil
	}
	hs, err := h.t.readHashFile(ctx, e)
	if err != nil {
		return nil, err
	}
	h.loaded[key] = hs
	return hs, nil
}

// partition returns the key hashes of every bucket of a partition.
func (h *hashIndex) partition(ctx context.Context, partition []byte) (map[int32][]int32, error) {
	out := map[int32][]int32{}
	for k, e := range h.entries {
		if string(e.Partition) != string(partition) {
			continue
		}
		hs, err := h.bucket(ctx, k)
		if err != nil {
			return nil, err
		}
		out[e.Bucket] = hs
	}
	return out, nil
}

func (t *Table) readHashFile(ctx context.Context, e spec.IndexManifestEntry) ([]int32, error) {
	p := path.Join(t.path, "index", e.FileName)
	data, err := t.fs.Get(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read hash index %s: %w", p, err)
	}
	hs, err := decodeHashIndex(data, e.RowCount)
	if err != nil {
		return nil, fmt.Errorf("hash index %s: %w", p, err)
	}
	return hs, nil
}

// decodeHashIndex decodes a HASH index file: big-endian int32 key hashes,
// as many as its index manifest entry's row count (the only check Paimon's
// format allows: the file has no checksum).
func decodeHashIndex(data []byte, rowCount int64) ([]int32, error) {
	if len(data)%4 != 0 || int64(len(data)/4) != rowCount {
		return nil, fmt.Errorf("%w: %d bytes, want %d hashes of 4", spec.ErrCorrupt, len(data), rowCount)
	}
	hs := make([]int32, len(data)/4)
	for i := range hs {
		hs[i] = int32(binary.BigEndian.Uint32(data[4*i:]))
	}
	return hs, nil
}

// readHashIndexes loads every HASH index file of a snapshot, by
// splitKey(partition, bucket).
func (t *Table) readHashIndexes(ctx context.Context, indexManifest *string) (map[string][]int32, map[string]spec.IndexManifestEntry, error) {
	h, err := t.newHashIndex(ctx, indexManifest)
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]int32{}
	for k := range h.entries {
		if out[k], err = h.bucket(ctx, k); err != nil {
			return nil, nil, err
		}
	}
	return out, h.entries, nil
}

// writeHashIndex writes a bucket's complete set of key hashes.
func (t *Table) writeHashIndex(ctx context.Context, partition []byte, bucket int32, hashes []int32) (spec.IndexManifestEntry, error) {
	data := make([]byte, 4*len(hashes))
	for i, h := range hashes {
		binary.BigEndian.PutUint32(data[4*i:], uint32(h))
	}
	name := "index-" + uuid.NewString() + "-0"
	if err := t.fs.Put(ctx, path.Join(t.path, "index", name), data); err != nil {
		return spec.IndexManifestEntry{}, fmt.Errorf("write hash index: %w", err)
	}
	return spec.IndexManifestEntry{Kind: spec.FileKindAdd, Partition: partition, Bucket: bucket,
		IndexType: spec.IndexTypeHash, FileName: name, FileSize: int64(len(data)), RowCount: int64(len(hashes))}, nil
}

// hashSet is a bucket's key hashes in first-seen order (the file order).
type hashSet struct {
	seen  map[int32]struct{}
	order []int32
	grown bool
}

func newHashSet(restored []int32) *hashSet {
	s := &hashSet{seen: make(map[int32]struct{}, len(restored)), order: slices.Clone(restored)}
	for _, h := range restored {
		s.seen[h] = struct{}{}
	}
	return s
}

func (s *hashSet) add(h int32) {
	if _, ok := s.seen[h]; !ok {
		s.seen[h] = struct{}{}
		s.order = append(s.order, h)
		s.grown = true
	}
}
