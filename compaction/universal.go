package compaction

import (
	"github.com/stratalake/strata/lsm"
)

// Unit is one compaction to run: files (in run order) merged into
// OutputLevel.
type Unit struct {
	OutputLevel int
	Files       []*lsm.File
	// FileRewrite rewrites each file on its own (full compaction of a tree
	// that is already one run at the max level).
	FileRewrite bool
}

// Strategy picks compactions from a tree's sorted runs, newest first.
type Strategy interface {
	Pick(numLevels int, runs []lsm.SortedRun) *Unit
}

// Universal is Paimon's universal compaction (UniversalCompaction.pick):
// compact everything when the older runs amplify the oldest too much, else
// merge newest runs of similar size, else bound the number of runs.
type Universal struct {
	MaxSizeAmp int // compaction.max-size-amplification-percent
	SizeRatio  int // compaction.size-ratio
	Trigger    int // num-sorted-run.compaction-trigger
}

// Pick implements Strategy.
func (u Universal) Pick(numLevels int, runs []lsm.SortedRun) *Unit {
	n := len(runs)
	maxLevel := numLevels - 1
	if n >= u.Trigger && n > 0 {
		var cand int64
		for _, r := range runs[:n-1] {
			cand += r.Size()
		}
		if cand*100 > int64(u.MaxSizeAmp)*runs[n-1].Size() {
			return unitOf(runs, maxLevel, n)
		}
		if unit := u.pickForSizeRatio(maxLevel, runs, 1, false); unit != nil {
			return unit
		}
	}
	if n > u.Trigger {
		return u.pickForSizeRatio(maxLevel, runs, n-u.Trigger+1, false)
	}
	return nil
}

func (u Universal) pickForSizeRatio(maxLevel int, runs []lsm.SortedRun, count int, force bool) *Unit {
	var size int64
	for _, r := range runs[:count] {
		size += r.Size()
	}
	triggered := force || count > 1
	for i := count; i < len(runs); i++ {
		next := runs[i]
		if float64(size)*(100.0+float64(u.SizeRatio))/100.0 < float64(next.Size()) {
			// A run at level ≤ 1 is absorbed once triggered: leaving it
			// would force the output to level 0.
			if !triggered || next.Level > 1 {
				break
			}
		}
		size += next.Size()
		count++
		triggered = true
	}
	if !triggered {
		return nil
	}
	return createUnit(runs, maxLevel, count)
}

// ForcePickL0 picks every leading level-0 run (and what the size ratio adds)
// into a level ≥ 1, as Paimon does when lookups need level 0 gone.
func (u Universal) ForcePickL0(numLevels int, runs []lsm.SortedRun) *Unit {
	k := 0
	for k < len(runs) && runs[k].Level == 0 {
		k++
	}
	if k == 0 {
		return nil
	}
	return u.pickForSizeRatio(numLevels-1, runs, k, true)
}

func createUnit(runs []lsm.SortedRun, maxLevel, count int) *Unit {
	n := len(runs)
	var out int
	if count == n {
		out = maxLevel
	} else {
		out = max(0, runs[count].Level-1)
	}
	if out == 0 {
		// Never write to level 0: take runs until one above level 0.
		for i := count; i < n; i++ {
			count++
			if runs[i].Level != 0 {
				out = runs[i].Level
				break
			}
		}
	}
	if count == n {
		out = maxLevel
	}
	return unitOf(runs, out, count)
}

func unitOf(runs []lsm.SortedRun, out, count int) *Unit {
	u := &Unit{OutputLevel: out}
	for _, r := range runs[:count] {
		u.Files = append(u.Files, r.Files...)
	}
	return u
}

// ForceUpLevel0 wraps Universal for trees that must not keep level-0 files
// (lookup changelog, deletion vectors, first-row): when universal picks
// nothing, level 0 is picked anyway, every time or every MaxInterval-th
// time.
type ForceUpLevel0 struct {
	Universal   Universal
	MaxInterval int // 0: every time
	counter     int
}

// Pick implements Strategy.
func (f *ForceUpLevel0) Pick(numLevels int, runs []lsm.SortedRun) *Unit {
	if u := f.Universal.Pick(numLevels, runs); u != nil {
		return u
	}
	if f.MaxInterval <= 0 {
		return f.Universal.ForcePickL0(numLevels, runs)
	}
	f.counter++
	if f.counter == f.MaxInterval {
		f.counter = 0
		return f.Universal.ForcePickL0(numLevels, runs)
	}
	return nil
}

// PickFull picks every run into the max level; nil when there is nothing
// to do (no runs, or one run already at the max level and no file needs a
// rewrite).
func PickFull(numLevels int, runs []lsm.SortedRun, needsRewrite func(*lsm.File) bool) *Unit {
	maxLevel := numLevels - 1
	if len(runs) == 0 {
		return nil
	}
	if len(runs) == 1 && runs[0].Level == maxLevel {
		u := &Unit{OutputLevel: maxLevel, FileRewrite: true}
		for _, f := range runs[0].Files {
			if needsRewrite != nil && needsRewrite(f) {
				u.Files = append(u.Files, f)
			}
		}
		if len(u.Files) == 0 {
			return nil
		}
		return u
	}
	return unitOf(runs, maxLevel, len(runs))
}
