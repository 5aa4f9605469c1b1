package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// TestJavaAvroTable: a table Java writes with file.format=avro opens in
// Strata and reads as Java wrote it, and Strata refuses to write it (it
// writes Parquet data files only). TestJavaAvroMatrix runs the full cells.
// (Java's ORC writer needs more of Hadoop than the driver carries; reader's
// unit test covers ORC's refusal.)
func TestJavaAvroTable(t *testing.T) {
	d := javatest.ForTest(t)
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
	var rows []spec.Row
	for row, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatalf("scanning an avro table: %v", err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 1 || rows[0][0] != int32(1) || rows[0][1] != "a" {
		t.Fatalf("scanning an avro table: %v, want [[1 a]]", rows)
	}
	if _, err := tb.NewWrite(ctx); !errors.Is(err, table.ErrUnsupported) || !strings.Contains(err.Error(), "file.format=avro") {
		t.Fatalf("writing a Java avro table in Strata: %v, want ErrUnsupported naming file.format=avro", err)
	}
	_, err = catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "u"}, schema)
	if err == nil || !strings.Contains(err.Error(), "file.format") {
		t.Fatalf("creating an avro table in Strata: %v, want a refusal naming file.format", err)
	}
}

// TestJavaAvroColumnarScan: the columnar scan reads Java's Avro files
// (through their rows) for a primary-key and an append table.
func TestJavaAvroColumnarScan(t *testing.T) {
	d := javatest.ForTest(t)
	ctx := context.Background()
	for _, pk := range []string{"id", ""} {
		wh := t.TempDir()
		c := &javaCell{Name: "avro", Columns: "id INT NOT NULL, v STRING", PK: pk,
			Options: map[string]string{"bucket": "1", "file.format": "avro"}}
		if pk == "" {
			c.Options["bucket-key"] = "id"
		}
		schema, err := c.schema()
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Create(ctx, wh, javaTable, spec.EncodeSchema(schema)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write(ctx, wh, javaTable, "", 0, `{"id": 1, "v": "a"}`+"\n"+`{"id": 2, "v": "b"}`); err != nil {
			t.Fatal(err)
		}
		fs, err := storage.Open(ctx, wh)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "t"})
		if err != nil {
			t.Fatal(err)
		}
		_, batches, err := tb.NewScan().ToArrowRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rec, err := range batches {
			if err != nil {
				t.Fatalf("primary key %q: columnar scan of an avro table: %v", pk, err)
			}
			n += rec.NumRows()
			rec.Release()
		}
		if n != 2 {
			t.Fatalf("primary key %q: columnar scan read %d rows, want 2", pk, n)
		}
	}
}
