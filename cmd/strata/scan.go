package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

func newEncoder(w io.Writer, format string, fields []spec.DataField) (textrow.Encoder, error) {
	switch format {
	case "table":
		return textrow.NewTableEncoder(w, fields), nil
	case "jsonl", "json":
		return textrow.NewJSONEncoder(w, fields), nil
	case "csv":
		return textrow.NewCSVEncoder(w, fields), nil
	}
	return nil, usagef("--format %q: want table, jsonl, csv, parquet or arrow", format)
}

func newScanCmd(e *env) *cobra.Command {
	var sel, format, part, output, where string
	var limit int64
	var noProgress, stats bool
	var travel travelFlags
	cmd := &cobra.Command{
		Use:   "scan DB.TABLE [--select a,b] [--where FILTER] [--snapshot N | --tag NAME | --as-of TIME] [--limit N] [--format table|jsonl|csv|parquet|arrow] [--output FILE]",
		Short: "Read a snapshot of a table",
		Long: `Read a snapshot of the table with Paimon's merge-on-read rules and print its
rows, or write them to --output FILE.

` + travelHelp + `

--where keeps the rows a SQL condition is true for (a comparison with NULL
is never true):

  strata scan db.t --where "credit_score < 60 AND dt = '2024-01-31'"
  strata scan db.t --where "region IN ('eu', 'us') AND NOT (score >= 0.5)"
  strata scan db.t --where "name LIKE 'abc%' OR email IS NULL"

It takes = <> != < <= > >=, [NOT] IN (...), IS [NOT] NULL, [NOT] LIKE
'prefix%' (prefix patterns only), [NOT] BETWEEN, AND, OR, NOT and
parentheses. Literals are typed by their column: numbers, 'strings' (''
for a quote), TRUE/FALSE, X'0a1b' for BYTES, dates and timestamps as
strings ('2024-01-31', '2024-01-31 12:00:00.5'). Quote odd column names
with backquotes. The filter prunes partitions, buckets (equality on the
bucket key), files, row groups and pages by their statistics before
reading; --stats prints what was skipped to stderr.

jsonl prints one object per row with keys in schema order: numbers as
numbers, DECIMAL as a string, DATE as 2024-01-31, TIMESTAMP as ISO-8601
without zone (2024-01-31T12:00:00.5), TIMESTAMP_LTZ(p) as an instant in UTC
with p fractional digits (2024-01-31T12:00:00.500Z), BYTES as base64,
ARRAY/VECTOR as arrays, MAP and ROW as objects. csv and table print the same
text forms; in csv an empty cell is null and "" the empty string.

parquet and arrow write the scan's Arrow record batches as they come, with
the columns' Arrow types (table.Scan.Schema: DECIMAL as decimal128, DATE as
date32, TIMESTAMP as timestamp of its precision's unit, ...): parquet a
Parquet file (zstd, row groups of about 128 MiB, the Arrow schema stored in
its metadata for Arrow readers), which needs --output FILE; arrow an Arrow
IPC stream (pyarrow.ipc.open_stream, DuckDB's arrow extension), to --output
FILE or to stdout when stdout is not a terminal. An --output file is written
under a temporary name and renamed when complete: a failed scan leaves none.

--limit N stops reading once N rows are out. While rows go to a file or a
pipe and stderr is a terminal, a progress line on stderr shows the rows and
bytes written so far, the time taken and the rate (--no-progress: none).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts, err := travel.scanOptions(cmd)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			if cols := splitList(sel); len(cols) > 0 {
				opts = append(opts, table.WithProjection(cols...))
			}
			if part != "" {
				values, err := parsePartition(t.Schema(), part)
				if err != nil {
					return usageError{err}
				}
				opts = append(opts, table.WithPartition(values))
			}
			if where != "" {
				p, err := predicate.Parse(where, t.Schema().Fields)
				if err != nil {
					return usageError{whereError(where, err)}
				}
				opts = append(opts, table.WithFilter(p))
			}
			if limit > 0 {
				opts = append(opts, table.WithBatchRows(int(min(limit, scanBatchRows))))
			}
			s := t.NewScan(opts...)
			fields, err := s.Fields()
			if err != nil {
				return usageError{err}
			}
			if !binaryFormat(format) {
				if _, err := newEncoder(io.Discard, format, fields); err != nil {
					return err
				}
			}
			out, err := openScanOutput(e.stdout, output, format)
			if err != nil {
				return err
			}
			var p *progressBar
			if !noProgress && isTerminal(e.stderr) && (output != "" || !isTerminal(e.stdout)) {
				p = startProgress(e.stderr, 200*time.Millisecond)
			}
			err = writeScan(ctx, s, format, fields, p.counting(out.w), limit, p)
			p.finish()
			if err != nil {
				out.abort()
				return err
			}
			if stats {
				printScanStats(e.stderr, s.Stats())
			}
			return out.commit()
		},
	}
	cmd.Flags().StringVar(&sel, "select", "", "columns to print, comma-separated (default: all)")
	cmd.Flags().StringVar(&part, "partition", "", "only this partition, as col=value[,col2=value2] (values as in CSV input)")
	cmd.Flags().StringVar(&where, "where", "", "only rows for which this SQL condition is true, e.g. \"score < 60 AND dt = '2024-01-31'\"")
	cmd.Flags().BoolVar(&stats, "stats", false, "print to stderr what the filter skipped and what was read")
	travel.register(cmd)
	cmd.Flags().Int64Var(&limit, "limit", 0, "at most N rows, reading no further (0: all)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, jsonl, csv, parquet (needs --output) or arrow (IPC stream)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout (replaced when the scan completes)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress line on stderr")
	return cmd
}

// whereError shows a --where syntax error under the filter with a caret at
// its position.
func whereError(where string, err error) error {
	var se *predicate.SyntaxError
	if !errors.As(err, &se) || strings.ContainsAny(where, "\n\t") {
		return fmt.Errorf("--where: %w", err)
	}
	return fmt.Errorf("--where: %w\n  %s\n  %s^", err, where, strings.Repeat(" ", utf8.RuneCountInString(where[:se.Pos-1])))
}

// printScanStats prints what a scan pruned and read.
func printScanStats(w io.Writer, st table.ScanStats) {
	fmt.Fprintf(w, "manifests: %d read, %d skipped; files skipped: %d by partition, %d by bucket, %d by key stats, %d by value stats; files read: %d; row groups: %d read, %d skipped; pages: %d read, %d skipped; rows: %d read, %d returned\n",
		st.ManifestsRead, st.ManifestsSkipped, st.FilesSkippedPartition, st.FilesSkippedBucket,
		st.FilesSkippedKeyStats, st.FilesSkippedValueStats, st.FilesRead, st.RowGroupsRead, st.RowGroupsSkipped,
		st.PagesRead, st.PagesSkipped, st.RowsRead, st.RowsReturned)
}

// scanBatchRows is the scan's record batch size when --limit does not ask
// for fewer: table.WithBatchRows's default.
const scanBatchRows = 16384

// writeScan writes the scan's rows to w in format, at most limit (0: all).
func writeScan(ctx context.Context, s *table.Scan, format string, fields []spec.DataField, w io.Writer, limit int64, p *progressBar) error {
	if binaryFormat(format) {
		_, err := writeBatches(ctx, s, format, w, limit, p)
		return err
	}
	enc, err := newEncoder(w, format, fields)
	if err != nil {
		return err
	}
	var n int64
	for row, err := range s.Rows(ctx) {
		if err != nil {
			return err
		}
		if err := enc.Write(row); err != nil {
			return err
		}
		p.add(1)
		if n++; limit > 0 && n >= limit {
			break // stops the read: no row past the limit is decoded
		}
	}
	return enc.Flush()
}

func newSchemaCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema DB.TABLE",
		Short: "Print a table's latest schema (Paimon's schema JSON)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := e.table(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", spec.EncodeSchema(t.Schema()))
			return err
		},
	}
}

// parsePartition reads "col=value,..." with each value typed by its column,
// through the CSV input rules.
func parsePartition(schema *spec.TableSchema, s string) (map[string]any, error) {
	var names, vals []string
	var fields []spec.DataField
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--partition %q: want col=value", kv)
		}
		k = strings.TrimSpace(k)
		if !slices.Contains(schema.PartitionKeys, k) {
			return nil, fmt.Errorf("--partition: %q is not a partition column (partition columns: %v)", k, schema.PartitionKeys)
		}
		f, _ := schema.Field(k)
		names, vals, fields = append(names, k), append(vals, v), append(fields, f)
	}
	in := strings.Join(names, ",") + "\n" + strings.Join(vals, ",") + "\n"
	row, _, err := textrow.NewCSVDecoder(strings.NewReader(in), fields).Next()
	if err != nil {
		return nil, fmt.Errorf("--partition: %w", err)
	}
	out := make(map[string]any, len(names))
	for i, n := range names {
		out[n] = row[i]
	}
	return out, nil
}
