package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stratalake/strata/internal/backoff"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// streamRun is a `strata write --commit-every`: one writer, committed every
// commitEvery input rows.
type streamRun struct {
	*writeRun
	w     *table.Write
	start time.Time
	read  int64 // input rows read, those skipped on resuming included
	// The rows since the last commit: how many, their lines, and their
	// batches when a conflict may make us write them again.
	pending         int64
	first, lastRead int
	kept            []*textrow.Batch
	commits         int
	lastSnap        int64 // the last snapshot this run committed
	lastLine        int   // and the last line it held
	lastID          int64
	skippedToLine   int
}

// openInput opens the input without keeping a copy: a stream need not be
// read twice.
func openInput(stdin io.Reader, input string) (io.Reader, func(), error) {
	if input == "" || input == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(input)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// stream writes the input with a commit every r.commitEvery rows.
func (r *writeRun) stream(ctx context.Context, in io.Reader) error {
	s := &streamRun{writeRun: r, start: time.Now()}
	dec, err := r.decoder(in)
	if err != nil {
		return err
	}
	ahead, err := s.resume(ctx, dec)
	if err != nil {
		return err
	}
	defer ahead.close()
	// Compaction runs in the background across commits; the last commit
	// waits for it.
	if s.w, err = r.t.NewWrite(ctx, table.WithWaitCompaction(false)); err != nil {
		return err
	}
	defer func() {
		s.w.Close()
		s.release()
	}()
	p := readProgress{out: r.e.stderr, start: s.start, last: s.start}
	for {
		b, derr := ahead.next(ctx)
		if b != nil {
			if err := writeBatch(ctx, s.w, b, r.t.Schema().Fields); err != nil {
				b.Release()
				return s.fail(err)
			}
			s.add(b)
			p.rows(s.read)
		}
		eof := isEOF(derr)
		if derr != nil && !eof {
			return s.fail(derr)
		}
		if s.pending == r.commitEvery || (eof && s.pending > 0) {
			if err := s.commit(ctx, eof || ahead.ended()); err != nil {
				return s.fail(err)
			}
		}
		if eof {
			break
		}
	}
	switch {
	case s.commits > 0:
		fmt.Fprintf(r.e.stdout, "wrote %d rows in %d commits in %s\n", s.read, s.commits, time.Since(s.start).Round(time.Millisecond))
	case s.skippedToLine > 0:
		fmt.Fprintf(r.e.stdout, "no rows after line %d: nothing committed\n", s.skippedToLine)
	default:
		fmt.Fprintf(r.e.stdout, "no rows: nothing committed\n")
	}
	return nil
}

// resume starts decoding dec (which it releases) and skips the input rows
// that this commit user's checkpoints already committed: identifiers count
// the rows committed since --checkpoint. Batches end where commits fall:
// every commitEvery rows after those skipped.
func (s *streamRun) resume(ctx context.Context, dec *textrow.BatchDecoder) (*decodeAhead, error) {
	var last, snap, skip int64
	if s.checkpointed {
		l, sn, ok, err := s.committer.LastCommitted(ctx)
		if err != nil {
			dec.Release()
			return nil, err
		}
		if ok && l > s.identifier {
			last, snap, skip = l, sn, l-s.identifier
		}
	}
	ahead := startDecoding(dec, skip, s.commitEvery)
	if skip == 0 {
		return ahead, nil
	}
	var err error
	for s.read < skip && err == nil {
		var b *textrow.Batch
		b, err = ahead.next(ctx)
		if b != nil {
			s.read += int64(b.Len())
			s.skippedToLine = b.Lines[b.Len()-1]
			b.Release()
		}
	}
	if err != nil && !isEOF(err) {
		ahead.close()
		return nil, fmt.Errorf("skipping the %d rows %s committed up to checkpoint %d: %w", skip, s.user, last, err)
	}
	fmt.Fprintf(s.e.stderr, "checkpoint %d of %s (snapshot %d) committed the first %d rows: skipped them (up to line %d)\n",
		last, s.user, snap, s.read, s.skippedToLine)
	if s.read < skip {
		ahead.close()
		return nil, fmt.Errorf("%w: the input has %d rows, fewer than the %d that checkpoint %d of %s committed: is it the same input?",
			spec.ErrConflict, s.read, skip, last, s.user)
	}
	return ahead, nil
}

// add counts a batch written to the current commit, keeping it to write
// again after a conflict when retries are allowed.
func (s *streamRun) add(b *textrow.Batch) {
	if s.pending == 0 {
		s.first = b.Lines[0]
	}
	s.lastRead = b.Lines[b.Len()-1]
	s.pending += int64(b.Len())
	s.read += int64(b.Len())
	if s.retries > 0 {
		s.kept = append(s.kept, b)
	} else {
		b.Release()
	}
}

func (s *streamRun) release() {
	for _, b := range s.kept {
		b.Release()
	}
	s.kept = nil
}

// commit commits the pending rows, waiting for the running compactions
// when it is the last. A commit that conflicts with another writer is done
// again from the latest snapshot with a new writer, up to --retries times.
func (s *streamRun) commit(ctx context.Context, last bool) error {
	var id int64 = table.BatchCommitIdentifier
	if s.checkpointed {
		id = s.identifier + s.read
	}
	wait := backoff.New(50*time.Millisecond, 2*time.Second)
	for attempt := 0; ; attempt++ {
		msgs, err := s.w.PrepareCommit(ctx, table.WaitForCompaction(last))
		if err != nil {
			return err
		}
		res, err := s.committer.CommitSteps(ctx, id, msgs)
		if err == nil || errors.Is(err, table.ErrCompactionNotCommitted) {
			return s.committed(ctx, id, msgs, res, err)
		}
		if errors.Is(err, table.ErrUncertainCommit) {
			return fmt.Errorf("the store lost its answer to the commit of lines %d-%d, which may have landed (strata snapshots %s shows it, by commit user %s): %w",
				s.first, s.lastRead, s.name, s.committer.User(), err)
		}
		if !errors.Is(err, spec.ErrConflict) || attempt >= s.retries {
			return err
		}
		fmt.Fprintf(s.e.stderr, "concurrent writer: %v; writing lines %d-%d again (attempt %d of %d)\n", err, s.first, s.lastRead, attempt+2, s.retries+1)
		if err := wait.Wait(ctx); err != nil {
			return err
		}
		if err := s.reopen(ctx); err != nil {
			return err
		}
		for _, b := range s.kept {
			if err := writeBatch(ctx, s.w, b, s.t.Schema().Fields); err != nil {
				return err
			}
		}
	}
}

// committed reports a landed commit and starts the next one. A compaction
// that lost to another writer's is redone; the writer, which no longer
// matches the table, is replaced.
func (s *streamRun) committed(ctx context.Context, id int64, msgs []table.CommitMessage, res table.CommitResult, cerr error) error {
	rows := s.pending
	s.pending = 0
	s.release()
	if res.Append == 0 && res.Compact == 0 {
		fmt.Fprintf(s.e.stdout, "lines %d-%d: nothing to commit\n", s.first, s.lastRead)
		return nil
	}
	s.commits++
	s.lastSnap, s.lastLine, s.lastID = res.Append, s.lastRead, id
	if res.Append == 0 { // its rows landed before, only compacted now
		s.lastSnap = res.Compact
	}
	if cerr != nil {
		cid, err := s.committer.Recompact(ctx, id, msgs, s.retries+1)
		if err != nil {
			fmt.Fprintf(s.e.stderr, "warning: rows committed in snapshot %d, but their compaction was not: %v (a later compaction catches up)\n", res.Append, err)
		}
		res.Compact = cid
	}
	line := fmt.Sprintf("snapshot %d: wrote %d rows (lines %d-%d)", res.Append, rows, s.first, s.lastRead)
	switch {
	case res.Append == 0:
		line = fmt.Sprintf("snapshot %d: compacted (lines %d-%d were committed before)", res.Compact, s.first, s.lastRead)
	case res.Compact > 0:
		line += fmt.Sprintf(" (compacted in snapshot %d)", res.Compact)
	}
	fmt.Fprintln(s.e.stdout, line)
	s.reportExpired(res)
	if cerr != nil {
		return s.reopen(ctx)
	}
	return nil
}

// reopen replaces the writer with one on the latest snapshot, from a fresh
// table handle (the bucket counts it cached may be stale).
func (s *streamRun) reopen(ctx context.Context) error {
	t, err := s.e.table(ctx, s.name)
	if err != nil {
		return err
	}
	w, err := t.NewWrite(ctx, table.WithWaitCompaction(false))
	if err != nil {
		return err
	}
	s.w.Close()
	s.t, s.w, s.committer = t, w, t.NewCommit(s.user)
	return nil
}

// fail says what stands of a stream that stopped with err.
func (s *streamRun) fail(err error) error {
	if s.commits == 0 {
		return fmt.Errorf("nothing committed: %w", err)
	}
	id := ""
	if s.checkpointed {
		id = fmt.Sprintf(", checkpoint %d", s.lastID)
	}
	return fmt.Errorf("committed up to line %d (snapshot %d%s), nothing after it: %w", s.lastLine, s.lastSnap, id, err)
}
