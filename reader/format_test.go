package reader

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Java Paimon writes ORC or Avro data files when a table's file.format says
// so; Strata used to report them as Parquet files without their magic
// ("corrupt data"). They are refused as unsupported, naming the format and
// the file, before any byte is read.
func TestNonParquetFilesRefused(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	for _, name := range []string{"data-9a1-0.orc", "data-9a1-0.avro", "changelog-9a1-0.ORC"} {
		p := "db.db/t/bucket-0/" + name
		if err := fs.Put(ctx, p, []byte("not parquet")); err != nil {
			t.Fatal(err)
		}
		meta := &spec.DataFileMeta{FileName: name, FileSize: 11}
		req := Request{Dir: "db.db/t/bucket-0", File: meta, FileSchema: &spec.TableSchema{}}
		var err error
		for _, e := range ReadKeyValues(ctx, fs, req) {
			err = e
		}
		format := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
		if !errors.Is(err, ErrUnsupportedFormat) || errors.Is(err, spec.ErrCorrupt) ||
			!strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"`+format+`"`) {
			t.Errorf("%s as a key-value file: got %v, want ErrUnsupportedFormat naming %q and the file", name, err, format)
		}
		err = nil
		for _, e := range ReadAppendRows(ctx, fs, req) {
			err = e
		}
		if !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("%s as an append file: got %v, want ErrUnsupportedFormat", name, err)
		}
	}
}
