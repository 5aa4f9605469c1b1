package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/table"
)

func newRollbackCmd(e *env) *cobra.Command {
	var to int64
	var tag string
	cmd := &cobra.Command{
		Use:   "rollback DB.TABLE --to N | --tag NAME",
		Short: "Make an older snapshot (or a tag's) the table's latest",
		Long: `Roll the table back to snapshot N (--to) or to the snapshot a tag holds
(--tag), as Paimon's rollback does: the snapshots after it are deleted, and so
are the tags of those snapshots (long-lived changelog files after it too).
The next commit gets the id after it. Rolling back to a tag whose snapshot
has expired writes that snapshot back from the tag; it is then the table's
only snapshot. Data and manifest files are never deleted: those only the
rolled-back snapshots used stay on storage for an orphan-file cleaner.

Stop the table's writers first: the file protocol has no lock. A commit that
lands just before the rollback starts deleting makes it refuse with nothing
changed; one that lands while it deletes is kept and reported, exit status 1
(it may build on rolled-back snapshots: check it, and roll back again).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			byID, byTag := cmd.Flags().Changed("to"), cmd.Flags().Changed("tag")
			var target table.RollbackTarget
			switch {
			case byID == byTag:
				return usagef("rollback: give exactly one of --to N and --tag NAME")
			case byID && to < 1:
				return usagef("--to %d: snapshot ids start at 1", to)
			case byID:
				target = table.ToSnapshot(to)
			case strings.TrimSpace(tag) == "":
				return usagef("--tag: the tag name is empty")
			default:
				target = table.ToTag(tag)
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			res, err := t.Rollback(ctx, target)
			if res != nil {
				printRollback(e, res)
			}
			return err
		},
	}
	cmd.Flags().Int64Var(&to, "to", 0, "snapshot id to roll back to")
	cmd.Flags().StringVar(&tag, "tag", "", "tag whose snapshot to roll back to")
	return cmd
}

// printRollback says what a rollback did (also when it ends with an error).
func printRollback(e *env, res *table.RollbackResult) {
	fmt.Fprintf(e.stdout, "rolled back to snapshot %d (committed %s)\n", res.Snapshot.ID, formatMillis(res.Snapshot.TimeMillis))
	if res.Restored {
		fmt.Fprintf(e.stdout, "restored snapshot %d from its tag\n", res.Snapshot.ID)
	}
	if len(res.DeletedSnapshots) > 0 {
		fmt.Fprintf(e.stdout, "deleted snapshots %s\n", joinIDs(res.DeletedSnapshots))
	}
	if len(res.DeletedChangelogs) > 0 {
		fmt.Fprintf(e.stdout, "deleted changelogs %s\n", joinIDs(res.DeletedChangelogs))
	}
	if len(res.DeletedTags) > 0 {
		fmt.Fprintf(e.stdout, "deleted tags %s\n", strings.Join(res.DeletedTags, ", "))
	}
}
