package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/backoff"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// writeRun is one `strata write`: its parsed flags and what it has read.
type writeRun struct {
	e          *env
	t          *table.Table
	name       string // DB.TABLE, to open the table again
	format     string
	committer  *table.Commit
	user       string // as given (the table's commit.user-prefix is added by NewCommit)
	identifier int64
	retries    int
}

func newWriteCmd(e *env) *cobra.Command {
	var input, format, user string
	var checkpoint int64
	var retries int
	cmd := &cobra.Command{
		Use:   "write DB.TABLE [--input FILE] [--format jsonl|csv]",
		Short: "Write rows in one commit",
		Long: `Write rows from stdin (or --input FILE) and commit them as one snapshot.

jsonl: one JSON object per line, keys are column names. csv: a header row of
column names, then one row per line (an empty unquoted cell is null, a quoted
empty cell "" the empty string; quoted cells may span lines and keep their
bytes). Text must be valid UTF-8. TIMESTAMP_LTZ values take Z or an offset
(+01:00); without one they are UTC.
An optional _kind field sets the change kind: +I (default), -U, +U or -D.
A -D row deletes its primary key.

Any bad line (unknown column, wrong type, null primary key, malformed line,
a -U/-D the table's merge engine cannot take) fails the command with its
line number and nothing is committed.

On success it prints "snapshot N: wrote R rows ...", where N is the APPEND
snapshot holding the rows (a COMPACT snapshot may follow it), and exits 0.
On failure it exits non-zero and has committed nothing, unless the object
store lost its answer to the commit itself, which the error then says.

Several writers may run at once. When another writer committed to the same
buckets after this one started (or, for dynamic buckets and cross-partition
keys, to the same key index), the write is done again from the latest
snapshot, up to --retries times; stdin is kept in a temporary file for this.
When the rows are committed but their compaction loses to another writer's,
the compaction is redone; if that keeps failing, a warning says so and the
write still succeeds (a later compaction catches up).

With --commit-user and --checkpoint, the commit is exactly once: running the
same command again (say after a crash) finds the checkpoint committed, names
the snapshot that committed it, and writes nothing. A commit user names one
writer job: two writes running at once must not share one.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "jsonl" && format != "json" && format != "csv" {
				return usagef("--format %q: want jsonl or csv", format)
			}
			if retries < 0 {
				return usagef("--retries must not be negative")
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			if user == "" && !cmd.Flags().Changed("checkpoint") {
				user = uuid.NewString() // one user for every attempt of this write
			}
			r := &writeRun{e: e, t: t, name: args[0], format: format, committer: t.NewCommit(user), user: user,
				identifier: table.BatchCommitIdentifier, retries: retries}
			if cmd.Flags().Changed("checkpoint") {
				if user == "" {
					return usagef("--checkpoint needs --commit-user: exactly-once is per commit user")
				}
				if checkpoint < 0 {
					return usagef("--checkpoint must not be negative")
				}
				r.identifier = checkpoint
				done, err := reportCommitted(ctx, e, r.committer, user, checkpoint)
				if err != nil || done {
					return err
				}
			}
			src, err := openReplayable(e.stdin, input)
			if err != nil {
				return err
			}
			defer src.Close()
			return r.run(ctx, src)
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "read rows from FILE instead of stdin")
	cmd.Flags().StringVar(&format, "format", "jsonl", "input format: jsonl or csv")
	cmd.Flags().StringVar(&user, "commit-user", "", "commit user recorded in the snapshot (default: random); it names one writer job, so two writes running at once must not share one")
	cmd.Flags().Int64Var(&checkpoint, "checkpoint", 0, "commit identifier; with --commit-user, re-runs commit at most once")
	cmd.Flags().IntVar(&retries, "retries", 10, "times to write again when concurrent writers conflict")
	return cmd
}

// run writes and commits, again from the latest snapshot while the commit
// conflicts with other writers.
func (r *writeRun) run(ctx context.Context, src *replayable) error {
	start := time.Now()
	wait := backoff.New(50*time.Millisecond, 2*time.Second)
	for attempt := 0; ; attempt++ {
		in, err := src.open()
		if err != nil {
			return err
		}
		n, msgs, res, err := r.writeOnce(ctx, in, start)
		if err == nil || errors.Is(err, table.ErrCompactionNotCommitted) {
			return r.report(ctx, n, msgs, res, err, start)
		}
		if !errors.Is(err, spec.ErrConflict) || attempt >= r.retries {
			if errors.Is(err, spec.ErrConflict) {
				return fmt.Errorf("nothing committed after %d attempts: %w", attempt+1, err)
			}
			if errors.Is(err, table.ErrUncertainCommit) {
				return fmt.Errorf("the store lost its answer to the commit, which may have landed (strata snapshots %s shows it, by commit user %s): %w", r.name, r.committer.User(), err)
			}
			return err
		}
		fmt.Fprintf(r.e.stderr, "concurrent writer: %v; writing again (attempt %d of %d)\n", err, attempt+2, r.retries+1)
		if err := wait.Wait(ctx); err != nil {
			return err
		}
		// A fresh table handle: the bucket counts it cached may be stale.
		if r.t, err = r.e.table(ctx, r.name); err != nil {
			return err
		}
		r.committer = r.t.NewCommit(r.user)
	}
}

// writeOnce reads every row into a new writer and commits it.
func (r *writeRun) writeOnce(ctx context.Context, in io.Reader, start time.Time) (int64, []table.CommitMessage, table.CommitResult, error) {
	var res table.CommitResult
	var dec textrow.Decoder
	if r.format == "csv" {
		dec = textrow.NewCSVDecoder(in, r.t.Schema().Fields)
	} else {
		dec = textrow.NewJSONDecoder(in, r.t.Schema().Fields)
	}
	w, err := r.t.NewWrite(ctx)
	if err != nil {
		return 0, nil, res, err
	}
	defer w.Close()
	lastReport := start
	var n int64
	for {
		row, kind, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, nil, res, fmt.Errorf("nothing committed: %w", err)
		}
		if err := w.WriteRow(ctx, kind, row); err != nil {
			if d, ok := dec.(interface{ Line() int }); ok {
				return n, nil, res, fmt.Errorf("nothing committed: line %d: %w", d.Line(), err)
			}
			return n, nil, res, fmt.Errorf("nothing committed: row %d: %w", n+1, err)
		}
		n++
		// Long writes show progress on stderr every few seconds.
		if n%10000 == 0 && time.Since(lastReport) > 2*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(r.e.stderr, "%d rows read (%.0f rows/s)\n", n, float64(n)/time.Since(start).Seconds())
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return n, nil, res, err
	}
	res, err = r.committer.CommitSteps(ctx, r.identifier, msgs)
	return n, msgs, res, err
}

// report prints the outcome of a committed write; a compaction that lost
// to another writer's is redone, and only warned about if it keeps losing.
func (r *writeRun) report(ctx context.Context, n int64, msgs []table.CommitMessage, res table.CommitResult, cerr error, start time.Time) error {
	if res.Append == 0 && res.Compact == 0 {
		fmt.Fprintf(r.e.stdout, "no rows: nothing committed\n")
		return nil
	}
	if cerr != nil {
		id, err := r.committer.Recompact(ctx, r.identifier, msgs, r.retries+1)
		if err != nil {
			fmt.Fprintf(r.e.stderr, "warning: rows committed in snapshot %d, but their compaction was not: %v (a later compaction catches up)\n", res.Append, err)
		}
		res.Compact = id
	}
	line := fmt.Sprintf("snapshot %d: wrote %d rows in %s", res.Append, n, time.Since(start).Round(time.Millisecond))
	if res.Append == 0 {
		// Only compaction results (a retried checkpoint whose rows landed).
		line = fmt.Sprintf("snapshot %d: compacted (the rows were committed before)", res.Compact)
	} else if res.Compact > 0 {
		line += fmt.Sprintf(" (compacted in snapshot %d)", res.Compact)
	}
	fmt.Fprintln(r.e.stdout, line)
	if res.ExpireErr != nil {
		fmt.Fprintf(r.e.stderr, "warning: expiring old snapshots after the commit failed: %v (strata expire retries it)\n", res.ExpireErr)
	} else if x := res.Expired; x.To > x.From {
		fmt.Fprintf(r.e.stderr, "expired snapshots %d..%d\n", x.From, x.To-1)
	}
	return nil
}

// replayable is the write's input, readable again for a retry: a named
// file is reopened; stdin is copied to a temporary file as it is read.
type replayable struct {
	stdin  io.Reader
	path   string
	tmp    *os.File
	opened *os.File
	reads  int
}

func openReplayable(stdin io.Reader, input string) (*replayable, error) {
	r := &replayable{stdin: stdin}
	if input != "" && input != "-" {
		if _, err := os.Stat(input); err != nil {
			return nil, err
		}
		r.path = input
	}
	return r, nil
}

// open returns a reader of the whole input from its start.
func (r *replayable) open() (io.Reader, error) {
	r.reads++
	if r.opened != nil {
		r.opened.Close()
		r.opened = nil
	}
	if r.path != "" {
		f, err := os.Open(r.path)
		if err != nil {
			return nil, err
		}
		r.opened = f
		return f, nil
	}
	if r.reads == 1 {
		tmp, err := os.CreateTemp("", "strata-write-*")
		if err != nil {
			return nil, fmt.Errorf("keeping stdin for retries: %w", err)
		}
		r.tmp = tmp
		return io.TeeReader(r.stdin, tmp), nil
	}
	// A retry: whatever the first pass left unread is copied too.
	if _, err := io.Copy(r.tmp, r.stdin); err != nil {
		return nil, err
	}
	if _, err := r.tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return r.tmp, nil
}

// Close removes the temporary copy of stdin.
func (r *replayable) Close() error {
	if r.opened != nil {
		r.opened.Close()
	}
	if r.tmp != nil {
		r.tmp.Close()
		return os.Remove(r.tmp.Name())
	}
	return nil
}

// reportCommitted tells whether the user's checkpoint is already committed
// and, if so, prints which snapshot committed it.
func reportCommitted(ctx context.Context, e *env, c *table.Commit, user string, checkpoint int64) (bool, error) {
	done, _, err := c.AlreadyCommitted(ctx, checkpoint)
	if err != nil || !done {
		return false, err
	}
	snap, err := c.CommittedSnapshot(ctx, checkpoint)
	if err != nil {
		return false, err
	}
	if snap > 0 {
		fmt.Fprintf(e.stdout, "checkpoint %d of %s is already committed (snapshot %d): nothing written\n", checkpoint, user, snap)
		return true, nil
	}
	// No snapshot of its own: a later checkpoint covers it, or it expired.
	last, lastSnap, _, err := c.LastCommitted(ctx)
	if err != nil {
		return false, err
	}
	if s, err := c.CommittedSnapshot(ctx, last); err == nil && s > 0 {
		lastSnap = s
	}
	fmt.Fprintf(e.stdout, "checkpoint %d of %s is already committed (%s has committed up to checkpoint %d, snapshot %d): nothing written\n",
		checkpoint, user, user, last, lastSnap)
	return true, nil
}
