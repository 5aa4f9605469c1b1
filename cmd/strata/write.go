package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/table"
)

func newWriteCmd(e *env) *cobra.Command {
	var input, format, user string
	cmd := &cobra.Command{
		Use:   "write DB.TABLE [--input FILE] [--format jsonl|csv]",
		Short: "Write rows in one commit",
		Long: `Write rows from stdin (or --input FILE) and commit them as one snapshot.

jsonl: one JSON object per line, keys are column names. csv: a header row of
column names, then one row per line (an empty unquoted cell is null).
An optional _kind field sets the change kind: +I (default), -U, +U or -D.
A -D row deletes its primary key.

Any bad line (unknown column, wrong type, null primary key, malformed line)
fails the command with its line number and nothing is committed.
Prints the new snapshot id and the number of rows written.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			in := e.stdin
			if input != "" && input != "-" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			var dec textrow.Decoder
			switch format {
			case "jsonl", "json":
				dec = textrow.NewJSONDecoder(in, t.Schema().Fields)
			case "csv":
				dec = textrow.NewCSVDecoder(in, t.Schema().Fields)
			default:
				return usagef("--format %q: want jsonl or csv", format)
			}
			w, err := t.NewWrite(ctx)
			if err != nil {
				return err
			}
			start := time.Now()
			var n int64
			for {
				row, kind, err := dec.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("nothing committed: %w", err)
				}
				if err := w.Write(ctx, kind, row); err != nil {
					return fmt.Errorf("nothing committed: row %d: %w", n+1, err)
				}
				n++
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				return err
			}
			id, err := t.NewCommit(user).Commit(ctx, table.BatchCommitIdentifier, msgs)
			if err != nil {
				return err
			}
			if id == 0 {
				fmt.Fprintf(e.stdout, "no rows: nothing committed\n")
				return nil
			}
			fmt.Fprintf(e.stdout, "snapshot %d: wrote %d rows in %s\n", id, n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "read rows from FILE instead of stdin")
	cmd.Flags().StringVar(&format, "format", "jsonl", "input format: jsonl or csv")
	cmd.Flags().StringVar(&user, "commit-user", "", "commit user recorded in the snapshot (default: random)")
	return cmd
}
