package main

import (
	"github.com/spf13/cobra"

	"github.com/stratalake/strata/table"
)

// sqlBuildHelp says how to get a strata with SQL. The DuckDB binding is cgo
// and links DuckDB's static library (about 130 MB unpacked), so it is kept
// out of the default, pure-Go build.
const sqlBuildHelp = `SQL runs in DuckDB, which Strata links through cgo only when built with the
duckdb_arrow tag (a C compiler is needed; the first build downloads DuckDB's
static library, about 32 MB, and takes under a minute):

  CGO_ENABLED=1 go build -tags duckdb_arrow -o strata ./cmd/strata`

// sqlRequest is a parsed "strata sql" command line.
type sqlRequest struct {
	query   string
	format  string
	explain bool
	stats   bool
	// travel is the snapshot choice ("" for the latest, else the flag
	// given) and scan its scan options, applied to every table.
	travel string
	scan   []table.ScanOption
}

func newSQLCmd(e *env) *cobra.Command {
	var req sqlRequest
	var travel travelFlags
	cmd := &cobra.Command{
		Use:   `sql "SELECT ... FROM db.t WHERE ..." [--format table|jsonl|csv] [--explain] [--stats] [--snapshot N | --tag NAME | --as-of TIME]`,
		Short: "Query tables with SQL (DuckDB; needs a build with -tags duckdb_arrow)",
		Long: `Run one SELECT over Strata tables in an in-memory DuckDB and print its rows.

Tables are named as elsewhere: db.t, or a bare t for database "default"
(quote names that are SQL keywords: "default".t). Each table the query
names is read with Strata's scan, merge-on-read as "strata scan" reads it,
and handed to DuckDB as an Arrow stream; DuckDB does the rest (joins,
aggregation, ORDER BY, functions). Nothing is written.

Pushdown: a table is read with only the columns the query mentions, and
with the WHERE conditions that compare one of its columns with constants
(=, <>, <, <=, >, >=, BETWEEN, IN, NOT IN, IS [NOT] NULL, LIKE 'prefix%',
and AND/OR/NOT of these) pushed into the scan, where they prune partitions,
buckets, files, row groups and pages. Conditions on FLOAT and DOUBLE
columns, on TIMESTAMP_LTZ, on the null-extended side of an outer join, or
mixing tables stay in DuckDB only. DuckDB always applies the whole WHERE,
so pushdown never changes the result. A table named more than once in the
query (a self-join) is read once, without filters, into a DuckDB table.
--explain prints what each table's scan would read and does not run the
query; --stats prints each scan's counters on stderr afterwards.

` + travelHelp + ` --snapshot and --tag need a query over one table;
--as-of reads every table as it was then.

Output formats are those of "strata scan": DuckDB's DECIMAL, DATE and
TIMESTAMP print as Strata's do; types Strata has no counterpart for
(INTERVAL, UUID, unsigned 64-bit, ...) print as DuckDB's text.

` + sqlBuildHelp,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			which, err := travel.chosen(cmd)
			if err != nil {
				return err
			}
			if req.scan, err = travel.scanOptions(cmd); err != nil {
				return err
			}
			switch req.format {
			case "table", "jsonl", "json", "csv":
			default:
				return usagef("--format %q: want table, jsonl or csv", req.format)
			}
			req.query, req.travel = args[0], which
			return e.runSQL(cmd.Context(), req)
		},
	}
	cmd.Flags().StringVar(&req.format, "format", "table", "output format: table, jsonl or csv")
	cmd.Flags().BoolVar(&req.explain, "explain", false, "print the columns and filter pushed into each table's scan; do not run the query")
	cmd.Flags().BoolVar(&req.stats, "stats", false, "print each table's scan counters (files, row groups, rows) on stderr")
	travel.register(cmd)
	return cmd
}
