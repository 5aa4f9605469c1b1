package lookupfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"

	"github.com/cockroachdb/pebble/v2/sstable/block"
)

// A resident file (held whole in memory, see BlockCache) is read through a
// hash index instead of the bloom filter, the block index and a block
// search: an open-addressing table from each key's hash to its entry's
// offset in the file, so a hit costs a slot and the entry (two cache
// misses where the sorted path takes a filter probe, a binary search over
// the separators and one within the block), and a miss usually the slot
// alone. It is built when the file becomes resident, from the data blocks
// just verified: lookup files are written with a restart point at every
// entry (writerOptions), so a block's restart array lists every entry.

// Slots hold the entry's offset in the file in their low offsetBits and a
// fingerprint of the key's hash above; 0 is an empty slot.
const (
	offsetBits = 40
	offsetMask = 1<<offsetBits - 1
	fpMask     = 1<<(64-offsetBits) - 1
)

// restartMask is the flag pebble may set in a restart offset's top bit.
const restartMask = 1 << 31

// hashIndex maps the keys of a resident file to their entries.
type hashIndex struct {
	slots []byte // little-endian uint64s, in memory of their own (allocResident)
	n     uint64 // slots
	shift uint   // a hash's top bits pick its first slot
	seed  maphash.Seed
	free  func()
}

// errNotIndexable marks a file whose blocks do not have a restart point at
// every entry: it is read through the sorted path instead.
var errNotIndexable = errors.New("lookupfile: blocks without a restart at every entry")

// buildHashIndex indexes every entry of the data blocks of file (the whole
// file's bytes, every block verified), whose values carry pebble's value
// prefix when valuePrefix is set. A malformed entry is an error; blocks
// written without a restart at every entry give errNotIndexable.
func buildHashIndex(file []byte, handles []block.Handle, valuePrefix bool) (*hashIndex, error) {
	n := 0
	for _, h := range handles {
		data := file[h.Offset : h.Offset+h.Length]
		if len(data) < 4 {
			return nil, fmt.Errorf("data block at %d: %d bytes", h.Offset, len(data))
		}
		count := int(binary.LittleEndian.Uint32(data[len(data)-4:]))
		if count > (len(data)-4)/4 {
			return nil, fmt.Errorf("data block at %d: %d restarts in %d bytes", h.Offset, count, len(data))
		}
		n += count
	}
	size := 8
	if n > 0 {
		size = 1 << bits.Len(uint(n*10/7)) // load at most 0.7
	}
	slots, free, err := allocResident(8 * size) // zeroed: every slot empty
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoMemory, err)
	}
	x := &hashIndex{slots: slots, n: uint64(size), shift: uint(64 - bits.TrailingZeros(uint(size))), seed: maphash.MakeSeed(), free: free}
	for _, h := range handles {
		err := x.addBlock(file, h, valuePrefix)
		if err == nil && h.Offset+h.Length > offsetMask {
			err = fmt.Errorf("data block at %d: offsets past %d bytes", h.Offset, uint64(offsetMask))
		}
		if err != nil {
			free()
			return nil, err
		}
	}
	return x, nil
}

// addBlock adds the entries of one data block.
func (x *hashIndex) addBlock(file []byte, h block.Handle, valuePrefix bool) error {
	data := file[h.Offset : h.Offset+h.Length]
	// The count was checked by buildHashIndex; entries end where the
	// restart array begins.
	count := int(binary.LittleEndian.Uint32(data[len(data)-4:]))
	end := len(data) - 4 - 4*count
	restarts := data[end : len(data)-4]
	if end == 0 {
		return nil // an empty block (of an empty file) still lists a restart at 0
	}
	prev := -1
	for i := range count {
		off := int(binary.LittleEndian.Uint32(restarts[4*i:]) &^ restartMask)
		if off <= prev || off >= end {
			return fmt.Errorf("data block at %d: restart %d at %d", h.Offset, i, off)
		}
		prev = off
		key, _, next, err := parseEntry(data[:end], off, valuePrefix)
		if err != nil {
			return fmt.Errorf("data block at %d, entry at %d: %w", h.Offset, off, err)
		}
		if i+1 < count {
			if want := int(binary.LittleEndian.Uint32(restarts[4*i+4:]) &^ restartMask); next != want {
				return errNotIndexable // an entry between two restarts
			}
		} else if next != end {
			return errNotIndexable
		}
		x.insert(key, h.Offset+uint64(off))
	}
	return nil
}

// insert records that key's entry starts at off.
func (x *hashIndex) insert(key []byte, off uint64) {
	hash := maphash.Bytes(x.seed, key)
	slot := (hash&fpMask | 1) << offsetBits // never 0
	for i := hash >> x.shift; ; i = (i + 1) & (x.n - 1) {
		if binary.LittleEndian.Uint64(x.slots[8*i:]) == 0 {
			binary.LittleEndian.PutUint64(x.slots[8*i:], slot|off)
			return
		}
	}
}

// get returns key's value in file, if the index holds key.
func (x *hashIndex) get(file, key []byte, valuePrefix bool) ([]byte, bool) {
	hash := maphash.Bytes(x.seed, key)
	fp := hash&fpMask | 1
	for i := hash >> x.shift; ; i = (i + 1) & (x.n - 1) {
		s := binary.LittleEndian.Uint64(x.slots[8*i:])
		if s == 0 {
			return nil, false
		}
		if s>>offsetBits != fp {
			continue
		}
		k, v, _, err := parseEntry(file, int(s&offsetMask), valuePrefix)
		if err == nil && bytes.Equal(k, key) {
			return v, true
		}
	}
}

// bytes is the memory the index holds.
func (x *hashIndex) bytes() int { return len(x.slots) }

// parseEntry reads the row-block entry at off in b, which has no shared
// key prefix: its user key (the internal key without its 8-byte trailer),
// its value (without pebble's value prefix when valuePrefix is set) and
// where the next entry starts.
func parseEntry(b []byte, off int, valuePrefix bool) (key, value []byte, next int, err error) {
	p := off
	var v [3]uint64
	for j := range v {
		x, n := binary.Uvarint(b[p:])
		if n <= 0 || x > 1<<31 {
			return nil, nil, 0, errors.New("bad entry header")
		}
		v[j], p = x, p+n
	}
	shared, unshared, vlen := v[0], int(v[1]), int(v[2])
	if shared != 0 {
		return nil, nil, 0, errNotIndexable
	}
	if unshared < 8 || len(b)-p < unshared || len(b)-p-unshared < vlen {
		return nil, nil, 0, errors.New("entry past the block's end")
	}
	key = b[p : p+unshared-8]
	value = b[p+unshared : p+unshared+vlen]
	if valuePrefix {
		if vlen == 0 || !block.ValuePrefix(value[0]).IsInPlaceValue() {
			return nil, nil, 0, errors.New("value not stored in place")
		}
		value = value[1:]
	}
	return key, value, p + unshared + vlen, nil
}
