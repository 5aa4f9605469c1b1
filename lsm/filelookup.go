package lsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/spec"
)

// FileLookup finds one key's record in a data file through a local lookup
// file (package lookupfile), built from the data file on first use and kept
// in a bounded cache shared by every bucket of a writer or a lookup. It is
// the one way Strata answers "is this key in that file": compaction's
// LookupLevels and table lookups both use it. Safe for concurrent use.
type FileLookup struct {
	cache      *lookupfile.Cache
	keyTypes   []spec.DataType
	valueTypes []spec.DataType
	// Open reads a data file with row positions and no deletion vector
	// applied (positions are checked against the current vectors by the
	// caller, so a cached file stays valid while they change).
	open func(ctx context.Context, f *File) PositionedRun
}

// NewFileLookup looks keys up in files read by open, caching lookup files
// in cache by data file name (unique within a table; a cache serves one
// table).
func NewFileLookup(cache *lookupfile.Cache, keyTypes, valueTypes []spec.DataType, open func(ctx context.Context, f *File) PositionedRun) *FileLookup {
	return &FileLookup{cache: cache, keyTypes: keyTypes, valueTypes: valueTypes, open: open}
}

// Find returns the record of key in f with its row position, or nil when f
// has none.
func (fl *FileLookup) Find(ctx context.Context, f *File, key spec.Row) (*spec.PositionedKV, error) {
	enc, err := lookupfile.EncodeKey(nil, fl.keyTypes, key)
	if err != nil {
		return nil, err
	}
	var v []byte
	hit := false
	err = fl.FindSorted(ctx, f, [][]byte{enc}, func(_ int, value []byte) error {
		v, hit = bytes.Clone(value), true // value lives only during the call
		return nil
	})
	if err != nil || !hit {
		return nil, err
	}
	p, err := DecodeLookupValue(fl.valueTypes, key, v)
	if err != nil {
		return nil, fmt.Errorf("lookup file of %s: %w", f.Meta.FileName, err)
	}
	p.KV.Level = f.Meta.Level
	return &p, nil
}

// FindSorted looks up keys, lookup-file encodings of keys of f's table
// (lookupfile.EncodeKey with the key types) in ascending order, in f, and
// calls found with the index of each key f holds and its lookup value
// (valid only during the call; ParseLookupValue reads it). The lookup file
// is acquired once for all the keys, which share its block reads.
//
// A lookup file is local and trusted less than the table: one that turns
// out damaged as it is read (its blocks carry checksums) is dropped and
// built again from the data file, and the keys not yet answered are
// looked up in the new one.
func (fl *FileLookup) FindSorted(ctx context.Context, f *File, keys [][]byte, found func(i int, value []byte) error) error {
	build := func(ctx context.Context, path string) error { return fl.build(ctx, f, path) }
	done := 0 // keys answered: found was called for every hit below done
	for rebuilt := false; ; rebuilt = true {
		var file *lookupfile.File
		var foundErr error
		base := done
		err := fl.cache.With(ctx, f.Meta.FileName, build, func(lf *lookupfile.File) error {
			file = lf
			return lf.GetSorted(keys[base:], func(i int, value []byte) error {
				if foundErr = found(base+i, value); foundErr != nil {
					return foundErr
				}
				done = base + i + 1
				return nil
			})
		})
		if err == nil {
			return nil
		}
		// Only a damaged lookup file is rebuilt, once: not a failed build
		// (file unset: the data file's own error) nor found's error.
		if foundErr != nil || file == nil || rebuilt || !errors.Is(err, spec.ErrCorrupt) {
			return fmt.Errorf("lookup file of %s: %w", f.Meta.FileName, err)
		}
		fl.cache.DropCorrupt(f.Meta.FileName, file)
	}
}

// Warm builds f's lookup file now, if the cache does not hold it.
func (fl *FileLookup) Warm(ctx context.Context, f *File) error {
	_, release, err := fl.cache.Acquire(ctx, f.Meta.FileName, func(ctx context.Context, path string) error {
		return fl.build(ctx, f, path)
	})
	if err != nil {
		return fmt.Errorf("lookup file of %s: %w", f.Meta.FileName, err)
	}
	release()
	return nil
}

// Forget drops the lookup files of data files that left the table.
func (fl *FileLookup) Forget(files []*File) {
	for _, f := range files {
		fl.cache.Drop(f.Meta.FileName)
	}
}

// build writes f's records, in key order, as a lookup file at path.
func (fl *FileLookup) build(ctx context.Context, f *File, path string) error {
	records := func(yield func(lookupfile.Record, error) bool) {
		var key, val []byte
		for p, err := range fl.open(ctx, f) {
			if err == nil {
				key, err = lookupfile.EncodeKey(key[:0], fl.keyTypes, p.KV.Key)
			}
			if err == nil {
				val, err = appendLookupValue(val[:0], fl.valueTypes, p.KV, p.Pos)
			}
			if err != nil {
				yield(lookupfile.Record{}, err)
				return
			}
			if !yield(lookupfile.Record{Key: key, Value: val}, nil) {
				return
			}
		}
	}
	_, err := lookupfile.Build(ctx, path, records, int(f.Meta.RowCount))
	return err
}
