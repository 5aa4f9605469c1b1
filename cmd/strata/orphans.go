package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// minOrphanAge is the least --older-than strata orphans accepts: a writer's
// files wait for their commit, and a younger guard could delete them.
const minOrphanAge = time.Hour

func newOrphansCmd(e *env) *cobra.Command {
	var olderThan string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "orphans DB.TABLE [--older-than 1d] [--dry-run]",
		Short: "Delete files no snapshot or tag references",
		Long: `Delete the table's orphan files: data, changelog, manifest, index and
statistics files that no snapshot and no tag references, such as those a
failed commit, an abandoned writer or a compaction that lost a race left
behind. Only files older than --older-than (default 1 day, as Paimon; at
least 1 hour) are touched: a writer's files wait for their commit and are
unreferenced until it lands, so the guard must exceed the longest a writer
holds files before committing. Files outside the table's manifest, index,
statistics, snapshot and bucket directories are never touched. --dry-run
lists what would be deleted.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			age, err := spec.ParseDuration(olderThan)
			if err != nil {
				return fmt.Errorf("--older-than: %w", err)
			}
			if age < minOrphanAge {
				return fmt.Errorf("--older-than %s: refusing a guard below %s, which could delete files a writer has not committed yet", olderThan, minOrphanAge)
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			opts := []table.OrphanOption{table.WithOrphanAge(age)}
			verb := "deleted"
			if dryRun {
				opts, verb = append(opts, table.WithDryRun()), "would delete"
			}
			res, err := t.CleanOrphans(ctx, opts...)
			if err != nil {
				return err
			}
			for _, p := range res.Orphans {
				fmt.Fprintln(e.stdout, p)
			}
			fmt.Fprintf(e.stderr, "%s %d orphan files (%d bytes); %d unreferenced files younger than %s kept\n",
				verb, len(res.Orphans), res.Bytes, res.Young, olderThan)
			return nil
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "1d", `delete only orphans older than this, e.g. "6h", "2 d" (at least 1 h)`)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the orphans without deleting them")
	return cmd
}
