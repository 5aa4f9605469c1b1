// Package lookupfile answers "find this key in this data file, fast": local
// files indexed for point reads, built from a data file's records, kept
// within a disk bound, read through a memory-bounded block cache.
//
// It knows nothing of tables, Parquet or storage. Callers encode each
// record's primary key with EncodeKey (an order-preserving byte encoding:
// bytes.Compare of two encodings orders as Strata orders the keys), hand the
// records in key order to Build, and read with File.Get (one key) or
// File.GetSorted (many keys in ascending order, sharing block reads):
//
//	c, _ := lookupfile.NewCache(dir, 10<<30, 256<<20)
//	f, release, err := c.Acquire(ctx, dataFileName, func(ctx context.Context, path string) error {
//		_, err := lookupfile.Build(ctx, path, records, rowCount)
//		return err
//	})
//	defer release()
//	key, _ := lookupfile.EncodeKey(nil, keyTypes, spec.Row{int64(42)})
//	value, found, err := f.Get(key)
//
// A lookup file is a pebble sstable, uncompressed, with a restart point at
// every entry and a bloom filter of 10 bits per key. It is read one of two
// ways. A file that fits the block cache's resident share (seven eighths of
// its bound, first come first served) is resident: Open reads it whole
// into memory outside the Go heap (huge pages where Linux gives them),
// verifies every block and builds a hash index from each key to its entry,
// so a hit costs two memory reads and a miss usually one. Any other file
// is read through the block cache: its filter and index (each data block's
// last key and position) are held in memory, so a key that is not there
// usually costs no block read and a key that is costs one data block (from
// the block cache or the file). Files are written under a temporary name and
// renamed, so a crash never leaves a partial file under the final name; a
// file that is corrupt anyway (a bit flip, a truncation) reads as an error
// wrapping spec.ErrCorrupt, and callers rebuild it.
//
// The package needs no cgo and builds with CGO_ENABLED=0. (With cgo
// enabled, pebble allocates block cache memory with C malloc, outside the Go
// heap; without, from the Go heap. Either way the bound holds.)
//
// Cache owns a directory of lookup files, one per data file name: it builds
// a file on first Acquire (concurrent Acquires of one name share the
// build), evicts the least recently used unacquired files beyond its disk
// bound, deletes a file whose data file left the table (Drop), and shares
// one BlockCache among all its files. It trusts nothing it finds in its
// directory at start (a file there may be half built, and nothing records
// which data file it was built from), so NewCache deletes what an earlier
// process left.
package lookupfile
