package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/backoff"
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
		Long: `Compact the table's buckets and commit the result as one COMPACT snapshot,
the job a scheduled compaction runs. Without --full each bucket compacts what
Paimon's universal compaction picks (often nothing); with --full every bucket
is merged into one sorted run at the highest level. Buckets with nothing to
do (with --full: already one sorted run at the highest level, with no
deletion vectors to apply) are found from the snapshot's manifests and left
alone, so a compacted table is checked quickly. Progress goes to stderr.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			start := time.Now()
			last := time.Now()
			progress := func(done, total int) {
				// A line every second or so, and the last one.
				if done == total || time.Since(last) > time.Second {
					last = time.Now()
					fmt.Fprintf(e.stderr, "compacted %d/%d buckets (%s)\n", done, total, time.Since(start).Round(time.Millisecond))
				}
			}
			var res table.CompactResult
			wait := backoff.New(50*time.Millisecond, 2*time.Second)
			for attempt := 0; ; attempt++ {
				res, err = t.Compact(ctx, full, user, progress)
				if !errors.Is(err, spec.ErrConflict) || attempt >= retries {
					break
				}
				// Another writer replaced the same files first: plan again
				// from the latest snapshot.
				fmt.Fprintf(e.stderr, "concurrent writer: %v; compacting again (attempt %d of %d)\n", err, attempt+2, retries+1)
				if err := wait.Wait(ctx); err != nil {
					return err
				}
			}
			if err != nil {
				return err
			}
			if res.Snapshot == 0 {
				fmt.Fprintf(e.stdout, "nothing to compact: %s\n", nothingToCompact(res.Buckets, full))
				return nil
			}
			fmt.Fprintf(e.stdout, "snapshot %d: compacted %d files into %d (%d of %d buckets) in %s\n", res.Snapshot,
				res.FilesBefore, res.FilesAfter, res.Compacted, res.Buckets, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "merge each bucket into one sorted run at the highest level")
	cmd.Flags().StringVar(&user, "commit-user", "", "commit user recorded in the snapshot (default: random)")
	cmd.Flags().IntVar(&retries, "retries", 10, "times to compact again when a concurrent writer conflicts")
	return cmd
}

// nothingToCompact says why a compaction changed nothing.
func nothingToCompact(buckets int, full bool) string {
	switch {
	case buckets == 0:
		return "the table has no data files"
	case full && buckets == 1:
		return "its bucket is fully compacted"
	case full:
		return fmt.Sprintf("all %d buckets are fully compacted", buckets)
	case buckets == 1:
		return "its bucket needs no compaction"
	}
	return fmt.Sprintf("none of the %d buckets needs compaction", buckets)
}
