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
	"github.com/stratalake/strata/internal/scratch"
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
	// Streaming: a commit every commitEvery rows (0: one at the end);
	// checkpointed when --checkpoint set identifier.
	commitEvery  int64
	checkpointed bool
}

func newWriteCmd(e *env) *cobra.Command {
	var input, format, user string
	var checkpoint, commitEvery int64
	var retries int
	cmd := &cobra.Command{
		Use:   "write DB.TABLE [--input FILE] [--format jsonl|csv] [--commit-every ROWS]",
		Short: "Write rows in one commit, or in a commit every ROWS rows",
		Long: `Write rows from stdin (or --input FILE) and commit them as one snapshot
(with --commit-every, as one snapshot per ROWS rows; see below).

jsonl: one JSON object per line, keys are column names. csv: a header row of
column names, then one row per line (an empty unquoted cell is null, a quoted
empty cell "" the empty string; quoted cells may span lines and keep their
bytes). Text must be valid UTF-8. TIMESTAMP_LTZ values take Z or an offset
(+01:00); without one they are UTC.
An optional _kind field sets the change kind: +I (default), -U, +U or -D.
A -D row deletes its primary key.

Any bad line (unknown column, wrong type, null primary key, malformed line,
a -U/-D the table's merge engine cannot take) fails the command with its
line number and nothing is committed (with --commit-every: nothing after
the last commit).

On success it prints "snapshot N: wrote R rows ...", where N is the APPEND
snapshot holding the rows (a COMPACT snapshot may follow it), and exits 0.
On failure it exits non-zero and has committed nothing, unless the object
store lost its answer to the commit itself, which the error then says.

Several writers may run at once. When another writer committed to the same
buckets after this one started (or, for dynamic buckets and cross-partition
keys, to the same key index), the write is done again from the latest
snapshot, up to --retries times; stdin is kept in a temporary file for this
(with --commit-every, only the rows of the commit are kept, in memory).
When the rows are committed but their compaction loses to another writer's,
the compaction is redone; if that keeps failing, a warning says so and the
write still succeeds (a later compaction catches up).

With --commit-user and --checkpoint, the commit is exactly once: running the
same command again (say after a crash) finds the checkpoint committed, names
the snapshot that committed it, and writes nothing. A commit user names one
writer job: two writes running at once must not share one.

--commit-every ROWS ingests an unbounded input, such as a pipe that never
closes: every ROWS input rows (and at the end of the input) the rows so far
are committed, each commit its own APPEND snapshot (plus a COMPACT one when
it compacted), printed as "snapshot N: wrote R rows (lines A-B)". Compaction
runs in the background across commits (a commit takes the compactions that
finished), and the commit at the end of the input waits for the running
ones. The input is read as it arrives and not copied; the rows since the last commit are
kept in memory to write them again if that commit conflicts with another
writer (not with --retries 0: a conflict then stops the command).
A bad line, a refused row or a failed commit stops the command: the commits
before it stand (the error names the last line committed and its snapshot),
the rows after that line are not committed, and it exits non-zero.
With --commit-user and --checkpoint C, the commits are exactly once: each
commit's identifier is C plus the number of input rows committed so far, so
running the same command again on the same input skips the rows the earlier
run committed (as long as its last snapshot has not expired) and goes on
after them; a commit whose answer the store lost is found that way too. An
input that cannot be replayed is resumed by hand: feed it from the first row
not committed (the line after the last one reported) with --checkpoint set
to the last identifier committed. Without --checkpoint, nothing is skipped:
running the command again writes every row again (at least once).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "jsonl" && format != "json" && format != "csv" {
				return usagef("--format %q: want jsonl or csv", format)
			}
			if retries < 0 {
				return usagef("--retries must not be negative")
			}
			if commitEvery < 0 {
				return usagef("--commit-every must not be negative")
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			if user == "" && !cmd.Flags().Changed("checkpoint") {
				user = uuid.NewString() // one user for every attempt of this write
			}
			r := &writeRun{e: e, t: t, name: args[0], format: format, committer: t.NewCommit(user), user: user,
				identifier: table.BatchCommitIdentifier, retries: retries, commitEvery: commitEvery}
			if cmd.Flags().Changed("checkpoint") {
				if user == "" {
					return usagef("--checkpoint needs --commit-user: exactly-once is per commit user")
				}
				if checkpoint < 0 {
					return usagef("--checkpoint must not be negative")
				}
				r.identifier, r.checkpointed = checkpoint, true
				if commitEvery == 0 {
					done, err := reportCommitted(ctx, e, r.committer, user, checkpoint)
					if err != nil || done {
						return err
					}
				}
			}
			if commitEvery > 0 {
				in, closeIn, err := openInput(e.stdin, input)
				if err != nil {
					return err
				}
				defer closeIn()
				return r.stream(ctx, in)
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
	cmd.Flags().Int64Var(&commitEvery, "commit-every", 0, "commit every ROWS input rows, for long or unbounded inputs (0: one commit at the end)")
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
	w, err := r.t.NewWrite(ctx)
	if err != nil {
		return 0, nil, res, err
	}
	defer w.Close()
	dec, err := r.decoder(in)
	if err != nil {
		return 0, nil, res, err
	}
	ahead := startDecoding(dec, 0, 0)
	defer ahead.close()
	p := readProgress{out: r.e.stderr, start: start, last: start}
	var n int64
	for {
		b, derr := ahead.next(ctx)
		if b != nil {
			err := writeBatch(ctx, w, b, r.t.Schema().Fields)
			b.Release()
			if err != nil {
				return n, nil, res, fmt.Errorf("nothing committed: %w", err)
			}
			n += int64(b.Len())
			p.rows(n)
		}
		if isEOF(derr) {
			break
		}
		if derr != nil {
			return n, nil, res, fmt.Errorf("nothing committed: %w", derr)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return n, nil, res, err
	}
	res, err = r.committer.CommitSteps(ctx, r.identifier, msgs)
	return n, msgs, res, err
}

// decoder returns the batch decoder of the input format.
func (r *writeRun) decoder(in io.Reader) (*textrow.BatchDecoder, error) {
	fields := r.t.Schema().Fields
	if r.format == "csv" {
		return textrow.NewCSVBatchDecoder(in, fields, textrow.WithKindColumn(table.RowKindColumn))
	}
	return textrow.NewJSONBatchDecoder(in, fields, textrow.WithKindColumn(table.RowKindColumn))
}

// writeBatch writes one decoded batch; an error names the input line of
// the row it is about. The batch API reports a refused row (a -U or -D the
// merge engine cannot take, say) without saying which: the rows are then
// written again one at a time until one fails. The write is being
// abandoned then, committing nothing, so rows written twice do no harm.
func writeBatch(ctx context.Context, w *table.Write, b *textrow.Batch, fields []spec.DataField) error {
	if b.Rec == nil {
		if err := w.WriteRow(ctx, b.Kind, b.Row); err != nil {
			return fmt.Errorf("line %d: %w", b.Lines[0], err)
		}
		return nil
	}
	err := w.Write(ctx, b.Rec)
	if err == nil {
		return nil
	}
	for i := range b.Len() {
		row, rerr := b.RowAt(i, fields)
		if rerr != nil {
			break
		}
		if rerr := w.WriteRow(ctx, b.RowKind(i), row); rerr != nil {
			return fmt.Errorf("line %d: %w", b.Lines[i], rerr)
		}
	}
	return fmt.Errorf("lines %d-%d: %w", b.Lines[0], b.Lines[b.Len()-1], err)
}

// progress shows how far a long write has read, on stderr every few
// seconds.
type readProgress struct {
	out         io.Writer
	start, last time.Time
}

func (p *readProgress) rows(n int64) {
	if now := time.Now(); now.Sub(p.last) > 2*time.Second {
		p.last = now
		fmt.Fprintf(p.out, "%d rows read (%.0f rows/s)\n", n, float64(n)/now.Sub(p.start).Seconds())
	}
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
	r.reportExpired(res)
	return nil
}

// reportExpired tells what the expiration after a commit did.
func (r *writeRun) reportExpired(res table.CommitResult) {
	if res.ExpireErr != nil {
		fmt.Fprintf(r.e.stderr, "warning: expiring old snapshots after the commit failed: %v (strata expire retries it)\n", res.ExpireErr)
	} else if x := res.Expired; x.To > x.From {
		fmt.Fprintf(r.e.stderr, "expired snapshots %d..%d\n", x.From, x.To-1)
	}
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
		// A killed write's copy is removed by a later one.
		tmp, err := scratch.CreateTemp("", "strata-write-*")
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
