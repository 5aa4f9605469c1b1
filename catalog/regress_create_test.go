package catalog

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// refusedCreates are table definitions that once broke a table (issue 7):
// some failed only after schema-0 was written, leaving a table that could
// neither be used nor created again; others were accepted and made every
// write fail, or were silently ignored. Each must now be refused before
// anything is written, naming the option; fixed is a definition that works.
var refusedCreates = []struct {
	name          string
	columns       string
	pk, partition []string
	bad, fixed    []string // options as key, value pairs
	wantInError   string
}{
	{"aggregate on wrong type", "id INT NOT NULL, v STRING", []string{"id"}, nil,
		[]string{"merge-engine", "aggregation", "fields.v.aggregate-function", "sum"},
		[]string{"merge-engine", "aggregation", "fields.v.aggregate-function", "listagg"},
		`"fields.v.aggregate-function"`},
	{"unknown file compression", "id INT NOT NULL, v STRING", []string{"id"}, nil,
		[]string{"file.compression", "lz4"}, []string{"file.compression", "snappy"},
		`"file.compression" = "lz4"`},
	{"unknown manifest compression", "id INT NOT NULL, v STRING", []string{"id"}, nil,
		[]string{"manifest.compression", "bzip2"}, []string{"manifest.compression", "deflate"},
		`"manifest.compression" = "bzip2"`},
	{"sequence group names a missing column", "id INT NOT NULL, v INT, s STRING", []string{"id"}, nil,
		[]string{"merge-engine", "partial-update", "fields.v.sequence-group", "s,gone"},
		[]string{"merge-engine", "partial-update", "fields.v.sequence-group", "s"},
		`"fields.v.sequence-group"`},
	{"deletion vectors with first-row", "id INT NOT NULL, v STRING", []string{"id"}, nil,
		[]string{"merge-engine", "first-row", "deletion-vectors.enabled", "true"},
		[]string{"merge-engine", "first-row", "changelog-producer", "lookup"},
		`"deletion-vectors.enabled" = "true"`},
	{"fixed buckets with a cross-partition key", "id INT NOT NULL, dt STRING, v STRING", []string{"id"}, []string{"dt"},
		[]string{"bucket", "4"}, []string{"bucket", "-1"},
		`"bucket" = "4"`},
	{"orc file format", "id INT NOT NULL, v STRING", []string{"id"}, nil,
		[]string{"file.format", "orc"}, []string{"file.format", "parquet"},
		`"file.format" = "orc"`},
}

// TestRefusedCreateLeavesNothing creates each refused definition through the
// catalog on local disk, checks that the warehouse directory is still
// empty, then creates the same table name correctly and writes to it.
func TestRefusedCreateLeavesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range refusedCreates {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fsys, err := storage.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			c := New(fsys)
			id := Identifier{Database: "db", Table: "t"}
			_, err = c.CreateTable(ctx, id, regressSchema(t, tc.columns, tc.pk, tc.partition, tc.bad))
			if !errors.Is(err, spec.ErrInvalidSchema) || !strings.Contains(err.Error(), tc.wantInError) {
				t.Fatalf("create: got %v, want ErrInvalidSchema naming %s", err, tc.wantInError)
			}
			if left := dirEntries(t, dir); len(left) > 0 {
				t.Fatalf("refused create left %v in the warehouse", left)
			}
			tb, err := c.CreateTable(ctx, id, regressSchema(t, tc.columns, tc.pk, tc.partition, tc.fixed))
			if err != nil {
				t.Fatalf("create with %v after the refusal: %v", tc.fixed, err)
			}
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatalf("write after create: %v", err)
			}
			defer w.Close()
			row := make(spec.Row, len(tb.Schema().Fields))
			row[0] = int32(1)
			if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
				t.Fatalf("write after create: %v", err)
			}
			if _, err := w.PrepareCommit(ctx); err != nil {
				t.Fatalf("flush after create: %v", err)
			}
		})
	}
}

func regressSchema(t *testing.T, columns string, pk, partition, kv []string) *spec.TableSchema {
	t.Helper()
	fields, err := spec.ParseColumns(columns)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, partition, pk, spec.NewStringMap(kv...), nil)
	if err != nil {
		// Some refusals come from NewSchema itself: the schema is built by
		// hand so that Create, which must refuse it too, is still reached.
		return &spec.TableSchema{Version: spec.SchemaCurrentVersion, Fields: fields, HighestFieldID: spec.HighestFieldID(fields),
			PartitionKeys: partition, PrimaryKeys: pk, Options: *spec.NewStringMap(kv...)}
	}
	return sc
}

// dirEntries lists everything (files and directories) below dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
