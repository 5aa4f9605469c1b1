package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/maintain"
	"github.com/stratalake/strata/spec"
)

// maintainFlags are strata maintain's flags.
type maintainFlags struct {
	all                 bool
	every, fullEvery    time.Duration
	orphans             bool
	orphanAge           string
	metricsAddr, logFmt string
	user                string
}

func newMaintainCmd(e *env) *cobra.Command {
	var f maintainFlags
	cmd := &cobra.Command{
		Use:   "maintain [DB.TABLE ...|--all] [--every 10m] [--full-every 24h] [--orphans] [--metrics-addr :9091]",
		Short: "Run the scheduled maintenance job: compaction, expiration, orphan cleanup",
		Long: `Maintain tables in rounds: for each table in turn, compact it (what Paimon's
universal compaction picks; a full compaction when --full-every has passed
since this job's last one, or when the table's full-compaction.delta-commits
snapshots have landed since), expire its old snapshots by its retention
options (snapshot.num-retained.*, snapshot.time-retained), and with
--orphans delete its orphan files older than --orphan-age.

Without --every it runs one round and exits; with it, a round every
interval until SIGINT or SIGTERM, which stops the job in the middle of a
round without harm: an interrupted compaction commits nothing and an
interrupted expiration or cleanup is finished by the next run. It runs
beside writers (give them write-only=true to leave compaction and
expiration to this job, as Paimon's dedicated compaction setup does) and
beside another maintain job: a compaction that loses to a concurrent one is
planned again, up to 3 times, then left to the next round.

Each table's round is logged to stderr (--log-format text or json). With
--metrics-addr the job serves Prometheus metrics at /metrics:
strata_maintain_steps_total, strata_maintain_step_seconds,
strata_maintain_snapshots_expired_total, strata_maintain_files_deleted_total
and strata_maintain_last_success_timestamp_seconds.

Exit status: 0 when every step of the last round succeeded (or the job was
stopped by a signal), 1 when one failed.`,
		RunE: func(cmd *cobra.Command, args []string) error { return e.maintain(cmd, args, &f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all", false, "maintain every table of the warehouse (listed again each round)")
	fl.DurationVar(&f.every, "every", 0, "run a round every interval until stopped (default: one round)")
	fl.DurationVar(&f.fullEvery, "full-every", 0, "run a full compaction when this long has passed since the job's last one (0: only by full-compaction.delta-commits)")
	fl.BoolVar(&f.orphans, "orphans", false, "also delete orphan files (see strata orphans)")
	fl.StringVar(&f.orphanAge, "orphan-age", "1d", "with --orphans, delete only orphans older than this (at least 1 h)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics")
	fl.StringVar(&f.logFmt, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.user, "commit-user", "", "commit user of the compaction snapshots (default: random)")
	return cmd
}

func (e *env) maintain(cmd *cobra.Command, args []string, f *maintainFlags) error {
	if f.all == (len(args) > 0) {
		return usagef("name the tables to maintain, or --all (not both)")
	}
	opts, err := f.options(e.stderr)
	if err != nil {
		return err
	}
	for _, a := range args {
		id, err := catalog.ParseIdentifier(a)
		if err != nil {
			return usagef("%v", err)
		}
		opts = append(opts, maintain.WithTables(id))
	}
	ctx := cmd.Context()
	cat, err := e.catalog(ctx)
	if err != nil {
		return err
	}
	if f.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		opts = append(opts, maintain.WithRegistry(reg))
		done, err := serveMetrics(ctx, f.metricsAddr, reg)
		if err != nil {
			return err
		}
		defer done()
	}
	job, err := maintain.New(cat, opts...)
	if err != nil {
		return err
	}
	failed := false
	for {
		start := time.Now()
		reps, err := job.Round(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "maintain: stopped by a signal")
			return nil
		}
		if err != nil {
			return err
		}
		failed = false
		for _, r := range reps {
			failed = failed || r.Err != nil
		}
		if f.every <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(e.stderr, "maintain: stopped by a signal")
			return nil
		case <-time.After(time.Until(start.Add(f.every))):
		}
	}
	if failed {
		return errors.New("maintenance failed for some tables (see the log)")
	}
	return nil
}

// options turns the flags into job options.
func (f *maintainFlags) options(stderr io.Writer) ([]maintain.Option, error) {
	var log *slog.Logger
	switch f.logFmt {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return nil, usagef("--log-format %q: want text or json", f.logFmt)
	}
	if f.every < 0 || f.fullEvery < 0 {
		return nil, usagef("--every and --full-every must not be negative")
	}
	opts := []maintain.Option{maintain.WithLogger(log), maintain.WithFullCompactionEvery(f.fullEvery),
		maintain.WithCommitUser(f.user), maintain.WithProgress(progressLogger(log))}
	if f.orphans {
		age, err := spec.ParseDuration(f.orphanAge)
		if err != nil {
			return nil, usagef("--orphan-age: %v", err)
		}
		if age < minOrphanAge {
			return nil, usagef("--orphan-age %s: refusing a guard below %s, which could delete files a writer has not committed yet", f.orphanAge, minOrphanAge)
		}
		opts = append(opts, maintain.WithOrphanCleaning(age))
	}
	return opts, nil
}

// progressLogger logs compaction progress at most every 2 seconds per
// table, and its end.
func progressLogger(log *slog.Logger) func(string, int, int) {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(tbl string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done == total || time.Since(last[tbl]) > 2*time.Second {
			last[tbl] = time.Now()
			log.Info("compacting", "table", tbl, "buckets_done", done, "buckets", total)
		}
	}
}

// serveMetrics serves reg at addr/metrics until ctx ends; done stops it.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry) (done func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
