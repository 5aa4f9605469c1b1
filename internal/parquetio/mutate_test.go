package parquetio

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

// TestMutatedFiles is a fast, deterministic complement to FuzzOpen: it opens
// and reads thousands of randomly damaged copies of real files (bytes
// flipped, inserted, deleted, ranges cut out). Every one must read or fail
// with an error wrapping spec.ErrCorrupt, and none may take long.
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
						checkCorrupt(t, err)
						break
					}
				}
			}
		} else {
			checkCorrupt(t, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("a %d-byte damaged file took %v", len(data), d)
		}
	}
}

// checkCorrupt fails the test unless err, an error of reading a damaged
// file from memory, wraps spec.ErrCorrupt.
func checkCorrupt(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("damaged file: %v, want an error wrapping spec.ErrCorrupt", err)
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
