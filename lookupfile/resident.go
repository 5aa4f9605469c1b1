package lookupfile

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2/sstable/block"
)

// makeResident holds the file whole in memory, with its hash index, when
// cache's resident share has room for them (a file that does not fit is
// read through the block cache; a hash index that does not fit leaves the
// file read in place through its sorted index). It returns the bytes taken
// from the share and the function that gives them back.
func (f *File) makeResident(cache *BlockCache, r io.ReaderAt, size int64) (share int, unshare func(), err error) {
	none := func() {}
	if !cache.reserveResident(size) {
		return 0, none, nil
	}
	if err := f.loadResident(r, size); err != nil {
		cache.resident.Add(-size)
		if errors.Is(err, errNoMemory) {
			return 0, none, nil
		}
		return 0, none, err
	}
	taken := size
	if f.hash != nil {
		if n := int64(f.hash.bytes()); cache.reserveResident(n) {
			taken += n
		} else {
			f.hash.free()
			f.hash = nil
		}
	}
	return int(taken), func() { cache.resident.Add(-taken) }, nil
}

// errNoMemory marks a resident load that found no memory: the file is then
// read through the block cache instead.
var errNoMemory = errors.New("lookupfile: no memory for a resident file")

// loadResident reads the whole file into memory of its own and verifies
// the checksum of every data block, which reads then take in place.
func (f *File) loadResident(r io.ReaderAt, size int64) error {
	buf, free, err := allocResident(int(size))
	if err != nil {
		return fmt.Errorf("%w: %w", errNoMemory, err)
	}
	if n, err := r.ReadAt(buf, 0); n != len(buf) {
		free()
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	checksum := f.r.BlockReader().ChecksumType()
	for _, h := range f.idx.handles {
		end := h.Offset + h.Length + block.TrailerLen
		if end > uint64(len(buf)) || end < h.Offset {
			free()
			return fmt.Errorf("data block at %d (%d bytes) past the file's end %d", h.Offset, h.Length, len(buf))
		}
		b := buf[h.Offset:end]
		if err := block.ValidateChecksum(checksum, b, h); err != nil {
			free()
			return err
		}
		if block.CompressionIndicator(b[h.Length]) != block.NoCompressionIndicator {
			free()
			return fmt.Errorf("data block at %d is compressed (indicator %d)", h.Offset, b[h.Length])
		}
	}
	x, err := buildHashIndex(buf, f.idx.handles, f.valuePrefix)
	if err != nil && !errors.Is(err, errNotIndexable) {
		free()
		return err
	}
	f.resident, f.freeMem, f.hash = buf, free, x
	return nil
}
