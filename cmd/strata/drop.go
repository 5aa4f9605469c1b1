package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
)

func newDropCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "drop DB.TABLE --yes",
		Short: "Delete a table and all its files",
		Long: `Delete the table directory: every snapshot, schema, manifest and data file.
Nothing can be recovered afterwards, so the command refuses to run without
--yes (it then only says what it would delete). Stop the table's writers,
readers and lookup servers first: a writer still running would fail, and
could leave new files behind. The schema files go last, so a drop that is
interrupted leaves a table that can be dropped again.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			id, err := catalog.ParseIdentifier(args[0])
			if err != nil {
				return usageError{err}
			}
			latest, err := t.Snapshots().LatestID(ctx)
			if err != nil {
				return err
			}
			where := fmt.Sprintf("%s/%s", t.Storage(), t.Path())
			if !yes {
				return usagef("refusing to drop %s (%s, latest snapshot %d) without --yes", id, where, latest)
			}
			if err := catalog.New(t.Storage()).DropTable(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "dropped %s (%s)\n", id, where)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really delete the table")
	return cmd
}
