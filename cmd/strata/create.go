package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
)

func newCreateCmd(e *env) *cobra.Command {
	var schema, pk, part string
	var opts []string
	cmd := &cobra.Command{
		Use:   "create DB.TABLE --schema COLUMNS [--primary-key k1[,k2]] [--partition p1[,p2]] [-o key=value]...",
		Short: "Create a table",
		Long: `Create a table from a column list, e.g.

  strata create shop.orders --schema "id BIGINT NOT NULL, customer STRING, amount DECIMAL(10, 2)" \
      --primary-key id -o bucket=4

Types are Paimon's: BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE,
DECIMAL(p, s), CHAR(n), VARCHAR(n), STRING, BINARY(n), VARBINARY(n), BYTES,
DATE, TIME(p), TIMESTAMP(p), TIMESTAMP_LTZ(p), ARRAY<T>, MAP<K, V>,
MULTISET<T>, ROW<name T, ...>, VECTOR<T, n>; add NOT NULL as needed.
Primary-key columns become NOT NULL. Options (-o) are Paimon table options:
-o bucket=N gives N fixed buckets (Paimon's hash of the bucket key); without
it a primary-key table has dynamic buckets (bucket=-1), filled up to
dynamic-bucket.target-row-num keys each.

Every option Strata reads is checked before anything is written: a bad
value, a value Strata cannot honour (file.format other than parquet, an
unknown compression, ...) or an impossible combination is refused with the
option, the value and what is allowed, and creates nothing. Unknown keys
are kept (other engines read them) with a warning on stderr naming the
nearest known key.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := catalog.ParseIdentifier(args[0])
			if err != nil {
				return usageError{err}
			}
			if schema == "" {
				return usagef("--schema is required, e.g. --schema \"id INT NOT NULL, name STRING\"")
			}
			fields, err := spec.ParseColumns(schema)
			if err != nil {
				return usagef("--schema: %w", err)
			}
			options := spec.NewStringMap()
			for _, o := range opts {
				k, v, ok := strings.Cut(o, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("-o %q: want key=value", o)
				}
				options.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			sc, err := spec.NewSchema(fields, splitList(part), splitList(pk), options, nil)
			if err != nil {
				e.warn(spec.UnknownOptionWarnings(options.Keys()))
				return usageError{err}
			}
			c, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			t, warnings, err := c.CreateTableWithWarnings(ctx, id, sc)
			e.warn(warnings)
			if errors.Is(err, spec.ErrInvalidSchema) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created %s at %s/%s\n", id, c.Storage(), t.Path())
			return nil
		},
	}
	cmd.Flags().StringVar(&schema, "schema", "", `columns, e.g. "id INT NOT NULL, name STRING"`)
	cmd.Flags().StringVar(&pk, "primary-key", "", "primary-key columns, comma-separated")
	cmd.Flags().StringVar(&part, "partition", "", "partition columns, comma-separated")
	cmd.Flags().StringArrayVarP(&opts, "option", "o", nil, "table option key=value (repeatable)")
	return cmd
}

// warn prints warnings on stderr, one "warning: ..." line each.
func (e *env) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}
