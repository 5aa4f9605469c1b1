package lsm

import (
	"iter"
	"slices"
)

// runs sorts the in-memory records and returns them with the spilled runs.
func (b *Buffer) runs(ord *Ordering) []Run {
	slices.SortFunc(b.kvs, ord.Compare) // seq makes the order total
	runs := []Run{SliceRun(b.kvs)}
	for _, r := range b.spilled {
		runs = append(runs, b.spiller.readSpill(r.path))
	}
	return runs
}

// Input streams every buffered record, raw, in (key, sequence) order: what
// the input changelog producer writes. Call it before Merged; both read
// the same buffer.
func (b *Buffer) Input(ord *Ordering) iter.Seq2[*KeyValue, error] {
	runs := b.runs(ord)
	if len(runs) == 1 {
		return runs[0]
	}
	return func(yield func(*KeyValue, error) bool) {
		for group, err := range GroupRuns(runs, ord) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, kv := range group {
				if !yield(kv, nil) {
					return
				}
			}
		}
	}
}

// Merged streams the buffered records merged per key by mf, in key order,
// retractions kept (a level-0 file must carry deletes down to older
// levels). Spilled runs are merged from disk, so memory stays bounded.
func (b *Buffer) Merged(mf MergeFunction, ord *Ordering) iter.Seq2[*KeyValue, error] {
	runs := b.runs(ord)
	if len(runs) > 1 {
		return MergeRunsOrdered(runs, mf, ord)
	}
	kvs := b.kvs
	// One sorted run: group equal keys in place rather than through the
	// k-way merge, whose iterator switching dominates a flush.
	return func(yield func(*KeyValue, error) bool) {
		for i := 0; i < len(kvs); {
			j := i + 1
			for j < len(kvs) && CompareKeys(kvs[j].Key, kvs[i].Key) == 0 {
				j++
			}
			mf.Reset()
			for _, kv := range kvs[i:j] {
				if err := addRecord(mf, kv); err != nil {
					yield(nil, err)
					return
				}
			}
			if res := mf.Result(); res != nil && !yield(res, nil) {
				return
			}
			i = j
		}
	}
}

// Reset empties the buffer, spill files included; sequence numbers go on.
func (b *Buffer) Reset() {
	b.discardSpill()
	clear(b.kvs)
	b.kvs, b.bytes = b.kvs[:0], 0
}

// DrainOrdered collects Merged and empties the buffer.
func (b *Buffer) DrainOrdered(mf MergeFunction, ord *Ordering) ([]*KeyValue, error) {
	_, merged, err := b.DrainWithInput(mf, ord, false)
	return merged, err
}

// DrainWithInput collects Input (with keepInput, as copies) and Merged, and
// empties the buffer.
func (b *Buffer) DrainWithInput(mf MergeFunction, ord *Ordering, keepInput bool) (raw, merged []*KeyValue, err error) {
	defer b.Reset()
	if keepInput {
		for kv, err := range b.Input(ord) {
			if err != nil {
				return nil, nil, err
			}
			c := *kv
			raw = append(raw, &c)
		}
	}
	for kv, err := range b.Merged(mf, ord) {
		if err != nil {
			return nil, nil, err
		}
		merged = append(merged, kv)
	}
	return raw, merged, nil
}

// Arrival streams the buffered records in the order they were added, for
// append tables, which keep rows as written. Nothing is spilled for them.
func (b *Buffer) Arrival() iter.Seq2[*KeyValue, error] { return SliceRun(b.kvs) }
