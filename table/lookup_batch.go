package table

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// A batch of keys is answered in passes over plain arrays, not key by key:
// every key is checked, encoded (lookupfile.EncodeKey, into one buffer) and
// routed to the buckets that may hold it, each routing a probe; the probes
// are sorted by bucket and encoded key; each file of a bucket is read once
// for all the probes in its key range, in ascending order (FindSorted: one
// acquire of the lookup file, keys of one block share its read), and the
// values found are copied into one buffer; then the rows are decoded into
// one spec.RowArena (three allocations for the whole batch, not one per
// value). A key found in several files (sorted runs not yet compacted) is
// merged as a scan merges it (mergeBucket).

// batch is the working memory of one batch, reused through batchPool.
type batch struct {
	row     spec.Row // a key laid out as a table row (other columns nil)
	trimmed spec.Row // the key's trimmed primary key
	vals    spec.Row // partition or bucket-key values
	buf     []byte   // BinaryRow scratch
	part    []byte   // the key's serialized partition

	enc     []byte  // the keys' lookup encodings, one after the other
	encEnd  []int32 // per key: where its encoding ends in enc
	probeAt []int32 // per key: where its probes end in probes
	probes  []probe
	order   []int32  // probe indices sorted by (bucket, encoding)
	keys    [][]byte // one file's keys for FindSorted
	hits    []hit
	values  []byte  // found values, one after the other
	found   []int32 // per key: the probe whose single hit is its row, or -1
}

// probe is one key in one bucket that may hold it.
type probe struct {
	key        int32 // index in the batch
	bucket     int32 // index in lookupState.list
	head, tail int32 // its hits, in file order (-1: none)
	hits       int32
}

// hit is a record found for a probe in one of its bucket's files.
type hit struct {
	file     int32 // index in the bucket's files
	from, to int32 // the lookup value in batch.values
	next     int32 // the probe's next hit, -1 after the last
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// maxPooledValues bounds the found values' buffer of a pooled batch: the
// memory of a rare huge batch goes back to the garbage collector.
const maxPooledValues = 4 << 20

// getBatch answers keys into rows (of the same length) from st.
func (l *Lookup) getBatch(ctx context.Context, st *lookupState, keys, rows []spec.Row) error {
	b := batchPool.Get().(*batch)
	defer func() {
		if cap(b.values) <= maxPooledValues {
			b.reset()
			batchPool.Put(b)
		}
	}()
	n := len(l.t.schema.Fields)
	if len(b.row) != n {
		b.row = make(spec.Row, n)
	}
	for i, key := range keys {
		if err := l.addKey(st, b, int32(i), key); err != nil {
			return fmt.Errorf("key %v: %w", key, err)
		}
	}
	b.sortProbes()
	for from := 0; from < len(b.order); {
		bucket := b.probes[b.order[from]].bucket
		to := from + 1
		for to < len(b.order) && b.probes[b.order[to]].bucket == bucket {
			to++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.probeBucket(ctx, st.list[bucket], b, b.order[from:to]); err != nil {
			return err
		}
		from = to
	}
	return l.answer(st, b, keys, rows)
}

// reset empties b for reuse, keeping its buffers and no caller's values.
func (b *batch) reset() {
	clear(b.row)
	clear(b.trimmed)
	clear(b.vals)
	b.enc, b.encEnd, b.probeAt, b.probes = b.enc[:0], b.encEnd[:0], b.probeAt[:0], b.probes[:0]
	b.order, b.hits, b.values, b.found = b.order[:0], b.hits[:0], b.values[:0], b.found[:0]
	clear(b.keys)
	b.keys = b.keys[:0]
}

// encoded returns key i's lookup encoding.
func (b *batch) encoded(i int32) []byte {
	from := int32(0)
	if i > 0 {
		from = b.encEnd[i-1]
	}
	return b.enc[from:b.encEnd[i]]
}

// addKey checks and encodes key i and adds a probe for each bucket that may
// hold it.
func (l *Lookup) addKey(st *lookupState, b *batch, i int32, key spec.Row) error {
	if len(key) != len(l.pkIdx) {
		return fmt.Errorf("%w: key has %d values, the primary key has %d columns", spec.ErrSchemaMismatch, len(key), len(l.pkIdx))
	}
	t := l.t
	for j, c := range l.pkIdx {
		if key[j] == nil {
			return fmt.Errorf("%w: primary key column %s is null", spec.ErrSchemaMismatch, t.schema.Fields[c].Name)
		}
		b.row[c] = key[j]
	}
	b.trimmed = project(b.trimmed, b.row, t.layout.KeyIndex)
	var err error
	if b.enc, err = lookupfile.EncodeKey(b.enc, l.keyTypes, b.trimmed); err != nil {
		return err
	}
	b.encEnd = append(b.encEnd, int32(len(b.enc)))
	err = l.route(st, b, i)
	b.probeAt = append(b.probeAt, int32(len(b.probes)))
	return err
}

// project sets dst to row's values at idx.
func project(dst, row spec.Row, idx []int) spec.Row {
	dst = slices.Grow(dst[:0], len(idx))[:len(idx)]
	for i, j := range idx {
		dst[i] = row[j]
	}
	return dst
}

// route adds the probes of key i (laid out in b.row, trimmed in
// b.trimmed): its bucket in its partition; for a dynamic-bucket table,
// none when no HASH index knows the key; for cross-partition keys (whose
// index Paimon keeps outside the table) every bucket of every partition,
// pruned later by key range.
func (l *Lookup) route(st *lookupState, b *batch, i int32) error {
	t := l.t
	if t.crossPartition() {
		for _, lb := range st.list {
			b.addProbe(i, lb.id)
		}
		return nil
	}
	var err error
	b.part = b.part[:0]
	if len(l.partIdx) == 0 {
		b.part = append(b.part, spec.SerializedEmptyRow()...)
	} else {
		b.vals = project(b.vals, b.row, l.partIdx)
		if b.buf, err = spec.EncodeBinaryRowInto(b.buf, l.partTypes, b.vals, spec.RowKindInsert); err != nil {
			return err
		}
		b.part = appendSerialized(b.part, len(l.partIdx), b.buf)
	}
	var bucket int32
	if t.dynamicBuckets() {
		if b.buf, err = spec.EncodeBinaryRowInto(b.buf, l.keyTypes, b.trimmed, spec.RowKindInsert); err != nil {
			return err
		}
		var ok bool
		if bucket, ok = st.hashes[string(b.part)][spec.HashBinaryRow(b.buf)]; !ok {
			return nil
		}
	} else {
		b.vals = project(b.vals, b.row, l.bucketKey.idx)
		if b.buf, err = spec.EncodeBinaryRowInto(b.buf, l.bucketKey.types, b.vals, spec.RowKindInsert); err != nil {
			return err
		}
		bucket = int32(spec.Bucket(spec.HashBinaryRow(b.buf), l.bucketKey.buckets))
	}
	if lb := st.bucket(b.part, bucket); lb != nil {
		b.addProbe(i, lb.id)
	}
	return nil
}

// appendSerialized appends row in the manifest form (SerializeBinaryRow).
func appendSerialized(dst []byte, arity int, row []byte) []byte {
	dst = append(dst, byte(arity>>24), byte(arity>>16), byte(arity>>8), byte(arity))
	return append(dst, row...)
}

func (b *batch) addProbe(key, bucket int32) {
	b.probes = append(b.probes, probe{key: key, bucket: bucket, head: -1, tail: -1})
}

// sortProbes orders the probes by bucket, then encoded key.
func (b *batch) sortProbes() {
	for i := range b.probes {
		b.order = append(b.order, int32(i))
	}
	if len(b.order) < 2 {
		return
	}
	slices.SortFunc(b.order, func(x, y int32) int {
		px, py := &b.probes[x], &b.probes[y]
		if px.bucket != py.bucket {
			return int(px.bucket - py.bucket)
		}
		return bytes.Compare(b.encoded(px.key), b.encoded(py.key))
	})
}

// probeBucket looks the probes (sorted by key) up in every file of lb whose
// key range may hold them, recording what it finds.
func (l *Lookup) probeBucket(ctx context.Context, lb *lookupBucket, b *batch, probes []int32) error {
	for fi := range lb.files {
		f := &lb.files[fi]
		from, _ := slices.BinarySearchFunc(probes, f.min, func(p int32, k []byte) int {
			return bytes.Compare(b.encoded(b.probes[p].key), k)
		})
		to := from
		for to < len(probes) && bytes.Compare(b.encoded(b.probes[probes[to]].key), f.max) <= 0 {
			to++
		}
		if from == to {
			continue
		}
		in := probes[from:to]
		b.keys = b.keys[:0]
		for _, p := range in {
			b.keys = append(b.keys, b.encoded(b.probes[p].key))
		}
		dv := lb.dvs[f.Meta.FileName]
		err := lb.probe.FindSorted(ctx, f.File, b.keys, func(k int, v []byte) error {
			if dv != nil {
				lv, err := lsm.ParseLookupValue(v)
				if err != nil {
					return err
				}
				if dv.IsDeleted(lv.Pos) {
					return nil
				}
			}
			b.addHit(in[k], int32(fi), v)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// addHit records value v found for probe p in file fi.
func (b *batch) addHit(p, fi int32, v []byte) {
	h := int32(len(b.hits))
	b.hits = append(b.hits, hit{file: fi, from: int32(len(b.values)), to: int32(len(b.values) + len(v)), next: -1})
	b.values = append(b.values, v...)
	pr := &b.probes[p]
	if pr.tail < 0 {
		pr.head = h
	} else {
		b.hits[pr.tail].next = h
	}
	pr.tail = h
	pr.hits++
}

// answer fills rows: a key's row comes from the first of its probes whose
// records merge to a row (a key lives in one bucket; cross-partition keys
// are probed in every one). A single record needs no merging (it passes
// every merge untouched, and a retraction is no row); those are decoded
// together into one arena.
func (l *Lookup) answer(st *lookupState, b *batch, keys, rows []spec.Row) error {
	singles := 0
	from := int32(0)
	for i := range keys {
		b.found = append(b.found, -1)
		rows[i] = nil
		for p := from; p < b.probeAt[i]; p++ {
			pr := &b.probes[p]
			if pr.hits == 0 {
				continue
			}
			if pr.hits == 1 {
				h := &b.hits[pr.head]
				lv, err := lsm.ParseLookupValue(b.values[h.from:h.to])
				if err != nil {
					return err
				}
				if lv.Kind().IsRetract() {
					continue
				}
				b.found[i] = p
				singles++
				break
			}
			row, err := l.mergeBucket(st.list[pr.bucket], b, pr)
			if err != nil {
				return fmt.Errorf("key %v: %w", keys[i], err)
			}
			if row != nil {
				rows[i] = row
				break
			}
		}
		from = b.probeAt[i]
	}
	if singles == 0 {
		return nil
	}
	return l.decodeSingles(b, rows, singles)
}

// decodeSingles decodes the rows of keys found once, into one arena.
func (l *Lookup) decodeSingles(b *batch, rows []spec.Row, singles int) error {
	var arena spec.RowArena
	arena.Reset(l.valueTypes, singles, b.values)
	for i, p := range b.found {
		if p < 0 {
			continue
		}
		h := &b.hits[b.probes[p].head]
		lv, err := lsm.ParseLookupValue(b.values[h.from:h.to])
		if err != nil {
			return err
		}
		if rows[i], _, err = arena.Decode(int(h.to)-len(lv.Row), int(h.to)); err != nil {
			return fmt.Errorf("lookup value: %w", err)
		}
	}
	return nil
}

// mergeBucket merges a probe's records found in several files of lb as a
// scan would, and returns the row, or nil when they merge to none.
func (l *Lookup) mergeBucket(lb *lookupBucket, b *batch, pr *probe) (spec.Row, error) {
	t := l.t
	key := make(spec.Row, len(l.keyTypes)) // the trimmed key, decoded from the first record
	var hits []*spec.KeyValue
	var hitFiles []spec.DataFileMeta
	for h := pr.head; h >= 0; h = b.hits[h].next {
		hh := &b.hits[h]
		f := &lb.files[hh.file]
		p, err := lsm.DecodeLookupValue(l.valueTypes, key, b.values[hh.from:hh.to])
		if err != nil {
			return nil, fmt.Errorf("lookup file of %s: %w", f.Meta.FileName, err)
		}
		p.KV.Level = f.Meta.Level
		hits, hitFiles = append(hits, p.KV), append(hitFiles, f.Meta)
	}
	for i, j := range t.layout.KeyIndex {
		key[i] = hits[0].Value[j]
	}
	sp := Split{Partition: lb.partition, Bucket: lb.bucket, Files: hitFiles}
	open := func(f spec.DataFileMeta) lsm.Run {
		return func(yield func(*spec.KeyValue, error) bool) {
			if i := slices.IndexFunc(hitFiles, func(h spec.DataFileMeta) bool { return h.FileName == f.FileName }); i >= 0 {
				yield(hits[i], nil)
			}
		}
	}
	var out spec.Row
	for kv, err := range t.mergeSplit(sp, open) {
		if err != nil {
			return nil, err
		}
		out = kv.Value
	}
	return out, nil
}
