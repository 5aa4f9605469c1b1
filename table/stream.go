package table

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/stratalake/strata/internal/faultpoint"
	"github.com/stratalake/strata/spec"
)

// Streaming reads follow Paimon's DataTableStreamScan: a first plan chosen
// by the start position (the full contents of one snapshot, or only a
// "next snapshot" id), then snapshot after snapshot from that id on. What
// a snapshot contributes depends on changelog-producer: with none, the
// delta (the files it added) of APPEND snapshots, records with the row
// kinds they were written with, COMPACT snapshots skipped; with input,
// lookup or full-compaction, the changelog files of every snapshot that has
// a changelog manifest list. Expired snapshots whose changelog outlives them
// (changelog/changelog-<id>) are read from that copy.

// DefaultPollInterval is how often a following stream looks for new
// snapshots unless WithFollow says otherwise.
const DefaultPollInterval = time.Second

// StartPosition says where a stream starts when no consumer progress
// overrides it (Paimon's scan.mode). The zero value is FromLatestFull.
type StartPosition struct {
	mode     startMode
	snapshot int64
	at       time.Time
}

type startMode int

const (
	startLatestFull startMode = iota
	startLatest
	startSnapshot
	startSnapshotFull
	startTimestamp
)

// FromLatestFull starts with the latest snapshot's rows as inserts (+I),
// then follows the changes committed after it: Paimon's latest-full, its
// default streaming start. For changelog-producer lookup the first read
// leaves out level-0 files, and for full-compaction it reads the top level
// only, as Paimon does: the rest reaches the stream through the changelog
// that compaction produces for it later.
func FromLatestFull() StartPosition { return StartPosition{mode: startLatestFull} }

// FromLatest reads only changes committed after the latest snapshot
// (Paimon's latest); on a table without snapshots, from the first one.
func FromLatest() StartPosition { return StartPosition{mode: startLatest} }

// FromEarliest reads the changes of every snapshot still there, from the
// earliest one (or the earliest long-lived changelog) on.
func FromEarliest() StartPosition { return StartPosition{mode: startSnapshot, snapshot: 1} }

// FromSnapshot reads the changes of snapshot id and every later one
// (Paimon's from-snapshot); an id before the earliest snapshot starts at
// the earliest, one after the latest waits for it.
func FromSnapshot(id int64) StartPosition { return StartPosition{mode: startSnapshot, snapshot: id} }

// FromSnapshotFull starts with snapshot id's rows as inserts (+I), then
// the changes after it (Paimon's from-snapshot-full); an id before the
// earliest snapshot reads the earliest, one after the latest waits for it.
// The first read leaves files out as FromLatestFull says.
func FromSnapshotFull(id int64) StartPosition {
	return StartPosition{mode: startSnapshotFull, snapshot: id}
}

// FromTimestamp reads the changes of the snapshots committed at or after
// at (Paimon's from-timestamp).
func FromTimestamp(at time.Time) StartPosition { return StartPosition{mode: startTimestamp, at: at} }

// String describes the position as the CLI's --from flag would.
func (p StartPosition) String() string {
	switch p.mode {
	case startLatest:
		return "latest"
	case startSnapshot:
		return fmt.Sprintf("snapshot %d", p.snapshot)
	case startSnapshotFull:
		return fmt.Sprintf("snapshot %d (full)", p.snapshot)
	case startTimestamp:
		return "timestamp " + formatMillis(p.at.UnixMilli())
	}
	return "latest (full)"
}

// StreamOption configures a Stream.
type StreamOption func(*streamConfig)

type streamConfig struct {
	start          StartPosition
	follow         bool
	poll           time.Duration
	end            int64 // last snapshot to read; 0: none
	consumer       string
	ignoreProgress bool
	onDone         func(ctx context.Context, snapshot int64) error
}

// WithStart sets where the stream starts (default FromLatestFull). A
// consumer's stored progress takes precedence.
func WithStart(p StartPosition) StreamOption { return func(c *streamConfig) { c.start = p } }

// WithFollow keeps the stream reading new snapshots as they are committed,
// looking every poll (DefaultPollInterval if poll <= 0), until its context
// is cancelled. Without it the stream ends at the snapshot that was the
// latest when it started.
func WithFollow(poll time.Duration) StreamOption {
	return func(c *streamConfig) {
		c.follow, c.poll = true, poll
		if poll <= 0 {
			c.poll = DefaultPollInterval
		}
	}
}

// WithEndSnapshot ends the stream after snapshot id, even when following
// (Paimon's bounded streams).
func WithEndSnapshot(id int64) StreamOption { return func(c *streamConfig) { c.end = id } }

// WithConsumer names the stream's consumer: it resumes from the progress
// stored in consumer/consumer-<id> (ignoring the start position), and
// stores its progress there after each snapshot it fully emitted. Snapshot
// expiration keeps the snapshot a consumer reads next and every later one.
func WithConsumer(id string) StreamOption { return func(c *streamConfig) { c.consumer = id } }

// WithIgnoreProgress starts from the start position even when the consumer
// has stored progress, which the stream then overwrites (Paimon's
// consumer.ignore-progress).
func WithIgnoreProgress() StreamOption { return func(c *streamConfig) { c.ignoreProgress = true } }

// OnSnapshotDone calls fn after the last change of a snapshot was yielded
// and before the stream moves past it, and so before a consumer's progress
// is stored: the place to flush or commit what was done with the changes.
// An error from fn ends the stream with that error, the snapshot not done.
func OnSnapshotDone(fn func(ctx context.Context, snapshot int64) error) StreamOption {
	return func(c *streamConfig) { c.onDone = fn }
}

// Change is one row change of a stream.
type Change struct {
	// Kind is +I, -U, +U or -D. With changelog-producer none it is the kind
	// the row was written with; the rows of a full start are +I.
	Kind spec.RowKind
	// Row holds every column of the table's schema, in order.
	Row spec.Row
	// Snapshot is the snapshot whose changelog or delta holds the change,
	// or for a full start the snapshot read.
	Snapshot int64
}

// Stream reads a table's changes, snapshot by snapshot, in commit order.
//
// Delivery is at least once, at snapshot granularity: a snapshot's changes
// are either all emitted again after a restart or none are. The position
// (and a consumer's stored progress) moves past a snapshot only once its
// last change has been yielded and OnSnapshotDone returned; a stream
// stopped before that, by a crash, a cancelled context or a caller that
// stops iterating, emits the whole snapshot again when resumed. A reader
// that records Change.Snapshot with its results, and skips snapshots it
// has already recorded, gets exactly-once results.
//
// A Stream is not safe for concurrent use.
type Stream struct {
	t   *Table
	cfg streamConfig
	// next is the snapshot to read next; 0 before the first plan.
	next int64
	// stored is the consumer progress last written (or read).
	stored int64
	// storedAt is when the stream last wrote the consumer.
	storedAt time.Time
}

// NewStream returns a stream of the table's changes. Nothing is read
// until Changes is iterated.
func (t *Table) NewStream(opts ...StreamOption) (*Stream, error) {
	s := &Stream{t: t, cfg: streamConfig{poll: DefaultPollInterval}}
	for _, o := range opts {
		o(&s.cfg)
	}
	switch c := s.cfg; {
	case c.consumer != "":
		if err := checkConsumerID(c.consumer); err != nil {
			return nil, err
		}
	case c.ignoreProgress:
		return nil, fmt.Errorf("%w: ignoring a consumer's progress needs a consumer id", spec.ErrInvalidOption)
	}
	if s.cfg.end < 0 {
		return nil, fmt.Errorf("%w: end snapshot %d", spec.ErrInvalidOption, s.cfg.end)
	}
	return s, nil
}

// Fields are the columns of every change's Row: the table's schema.
func (s *Stream) Fields() []spec.DataField { return s.t.schema.Fields }

// Next is the snapshot the stream reads next (its checkpoint, what a
// consumer stores), or 0 before it has started.
func (s *Stream) Next() int64 { return s.next }

// Changes yields the stream's changes. Iterating again continues from
// Next: a snapshot left half-read is read again from its start. When
// following, the sequence ends only when ctx is cancelled (it then yields
// ctx's error) or at WithEndSnapshot. Errors end the sequence.
func (s *Stream) Changes(ctx context.Context) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		if err := s.run(ctx, yield); err != nil {
			yield(Change{}, err)
		}
	}
}

var (
	// errStopped: the caller stopped iterating.
	errStopped = errors.New("stream stopped by its reader")
	// errBeyondEnd: a full start after the end snapshot reads nothing.
	errBeyondEnd = errors.New("stream starts after its end")
)

func (s *Stream) run(ctx context.Context, yield func(Change, error) bool) error {
	bound := s.cfg.end
	if !s.cfg.follow && bound == 0 {
		latest, err := s.t.snapshots.LatestID(ctx)
		if err != nil {
			return err
		}
		if bound = latest; bound == 0 {
			return nil // bounded read of an empty table
		}
	}
	for s.next == 0 {
		started, err := s.begin(ctx, bound, yield)
		if errors.Is(err, errStopped) || errors.Is(err, errBeyondEnd) {
			return nil
		}
		if err != nil {
			return err
		}
		if started {
			break
		}
		if !s.cfg.follow {
			return nil
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
	for {
		if bound > 0 && s.next > bound {
			return s.store(ctx)
		}
		snap, err := s.t.streamSnapshot(ctx, s.next)
		if err != nil {
			return err
		}
		if snap == nil {
			// Caught up: nothing to read until a commit lands.
			if err := s.store(ctx); err != nil || !s.cfg.follow {
				return err
			}
			if err := s.wait(ctx); err != nil {
				return err
			}
			continue
		}
		emitted, err := s.emit(ctx, snap.ID, s.t.snapshotChanges(ctx, snap), yield)
		if err != nil {
			if errors.Is(err, errStopped) {
				return nil
			}
			return err
		}
		s.next++
		if emitted {
			if err := s.store(ctx); err != nil {
				return err
			}
		}
	}
}

// begin makes the first plan: it sets s.next, and for a full start emits
// the starting snapshot first. It reports false when the start cannot be
// resolved yet (no snapshot to start from).
func (s *Stream) begin(ctx context.Context, bound int64, yield func(Change, error) bool) (bool, error) {
	if s.cfg.consumer != "" && !s.cfg.ignoreProgress {
		c, err := s.t.Consumer(ctx, s.cfg.consumer)
		if err != nil {
			return false, err
		}
		if c != nil {
			latest, err := s.t.snapshots.LatestID(ctx)
			if err != nil {
				return false, err
			}
			if latest > 0 && c.NextSnapshot > latest+1 {
				return false, fmt.Errorf("%w: consumer %q reads snapshot %d next, but the latest snapshot is %d (was the table recreated?)",
					spec.ErrNotFound, s.cfg.consumer, c.NextSnapshot, latest)
			}
			s.next, s.stored = c.NextSnapshot, c.NextSnapshot
			return true, nil
		}
	}
	full, next, ok, err := s.t.startingPoint(ctx, s.cfg.start)
	if err != nil || !ok {
		return false, err
	}
	if full == 0 {
		s.next = next
		return true, nil
	}
	if bound > 0 && full > bound {
		return false, errBeyondEnd
	}
	snap, err := s.t.snapshots.Get(ctx, full)
	if err != nil {
		return false, err
	}
	if _, err := s.emit(ctx, full, s.t.fullChanges(ctx, snap), yield); err != nil {
		return false, err
	}
	s.next = full + 1
	return true, s.store(ctx)
}

// emit yields one snapshot's changes and then calls the OnSnapshotDone
// hook. It reports whether there were any; errStopped when the caller
// stopped.
func (s *Stream) emit(ctx context.Context, id int64, changes iter.Seq2[Change, error], yield func(Change, error) bool) (bool, error) {
	emitted := false
	for c, err := range changes {
		if err != nil {
			return emitted, err
		}
		c.Snapshot = id
		emitted = true
		if !yield(c, nil) {
			return emitted, errStopped
		}
	}
	if emitted && s.cfg.onDone != nil {
		if err := s.cfg.onDone(ctx, id); err != nil {
			return emitted, fmt.Errorf("snapshot %d done: %w", id, err)
		}
	}
	return emitted, nil
}

// wait sleeps one poll interval, or until ctx is done.
func (s *Stream) wait(ctx context.Context) error {
	timer := time.NewTimer(s.cfg.poll)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// store writes the consumer's progress when it moved: right after each
// snapshot with changes, and when the stream caught up or ends (then it
// may have moved past skipped snapshots only). An idle following stream
// rewrites it now and then so that consumer.expiration-time does not
// expire a live reader.
func (s *Stream) store(ctx context.Context) error {
	if s.cfg.consumer == "" || s.next == 0 {
		return nil
	}
	if s.next == s.stored && !s.refreshDue() {
		return nil
	}
	faultpoint.Hit(faultpoint.ConsumerBeforeWrite)
	if err := s.t.ResetConsumer(ctx, s.cfg.consumer, s.next); err != nil {
		return err
	}
	faultpoint.Hit(faultpoint.ConsumerWritten)
	s.stored, s.storedAt = s.next, time.Now()
	return nil
}

// refreshDue reports whether an idle consumer's file should be rewritten
// so that consumer.expiration-time does not expire a live reader.
func (s *Stream) refreshDue() bool {
	exp := s.t.opts.ConsumerExpirationTime
	return exp != nil && time.Since(s.storedAt) > *exp/4
}
