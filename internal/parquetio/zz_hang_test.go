package parquetio

import (
	"bytes"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

func TestZZHang(t *testing.T) {
	var seeds [][]byte
	for _, table := range []string{"test_pk_global_index_golden", "test_pk_vector_golden"} {
		for _, path := range fixtureFiles(t, table) {
			b, _ := os.ReadFile(path)
			seeds = append(seeds, b)
		}
	}
	seeds = append(seeds, writeFile(t, allTypes(), allTypesRows()))
	kv := KVFields(globalIndexKey, globalIndexValue)
	rng := rand.New(rand.NewSource(1))
	deadline := time.Now().Add(60 * time.Second)
	for iter := 0; time.Now().Before(deadline); iter++ {
		s := seeds[rng.Intn(len(seeds))]
		data := append([]byte(nil), s...)
		for k := rng.Intn(4) + 1; k > 0; k-- {
			i := rng.Intn(len(data))
			switch rng.Intn(3) {
			case 0:
				data[i] ^= 1 << rng.Intn(8)
			case 1:
				data[i] = byte(rng.Intn(256))
			case 2:
				data[i] = 0xff
			}
		}
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				os.WriteFile("/tmp/hang.parquet", data, 0o644)
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				os.Stderr.Write(buf[:n])
				os.Exit(3)
			}
		}()
		func() {
			defer func() {
				if r := recover(); r != nil {
					os.WriteFile("/tmp/panic.parquet", data, 0o644)
					t.Fatalf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			file, err := Open(bytes.NewReader(data), int64(len(data)))
			if err == nil {
				reqs := [][]spec.DataField{kv, allTypes()}
				if fs, err := file.Fields(); err == nil {
					reqs = append(reqs, fs)
				}
				for _, fields := range reqs {
					for _, err := range file.ReadRows(fields) {
						if err != nil {
							break
						}
					}
				}
			}
		}()
		close(done)
		if iter%1000 == 0 {
			t.Logf("iter %d", iter)
		}
	}
}
