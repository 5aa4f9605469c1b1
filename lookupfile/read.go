package lookupfile

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/sstable/block"
	"github.com/cockroachdb/pebble/v2/sstable/block/blockkind"
	"github.com/cockroachdb/pebble/v2/sstable/rowblk"
)

// Point reads. A File holds its bloom filter and its index (every data
// block's separator and position) in memory, so a read costs no index
// block: the filter rules most absent keys out, a binary search over the
// separators names the one data block that may hold the key, and that
// block comes from the block cache (or the file, checksum verified) and is
// searched with pebble's row-block iterator. GetSorted reads many keys in
// ascending order and reads a block once for all the keys it may hold.

// blockIndex is the in-memory index of a file's data blocks: block i holds
// the keys above separator i-1 up to and including separator i.
type blockIndex struct {
	seps    []byte   // the separators, concatenated
	ends    []uint32 // ends[i] is where separator i ends in seps
	handles []block.Handle
}

// sep returns separator i.
func (x *blockIndex) sep(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = x.ends[i-1]
	}
	return x.seps[start:x.ends[i]]
}

// search returns the first block whose separator is >= key: the only block
// that may hold key (len(handles) when key is above every separator).
func (x *blockIndex) search(key []byte) int {
	return sort.Search(len(x.handles), func(i int) bool { return bytes.Compare(x.sep(i), key) >= 0 })
}

// bytes is the memory the index holds.
func (x *blockIndex) bytes() int { return len(x.seps) + 4*len(x.ends) + 16*len(x.handles) }

// loadIndex reads the file's metadata: the bloom filter (checksum verified)
// and every index block, into memory. Blocks read here bypass the block
// cache. Files of other layouts (columnar blocks, value blocks) are refused.
func (f *File) loadIndex() error {
	format, err := f.r.TableFormat()
	if err != nil {
		return err
	}
	if format.BlockColumnar() || f.r.Attributes.Has(sstable.AttributeValueBlocks) {
		return fmt.Errorf("table format %s with attributes %s is not a lookup file", format, f.r.Attributes)
	}
	f.valuePrefix = format >= sstable.TableFormatPebblev3
	layout, err := f.r.Layout()
	if err != nil {
		return err
	}
	var pool block.BufferPool
	pool.Init(1)
	defer pool.Release()
	env := block.ReadEnv{BufferPool: &pool}
	if bh, ok := layout.FilterByName(filterName); ok { // an empty file has no filter
		h, err := f.r.BlockReader().Read(context.Background(), env, nil, bh, blockkind.Filter, noInit)
		if err != nil {
			return err
		}
		f.filter = bytes.Clone(h.BlockData())
		h.Release()
	}
	f.idx.handles = make([]block.Handle, 0, len(layout.Data))
	f.idx.ends = make([]uint32, 0, len(layout.Data))
	for _, bh := range layout.Index {
		if err := f.readIndexBlock(env, bh); err != nil {
			return err
		}
	}
	if len(f.idx.handles) != len(layout.Data) {
		return fmt.Errorf("index lists %d data blocks, layout %d", len(f.idx.handles), len(layout.Data))
	}
	return nil
}

// readIndexBlock appends the entries of one (second-level) index block.
func (f *File) readIndexBlock(env block.ReadEnv, bh block.Handle) error {
	h, err := f.r.BlockReader().Read(context.Background(), env, nil, bh, blockkind.Index, noInit)
	if err != nil {
		return err
	}
	defer h.Release()
	var it rowblk.IndexIter
	if err := it.Init(f.r.Comparer, h.BlockData(), block.NoTransforms); err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		dh, err := it.BlockHandleWithProperties()
		if err != nil {
			return err
		}
		f.idx.seps = append(f.idx.seps, it.Separator()...)
		f.idx.ends = append(f.idx.ends, uint32(len(f.idx.seps)))
		f.idx.handles = append(f.idx.handles, dh.Handle)
	}
	return nil
}

func noInit(*block.Metadata, []byte) error { return nil }

// Get returns the value stored under key. A key the bloom filter rules out
// (most absent keys) costs no block read. The value is the caller's to
// keep. A block that fails its checksum gives an error wrapping
// spec.ErrCorrupt.
func (f *File) Get(key []byte) (value []byte, found bool, err error) {
	err = f.GetSorted([][]byte{key}, func(_ int, v []byte) error {
		value, found = bytes.Clone(v), true
		if value == nil {
			value = []byte{}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return value, found, nil
}

// GetSorted looks up keys, which must be in ascending order (bytes.Compare;
// equal neighbours are allowed), and calls found for each key present with
// its index in keys and its value. The value is valid only during the call
// (copy it to keep it). Keys the bloom filter rules out cost no block read,
// and keys that fall in one data block share one read of it. An error
// returned by found stops the reads and is returned; a block that fails its
// checksum gives an error wrapping spec.ErrCorrupt.
func (f *File) GetSorted(keys [][]byte, found func(i int, value []byte) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.r == nil {
		return fmt.Errorf("lookupfile: get from %s: %w", f.path, ErrClosed)
	}
	if f.hash != nil {
		return f.getHashed(keys, found)
	}
	var rd *blockReader // taken when a key passes the filter
	defer func() {
		if rd != nil {
			rd.reset()
			blockReaders.Put(rd)
		}
	}()
	cur := -1 // the data block rd holds
	for i, key := range keys {
		if f.filter != nil && !filterPolicy.MayContain(sstable.TableFilter, f.filter, key) {
			continue
		}
		b := cur
		if b < 0 || bytes.Compare(f.idx.sep(b), key) < 0 {
			if b = f.idx.search(key); b == len(f.idx.handles) {
				return nil // this key and every later one lie past the last block
			}
		}
		if rd == nil {
			rd = blockReaders.Get().(*blockReader)
		}
		v, ok, err := f.seek(rd, b, b != cur, key)
		if err != nil {
			return err
		}
		cur = b
		if ok {
			if err := found(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// getHashed is GetSorted through the hash index of a resident file.
func (f *File) getHashed(keys [][]byte, found func(i int, value []byte) error) error {
	for i, key := range keys {
		if v, ok := f.hash.get(f.resident, key, f.valuePrefix); ok {
			if err := found(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// blockReader is a row-block iterator reused across reads, and the block it
// holds.
type blockReader struct {
	it     rowblk.Iter
	h      block.BufferHandle // the block's cache handle, when held is set
	held   bool
	loaded bool
}

// reset releases the block held, if any.
func (rd *blockReader) reset() {
	if rd.held {
		rd.h.Release()
		rd.h, rd.held = block.BufferHandle{}, false
	}
	if rd.loaded {
		rd.loaded = false
		rd.it.Invalidate()
	}
}

var blockReaders = sync.Pool{New: func() any { return new(blockReader) }}

// seek finds key in data block b, reading the block into rd first when
// load is set. A panic (pebble's reaction to some damaged blocks) becomes
// an error wrapping spec.ErrCorrupt.
func (f *File) seek(rd *blockReader, b int, load bool, key []byte) (value []byte, found bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			rd.reset()
			rd.it = rowblk.Iter{} // its state is unknown: start afresh
			value, found, err = nil, false, f.corrupt(fmt.Errorf("panic: %v", p))
		}
	}()
	if load {
		rd.reset()
		var data []byte
		if f.resident != nil { // verified at Open
			bh := f.idx.handles[b]
			data = f.resident[bh.Offset : bh.Offset+bh.Length]
		} else {
			h, err := f.r.BlockReader().Read(context.Background(), block.NoReadEnv, nil, f.idx.handles[b], blockkind.SSTableData, noInit)
			if err != nil {
				return nil, false, f.corrupt(err)
			}
			rd.h, rd.held = h, true
			data = h.BlockData()
		}
		rd.loaded = true
		c := f.r.Comparer
		if err := rd.it.Init(c.Compare, c.ComparePointSuffixes, c.Split, data, block.NoTransforms); err != nil {
			return nil, false, f.corrupt(err)
		}
		rd.it.SetHasValuePrefix(f.valuePrefix)
	}
	kv := rd.it.SeekGE(key, 0)
	if kv == nil || !bytes.Equal(kv.K.UserKey, key) {
		return nil, false, nil
	}
	v, _, err := kv.V.Value(nil)
	if err != nil {
		return nil, false, f.corrupt(err)
	}
	return v, true, nil
}
