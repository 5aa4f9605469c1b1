package parquetio

import (
	"bytes"
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

// TestMutatedFiles is a fast, deterministic complement to FuzzOpen: it opens
// and reads thousands of randomly damaged copies of real files (bytes
// flipped, inserted, deleted, ranges cut out). Every one must fail cleanly or
// read, and none may take long.
func TestMutatedFiles(t *testing.T) {
	var seeds [][]byte
	for _, table := range []string{"test_pk_global_index_golden", "test_pk_vector_golden"} {
		for _, path := range fixtureFiles(t, table) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	seeds = append(seeds,
		writeFile(t, allTypes(), allTypesRows()),
		writeFile(t, allTypes(), allTypesRows(), WithCompression(CompressionSnappy)),
		writeFile(t, allTypes(), allTypesRows(), WithCompression(CompressionNone), WithDictionary(false)),
	)
	kv := KVFields(globalIndexKey, globalIndexValue)
	rng := rand.New(rand.NewSource(1))
	iterations := 5000
	if testing.Short() {
		iterations = 500
	}
	for range iterations {
		data := mutate(rng, seeds[rng.Intn(len(seeds))])
		start := time.Now()
		f, err := Open(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			requests := [][]spec.DataField{kv, allTypes()}
			for _, fields := range requests {
				for _, err := range f.ReadRows(fields) {
					if err != nil {
						break
					}
				}
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("a %d-byte damaged file took %v", len(data), d)
		}
	}
}

func mutate(rng *rand.Rand, seed []byte) []byte {
	data := append([]byte(nil), seed...)
	for k := rng.Intn(4) + 1; k > 0 && len(data) > 1; k-- {
		i := rng.Intn(len(data))
		switch rng.Intn(6) {
		case 0:
			data[i] ^= 1 << rng.Intn(8)
		case 1:
			data[i] = byte(rng.Intn(256))
		case 2:
			data[i] = 0xff
		case 3:
			data = append(data[:i:i], data[i+1:]...)
		case 4:
			data = append(data[:i:i], append([]byte{byte(rng.Intn(256))}, data[i:]...)...)
		case 5:
			data = append(data[:i:i], data[i+rng.Intn(len(data)-i):]...)
		}
	}
	return data
}
