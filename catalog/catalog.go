package catalog

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// DefaultDatabase is the database a bare table name refers to.
const DefaultDatabase = "default"

// dbSuffix is Paimon's directory suffix for databases.
const dbSuffix = ".db"

// Sentinel errors of the catalog, tested with errors.Is.
var (
	// ErrInvalidName: a database or table name that is empty, too long or
	// could escape the warehouse.
	ErrInvalidName = errors.New("catalog: invalid name")
	// ErrTableExists: CreateTable found a table already there.
	ErrTableExists = errors.New("catalog: table already exists")
	// ErrDatabaseNotEmpty: DropDatabase without cascade on a database with
	// tables.
	ErrDatabaseNotEmpty = errors.New("catalog: database is not empty")
)

// Identifier names a table in a database.
type Identifier struct {
	Database string
	Table    string
}

// String returns db.table.
func (id Identifier) String() string { return id.Database + "." + id.Table }

// ParseIdentifier parses "db.table", or "table" in the default database, and
// validates both names.
func ParseIdentifier(s string) (Identifier, error) {
	db, tbl, ok := strings.Cut(s, ".")
	if !ok {
		db, tbl = DefaultDatabase, s
	}
	id := Identifier{Database: db, Table: tbl}
	if err := ValidateDatabaseName(db); err != nil {
		return id, fmt.Errorf("database in %q: %w", s, err)
	}
	if err := ValidateName(tbl); err != nil {
		return id, fmt.Errorf("table in %q: %w", s, err)
	}
	return id, nil
}

// ValidateName accepts names made of letters, digits, '_', '-' and '$', at
// most 255 bytes, so that a name is always exactly one path element inside
// the warehouse.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	if len(name) > 255 {
		return fmt.Errorf("%w: %q is longer than 255 bytes", ErrInvalidName, name)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '$') {
			return fmt.Errorf("%w: %q contains %q (allowed: letters, digits, _ - $)", ErrInvalidName, name, r)
		}
	}
	return nil
}

// maxDatabaseName is the longest database name: its directory, the name
// and dbSuffix, must fit in the 255 bytes file systems allow a path
// element.
const maxDatabaseName = 255 - len(dbSuffix)

// ValidateDatabaseName is ValidateName for a database: its directory
// carries dbSuffix, so its name is at most 252 bytes.
func ValidateDatabaseName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(name) > maxDatabaseName {
		return fmt.Errorf("%w: database %q is longer than %d bytes", ErrInvalidName, name, maxDatabaseName)
	}
	return nil
}

// Catalog is a warehouse of databases and tables on one storage.
type Catalog struct {
	fs storage.Storage
}

// New returns the catalog of the warehouse at the root of fs.
func New(fs storage.Storage) *Catalog { return &Catalog{fs: fs} }

// Storage is the warehouse storage.
func (c *Catalog) Storage() storage.Storage { return c.fs }

// TablePath is the directory of a table relative to the warehouse root.
func TablePath(id Identifier) string { return path.Join(id.Database+dbSuffix, id.Table) }

// ListDatabases lists the databases, sorted.
func (c *Catalog) ListDatabases(ctx context.Context) ([]string, error) {
	infos, err := c.fs.List(ctx, "", false)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var dbs []string
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if fi.IsDir && strings.HasSuffix(name, dbSuffix) && ValidateDatabaseName(strings.TrimSuffix(name, dbSuffix)) == nil {
			dbs = append(dbs, strings.TrimSuffix(name, dbSuffix))
		}
	}
	sort.Strings(dbs)
	return dbs, nil
}

// ListTables lists the tables of a database, sorted: the directories that
// hold a schema file.
func (c *Catalog) ListTables(ctx context.Context, db string) ([]string, error) {
	if err := ValidateDatabaseName(db); err != nil {
		return nil, err
	}
	infos, err := c.fs.List(ctx, db+dbSuffix, false)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", db, err)
	}
	var tables []string
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if !fi.IsDir || ValidateName(name) != nil {
			continue
		}
		schemas, err := c.fs.List(ctx, path.Join(fi.Path, "schema"), false)
		if err != nil {
			return nil, err
		}
		if len(schemas) > 0 {
			tables = append(tables, name)
		}
	}
	sort.Strings(tables)
	return tables, nil
}

// CreateTable creates a table with the given schema. The schema is checked
// first (table.Validate): a refused schema is an error wrapping
// spec.ErrInvalidSchema and leaves nothing in the warehouse.
func (c *Catalog) CreateTable(ctx context.Context, id Identifier, schema *spec.TableSchema) (*table.Table, error) {
	t, _, err := c.CreateTableWithWarnings(ctx, id, schema)
	return t, err
}

// CreateTableWithWarnings is CreateTable that also returns the schema's
// warnings (unknown option keys, each with the nearest known key), even
// when it fails.
func (c *Catalog) CreateTableWithWarnings(ctx context.Context, id Identifier, schema *spec.TableSchema) (*table.Table, []string, error) {
	if err := ValidateDatabaseName(id.Database); err != nil {
		return nil, nil, err
	}
	if err := ValidateName(id.Table); err != nil {
		return nil, nil, err
	}
	t, warnings, err := table.CreateWithWarnings(ctx, c.fs, TablePath(id), schema)
	if errors.Is(err, storage.ErrExist) {
		return nil, warnings, fmt.Errorf("create %s: %w", id, ErrTableExists)
	}
	if err != nil {
		return nil, warnings, fmt.Errorf("create %s: %w", id, err)
	}
	return t, warnings, nil
}

// GetTable opens a table; a missing one is an error wrapping spec.ErrNotFound.
func (c *Catalog) GetTable(ctx context.Context, id Identifier) (*table.Table, error) {
	if err := ValidateDatabaseName(id.Database); err != nil {
		return nil, err
	}
	if err := ValidateName(id.Table); err != nil {
		return nil, err
	}
	t, err := table.Open(ctx, c.fs, TablePath(id))
	if err != nil {
		if errors.Is(err, spec.ErrNotFound) {
			return nil, fmt.Errorf("table %s does not exist in %s: %w", id, c.fs, spec.ErrNotFound)
		}
		return nil, err
	}
	return t, nil
}

// DropTable deletes every file of a table.
func (c *Catalog) DropTable(ctx context.Context, id Identifier) error {
	if _, err := c.GetTable(ctx, id); err != nil {
		return err
	}
	return c.deleteAll(ctx, TablePath(id))
}

// DropDatabase deletes a database; with cascade its tables go too.
func (c *Catalog) DropDatabase(ctx context.Context, db string, cascade bool) error {
	tables, err := c.ListTables(ctx, db)
	if err != nil {
		return err
	}
	if len(tables) > 0 && !cascade {
		return fmt.Errorf("drop %s: %w (%d tables)", db, ErrDatabaseNotEmpty, len(tables))
	}
	return c.deleteAll(ctx, db+dbSuffix)
}

func (c *Catalog) deleteAll(ctx context.Context, dir string) error {
	infos, err := c.fs.List(ctx, dir, true)
	if err != nil {
		return err
	}
	// Schemas last, so that a half-dropped table is still recognisable.
	sort.SliceStable(infos, func(i, j int) bool {
		return !strings.Contains(infos[i].Path, "/schema/") && strings.Contains(infos[j].Path, "/schema/")
	})
	for _, fi := range infos {
		if err := c.fs.Delete(ctx, fi.Path); err != nil {
			return err
		}
	}
	return nil
}
