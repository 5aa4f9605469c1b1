package lsm

import (
	"iter"
)

// Run is one sorted run: records in Ordering order (key, sequence.field
// columns, seq), each key at most once per run for merged runs (raw input
// runs may repeat a key).
type Run = iter.Seq2[*KeyValue, error]

// MergeRuns is MergeRunsOrdered with the default ordering (no
// sequence.field).
func MergeRuns(runs []Run, mf MergeFunction) iter.Seq2[*KeyValue, error] {
	return MergeRunsOrdered(runs, mf, nil)
}

// MergeRunsOrdered merges sorted runs into one stream of merged records: for
// each key, every record from every run is fed to mf in ord's order and the
// result (if any) is yielded. Memory is bounded by the number of runs plus
// the records of one key.
func MergeRunsOrdered(runs []Run, mf MergeFunction, ord *Ordering) iter.Seq2[*KeyValue, error] {
	return func(yield func(*KeyValue, error) bool) {
		for group, err := range GroupRuns(runs, ord) {
			var res *KeyValue
			if err == nil {
				res, err = mergeGroup(mf, group)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if res != nil && !yield(res, nil) {
				return
			}
		}
	}
}

type cursor struct {
	kv   *KeyValue
	next func() (*KeyValue, error, bool)
}

type kvHeap struct {
	items []cursor
	ord   *Ordering
}

func (h *kvHeap) Len() int           { return len(h.items) }
func (h *kvHeap) Less(i, j int) bool { return h.ord.Compare(h.items[i].kv, h.items[j].kv) < 0 }
func (h *kvHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *kvHeap) Push(x any)         { h.items = append(h.items, x.(cursor)) }
func (h *kvHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// SliceRun turns sorted records into a Run.
func SliceRun(kvs []*KeyValue) Run {
	return func(yield func(*KeyValue, error) bool) {
		for _, kv := range kvs {
			if !yield(kv, nil) {
				return
			}
		}
	}
}
