package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// demoCommitUser signs the demo writer's snapshots.
const demoCommitUser = "strata-demo"

// demoWriter is the demo's one writer: it writes each event as its feed's
// partial-update record, commits every interval (a streaming job's
// checkpoint), and keeps the model in step with what it wrote.
type demoWriter struct {
	t      *table.Table
	w      *table.Write
	commit *table.Commit
	model  *demoModel
	fresh  *freshness
	every  time.Duration
	// onSnapshot is told of each snapshot committed.
	onSnapshot func(int64)

	pending int64
	oldest  time.Time // the oldest event made of those pending
	ident   int64     // the last commit identifier
	// lastSnap is the last snapshot committed.
	lastSnap int64
	rows     atomic.Int64
	commits  atomic.Int64
	late     atomic.Int64
	bySrc    [3]atomic.Int64
}

// run writes the events of in, committing every interval and once more when
// in is closed, and counts them. The model follows each event written.
func (dw *demoWriter) run(ctx context.Context, in <-chan demoEvent) error {
	tick := time.NewTicker(dw.every)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				return dw.flush(ctx)
			}
			if err := dw.write(ctx, &ev); err != nil {
				return err
			}
			dw.rows.Add(1)
			dw.bySrc[ev.source].Add(1)
			if ev.late {
				dw.late.Add(1)
			}
		case <-tick.C:
			if err := dw.flush(ctx); err != nil {
				return err
			}
		}
	}
}

func (dw *demoWriter) write(ctx context.Context, ev *demoEvent) error {
	if err := dw.w.WriteRow(ctx, spec.RowKindInsert, ev.row()); err != nil {
		return fmt.Errorf("write user %d: %w", ev.user, err)
	}
	dw.model.apply(ev)
	if dw.pending == 0 || ev.born.Before(dw.oldest) {
		dw.oldest = ev.born
	}
	dw.pending++
	return nil
}

// backfill loads every user's features from a batch source (a login and a
// credit report each) in one commit before the stream starts, as a feature
// store is bootstrapped; it returns the snapshot.
func (dw *demoWriter) backfill(ctx context.Context, g *generator, users int) (int64, error) {
	now := time.Now()
	for u := range int64(users) {
		for _, ev := range g.backfill(u+1, now) {
			if err := dw.write(ctx, &ev); err != nil {
				return 0, err
			}
		}
	}
	if err := dw.flush(ctx); err != nil {
		return 0, err
	}
	return dw.lastSnap, nil
}

// flush commits the pending rows as the next APPEND snapshot.
func (dw *demoWriter) flush(ctx context.Context) error {
	if dw.pending == 0 {
		return nil
	}
	msgs, err := dw.w.PrepareCommit(ctx)
	if err != nil {
		return fmt.Errorf("prepare commit: %w", err)
	}
	dw.ident++
	snap, err := dw.commit.Commit(ctx, dw.ident, msgs)
	if err != nil {
		return fmt.Errorf("commit %d: %w", dw.ident, err)
	}
	dw.fresh.committed(snap, dw.oldest)
	dw.commits.Add(1)
	dw.onSnapshot(snap)
	dw.lastSnap = snap
	dw.pending = 0
	return nil
}
