package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestJavaAvroTableRefused: a table Java writes with file.format=avro opens
// in Strata, and reading it fails naming the format and the file, never
// with rows or a "corrupt data" error. (Java's ORC writer needs more of
// Hadoop than the driver carries; reader's unit test covers ORC names.)
func TestJavaAvroTableRefused(t *testing.T) {
	d := paimonjava.ForTest(t)
	ctx := context.Background()
	wh := t.TempDir()
	c := &javaCell{Name: "avro", Columns: "id INT NOT NULL, v STRING", PK: "id",
		Options: map[string]string{"bucket": "1", "file.format": "avro"}}
	schema, err := c.schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, wh, javaTable, spec.EncodeSchema(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(ctx, wh, javaTable, "", 0, `{"id": 1, "v": "a"}`); err != nil {
		t.Fatal(err)
	}
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "t"})
	if err != nil {
		t.Fatalf("opening a Java avro table: %v", err)
	}
	var rows int
	for _, err = range tb.NewScan().Rows(ctx) {
		if err != nil {
			break
		}
		rows++
	}
	if !errors.Is(err, reader.ErrUnsupportedFormat) || errors.Is(err, spec.ErrCorrupt) ||
		!strings.Contains(err.Error(), `"avro"`) || !strings.Contains(err.Error(), ".avro") || rows != 0 {
		t.Fatalf("scanning an avro table: %d rows, error %v; want ErrUnsupportedFormat naming avro and the file", rows, err)
	}
}
