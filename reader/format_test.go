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
// so. ORC files are refused as unsupported, naming the format and the file,
// before any byte is read.
func TestORCFilesRefused(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	for _, name := range []string{"data-9a1-0.orc", "changelog-9a1-0.ORC"} {
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

// A file named .avro is read as Avro: bytes that are not an Avro container
// are corrupt (naming the file), never read as Parquet or as no rows.
func TestAvroFileNotAvroIsCorrupt(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	p := "db.db/t/bucket-0/data-9a1-0.avro"
	if err := fs.Put(ctx, p, []byte("not avro")); err != nil {
		t.Fatal(err)
	}
	req := Request{Dir: "db.db/t/bucket-0", File: &spec.DataFileMeta{FileName: "data-9a1-0.avro", FileSize: 8}, FileSchema: &spec.TableSchema{}}
	var err error
	n := 0
	for kv, e := range ReadKeyValues(ctx, fs, req) {
		if e == nil && kv != nil {
			n++
		}
		err = e
	}
	if !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), p) || n != 0 {
		t.Fatalf("junk .avro file: %d rows, %v; want ErrCorrupt naming the file", n, err)
	}
}
