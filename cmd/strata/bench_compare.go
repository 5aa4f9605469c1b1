package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/bench"
)

const benchCompareHelp = `Compare the summary ratios of one strata bench run (REFERENCE, e.g. the
full run BENCHMARKS.md quotes, docs/bench/full-1205) with those of other runs of
the same sizes (RUN..., e.g. your strata bench --quick runs): each argument
is a run's output directory or its results.json.

A reference ratio counts as reproduced when it lies within the runs' range
of the same figure (same scenario, metric and baseline) widened by the
runs' own spread (their largest ratio over their smallest) and at least by
15%, the run-to-run noise of steady figures on a shared 2-core machine:
with three quick runs, a figure as noisy as an open-loop p99 gets the wide
band its runs show, a steady throughput a narrow one. Prints a Markdown
table of every ratio, the runs' ratios and the verdict, and how many were
reproduced; exits 0 either way (the table is the answer).`

// newBenchCompareCmd is `strata bench compare`.
func newBenchCompareCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "compare REFERENCE RUN...",
		Short: "Check that runs (e.g. --quick) reproduce a reference run's ratios within their noise",
		Long:  benchCompareHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("want a reference run and at least one run to compare with it (output directories or results.json files)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			reports := make([]*bench.AllReport, len(args))
			names := make([]string, len(args))
			for i, a := range args {
				path := a
				if st, err := os.Stat(a); err == nil && st.IsDir() {
					path = filepath.Join(a, bench.ResultsFile)
				}
				rep, err := bench.ReadAllReport(path)
				if err != nil {
					return err
				}
				reports[i] = rep
				names[i] = fmt.Sprintf("%s (%s, %s)", filepath.Base(filepath.Dir(path)), rep.Sizes, rep.Started.Format("01-02 15:04"))
				if i > 0 && rep.Sizes != reports[0].Sizes && !(sameTables(rep.Sizes) && sameTables(reports[0].Sizes)) {
					fmt.Fprintf(e.stderr, "warning: %s ran at %s sizes, the reference at %s: ratios that depend on the size will differ\n",
						a, rep.Sizes, reports[0].Sizes)
				}
			}
			rows := bench.CompareRuns(reports[0], reports[1:])
			fmt.Fprint(e.stdout, bench.CompareMarkdown(rows, names[0], names[1:]))
			return nil
		},
	}
}

// sameTables says whether a run of these sizes measures the full run's
// tables (the full run and --quick do).
func sameTables(s bench.Sizes) bool { return s == bench.SizesFull || s == bench.SizesQuick }
