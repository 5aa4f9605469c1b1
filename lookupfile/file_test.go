package lookupfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
)

// testKey is the key of record i in test files: an 8-byte big-endian
// number, so numeric and byte order agree.
func testKey(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

// testValue is the value of record i: n bytes derived from i.
func testValue(i, n int) []byte {
	v := make([]byte, n)
	for j := range v {
		v[j] = byte(i*31 + j)
	}
	return v
}

// evenRecords yields records for keys 0, 2, 4, ... 2(n-1).
func evenRecords(n, valueLen int) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for i := 0; i < n; i++ {
			if !yield(Record{Key: testKey(2 * i), Value: testValue(2*i, valueLen)}, nil) {
				return
			}
		}
	}
}

func recordsOf(recs ...Record) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func buildEven(t testing.TB, dir string, n, valueLen int) string {
	t.Helper()
	path := filepath.Join(dir, "even.sst")
	size, err := Build(context.Background(), path, evenRecords(n, valueLen), n)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != size {
		t.Fatalf("Build returned size %d, file has %d", size, st.Size())
	}
	return path
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// readModes are the ways a file is read: without a block cache, through
// one too small to hold the file whole, and resident (hash index).
var readModes = []struct {
	name     string
	cache    int64 // 0: none
	resident bool
}{{"no-cache", 0, false}, {"block-cache", 1 << 20, false}, {"resident", 16 << 20, true}}

// modeCache returns a block cache of the given size (nil for 0) whose
// resident share is taken up front unless resident is set.
func modeCache(t testing.TB, cache int64, resident bool) *BlockCache {
	if cache == 0 {
		return nil
	}
	bc := NewBlockCache(cache)
	t.Cleanup(bc.Close)
	if !resident && !bc.reserveResident(bc.capacity-bc.capacity/8) { // leave no room
		t.Fatal("could not fill the resident share")
	}
	return bc
}

// openMode opens path as mode reads it, checking the file is resident
// exactly when the mode says so.
func openMode(t testing.TB, path string, cache int64, resident bool) (*File, *BlockCache) {
	t.Helper()
	bc := modeCache(t, cache, resident)
	f, err := Open(path, bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	if (f.hash != nil) != resident || (f.resident != nil) != resident {
		t.Fatalf("file resident %v (hash index %v), want %v", f.resident != nil, f.hash != nil, resident)
	}
	return f, bc
}

func TestBuildGetHitsAndMisses(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			const n = 20000
			path := buildEven(t, dir, n, 150)
			if names := dirNames(t, dir); len(names) != 1 {
				t.Fatalf("dir holds %v, want only the file (no temporaries)", names)
			}
			f, bc := openMode(t, path, mode.cache, mode.resident)
			for i := 0; i < 2*n; i++ {
				v, ok, err := f.Get(testKey(i))
				if err != nil {
					t.Fatalf("Get(%d): %v", i, err)
				}
				if want := i%2 == 0; ok != want {
					t.Fatalf("Get(%d) found=%v, want %v", i, ok, want)
				}
				if ok && !bytes.Equal(v, testValue(i, 150)) {
					t.Fatalf("Get(%d) = %x, want %x", i, v, testValue(i, 150))
				}
			}
			// Keys outside the file's range, shorter and longer keys.
			for _, k := range [][]byte{nil, {0}, testKey(2 * n), append(testKey(4), 0), testKey(4)[:7]} {
				if _, ok, err := f.Get(k); ok || err != nil {
					t.Fatalf("Get(%x) = found %v, err %v; want a miss", k, ok, err)
				}
			}
			if bc != nil && bc.Size() == 0 {
				t.Fatal("block cache stayed empty after Gets")
			}
			if mode.resident && bc.Resident() < int64(len(f.resident)+f.hash.bytes()) {
				t.Fatalf("cache counts %d resident bytes, the file and its index take %d", bc.Resident(), len(f.resident)+f.hash.bytes())
			}
		})
	}
}

func TestGetValueIsCallersToKeep(t *testing.T) {
	path := buildEven(t, t.TempDir(), 100, 20)
	bc := NewBlockCache(1 << 20)
	defer bc.Close()
	f, err := Open(path, bc)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := f.Get(testKey(10))
	for i := range v {
		v[i] = 0xEE
	}
	w, _, _ := f.Get(testKey(10))
	if !bytes.Equal(w, testValue(10, 20)) {
		t.Fatalf("changing a returned value changed the file's: %x", w)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v[:1], []byte{0xEE}) {
		t.Fatal("value changed after Close")
	}
	if _, _, err := f.Get(testKey(10)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestBuildEmptyValuesAndEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.sst")
	recs := recordsOf(Record{Key: []byte{}, Value: []byte("empty key")}, Record{Key: []byte("k"), Value: nil})
	if _, err := Build(context.Background(), path, recs, 0); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.sst")
	if _, err := Build(context.Background(), empty, recordsOf(), 0); err != nil {
		t.Fatal(err)
	}
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			f, _ := openMode(t, path, mode.cache, mode.resident)
			if v, ok, err := f.Get([]byte{}); err != nil || !ok || string(v) != "empty key" {
				t.Fatalf("Get(empty) = %q, %v, %v", v, ok, err)
			}
			if v, ok, err := f.Get([]byte("k")); err != nil || !ok || v == nil || len(v) != 0 {
				t.Fatalf("Get(k) = %q (nil %v), %v, %v; want a found empty value", v, v == nil, ok, err)
			}
			g, _ := openMode(t, empty, mode.cache, mode.resident)
			if _, ok, err := g.Get([]byte("k")); ok || err != nil {
				t.Fatalf("Get on empty file: %v, %v", ok, err)
			}
		})
	}
}

func TestBuildRejectsOrderViolation(t *testing.T) {
	for name, recs := range map[string][]Record{
		"descending": {{Key: []byte("b")}, {Key: []byte("a")}},
		"duplicate":  {{Key: []byte("a")}, {Key: []byte("b")}, {Key: []byte("b")}},
		"prefix":     {{Key: []byte("ab")}, {Key: []byte("a")}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.sst")
			_, err := Build(context.Background(), path, recordsOf(recs...), len(recs))
			if !errors.Is(err, ErrKeyOrder) {
				t.Fatalf("Build: %v, want ErrKeyOrder", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Fatalf("failed Build left %v", names)
			}
		})
	}
}

func TestBuildStopsOnSourceErrorAndContext(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	src := func(yield func(Record, error) bool) {
		if yield(Record{Key: []byte("a")}, nil) {
			yield(Record{}, boom)
		}
	}
	if _, err := Build(context.Background(), filepath.Join(dir, "x.sst"), src, 0); !errors.Is(err, boom) {
		t.Fatalf("Build: %v, want the source's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, filepath.Join(dir, "y.sst"), evenRecords(10, 1), 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build with cancelled ctx: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("failed Builds left %v", names)
	}
}

func TestBuildReplacesExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.sst")
	if err := os.WriteFile(path, []byte("old junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), path, evenRecords(10, 5), 10); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok, _ := f.Get(testKey(4)); !ok {
		t.Fatal("rebuilt file misses a key")
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.sst"), nil)
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("Open(missing): %v, want fs.ErrNotExist and not ErrCorrupt", err)
	}
}

// TestCorruptFile damages a valid file in several ways; each must give
// ErrCorrupt naming the file, from Open or from Get, and never a panic or
// a wrong value.
func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	const n = 5000
	good := buildEven(t, dir, n, 150)
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]func([]byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"truncated half": func(b []byte) []byte { return b[:len(b)/2] },
		"truncated tail": func(b []byte) []byte { return b[:len(b)-3] },
		"not an sstable": func(b []byte) []byte { return bytes.Repeat([]byte("x"), len(b)) },
		"magic flipped":  func(b []byte) []byte { b[len(b)-1] ^= 0xFF; return b },
		"data flipped":   func(b []byte) []byte { b[len(b)/3] ^= 0x01; return b },
		"first block":    func(b []byte) []byte { b[100] ^= 0x40; return b },
	}
	for _, mode := range readModes {
		bc := modeCache(t, mode.cache, mode.resident)
		for name, fn := range damage {
			t.Run(mode.name+"/"+name, func(t *testing.T) {
				path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".sst")
				if err := os.WriteFile(path, fn(bytes.Clone(orig)), 0o644); err != nil {
					t.Fatal(err)
				}
				err := corruptionOf(t, path, bc, n)
				if !errors.Is(err, spec.ErrCorrupt) {
					t.Fatalf("err = %v, want spec.ErrCorrupt", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("error %q does not name the file", err)
				}
			})
		}
	}
}

// corruptionOf opens path and reads every key, returning the first error.
// It fails the test if a read returns a wrong value.
func corruptionOf(t *testing.T, path string, bc *BlockCache, n int) error {
	f, err := Open(path, bc)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := 0; i < 2*n; i++ {
		v, ok, err := f.Get(testKey(i))
		if err != nil {
			return err
		}
		if ok && !bytes.Equal(v, testValue(i, 150)) {
			t.Fatalf("corrupt file returned a wrong value for key %d", i)
		}
	}
	return nil
}

// TestBitFlipsNeverLie flips one byte at many offsets of a valid file: each
// damaged file must either read back every record exactly or fail with
// ErrCorrupt (some bytes, such as footer padding, are never read); it must
// not panic or return a wrong value.
func TestBitFlipsNeverLie(t *testing.T) {
	dir := t.TempDir()
	const n = 2000
	good := buildEven(t, dir, n, 150)
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "flipped.sst")
	for _, mode := range readModes[1:] { // with a block cache; resident
		bc := modeCache(t, mode.cache, mode.resident)
		corrupt := 0
		step := len(orig)/150 + 1
		for off := 0; off < len(orig); off += step {
			b := bytes.Clone(orig)
			b[off] ^= 0x10
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			err := corruptionOf(t, path, bc, n)
			switch {
			case err == nil:
			case errors.Is(err, spec.ErrCorrupt):
				corrupt++
			default:
				t.Fatalf("%s: flip at %d: %v, want nil or ErrCorrupt", mode.name, off, err)
			}
		}
		if corrupt == 0 {
			t.Fatalf("%s: no flip was detected", mode.name)
		}
	}
}

// GetSorted finds exactly the keys Get finds, with their values, whatever
// mix of hits, misses, duplicates, keys of one block and keys past the
// file's last key it is given; an error from found stops it.
func TestGetSorted(t *testing.T) {
	const n = 20000
	path := buildEven(t, t.TempDir(), n, 150)
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			f, _ := openMode(t, path, mode.cache, mode.resident)
			testGetSorted(t, f, n)
		})
	}
}

func testGetSorted(t *testing.T, f *File, n int) {
	var keys [][]byte
	for i := 0; i < 2*n+10; i += 1 + i%7 {
		keys = append(keys, testKey(i))
		if i%11 == 0 {
			keys = append(keys, testKey(i)) // a duplicate
		}
	}
	keys = append([][]byte{{}, {0}}, keys...)
	keys = append(keys, append(testKey(2*n), 0), bytes.Repeat([]byte{0xff}, 9))
	got := map[int][]byte{}
	err := f.GetSorted(keys, func(i int, v []byte) error {
		if _, dup := got[i]; dup {
			t.Fatalf("key %d reported twice", i)
		}
		got[i] = bytes.Clone(v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		want, ok, err := f.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		if v, found := got[i]; found != ok || !bytes.Equal(v, want) {
			t.Fatalf("key %x: GetSorted %v %x, Get %v %x", k, found, v, ok, want)
		}
	}
	if len(got) < n/3 {
		t.Fatalf("only %d keys found", len(got))
	}
	stop := errors.New("stop")
	calls := 0
	err = f.GetSorted([][]byte{testKey(2), testKey(4), testKey(6)}, func(int, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("found's error: %v after %d calls, want stop after 1", err, calls)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.GetSorted(keys, func(int, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetSorted after Close: %v, want ErrClosed", err)
	}
}
