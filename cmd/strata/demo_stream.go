package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// demoConsumer is the consumer id of the demo's change stream: expiration
// keeps the snapshots it has not read.
const demoConsumer = "strata-demo"

// changeFollower follows the table's changelog, as a downstream job
// would, and replays it into a copy of the table: +I and +U set a user's
// row, -D removes it, and a -U must match the row it retracts. Changes are
// applied a whole snapshot at a time, once it is done, and a snapshot
// already applied is skipped when a resumed stream reads it again, so the
// copy is exactly once although delivery is at least once.
type changeFollower struct {
	t       *table.Table
	state   map[int64]spec.Row
	applied int64          // the last snapshot applied
	batch   []table.Change // the current snapshot's changes
	changes atomic.Int64
	kinds   [4]int64 // by spec.RowKind
}

func newChangeFollower(t *table.Table) *changeFollower {
	return &changeFollower{t: t, state: map[int64]spec.Row{}}
}

// follow reads changes as they are committed until ctx ends.
func (cf *changeFollower) follow(ctx context.Context, poll time.Duration) error {
	err := cf.read(ctx, table.WithFollow(poll))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// catchUp reads, without following, from where the consumer stopped to
// snapshot last.
func (cf *changeFollower) catchUp(ctx context.Context, last int64) error {
	return cf.read(ctx, table.WithEndSnapshot(last))
}

func (cf *changeFollower) read(ctx context.Context, opts ...table.StreamOption) error {
	cf.batch = cf.batch[:0]
	opts = append(opts, table.WithConsumer(demoConsumer), table.OnSnapshotDone(cf.done))
	s, err := cf.t.NewStream(opts...)
	if err != nil {
		return err
	}
	for c, err := range s.Changes(ctx) {
		if err != nil {
			return fmt.Errorf("change stream: %w", err)
		}
		cf.batch = append(cf.batch, c)
	}
	return nil
}

// done applies a snapshot's changes once it was read whole.
func (cf *changeFollower) done(_ context.Context, snapshot int64) error {
	batch := cf.batch
	cf.batch = cf.batch[:0]
	if snapshot <= cf.applied {
		return nil // read again after a resume
	}
	cf.applied = snapshot
	for _, c := range batch {
		if err := cf.apply(c); err != nil {
			return err
		}
	}
	cf.changes.Add(int64(len(batch)))
	return nil
}

func (cf *changeFollower) apply(c table.Change) error {
	user, ok := c.Row[colUser].(int64)
	if !ok {
		return fmt.Errorf("change of snapshot %d has key %v", c.Snapshot, c.Row[colUser])
	}
	if int(c.Kind) < len(cf.kinds) {
		cf.kinds[c.Kind]++
	}
	cur, had := cf.state[user]
	switch c.Kind {
	case spec.RowKindInsert, spec.RowKindUpdateAfter:
		cf.state[user] = c.Row
	case spec.RowKindUpdateBefore, spec.RowKindDelete:
		if !had || !sameRow(cur, c.Row) {
			return fmt.Errorf("%w: snapshot %d retracts (%s) %v for user %d, whose row was %v", errChangelog, c.Snapshot, c.Kind, c.Row, user, cur)
		}
		if c.Kind == spec.RowKindDelete {
			delete(cf.state, user)
		}
	}
	return nil
}

// errChangelog marks a changelog that does not replay into the table.
var errChangelog = errors.New("the changelog is inconsistent")
