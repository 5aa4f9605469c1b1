package compaction

import (
	"container/heap"
	"slices"

	"github.com/stratalake/strata/lsm"
)

// IntervalPartition splits files into sections of overlapping key ranges
// and each section into sorted runs, as Paimon's IntervalPartition does.
// Sections are in key order; a section's runs can be merged independently
// of other sections.
func IntervalPartition(files []*lsm.File) [][]lsm.SortedRun {
	fs := slices.Clone(files)
	slices.SortFunc(fs, func(a, b *lsm.File) int {
		if c := lsm.CompareKeys(a.MinKey, b.MinKey); c != 0 {
			return c
		}
		return lsm.CompareKeys(a.MaxKey, b.MaxKey)
	})
	var out [][]lsm.SortedRun
	var section []*lsm.File
	var bound []any
	for _, f := range fs {
		if len(section) > 0 && lsm.CompareKeys(f.MinKey, bound) > 0 {
			out = append(out, partitionSection(section))
			section = nil
		}
		if len(section) == 0 || lsm.CompareKeys(f.MaxKey, bound) > 0 {
			bound = f.MaxKey
		}
		section = append(section, f)
	}
	if len(section) > 0 {
		out = append(out, partitionSection(section))
	}
	return out
}

// partitionSection packs a section's files (sorted by min key) into as few
// runs as possible: a file joins the run that ends earliest if it starts
// after that run's end.
func partitionSection(files []*lsm.File) []lsm.SortedRun {
	h := &runHeap{}
	for _, f := range files {
		if h.Len() > 0 {
			top := (*h)[0]
			if lsm.CompareKeys(f.MinKey, top[len(top)-1].MaxKey) > 0 {
				(*h)[0] = append(top, f)
				heap.Fix(h, 0)
				continue
			}
		}
		heap.Push(h, []*lsm.File{f})
	}
	runs := make([]lsm.SortedRun, 0, h.Len())
	for _, r := range *h {
		// A packed run may mix levels; it carries the lowest, so that a
		// level-0 file is never hidden behind a higher one's label.
		lv := r[0].Level()
		for _, f := range r {
			lv = min(lv, f.Level())
		}
		runs = append(runs, lsm.SortedRun{Level: lv, Files: r})
	}
	return runs
}

type runHeap [][]*lsm.File

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	return lsm.CompareKeys(h[i][len(h[i])-1].MaxKey, h[j][len(h[j])-1].MaxKey) < 0
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.([]*lsm.File)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
