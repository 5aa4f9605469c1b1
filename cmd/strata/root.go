package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// env holds what every command needs: its streams and the warehouse.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	warehouse      string
}

const warehouseHelp = `Warehouse location: a local directory, file:///abs/path, or
s3://bucket/prefix (credentials from the standard AWS chain; set
STRATA_S3_ENDPOINT for MinIO-style endpoints). Defaults to $STRATA_WAREHOUSE,
else ./warehouse.`

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "strata",
		Short: "Strata: Apache Paimon primary-key tables in Go",
		Long: `Strata reads and writes Apache Paimon tables: primary-key LSM tables on local
disk or S3, in Paimon's format, so Paimon's engines read them too (Java Paimon,
pypaimon and Flink are tested; Spark, Trino and StarRocks read through their
Paimon connectors, untested). The user guide is docs/guide/README.md.

Tables are named DB.TABLE (or TABLE, in database "default") and live in
<warehouse>/<db>.db/<table>/.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.warehouse, "warehouse", "", warehouseHelp)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newCreateCmd(e), newWriteCmd(e), newScanCmd(e), newSnapshotsCmd(e), newSQLCmd(e),
		newSchemaCmd(e), newCompactCmd(e), newExpireCmd(e), newOrphansCmd(e), newMaintainCmd(e), newLookupCmd(e), newTailCmd(e), newServeCmd(e),
		newTagCmd(e), newRollbackCmd(e),
		newFilesCmd(e), newManifestsCmd(e), newTablesCmd(e), newDatabasesCmd(e),
		newBenchCmd(e), newDemoCmd(e),
	)
	root.AddCommand(newAlterCmd(e), newDropCmd(e))
	root.AddCommand(newVersionCmd(e))
	root.Version = currentBuild().short()
	root.SetVersionTemplate("strata {{.Version}}\n")
	return root
}

// location resolves the warehouse: flag, then $STRATA_WAREHOUSE, then
// ./warehouse.
func (e *env) location() string {
	if e.warehouse != "" {
		return e.warehouse
	}
	if w := os.Getenv("STRATA_WAREHOUSE"); w != "" {
		return w
	}
	return "warehouse"
}

// catalog opens the warehouse for commands that create tables: a missing
// local directory is created.
func (e *env) catalog(ctx context.Context) (*catalog.Catalog, error) {
	fs, err := storage.Open(ctx, e.location())
	if err != nil {
		return nil, err
	}
	return catalog.New(fs), nil
}

// table opens DB.TABLE of an existing warehouse. Nothing is created: a
// missing warehouse, database or table is an error wrapping spec.ErrNotFound
// that says what exists.
func (e *env) table(ctx context.Context, name string) (*table.Table, error) {
	id, err := catalog.ParseIdentifier(name)
	if err != nil {
		return nil, usageError{err}
	}
	fs, err := storage.OpenExisting(ctx, e.location())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("table %s %w in warehouse %s: the warehouse directory does not exist", id, spec.ErrNotFound, e.location())
	}
	if err != nil {
		return nil, err
	}
	c := catalog.New(fs)
	t, err := c.GetTable(ctx, id)
	if errors.Is(err, spec.ErrNotFound) {
		return nil, fmt.Errorf("table %s %w in warehouse %s%s", id, spec.ErrNotFound, e.location(), whatExists(ctx, c, id.Database))
	}
	return t, err
}

// maxListed bounds the names an error message lists.
const maxListed = 20

// whatExists describes, for a missing table, the tables of its database or,
// when the database is missing too, the databases. It is best effort: a
// listing that fails adds nothing.
func whatExists(ctx context.Context, c *catalog.Catalog, db string) string {
	dbs, err := c.ListDatabases(ctx)
	if err != nil {
		return ""
	}
	if !slices.Contains(dbs, db) {
		if len(dbs) == 0 {
			return ": the warehouse has no databases"
		}
		return fmt.Sprintf(": no database %s (databases: %s)", db, listNames(dbs))
	}
	tables, err := c.ListTables(ctx, db)
	switch {
	case err != nil:
		return ""
	case len(tables) == 0:
		return fmt.Sprintf(" (database %s has no tables)", db)
	}
	return fmt.Sprintf(" (tables in %s: %s)", db, listNames(tables))
}

// listNames joins names, eliding all but the first maxListed.
func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

// exactArgs is cobra.ExactArgs returning a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
