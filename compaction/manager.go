package compaction

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratalake/strata/lsm"
)

// Manager runs one bucket's compactions, one at a time, in the background of
// its writer (Paimon's MergeTreeCompactManager).
type Manager struct {
	levels        *lsm.Levels
	strategy      Strategy
	rw            Rewriter
	smallFileSize int64
	stopTrigger   int
	dv            bool
	needsRewrite  func(*lsm.File) bool
	slots         Slots
	running       chan taskResult
	cancel        context.CancelFunc
}

// Slots bound how many compactions run at once across the managers that
// share them (a writer's buckets), as Paimon's writer runs its buckets'
// compactions on one executor: more at once than there are cores only
// multiplies the memory they hold. A nil Slots bounds nothing.
type Slots chan struct{}

// NewSlots returns room for n compactions at once.
func NewSlots(n int) Slots { return make(Slots, max(n, 1)) }

// acquire waits for a slot, or for ctx to end.
func (s Slots) acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s Slots) release() {
	if s != nil {
		<-s
	}
}

type taskResult struct {
	res *Result
	err error
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Strategy      Strategy
	SmallFileSize int64 // target-file-size × compaction.small-file-ratio
	StopTrigger   int   // num-sorted-run.stop-trigger
	// DeletionVectors: deletes are dropped at every output level ≥ 1.
	DeletionVectors bool
	// NeedsRewrite picks, in a full compaction of a tree that is already
	// one run at the max level, the files to rewrite anyway (those with a
	// deletion vector, as Java's pickFullCompaction does).
	NeedsRewrite func(*lsm.File) bool
	// Slots, when set, are shared with other managers.
	Slots Slots
}

// NewManager returns a manager of levels.
func NewManager(levels *lsm.Levels, rw Rewriter, o ManagerOptions) *Manager {
	return &Manager{levels: levels, strategy: o.Strategy, rw: rw, smallFileSize: o.SmallFileSize,
		stopTrigger: o.StopTrigger, dv: o.DeletionVectors, needsRewrite: o.NeedsRewrite, slots: o.Slots}
}

// Levels is the tree the manager compacts.
func (m *Manager) Levels() *lsm.Levels { return m.levels }

// Running reports whether a compaction is in flight.
func (m *Manager) Running() bool { return m.running != nil }

// ShouldWait reports whether writes must wait for the running compaction:
// the tree has more sorted runs than the stop trigger allows.
func (m *Manager) ShouldWait() bool { return m.levels.NumberOfSortedRuns() > m.stopTrigger }

// Trigger starts a compaction if none is running and the strategy (or, with
// full, a full compaction) picks one. It reports whether one started.
func (m *Manager) Trigger(ctx context.Context, full bool) (bool, error) {
	if m.running != nil {
		if !full {
			return false, nil
		}
		return false, errors.New("compaction: full compaction requested while one is running")
	}
	var unit *Unit
	runs := m.levels.SortedRuns()
	if full {
		unit = PickFull(m.levels.NumberOfLevels(), runs, m.needsRewrite)
	} else {
		unit = m.strategy.Pick(m.levels.NumberOfLevels(), runs)
	}
	if unit == nil || len(unit.Files) == 0 {
		return false, nil
	}
	if len(unit.Files) == 1 && unit.Files[0].Level() == unit.OutputLevel && !unit.FileRewrite {
		return false, nil
	}
	out := unit.OutputLevel
	task := &Task{Unit: unit, MaxLevel: m.levels.MaxLevel(), SmallFileSize: m.smallFileSize,
		DropDelete: out != 0 && (out >= m.levels.NonEmptyHighestLevel() || m.dv)}
	// The compaction outlives the call that started it (it runs across
	// writes and commits); Close cancels it.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan taskResult, 1)
	m.running, m.cancel = done, cancel
	go func() {
		if err := m.slots.acquire(cctx); err != nil {
			done <- taskResult{nil, err}
			return
		}
		defer m.slots.release()
		res, err := task.Run(cctx, m.rw)
		done <- taskResult{res, err}
	}()
	return true, nil
}

// Result collects the running compaction's result: with block, it waits for
// it; without, it returns nil when the compaction is still running. The
// result is applied to the levels before it is returned.
func (m *Manager) Result(block bool) (*Result, error) {
	if m.running == nil {
		return nil, nil
	}
	var tr taskResult
	if block {
		tr = <-m.running
	} else {
		select {
		case tr = <-m.running:
		default:
			return nil, nil
		}
	}
	m.running, m.cancel = nil, nil
	if tr.err != nil {
		return nil, fmt.Errorf("compaction: %w", tr.err)
	}
	if err := m.levels.Update(tr.res.Before, tr.res.After); err != nil {
		return nil, fmt.Errorf("compaction: %w", err)
	}
	return tr.res, nil
}

// Close cancels a running compaction and waits for it to stop.
func (m *Manager) Close() {
	if m.running != nil {
		m.cancel()
		<-m.running
		m.running, m.cancel = nil, nil
	}
}
