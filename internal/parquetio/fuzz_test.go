package parquetio

import (
	"bytes"
	"os"
	"testing"

	"github.com/stratalake/strata/spec"
)

// FuzzOpen feeds arbitrary bytes to Open and, when they open, reads every
// row with the file's own fields and with the fixture fields. Nothing may
// panic; errors must wrap spec.ErrCorrupt.
func FuzzOpen(f *testing.F) {
	for _, table := range []string{"test_pk_global_index_golden", "test_pk_vector_golden"} {
		for _, path := range fixtureFiles(f, table) {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add(writeFile(f, allTypes(), allTypesRows()))
	f.Add(writeFile(f, allTypes(), allTypesRows(), WithCompression(CompressionNone), WithDictionary(false)))
	f.Add([]byte("PAR1PAR1"))
	kv := KVFields(globalIndexKey, globalIndexValue)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			checkCorrupt(t, err)
			return
		}
		_ = file.Columns()
		_ = file.SchemaString()
		requests := [][]spec.DataField{kv, allTypes()}
		for _, fields := range requests {
			n := 0
			for _, err := range file.ReadRows(fields) {
				if err != nil {
					checkCorrupt(t, err)
					break
				}
				if n++; n > 1_000_000 {
					t.Fatal("runaway row count")
				}
			}
		}
	})
}
