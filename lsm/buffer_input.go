package lsm

import "slices"

// DrainWithInput is DrainOrdered that, with keepInput, also returns the raw
// records in sorted order (the input changelog producer writes them). Raw
// records are copied, since merging may hand them on.
func (b *Buffer) DrainWithInput(mf MergeFunction, ord *Ordering, keepInput bool) (raw, merged []*KeyValue, err error) {
	if keepInput && len(b.spilled) > 0 {
		slices.SortFunc(b.kvs, ord.Compare) // seq makes the order total
		runs := []Run{SliceRun(b.kvs)}
		for _, r := range b.spilled {
			runs = append(runs, b.spiller.readSpill(r.path))
		}
		for group, err := range GroupRuns(runs, ord) {
			if err != nil {
				return nil, nil, err
			}
			for _, kv := range group {
				c := *kv
				raw = append(raw, &c)
			}
		}
	} else if keepInput {
		slices.SortFunc(b.kvs, ord.Compare) // seq makes the order total
		raw = make([]*KeyValue, len(b.kvs))
		for i, kv := range b.kvs {
			c := *kv
			raw[i] = &c
		}
	}
	merged, err = b.DrainOrdered(mf, ord)
	return raw, merged, err
}
