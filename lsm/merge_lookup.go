package lsm

// LookupMerger is Java's LookupMergeFunction, which wraps the engine's merge
// function (all engines but first-row) when a changelog producer or deletion
// vectors make Paimon look records up: in that mode a record at level >= 1
// is already fully merged, so only the newest such version matters. It
// collects a key's records with their levels and, on Result, feeds the inner
// function every record above level 1 (the write buffer's -1 and level 0)
// plus the one high-level record with the smallest level (the first of
// equals), in arrival order. Older high-level versions are ignored.
//
// spec.KeyValue carries no level, so LookupMerger takes it alongside each
// record and does not implement MergeFunction; Result can fail because the
// inner merge runs there.
type LookupMerger struct {
	inner  MergeFunction
	kvs    []*KeyValue
	levels []int
}

// NewLookupMerger wraps inner, a fresh function from a MergeFunctionFactory.
func NewLookupMerger(inner MergeFunction) *LookupMerger { return &LookupMerger{inner: inner} }

// Reset starts a new key.
func (l *LookupMerger) Reset() { l.kvs, l.levels = l.kvs[:0], l.levels[:0] }

// Add collects a record and the level of the file it came from (-1 for the
// write buffer).
func (l *LookupMerger) Add(kv *KeyValue, level int) {
	l.kvs = append(l.kvs, kv)
	l.levels = append(l.levels, level)
}

// PickHighLevel returns the position among the collected records of the
// high-level record Result will use, or -1 when every record is at level 0
// or below.
func (l *LookupMerger) PickHighLevel() int {
	pick := -1
	for i, lv := range l.levels {
		if lv > 0 && (pick < 0 || lv < l.levels[pick]) {
			pick = i
		}
	}
	return pick
}

// Result merges the records that matter and returns the inner function's
// result.
func (l *LookupMerger) Result() (*KeyValue, error) {
	l.inner.Reset()
	pick := l.PickHighLevel()
	for i, kv := range l.kvs {
		if l.levels[i] <= 0 || i == pick {
			if err := l.inner.Add(kv); err != nil {
				return nil, err
			}
		}
	}
	return l.inner.Result(), nil
}
