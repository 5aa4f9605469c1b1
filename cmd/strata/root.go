package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
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
disk or S3 that Flink, Spark, Trino and StarRocks can read too.

Tables are named DB.TABLE (or TABLE, in database "default") and live in
<warehouse>/<db>.db/<table>/.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.warehouse, "warehouse", "", warehouseHelp)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newCreateCmd(e), newWriteCmd(e), newScanCmd(e), newSnapshotsCmd(e),
		newSchemaCmd(e), newCompactCmd(e), newBenchCmd(e), newDemoCmd(e),
	)
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

func (e *env) catalog(ctx context.Context) (*catalog.Catalog, error) {
	fs, err := storage.Open(ctx, e.location())
	if err != nil {
		return nil, err
	}
	return catalog.New(fs), nil
}

// table opens DB.TABLE.
func (e *env) table(ctx context.Context, name string) (*table.Table, error) {
	id, err := catalog.ParseIdentifier(name)
	if err != nil {
		return nil, usageError{err}
	}
	c, err := e.catalog(ctx)
	if err != nil {
		return nil, err
	}
	return c.GetTable(ctx, id)
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
