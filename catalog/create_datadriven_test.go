package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// The scripts in testdata/create define tables and show what creating them
// gives (rewrite the expected output with go test ./catalog -rewrite):
//
//	create
//	columns: <SQL column list>   (default: createColumns)
//	pk: a,b                      (default: id; "pk:" alone for none)
//	partition: p
//	key=value                    (a table option; repeatable)
//	----
//	warning: <one line per warning>
//	ok | error: <message>
//
// Each case starts from an empty in-memory warehouse. A refused create must
// wrap spec.ErrInvalidSchema and leave the warehouse empty; an accepted one
// must give a table that opens again.
func TestCreateScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/create", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			if td.Cmd != "create" {
				t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
			}
			return runCreateCase(t, td)
		})
	})
}

// createColumns are the default columns of a script's table: one of most
// kinds of type, for aggregate functions and sequence fields.
const createColumns = "id INT NOT NULL, p STRING, v BIGINT, d DECIMAL(10, 2), s STRING, c CHAR(2), " +
	"b BOOLEAN, ts TIMESTAMP(3), arr ARRAY<INT>, m MAP<STRING, INT>, bin BYTES, r ROW<x INT>"

func runCreateCase(t *testing.T, td *datadriven.TestData) string {
	columns, pk, partition := createColumns, "id", ""
	options := spec.NewStringMap()
	for _, line := range strings.Split(td.Input, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "columns:"):
			columns = strings.TrimSpace(strings.TrimPrefix(line, "columns:"))
		case strings.HasPrefix(line, "pk:"):
			pk = strings.TrimSpace(strings.TrimPrefix(line, "pk:"))
		case strings.HasPrefix(line, "partition:"):
			partition = strings.TrimSpace(strings.TrimPrefix(line, "partition:"))
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: want key=value, got %q", td.Pos, line)
			}
			options.Set(k, v)
		}
	}
	fields, err := spec.ParseColumns(columns)
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	ctx := context.Background()
	fs := storage.NewMemory()
	c := New(fs)
	id := Identifier{Database: "db", Table: "t"}
	var warnings []string
	sc, err := spec.NewSchema(fields, splitNames(partition), splitNames(pk), options, nil)
	if err != nil {
		warnings = spec.UnknownOptionWarnings(options.Keys())
	} else {
		_, warnings, err = c.CreateTableWithWarnings(ctx, id, sc)
	}
	var b strings.Builder
	for _, w := range warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if err != nil {
		if !errors.Is(err, spec.ErrInvalidSchema) {
			t.Errorf("%s: error does not wrap spec.ErrInvalidSchema: %v", td.Pos, err)
		}
		if left := listAll(t, fs); len(left) > 0 {
			t.Errorf("%s: refused create left %v behind", td.Pos, left)
		}
		fmt.Fprintf(&b, "error: %s\n", strings.TrimPrefix(err.Error(), "create db.t: "))
		return b.String()
	}
	if _, err := c.GetTable(ctx, id); err != nil {
		t.Errorf("%s: created table does not open: %v", td.Pos, err)
	}
	b.WriteString("ok\n")
	return b.String()
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// listAll lists every file in fs.
func listAll(t *testing.T, fs storage.Storage) []string {
	t.Helper()
	infos, err := fs.List(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fi := range infos {
		out = append(out, fi.Path)
	}
	return out
}
