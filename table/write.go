package table

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// CommitMessage is what a writer hands to the committer for one bucket of one
// partition: the files it added (and, after compaction, replaced).
type CommitMessage struct {
	Partition    []byte // serialized BinaryRow
	Bucket       int32
	TotalBuckets int32
	NewFiles     []spec.DataFileMeta
}

// Write buffers rows per bucket and turns them into level-0 files. It is not
// safe for concurrent use.
type Write struct {
	t       *Table
	buckets map[int32]*bucketWriter
	keyBuf  []spec.DataType
	bkIdx   []int
	mergeFn func() (lsm.MergeFunction, error)
}

type bucketWriter struct {
	bucket int32
	buf    *lsm.Buffer
	fw     *lsm.FileWriter
	files  []spec.DataFileMeta
}

// NewWrite starts a write to the table's latest snapshot.
func (t *Table) NewWrite(ctx context.Context) (*Write, error) {
	if err := t.checkWritable(); err != nil {
		return nil, err
	}
	w := &Write{t: t, buckets: map[int32]*bucketWriter{}}
	for _, name := range t.schema.BucketKeys() {
		i := t.schema.FieldIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("%w: bucket key %s is not a column", spec.ErrInvalidSchema, name)
		}
		w.bkIdx = append(w.bkIdx, i)
		w.keyBuf = append(w.keyBuf, t.schema.Fields[i].Type)
	}
	w.mergeFn = func() (lsm.MergeFunction, error) {
		return lsm.NewMergeFunction(lsm.MergeOptions{Engine: string(t.opts.MergeEngine), IgnoreDelete: t.opts.IgnoreDelete})
	}
	if _, err := w.mergeFn(); err != nil {
		return nil, err
	}
	// Sequence numbers continue per bucket from the live files.
	snap, err := t.snapshots.Latest(ctx)
	if err != nil {
		return nil, err
	}
	if snap != nil {
		files, err := t.liveFiles(ctx, snap)
		if err != nil {
			return nil, err
		}
		for _, e := range files {
			bw := w.bucketWriter(e.Bucket, 0)
			if next := e.File.MaxSequenceNumber + 1; next > bw.buf.NextSeq() {
				bw.buf = lsm.NewBuffer(next)
			}
		}
	}
	return w, nil
}

func (w *Write) bucketWriter(bucket int32, nextSeq int64) *bucketWriter {
	bw, ok := w.buckets[bucket]
	if !ok {
		dir := w.t.bucketDir("", bucket)
		bw = &bucketWriter{bucket: bucket, buf: lsm.NewBuffer(nextSeq),
			fw: lsm.NewFileWriter(w.t.fs, dir, w.t.opts.DataFilePrefix, w.t.layout, w.t.opts.TargetFileSizeBytes(true))}
		w.buckets[bucket] = bw
	}
	return bw
}

// BucketOf returns the bucket a row belongs to: Paimon's hash of the
// bucket-key BinaryRow modulo the bucket count.
func (w *Write) BucketOf(row spec.Row) (int32, error) {
	vals := make(spec.Row, len(w.bkIdx))
	for i, j := range w.bkIdx {
		vals[i] = row[j]
	}
	b, err := spec.EncodeBinaryRow(w.keyBuf, vals, spec.RowKindInsert)
	if err != nil {
		return 0, err
	}
	return int32(spec.Bucket(spec.HashBinaryRow(b), w.t.opts.Bucket)), nil
}

// Write adds one row with its change kind. The row must have one value per
// column, of the column's Go type (see package spec).
func (w *Write) Write(ctx context.Context, kind spec.RowKind, row spec.Row) error {
	if err := w.t.checkRow(row); err != nil {
		return err
	}
	bucket, err := w.BucketOf(row)
	if err != nil {
		return err
	}
	bw := w.bucketWriter(bucket, 0)
	bw.buf.Add(&lsm.KeyValue{Key: w.t.layout.KeyOf(row), Kind: kind, Value: row}, approxSize(row))
	if bw.buf.Bytes() >= w.t.opts.WriteBufferSize {
		return w.flush(ctx, bw)
	}
	return nil
}

// checkRow validates arity, nullability and Go types of a row.
func (t *Table) checkRow(row spec.Row) error {
	if len(row) != len(t.schema.Fields) {
		return fmt.Errorf("%w: row has %d values, table has %d columns", spec.ErrSchemaMismatch, len(row), len(t.schema.Fields))
	}
	for i, f := range t.schema.Fields {
		if row[i] == nil && !f.Type.Nullable {
			return fmt.Errorf("%w: column %s is NOT NULL", spec.ErrSchemaMismatch, f.Name)
		}
	}
	return nil
}

func approxSize(row spec.Row) int64 {
	n := int64(64 + 16*len(row))
	for _, v := range row {
		switch x := v.(type) {
		case string:
			n += int64(len(x))
		case []byte:
			n += int64(len(x))
		}
	}
	return n
}

func (w *Write) flush(ctx context.Context, bw *bucketWriter) error {
	if bw.buf.Len() == 0 {
		return nil
	}
	mf, err := w.mergeFn()
	if err != nil {
		return err
	}
	kvs, err := bw.buf.Drain(mf)
	if err != nil {
		return err
	}
	if len(kvs) == 0 {
		return nil
	}
	files, err := bw.fw.Write(ctx, kvs, 0, spec.FileSourceAppend)
	if err != nil {
		return err
	}
	bw.files = append(bw.files, files...)
	return nil
}

// PrepareCommit flushes every bucket and returns one message per bucket that
// has new files. The write can go on afterwards.
func (w *Write) PrepareCommit(ctx context.Context) ([]CommitMessage, error) {
	buckets := make([]int32, 0, len(w.buckets))
	for b := range w.buckets {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	var msgs []CommitMessage
	for _, b := range buckets {
		bw := w.buckets[b]
		if err := w.flush(ctx, bw); err != nil {
			return nil, err
		}
		if len(bw.files) == 0 {
			continue
		}
		msgs = append(msgs, CommitMessage{Partition: spec.SerializedEmptyRow(), Bucket: b,
			TotalBuckets: int32(w.t.opts.Bucket), NewFiles: bw.files})
		bw.files = nil
	}
	return msgs, nil
}

// setNextSeq makes the bucket's next record get sequence number seq; tests
// use it to line up with Java-written files.
func (w *Write) setNextSeq(bucket int32, seq int64) {
	w.bucketWriter(bucket, 0).buf = lsm.NewBuffer(seq)
}
