package lookupfile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/objstorage"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/stratalake/strata/spec"
)

// Record is one key and its value, as Build writes them. Keys are compared
// as unsigned bytes (bytes.Compare), which is why callers encode table keys
// with EncodeKey.
type Record struct {
	Key   []byte
	Value []byte
}

// ErrKeyOrder marks records given to Build whose keys are not strictly
// ascending (a key equal to or below the one before it).
var ErrKeyOrder = errors.New("lookupfile: record keys not in strictly ascending order")

// ErrClosed is returned by the methods of a closed File or Cache.
var ErrClosed = errors.New("lookupfile: closed")

// filterPolicy is the bloom filter written into every file: 10 bits per key,
// about 1% false positives.
var filterPolicy = bloom.FilterPolicy(10)

// filterName is the metaindex name under which pebble stores the table
// filter of filterPolicy.
var filterName = "fullfilter." + filterPolicy.Name()

// cacheFileNum is the file number every File uses in the block cache. Each
// File has its own cache handle, and a handle is a namespace for file
// numbers, so one number suffices.
const cacheFileNum = 1

// writerOptions are the sstable options of every lookup file: 4 KiB blocks,
// a table-level bloom filter and no value blocks. (Open reads the whole
// index into memory, so the index's own layout, two-level here, matters
// only there.)
//
// Row blocks (TableFormatPebblev4) without compression, with a restart
// point at every entry: reads (read.go) rely on row blocks, the hash index
// of resident files (hashindex.go) on finding every entry in the restart
// array, and a block search becomes a binary search (BenchmarkGet hits
// with a 256 MiB block cache: 2.7 → 2.1 µs against pebble's 16). Measured with
// BenchmarkGet (1M keys, 150-byte values, 2 shared cores): with a block
// cache that holds the file, compression makes no difference (blocks are
// cached decompressed) and hits cost 2.3–2.8µs either way; with an 8 MiB
// cache, where most data blocks come from the OS page cache, hits cost
// 4.2–4.4µs uncompressed against 4.2–4.8µs with Snappy, whose
// decompression is paid on every such read. Columnar blocks
// (TableFormatPebblev5) were within noise of row blocks for point reads.
// Lookup files are local, rebuildable caches, so disk space is the cheaper
// resource.
func writerOptions() sstable.WriterOptions {
	return sstable.WriterOptions{
		TableFormat:          sstable.TableFormatPebblev4,
		Compression:          sstable.NoCompression,
		FilterPolicy:         filterPolicy,
		FilterType:           sstable.TableFilter,
		BlockSize:            4 << 10,
		IndexBlockSize:       4 << 10,
		DisableValueBlocks:   true,
		BlockRestartInterval: 1,
	}
}

// Build writes records, whose keys must be strictly ascending (else an
// error wrapping ErrKeyOrder), as a lookup file at path: a pebble sstable
// with a bloom filter over its keys. It writes to a temporary name in the
// same directory (path + ".tmp-*"), syncs it and renames it to path, so
// path never holds a partial file; on error the temporary is deleted (a
// process killed mid-build leaves it behind). It returns the file's size
// in bytes.
//
// expectedKeys is a hint from callers that know how many records follow (0
// when unknown). It does not limit them: pebble sizes the filter from the
// keys actually added, so the hint is only checked to be non-negative.
// Build stops with ctx's error when ctx is done, and with the error of
// records when that yields one.
func Build(ctx context.Context, path string, records iter.Seq2[Record, error], expectedKeys int) (int64, error) {
	if expectedKeys < 0 {
		return 0, fmt.Errorf("lookupfile: build %s: negative expectedKeys %d", path, expectedKeys)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("lookupfile: build %s: %w", path, err)
	}
	wr := &fileWritable{f: tmp, bw: bufio.NewWriterSize(tmp, 256<<10)}
	w := sstable.NewWriter(wr, writerOptions())
	if err := writeRecords(ctx, w, records); err != nil {
		wr.abandon = true // Close then neither flushes nor syncs
		_ = w.Close()
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("lookupfile: build %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("lookupfile: build %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("lookupfile: build %s: %w", path, err)
	}
	return wr.n, nil
}

// writeRecords adds records to w, checking their order and ctx.
func writeRecords(ctx context.Context, w *sstable.Writer, records iter.Seq2[Record, error]) error {
	var prev []byte
	n := 0
	for rec, err := range records {
		if err != nil {
			return err
		}
		if n > 0 && bytes.Compare(prev, rec.Key) >= 0 {
			return fmt.Errorf("record %d: key %x after %x: %w", n, rec.Key, prev, ErrKeyOrder)
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := w.Set(rec.Key, rec.Value); err != nil {
			return err
		}
		prev = append(prev[:0], rec.Key...)
		n++
	}
	return ctx.Err()
}

// fileWritable is an objstorage.Writable over an os.File that counts the
// bytes written.
type fileWritable struct {
	f       *os.File
	bw      *bufio.Writer
	n       int64
	abandon bool // the file will be deleted: write and sync nothing more
}

var errAbandoned = errors.New("lookupfile: build abandoned")

func (w *fileWritable) Write(p []byte) error {
	if w.abandon {
		return errAbandoned
	}
	w.n += int64(len(p))
	_, err := w.bw.Write(p)
	return err
}

func (w *fileWritable) Finish() error {
	if w.abandon {
		_ = w.f.Close()
		return errAbandoned
	}
	err := w.bw.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *fileWritable) Abort() { _ = w.f.Close() }

var _ objstorage.Writable = (*fileWritable)(nil)

// BlockCache is a bounded in-memory cache of the blocks of lookup files,
// shared by all files opened with it (pebble's block cache). The bloom
// filters of open files are held outside it but reserved from its
// capacity, so filters and cached blocks together stay within the bound.
// It is safe for concurrent use.
//
// Files that fit are held whole in memory instead ("resident"): Open reads
// such a file once, verifies every block, and reads its blocks in place
// from then on, with no cache lookup per read. Resident files take their
// size from the same bound, up to seven eighths of it (the rest stays for
// the blocks of files that did not fit); first opened, first resident.
type BlockCache struct {
	c        *pebble.Cache
	capacity int64
	resident atomic.Int64 // bytes of resident files
}

// NewBlockCache returns a block cache holding at most maxBytes.
func NewBlockCache(maxBytes int64) *BlockCache {
	return &BlockCache{c: pebble.NewCache(maxBytes), capacity: maxBytes}
}

// Size returns the bytes of blocks currently cached (reservations for
// filters not included) plus the bytes of resident files.
func (b *BlockCache) Size() int64 { return b.c.Size() + b.resident.Load() }

// Resident returns the bytes of the files held whole in memory.
func (b *BlockCache) Resident() int64 { return b.resident.Load() }

// reserveResident takes n bytes of the resident share, if they fit.
func (b *BlockCache) reserveResident(n int64) bool {
	limit := b.capacity - b.capacity/8
	for {
		cur := b.resident.Load()
		if cur+n > limit {
			return false
		}
		if b.resident.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// Close releases the creator's reference. Memory is freed once every File
// opened with the cache is closed too.
func (b *BlockCache) Close() { b.c.Unref() }

// File is an open lookup file. Its methods are safe for concurrent use.
type File struct {
	path string

	mu          sync.RWMutex // reads hold it shared, Close exclusive
	r           *sstable.Reader
	filter      []byte     // the table's bloom filter; nil if it has none
	idx         blockIndex // every data block's separator and position
	valuePrefix bool       // values carry pebble's one-byte prefix
	unreserve   func()     // gives the filter's, index's and resident bytes back to the block cache
	resident    []byte     // the whole file, when held in memory (else nil)
	hash        *hashIndex // resident's entries by key (nil: read sorted)
	freeMem     func()     // returns resident's memory
	dropCache   func()     // evicts the blocks, closes the cache handle
}

// Open opens the lookup file at path for point reads. With a non-nil
// cache, its data blocks are cached there; without, every read takes them
// from the file (through the OS page cache). The bloom filter and the index
// are read, verified and held in memory for the life of the File, their
// bytes reserved from the cache's capacity.
//
// A file that is not a valid lookup file (truncated, corrupt, not an
// sstable) gives an error wrapping spec.ErrCorrupt that names the file;
// callers delete and rebuild it. A missing file gives an error wrapping
// fs.ErrNotExist.
func Open(path string, cache *BlockCache) (_ *File, err error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lookupfile: %w", err)
	}
	st, err := osf.Stat()
	if err != nil {
		_ = osf.Close()
		return nil, fmt.Errorf("lookupfile: %w", err)
	}
	f := &File{path: path}
	var opts sstable.ReaderOptions
	if cache != nil {
		h := cache.c.NewHandle()
		opts.CacheOpts.CacheHandle = h
		opts.CacheOpts.FileNum = cacheFileNum
		f.dropCache = func() {
			h.EvictFile(cacheFileNum)
			h.Close()
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = f.corrupt(fmt.Errorf("panic: %v", p))
		}
		if err != nil {
			if f.r != nil {
				_ = f.r.Close() // closes osf
			} else {
				_ = osf.Close()
			}
			f.r = nil
			f.releaseCache()
		}
	}()
	r, err := sstable.NewReader(context.Background(), &fileReadable{f: osf, size: st.Size()}, opts)
	if err != nil {
		return nil, f.corrupt(err)
	}
	f.r = r
	if err := f.loadIndex(); err != nil {
		return nil, f.corrupt(err)
	}
	if cache != nil {
		share, unshare, err := f.makeResident(cache, osf, st.Size())
		if err != nil {
			return nil, f.corrupt(err)
		}
		unreserve := cache.c.Reserve(len(f.filter) + f.idx.bytes() + share)
		f.unreserve = func() { unreserve(); unshare() }
	}
	return f, nil
}

// Path returns the path the file was opened from.
func (f *File) Path() string { return f.path }

// Close closes the file and drops its blocks from the block cache. Reads
// running on other goroutines finish first; later ones return ErrClosed.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return nil
	}
	err := f.r.Close()
	f.r = nil
	f.filter = nil
	f.idx = blockIndex{}
	f.releaseCache()
	if f.freeMem != nil { // no read runs: they hold f.mu
		if f.hash != nil {
			f.hash.free()
		}
		f.freeMem()
		f.resident, f.freeMem, f.hash = nil, nil, nil
	}
	if err != nil {
		return fmt.Errorf("lookupfile: close %s: %w", f.path, err)
	}
	return nil
}

// releaseCache evicts the file's blocks and gives back its cache handle
// and filter reservation.
func (f *File) releaseCache() {
	if f.unreserve != nil {
		f.unreserve()
		f.unreserve = nil
	}
	if f.dropCache != nil {
		f.dropCache()
		f.dropCache = nil
	}
}

// corrupt wraps err as spec.ErrCorrupt naming the file.
func (f *File) corrupt(err error) error {
	return fmt.Errorf("lookupfile: %s: %w: %w", f.path, spec.ErrCorrupt, err)
}

// fileReadable is an objstorage.Readable over an os.File; a short read
// (truncated file) is an error.
type fileReadable struct {
	f    *os.File
	size int64
}

func (r *fileReadable) ReadAt(_ context.Context, p []byte, off int64) error {
	n, err := r.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (r *fileReadable) Close() error { return r.f.Close() }

func (r *fileReadable) Size() int64 { return r.size }

func (r *fileReadable) NewReadHandle(objstorage.ReadBeforeSize) objstorage.ReadHandle {
	rh := objstorage.MakeNoopReadHandle(r)
	return &rh
}

var _ objstorage.Readable = (*fileReadable)(nil)
