package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

func newExpireCmd(e *env) *cobra.Command {
	var retainMin, retainMax, limit int
	var olderThan string
	cmd := &cobra.Command{
		Use:   "expire DB.TABLE [--retain-max N] [--retain-min N] [--older-than DURATION] [--limit N]",
		Short: "Remove old snapshots and the files only they used",
		Long: `Expire the table's old snapshots, as Paimon does after every commit (first
deleting the tags whose --retain has passed): keep at
least --retain-min snapshots (snapshot.num-retained.min, 10), at most
--retain-max (snapshot.num-retained.max, unlimited), and every snapshot that
was still the latest less than --older-than ago (snapshot.time-retained, 1 h);
expire at most --limit snapshots in one run (snapshot.expire.limit, 50).
Flags left out take the table's options. A consumer's next snapshot
(consumer/consumer-*) and everything after it are kept, and files a tag holds
survive. The data files, changelog files, manifests and index files that only
the expired snapshots referenced are deleted, then the snapshot files, oldest
first: readers of the kept snapshots never miss a file. Running it again, or
beside writers, readers or another expire, is safe.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			var opts []table.ExpireOption
			if cmd.Flags().Changed("retain-min") {
				opts = append(opts, table.WithRetainMin(retainMin))
			}
			if cmd.Flags().Changed("retain-max") {
				opts = append(opts, table.WithRetainMax(retainMax))
			}
			if cmd.Flags().Changed("limit") {
				opts = append(opts, table.WithExpireLimit(limit))
			}
			if cmd.Flags().Changed("older-than") {
				d, err := spec.ParseDuration(olderThan)
				if err != nil {
					return fmt.Errorf("--older-than: %w", err)
				}
				opts = append(opts, table.WithTimeRetained(d))
			}
			start := time.Now()
			res, err := t.ExpireSnapshots(ctx, opts...)
			if err != nil {
				return err
			}
			for _, tag := range res.TagsExpired {
				fmt.Fprintf(e.stdout, "expired tag %s (its retention passed)\n", tag)
			}
			if res.From == res.To {
				fmt.Fprintln(e.stdout, "nothing to expire: every snapshot is retained")
				return nil
			}
			fmt.Fprintf(e.stdout, "expired snapshots %d..%d (earliest now %d): deleted %d data, %d changelog, %d manifest and %d index files in %s\n",
				res.From, res.To-1, res.To, res.DataFiles, res.ChangelogFiles, res.Manifests, res.IndexFiles,
				time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&retainMin, "retain-min", 0, "keep at least this many snapshots (default: snapshot.num-retained.min)")
	cmd.Flags().IntVar(&retainMax, "retain-max", 0, "keep at most this many snapshots (default: snapshot.num-retained.max)")
	cmd.Flags().StringVar(&olderThan, "older-than", "", `expire only snapshots superseded longer ago than this, e.g. "30 min", "2h", "7d" (default: snapshot.time-retained)`)
	cmd.Flags().IntVar(&limit, "limit", 0, "expire at most this many snapshots (default: snapshot.expire.limit)")
	return cmd
}
