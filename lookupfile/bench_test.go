package lookupfile

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkGet measures point reads on a file of 1M keys (8 bytes) with
// 150-byte values: hits, and misses (keys between the stored ones, which the
// bloom filter rules out but for ~1% false positives), with a block cache
// that holds the whole file (warmed first) and with one of 8 MiB that holds
// little of it (blocks then come from the OS page cache).
func BenchmarkGet(b *testing.B) {
	const n = 1_000_000
	path := buildEven(b, b.TempDir(), n, 150)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = testKey(2 * rng.IntN(n))
	}
	misses := make([][]byte, len(keys))
	for i := range misses {
		misses[i] = testKey(2*rng.IntN(n) + 1)
	}
	for _, c := range []struct {
		name  string
		cache int64
	}{{"cache=256MiB", 256 << 20}, {"cache=8MiB", 8 << 20}} {
		bc := NewBlockCache(c.cache)
		f, err := Open(path, bc)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 10 { // warm the cache (and the page cache)
			if _, ok, err := f.Get(testKey(2 * i)); !ok || err != nil {
				b.Fatalf("warm-up Get(%d): %v %v", i, ok, err)
			}
		}
		b.Run(c.name+"/hit", func(b *testing.B) { benchGets(b, f, keys, true) })
		b.Run(c.name+"/miss", func(b *testing.B) { benchGets(b, f, misses, false) })
		b.Run(c.name+"/sorted100-hit", func(b *testing.B) { benchGetSorted(b, f, keys, 100, true) })
		b.Run(c.name+"/sorted100-miss", func(b *testing.B) { benchGetSorted(b, f, misses, 100, false) })
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		bc.Close()
	}
}

// benchGetSorted reads batches of size random keys, sorted, with GetSorted;
// ns/op is per batch.
func benchGetSorted(b *testing.B, f *File, keys [][]byte, size int, wantFound bool) {
	batches := make([][][]byte, len(keys)/size)
	for i := range batches {
		batches[i] = slices.Clone(keys[i*size : (i+1)*size])
		slices.SortFunc(batches[i], bytes.Compare)
	}
	b.ReportAllocs()
	found, i := 0, 0
	for b.Loop() {
		err := f.GetSorted(batches[i%len(batches)], func(int, []byte) error { found++; return nil })
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i*size)/b.Elapsed().Seconds(), "keys/s")
	if wantFound && found != i*size {
		b.Fatalf("%d of %d hits found", found, i*size)
	}
	if !wantFound && found != 0 {
		b.Fatalf("%d misses found", found)
	}
}

func benchGets(b *testing.B, f *File, keys [][]byte, wantFound bool) {
	b.ReportAllocs()
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, ok, err := f.Get(keys[i&(len(keys)-1)])
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			found++
		}
	}
	b.StopTimer()
	if wantFound && found != b.N {
		b.Fatalf("%d of %d hits found", found, b.N)
	}
	if !wantFound && found != 0 {
		b.Fatalf("%d misses found", found)
	}
}
