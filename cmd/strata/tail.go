package main

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/table"
)

func newTailCmd(e *env) *cobra.Command {
	var from, consumer string
	var full, follow, ignoreProgress, withSnapshot bool
	var poll time.Duration
	var until int64
	cmd := &cobra.Command{
		Use:   "tail DB.TABLE [--from latest|earliest|N|TIME] [--full] [--follow] [--consumer ID]",
		Short: "Print a table's changes as JSON Lines",
		Long: `Print the changes of a table, snapshot by snapshot in commit order, as JSON
Lines: one object per row, "_kind" first (+I, -U, +U or -D), then the
columns as "strata scan --format jsonl" prints them. "strata write" reads
this output: "strata tail a.t --from earliest | strata write b.t" applies
a.t's changes to b.t in one commit.

What a snapshot's changes are depends on the table's changelog-producer, as
in Paimon's streaming reads: with none, the rows each write committed, with
the kinds they were written with (an update of an existing key is +I;
compactions add nothing); with input, the rows as written; with lookup and
full-compaction, the changelog that compaction derives: +I for a new key,
-U and +U around an update, -D with the deleted row.

--from says where to start: latest (the default: changes committed from now
on), earliest (every snapshot still kept), N (the changes of snapshot N and
later) or TIME (of the snapshots committed at or after TIME, an RFC 3339
time or epoch milliseconds). --full first prints the starting snapshot's
rows as +I (the latest, the earliest or N), then the changes after it.

Without --follow the command stops after the snapshot that was the latest
when it started (or --until N); with --follow it waits for new snapshots,
looking every --poll, until SIGINT or SIGTERM.

--consumer ID stores the progress in the table (consumer/consumer-ID, as
Paimon's consumer-id does) after each snapshot printed, and a later tail
with the same ID resumes there, whatever --from says (unless
--ignore-progress). Snapshot expiration keeps the snapshots a consumer has
not read. Delivery is at least once per snapshot: output is flushed before
the progress is stored, so a tail killed mid-snapshot prints that whole
snapshot again when resumed, and never skips one. --with-snapshot adds
"_snapshot", the snapshot each change comes from (for a --full start, the
snapshot read), after "_kind": a reader that remembers the last snapshot it
processed and skips changes up to it gets exactly-once results ("strata
write" does not read "_snapshot").

Examples:
  strata tail db.users --follow
  strata tail db.users --full --follow --consumer audit
  strata tail db.users --from 5 --until 9
  strata tail db.users --from 2024-01-31T00:00:00Z`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := parseFrom(from, full)
			if err != nil {
				return err
			}
			opts := []table.StreamOption{table.WithStart(start)}
			if follow {
				if poll <= 0 {
					return usagef("--poll %v: want a positive duration", poll)
				}
				opts = append(opts, table.WithFollow(poll))
			}
			switch {
			case until < 0:
				return usagef("--until %d: snapshot ids start at 1", until)
			case until > 0:
				opts = append(opts, table.WithEndSnapshot(until))
			}
			if ignoreProgress && consumer == "" {
				return usagef("--ignore-progress needs --consumer")
			}
			if consumer != "" {
				opts = append(opts, table.WithConsumer(consumer))
				if ignoreProgress {
					opts = append(opts, table.WithIgnoreProgress())
				}
			}
			ctx := cmd.Context()
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			return tail(ctx, t, opts, withSnapshot, e)
		},
	}
	cmd.Flags().StringVar(&from, "from", "latest", "where to start: latest, earliest, a snapshot id, or a time (RFC 3339 or epoch milliseconds)")
	cmd.Flags().BoolVar(&full, "full", false, "print the starting snapshot's rows as +I first (with --from latest, earliest or N)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new snapshots' changes until interrupted")
	cmd.Flags().DurationVar(&poll, "poll", table.DefaultPollInterval, "with --follow, how often to look for new snapshots")
	cmd.Flags().Int64Var(&until, "until", 0, "stop after this snapshot (0: the latest, or never with --follow)")
	cmd.Flags().StringVar(&consumer, "consumer", "", "store progress as this consumer id and resume from it")
	cmd.Flags().BoolVar(&withSnapshot, "with-snapshot", false, `add "_snapshot", the id of the snapshot each change comes from`)
	cmd.Flags().BoolVar(&ignoreProgress, "ignore-progress", false, "with --consumer, start from --from even if the consumer has progress")
	return cmd
}

// parseFrom reads --from and --full.
func parseFrom(from string, full bool) (table.StartPosition, error) {
	s := strings.TrimSpace(from)
	switch {
	case s == "latest" && full:
		return table.FromLatestFull(), nil
	case s == "latest":
		return table.FromLatest(), nil
	case s == "earliest" && full:
		return table.FromSnapshotFull(1), nil
	case s == "earliest":
		return table.FromEarliest(), nil
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) < 12 {
		// Short numbers are snapshot ids, long ones epoch milliseconds.
		switch {
		case id < 1:
			return table.StartPosition{}, usagef("--from %d: snapshot ids start at 1", id)
		case full:
			return table.FromSnapshotFull(id), nil
		}
		return table.FromSnapshot(id), nil
	}
	at, err := parseAsOf(s)
	if err != nil {
		return table.StartPosition{}, usagef("--from %q: want latest, earliest, a snapshot id, an RFC 3339 time with a zone (2024-01-31T12:00:00Z) or epoch milliseconds", from)
	}
	if full {
		return table.StartPosition{}, usagef("--full starts from a snapshot: give --from latest, earliest or a snapshot id")
	}
	return table.FromTimestamp(at), nil
}

// tail prints the stream's changes, flushing after each snapshot so that
// what a consumer stores as read has been written.
func tail(ctx context.Context, t *table.Table, opts []table.StreamOption, withSnapshot bool, e *env) error {
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	opts = append(opts, table.OnSnapshotDone(func(context.Context, int64) error { return w.Flush() }))
	s, err := t.NewStream(opts...)
	if err != nil {
		return usageError{err}
	}
	enc := textrow.NewJSONEncoder(io.Discard, s.Fields())
	var buf []byte
	for c, err := range s.Changes(ctx) {
		if err != nil {
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			if ctx.Err() != nil {
				return nil // SIGINT or SIGTERM: a clean stop
			}
			return err
		}
		b := append(buf[:0], `{"_kind":"`...)
		b = append(b, c.Kind.String()...)
		b = append(b, '"')
		if withSnapshot {
			b = append(b, `,"_snapshot":`...)
			b = strconv.AppendInt(b, c.Snapshot, 10)
		}
		n := len(b)
		if b, err = enc.AppendRow(b, c.Row); err != nil {
			return err
		}
		if len(b) > n+2 {
			b[n] = ',' // the row's opening brace
		} else {
			b = append(b[:n], '}') // no columns
		}
		buf = append(b, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return w.Flush()
}
