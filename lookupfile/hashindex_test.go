package lookupfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/cockroachdb/pebble/v2/sstable/block"
)

// FuzzHashIndex feeds arbitrary bytes to the hash index as one data block:
// building it must fail cleanly or give an index whose reads never panic,
// and every key it finds must read back as an entry of the block.
func FuzzHashIndex(f *testing.F) {
	path := buildEven(f, f.TempDir(), 12, 20)
	bc := NewBlockCache(1 << 20)
	defer bc.Close()
	file, err := Open(path, bc)
	if err != nil {
		f.Fatal(err)
	}
	if file.hash == nil {
		f.Fatal("seed file not resident")
	}
	h := file.idx.handles[0]
	f.Add(bytes.Clone(file.resident[h.Offset:h.Offset+h.Length]), testKey(4))
	f.Add([]byte{0, 0, 0, 0}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 0}, testKey(0))
	_ = file.Close()
	f.Fuzz(func(t *testing.T, data, key []byte) {
		for _, prefix := range []bool{false, true} {
			x, err := buildHashIndex(data, []block.Handle{{Offset: 0, Length: uint64(len(data))}}, prefix)
			if err != nil {
				continue
			}
			if v, ok := x.get(data, key, prefix); ok {
				if k, v2, _, err := entryOf(data, key, prefix); err != nil || !bytes.Equal(k, key) || !bytes.Equal(v, v2) {
					t.Fatalf("get(%x) = %x, not an entry of the block", key, v)
				}
			}
			x.free()
		}
	})
}

// entryOf finds key's entry through the block's restart points.
func entryOf(data, key []byte, prefix bool) (k, v []byte, next int, err error) {
	count := int(binary.LittleEndian.Uint32(data[len(data)-4:]))
	end := len(data) - 4 - 4*count
	for i := range count {
		off := int(binary.LittleEndian.Uint32(data[end+4*i:]) &^ restartMask)
		if k, v, next, err = parseEntry(data[:end], off, prefix); err != nil || bytes.Equal(k, key) {
			return k, v, next, err
		}
	}
	return nil, nil, 0, nil
}

// The resident share holds files first come, first served, within seven
// eighths of the cache, and Close gives a file's share back.
func TestResidentShare(t *testing.T) {
	dir := t.TempDir()
	path := buildEven(t, dir, 4000, 150) // about 700 KB
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	bc := NewBlockCache(st.Size() * 3 / 2) // room for one
	defer bc.Close()
	a, err := Open(path, bc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, bc)
	if err != nil {
		t.Fatal(err)
	}
	if a.hash == nil || b.resident != nil {
		t.Fatalf("first file resident %v, second %v; want only the first", a.resident != nil, b.resident != nil)
	}
	if got, want := bc.Resident(), st.Size()+int64(a.hash.bytes()); got != want {
		t.Fatalf("Resident() = %d, want %d", got, want)
	}
	if got := bc.Size(); got > bc.capacity {
		t.Fatalf("Size() = %d over the bound %d", got, bc.capacity)
	}
	for _, f := range []*File{a, b} {
		for i := range 8000 {
			v, ok, err := f.Get(testKey(i))
			if err != nil || ok != (i%2 == 0) || (ok && !bytes.Equal(v, testValue(i, 150))) {
				t.Fatalf("Get(%d) = %v, %v, %v", i, ok, err, len(v))
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := bc.Resident(); got != 0 {
		t.Fatalf("Resident() after Close = %d, want 0", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path, bc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.hash == nil {
		t.Fatal("file not resident once the share was free")
	}
}
