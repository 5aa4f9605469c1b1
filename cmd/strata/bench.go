package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/bench"
)

func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run benchmark scenarios against baselines measured in the same run",
	}
	var cfg bench.WriteConfig
	write := &cobra.Command{
		Use:   "write",
		Short: "Upserts of 150-byte rows over a large key space, compaction on; baseline pebble",
		Long: `Write --rows upserts of 150-byte rows with random keys from a --keys key space
into a Strata table on local disk (a streaming writer: compaction in the
background, a commit every --commit-every rows), then the same key/value
stream into pebble (WAL on, one synced batch per commit interval). Reports
rows/s, rows/s per core, and write amplification (bytes written to storage
per byte of rows ingested) for both, and their ratio. Scratch data goes to a
temporary directory (or --dir) and is removed afterwards.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Rows <= 0 || cfg.KeySpace <= 0 || cfg.Buckets <= 0 || cfg.CommitEvery <= 0 {
				return usagef("--rows, --keys, --buckets and --commit-every must be positive")
			}
			cfg.Progress = e.stderr
			s, p, err := bench.RunWrite(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(e.stdout, bench.Report(s, p))
			return err
		},
	}
	write.Flags().IntVar(&cfg.Rows, "rows", 2_000_000, "rows to write")
	write.Flags().Int64Var(&cfg.KeySpace, "keys", 10_000_000, "size of the key space")
	write.Flags().IntVar(&cfg.Buckets, "buckets", 4, "table buckets")
	write.Flags().IntVar(&cfg.CommitEvery, "commit-every", 100_000, "rows per commit")
	write.Flags().StringVar(&cfg.Dir, "dir", "", "scratch directory (default: a temporary one)")
	write.Flags().Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	cmd.AddCommand(write)
	return cmd
}
