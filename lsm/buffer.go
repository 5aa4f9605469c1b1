package lsm

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
