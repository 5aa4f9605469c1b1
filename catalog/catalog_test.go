package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func TestNamesCannotEscape(t *testing.T) {
	for _, bad := range []string{"", "..", ".", "a/b", "/abs", `a\b`, "x\x00", "a.b", "../../etc"} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"t", "my_table", "ümlaut", "a-b", "x$1"} {
		if err := ValidateName(good); err != nil {
			t.Errorf("%q rejected: %v", good, err)
		}
	}
	if _, err := ParseIdentifier("../x.y"); err == nil {
		t.Error("escape accepted")
	}
	id, err := ParseIdentifier("t1")
	if err != nil || id.Database != "default" {
		t.Fatal(id, err)
	}
}

func TestCatalogLifecycle(t *testing.T) {
	ctx := context.Background()
	for name, fs := range map[string]storage.Storage{"memory": storage.NewMemory(), "local": mustLocal(t)} {
		t.Run(name, func(t *testing.T) {
			c := New(fs)
			fields, err := spec.ParseColumns("id INT NOT NULL, v STRING")
			if err != nil {
				t.Fatal(err)
			}
			sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "2"), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, tn := range []string{"b", "a"} {
				if _, err := c.CreateTable(ctx, Identifier{"db1", tn}, sc); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.CreateTable(ctx, Identifier{"db1", "a"}, sc); !errors.Is(err, ErrTableExists) {
				t.Fatalf("duplicate create: %v", err)
			}
			dbs, _ := c.ListDatabases(ctx)
			tables, _ := c.ListTables(ctx, "db1")
			if len(dbs) != 1 || dbs[0] != "db1" || len(tables) != 2 || tables[0] != "a" {
				t.Fatalf("dbs %v tables %v", dbs, tables)
			}
			if _, err := c.GetTable(ctx, Identifier{"db1", "zz"}); !errors.Is(err, spec.ErrNotFound) {
				t.Fatalf("missing table: %v", err)
			}
			if err := c.DropDatabase(ctx, "db1", false); !errors.Is(err, ErrDatabaseNotEmpty) {
				t.Fatalf("drop non-empty: %v", err)
			}
			if err := c.DropTable(ctx, Identifier{"db1", "a"}); err != nil {
				t.Fatal(err)
			}
			if tables, _ := c.ListTables(ctx, "db1"); len(tables) != 1 {
				t.Fatalf("after drop: %v", tables)
			}
		})
	}
}

func mustLocal(t *testing.T) storage.Storage {
	l, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A database directory carries ".db", so a database name is at most 252
// bytes: a longer one (valid as a table name) made the local file system
// fail with "file name too long" instead of an invalid-name error (the
// lookup server answered 500 to such a URL).
func TestLongNames(t *testing.T) {
	ctx := context.Background()
	c := New(mustLocal(t))
	fields, err := spec.ParseColumns("id INT NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, tbl := strings.Repeat("d", 252), strings.Repeat("t", 255)
	if _, err := c.CreateTable(ctx, Identifier{db, tbl}, sc); err != nil {
		t.Fatalf("the longest names: %v", err)
	}
	if _, err := ParseIdentifier(db + "." + tbl); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTable(ctx, Identifier{db, tbl}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("d", 253)
	if err := ValidateName(long); err != nil {
		t.Fatalf("a 253-byte table name: %v", err)
	}
	for what, err := range map[string]error{
		"ValidateDatabaseName": ValidateDatabaseName(long),
		"ParseIdentifier":      func() error { _, err := ParseIdentifier(long + ".t"); return err }(),
		"GetTable":             func() error { _, err := c.GetTable(ctx, Identifier{long, "t"}); return err }(),
		"CreateTable":          func() error { _, err := c.CreateTable(ctx, Identifier{long, "t"}, sc); return err }(),
		"ListTables":           func() error { _, err := c.ListTables(ctx, long); return err }(),
	} {
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s of a 253-byte database: %v, want ErrInvalidName", what, err)
		}
	}
}
