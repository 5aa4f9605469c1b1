package lsm

import (
	"container/heap"
	"iter"
)

// GroupRuns merges sorted runs and yields, per key, every record of that key
// from every run in ord's order (sequence fields, then sequence number).
// Lookup and full-compaction changelog production need the raw group, not
// just the merged result. The slice is reused between keys.
func GroupRuns(runs []Run, ord *Ordering) iter.Seq2[[]*KeyValue, error] {
	return func(yield func([]*KeyValue, error) bool) {
		h := &kvHeap{ord: ord}
		stops := make([]func(), 0, len(runs))
		defer func() {
			for _, s := range stops {
				s()
			}
		}()
		for _, r := range runs {
			next, stop := iter.Pull2(r)
			stops = append(stops, stop)
			kv, err, ok := next()
			if err != nil {
				yield(nil, err)
				return
			}
			if ok {
				h.items = append(h.items, cursor{kv: kv, next: next})
			}
		}
		heap.Init(h)
		var group []*KeyValue
		for h.Len() > 0 {
			key := h.items[0].kv.Key
			group = group[:0]
			for h.Len() > 0 && CompareKeys(h.items[0].kv.Key, key) == 0 {
				c := &h.items[0]
				group = append(group, c.kv)
				kv, err, ok := c.next()
				if err != nil {
					yield(nil, err)
					return
				}
				if ok {
					c.kv = kv
					heap.Fix(h, 0)
				} else {
					heap.Pop(h)
				}
			}
			if !yield(group, nil) {
				return
			}
		}
	}
}
