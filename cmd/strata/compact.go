package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

func newCompactCmd(e *env) *cobra.Command {
	var full bool
	var user string
	var retries int
	cmd := &cobra.Command{
		Use:   "compact DB.TABLE [--full]",
		Short: "Compact a table in one COMPACT commit",
		Long: `Compact every bucket of the table and commit the result as one COMPACT
snapshot, the job a scheduled compaction runs. Without --full each bucket
compacts what Paimon's universal compaction picks (often nothing); with
--full every bucket is merged into one sorted run at the highest level.
Progress goes to stderr.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			start := time.Now()
			var id int64
			var before, after int
			for attempt := 0; ; attempt++ {
				id, before, after, err = compactOnce(ctx, e, t, full, user, start)
				if !errors.Is(err, spec.ErrConflict) || attempt >= retries {
					break
				}
				// Another writer replaced the same files first: plan again
				// from the latest snapshot.
				fmt.Fprintf(e.stderr, "concurrent writer: %v; compacting again (attempt %d of %d)\n", err, attempt+2, retries+1)
			}
			if err != nil {
				return err
			}
			if id == 0 {
				fmt.Fprintln(e.stdout, "nothing to compact")
				return nil
			}
			fmt.Fprintf(e.stdout, "snapshot %d: compacted %d files into %d in %s\n", id, before, after, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "merge each bucket into one sorted run at the highest level")
	cmd.Flags().StringVar(&user, "commit-user", "", "commit user recorded in the snapshot (default: random)")
	cmd.Flags().IntVar(&retries, "retries", 10, "times to compact again when a concurrent writer conflicts")
	return cmd
}

// compactOnce compacts from the latest snapshot and commits the result.
func compactOnce(ctx context.Context, e *env, t *table.Table, full bool, user string, start time.Time) (id int64, before, after int, err error) {
	w, err := t.NewWrite(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer w.Close()
	last := time.Now()
	err = w.Compact(ctx, full, func(done, total int) {
		// A line every second or so, and the last one.
		if done == total || time.Since(last) > time.Second {
			last = time.Now()
			fmt.Fprintf(e.stderr, "compacted %d/%d buckets (%s)\n", done, total, time.Since(start).Round(time.Millisecond))
		}
	})
	if err != nil {
		return 0, 0, 0, err
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, m := range msgs {
		before += len(m.CompactBefore)
		after += len(m.CompactAfter)
	}
	id, err = t.NewCommit(user).Commit(ctx, table.BatchCommitIdentifier, msgs)
	return id, before, after, err
}
