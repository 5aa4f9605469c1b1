package main

import (
	"context"
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
	var checkpoint int64
	cmd := &cobra.Command{
		Use:   "write DB.TABLE [--input FILE] [--format jsonl|csv]",
		Short: "Write rows in one commit",
		Long: `Write rows from stdin (or --input FILE) and commit them as one snapshot.

jsonl: one JSON object per line, keys are column names. csv: a header row of
column names, then one row per line (an empty unquoted cell is null, a quoted
empty cell "" the empty string; quoted cells may span lines and keep their
bytes). Text must be valid UTF-8. TIMESTAMP_LTZ values take Z or an offset
(+01:00); without one they are UTC.
An optional _kind field sets the change kind: +I (default), -U, +U or -D.
A -D row deletes its primary key.

Any bad line (unknown column, wrong type, null primary key, malformed line)
fails the command with its line number and nothing is committed.
Prints the new snapshot id and the number of rows written.

With --commit-user and --checkpoint, the commit is exactly once: running the
same command again (say after a crash) finds the checkpoint committed, names
the snapshot that committed it, and writes nothing.`,
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
			identifier := int64(table.BatchCommitIdentifier)
			committer := t.NewCommit(user)
			if cmd.Flags().Changed("checkpoint") {
				if user == "" {
					return usagef("--checkpoint needs --commit-user: exactly-once is per commit user")
				}
				if checkpoint < 0 {
					return usagef("--checkpoint must not be negative")
				}
				identifier = checkpoint
				done, err := reportCommitted(ctx, e, committer, user, checkpoint)
				if err != nil || done {
					return err
				}
			}
			w, err := t.NewWrite(ctx)
			if err != nil {
				return err
			}
			defer w.Close()
			start := time.Now()
			lastReport := start
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
				// Long writes show progress on stderr every few seconds.
				if n%10000 == 0 && time.Since(lastReport) > 2*time.Second {
					lastReport = time.Now()
					fmt.Fprintf(e.stderr, "%d rows read (%.0f rows/s)\n", n, float64(n)/time.Since(start).Seconds())
				}
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				return err
			}
			id, err := committer.Commit(ctx, identifier, msgs)
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
	cmd.Flags().Int64Var(&checkpoint, "checkpoint", 0, "commit identifier; with --commit-user, re-runs commit at most once")
	return cmd
}

// reportCommitted tells whether the user's checkpoint is already committed
// and, if so, prints which snapshot committed it.
func reportCommitted(ctx context.Context, e *env, c *table.Commit, user string, checkpoint int64) (bool, error) {
	done, _, err := c.AlreadyCommitted(ctx, checkpoint)
	if err != nil || !done {
		return false, err
	}
	snap, err := c.CommittedSnapshot(ctx, checkpoint)
	if err != nil {
		return false, err
	}
	if snap > 0 {
		fmt.Fprintf(e.stdout, "checkpoint %d of %s is already committed (snapshot %d): nothing written\n", checkpoint, user, snap)
		return true, nil
	}
	// No snapshot of its own: a later checkpoint covers it, or it expired.
	last, lastSnap, _, err := c.LastCommitted(ctx)
	if err != nil {
		return false, err
	}
	if s, err := c.CommittedSnapshot(ctx, last); err == nil && s > 0 {
		lastSnap = s
	}
	fmt.Fprintf(e.stdout, "checkpoint %d of %s is already committed (%s has committed up to checkpoint %d, snapshot %d): nothing written\n",
		checkpoint, user, user, last, lastSnap)
	return true, nil
}
