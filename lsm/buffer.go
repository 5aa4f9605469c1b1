package lsm

import (
	"slices"
)

// Buffer is the in-memory write buffer of one bucket: records appended in
// arrival order, each stamped with the next sequence number, and sorted and
// merged on flush.
type Buffer struct {
	kvs     []*KeyValue
	nextSeq int64
	bytes   int64
	spilled []spillRun // sorted runs on local disk
	spiller *Spiller
}

// NewBuffer returns a buffer whose first record gets sequence number
// nextSeq (one past the bucket's highest committed sequence number).
func NewBuffer(nextSeq int64) *Buffer { return &Buffer{nextSeq: nextSeq} }

// Add appends one record and stamps its sequence number.
func (b *Buffer) Add(kv *KeyValue, approxBytes int64) {
	kv.Seq = b.nextSeq
	b.nextSeq++
	b.kvs = append(b.kvs, kv)
	b.bytes += approxBytes
}

// Len is the number of buffered records in memory.
func (b *Buffer) Len() int { return len(b.kvs) }

// Empty reports whether nothing is buffered, in memory or spilled.
func (b *Buffer) Empty() bool { return len(b.kvs) == 0 && len(b.spilled) == 0 }

// Bytes is an estimate of the buffered size.
func (b *Buffer) Bytes() int64 { return b.bytes }

// NextSeq is the sequence number the next record will get.
func (b *Buffer) NextSeq() int64 { return b.nextSeq }

// Drain is DrainOrdered with the default ordering (no sequence.field).
func (b *Buffer) Drain(mf MergeFunction) ([]*KeyValue, error) { return b.DrainOrdered(mf, nil) }

// DrainOrdered sorts the buffered records by ord (key, sequence.field
// columns, sequence number), merges each key with mf and returns the merged
// records, emptying the buffer. Retractions are kept: a level-0 file must
// carry deletes down to older levels.
func (b *Buffer) DrainOrdered(mf MergeFunction, ord *Ordering) ([]*KeyValue, error) {
	if len(b.spilled) > 0 {
		return b.drainSpilled(mf, ord)
	}
	slices.SortFunc(b.kvs, ord.Compare) // seq makes the order total
	out := make([]*KeyValue, 0, len(b.kvs))
	// One sorted run: group equal keys in place rather than through the
	// k-way merge, whose iterator switching dominates a flush.
	for i := 0; i < len(b.kvs); {
		j := i + 1
		for j < len(b.kvs) && CompareKeys(b.kvs[j].Key, b.kvs[i].Key) == 0 {
			j++
		}
		mf.Reset()
		for _, kv := range b.kvs[i:j] {
			if err := mf.Add(kv); err != nil {
				return nil, err
			}
		}
		if res := mf.Result(); res != nil {
			out = append(out, res)
		}
		i = j
	}
	clear(b.kvs)
	b.kvs, b.bytes = b.kvs[:0], 0
	return out, nil
}
