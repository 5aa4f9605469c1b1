package lsm

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/spec"
)

// chunkRows is how many rows added one at a time become one chunk.
const chunkRows = 4096

// outRows caps the rows of a batch a merge yields.
const outRows = 4096

// BatchBuffer is the columnar write buffer of one bucket of a deduplicate
// table: values held as Arrow chunks, and per record a normalized key (the
// order-preserving encoding of lookupfile.EncodeKey), so that sorting and
// merging compare bytes and a flush moves values column by column. Records
// get sequence numbers in arrival order.
type BatchBuffer struct {
	fields   []spec.DataField // value fields (the table's columns)
	keyIndex []int
	keyTypes []spec.DataType
	mem      memory.Allocator

	chunks  []arrow.RecordBatch // value columns, arrowconv.Schema's types
	bld     *arrowconv.Builder  // rows added one at a time: the next chunk
	ents    []bufEntry
	keys    []byte // normalized keys, back to back
	offs    []int  // scratch for appendKeys
	nextSeq int64
	bytes   int64
	sorted  bool
}

// bufEntry is one buffered record. prefix holds the key's first eight
// bytes, so most comparisons never touch the key arena.
type bufEntry struct {
	prefix uint64
	seq    int64
	off    uint32 // key start in keys
	klen   uint32
	chunk  uint32
	row    uint32
	kind   int8
}

// NewBatchBuffer returns an empty buffer whose first record gets sequence
// number nextSeq.
func NewBatchBuffer(mem memory.Allocator, fields []spec.DataField, keyIndex []int, nextSeq int64) (*BatchBuffer, error) {
	bld, err := arrowconv.NewBuilder(mem, fields)
	if err != nil {
		return nil, err
	}
	kt := make([]spec.DataType, len(keyIndex))
	for i, j := range keyIndex {
		kt[i] = fields[j].Type
	}
	return &BatchBuffer{fields: fields, keyIndex: keyIndex, keyTypes: kt, mem: mem, bld: bld, nextSeq: nextSeq}, nil
}

// Empty reports whether nothing is buffered.
func (b *BatchBuffer) Empty() bool { return len(b.ents) == 0 }

// Bytes is the memory the buffered records hold, approximately.
func (b *BatchBuffer) Bytes() int64 { return b.bytes }

// NextSeq is the sequence number the next record will get.
func (b *BatchBuffer) NextSeq() int64 { return b.nextSeq }

// AddRow buffers one record given as values.
func (b *BatchBuffer) AddRow(kind spec.RowKind, row spec.Row) error {
	if err := b.bld.Append(row); err != nil {
		return err
	}
	key := make(spec.Row, len(b.keyIndex))
	for i, j := range b.keyIndex {
		key[i] = row[j]
	}
	start := len(b.keys)
	var err error
	if b.keys, err = lookupfile.EncodeKey(b.keys, b.keyTypes, key); err != nil {
		return err
	}
	b.add(start, len(b.keys), uint32(len(b.chunks)), uint32(b.bld.Len()-1), int8(kind))
	b.bytes += ApproxRowBytes(row)
	if b.bld.Len() >= chunkRows {
		b.seal()
	}
	return nil
}

func (b *BatchBuffer) add(start, end int, chunk, row uint32, kind int8) {
	var p [8]byte
	copy(p[:], b.keys[start:end])
	b.ents = append(b.ents, bufEntry{prefix: binary.BigEndian.Uint64(p[:]), seq: b.nextSeq,
		off: uint32(start), klen: uint32(end - start), chunk: chunk, row: row, kind: kind})
	b.nextSeq++
	b.sorted = false
}

// seal turns the rows added one at a time into a chunk.
func (b *BatchBuffer) seal() {
	if b.bld.Len() == 0 {
		return
	}
	rec := b.bld.NewBatch()
	b.chunks = append(b.chunks, rec)
}

// AddBatch buffers the rows sel of value columns cols (the table's columns
// in order, arrowconv.Schema's types; all rows when sel is nil), with
// kinds[row] as each row's kind (all inserts when kinds is nil). The columns
// are retained, not copied: a batch routed to several buckets is shared by
// their buffers, each counting its share of the batch's memory, until the
// last of them flushes. The caller keeps its own reference.
func (b *BatchBuffer) AddBatch(cols []arrow.Array, sel []int32, kinds []int8) error {
	b.seal()
	total := cols[0].Len()
	n := total
	if sel != nil {
		n = len(sel)
	}
	if n == 0 {
		return nil
	}
	// The keys of the selected rows, column by column.
	keyCols := make([]arrow.Array, len(b.keyIndex))
	for i, j := range b.keyIndex {
		keyCols[i] = cols[j]
	}
	if sel != nil {
		picks := make([]arrowconv.Pick, n)
		for i, r := range sel {
			picks[i] = arrowconv.Pick{Row: uint32(r)}
		}
		src := make([]arrow.Array, 1)
		for i, j := range b.keyIndex {
			src[0] = cols[j]
			g, err := arrowconv.Gather(b.mem, src, picks)
			if err != nil {
				return fmt.Errorf("column %s: %w", b.fields[j].Name, err)
			}
			defer g.Release()
			keyCols[i] = g
		}
	}
	if cap(b.offs) < n+1 {
		b.offs = make([]int, n+1)
	}
	offs := b.offs[:n+1]
	var err error
	if b.keys, err = appendKeys(b.keys, offs, keyCols, b.keyTypes); err != nil {
		return err
	}
	rec := array.NewRecordBatch(b.bld.Schema(), cols, int64(total))
	chunk := uint32(len(b.chunks))
	b.chunks = append(b.chunks, rec)
	for i := range n {
		r := i
		if sel != nil {
			r = int(sel[i])
		}
		k := int8(0)
		if kinds != nil {
			k = kinds[r]
		}
		b.add(offs[i], offs[i+1], chunk, uint32(r), k)
	}
	var size int64
	for _, c := range cols {
		for _, buf := range c.Data().Buffers() {
			if buf != nil {
				size += int64(buf.Len())
			}
		}
	}
	b.bytes += size*int64(n)/int64(total) + int64(n)*int64(40+offs[n]-offs[0])/int64(n)
	return nil
}

func (b *BatchBuffer) key(e *bufEntry) []byte { return b.keys[e.off : e.off+e.klen] }

// sort orders the records by key, then sequence number.
func (b *BatchBuffer) sort() {
	if b.sorted {
		return
	}
	b.ents = sortEntries(b.ents, make([]bufEntry, len(b.ents)), b.key)
	b.sorted = true
}

// Deduplicated yields the buffer merged as the deduplicate engine merges:
// per key its newest record, retractions kept (a level-0 file must carry
// deletes down to older levels), in key order, as BatchRun batches the
// consumer releases. The buffer must not change while it is read.
func (b *BatchBuffer) Deduplicated() BatchRun {
	return func(yield func(arrow.RecordBatch, error) bool) {
		b.seal()
		b.sort()
		schema, err := b.runSchema()
		if err != nil {
			yield(nil, err)
			return
		}
		picks := make([]arrowconv.Pick, 0, outRows)
		seqs := make([]int64, 0, outRows)
		kinds := make([]int8, 0, outRows)
		srcs := make([][]arrow.Array, len(b.fields))
		for j := range srcs {
			srcs[j] = make([]arrow.Array, len(b.chunks))
			for c, rec := range b.chunks {
				srcs[j][c] = rec.Column(j)
			}
		}
		emit := func() bool {
			rec, err := gatherRun(b.mem, schema, srcs, picks, seqs, kinds)
			picks, seqs, kinds = picks[:0], seqs[:0], kinds[:0]
			if err != nil {
				yield(nil, err)
				return false
			}
			return yield(rec, nil)
		}
		ents := b.ents
		for i := range ents {
			e := &ents[i]
			if i+1 < len(ents) && ents[i+1].prefix == e.prefix && bytes.Equal(b.key(&ents[i+1]), b.key(e)) {
				continue // a newer record of the key follows
			}
			picks = append(picks, arrowconv.Pick{Src: e.chunk, Row: e.row})
			seqs = append(seqs, e.seq)
			kinds = append(kinds, e.kind)
			if len(picks) == outRows && !emit() {
				return
			}
		}
		if len(picks) > 0 {
			emit()
		}
	}
}

// runSchema is the schema of BatchRun batches of the buffer's values.
func (b *BatchBuffer) runSchema() (*arrow.Schema, error) {
	return arrowconv.Schema(append(parquetio.SystemFields(), b.fields...))
}

// Reset empties the buffer; sequence numbers go on.
func (b *BatchBuffer) Reset() {
	for _, c := range b.chunks {
		c.Release()
	}
	if b.bld.Len() > 0 {
		b.bld.NewBatch().Release()
	}
	b.chunks, b.ents, b.keys, b.bytes, b.sorted = b.chunks[:0], b.ents[:0], b.keys[:0], 0, false
}

// Release frees the buffer's memory.
func (b *BatchBuffer) Release() {
	b.Reset()
	b.bld.Release()
}

// gatherRun builds one BatchRun batch: the picked values with their
// sequence numbers and kinds.
func gatherRun(mem memory.Allocator, schema *arrow.Schema, srcs [][]arrow.Array, picks []arrowconv.Pick, seqs []int64, kinds []int8) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, 0, 2+len(srcs))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	sb := array.NewInt64Builder(mem)
	sb.AppendValues(seqs, nil)
	cols = append(cols, sb.NewArray())
	sb.Release()
	kb := array.NewInt8Builder(mem)
	kb.AppendValues(kinds, nil)
	cols = append(cols, kb.NewArray())
	kb.Release()
	for _, s := range srcs {
		g, err := arrowconv.Gather(mem, s, picks)
		if err != nil {
			return nil, err
		}
		cols = append(cols, g)
	}
	return array.NewRecordBatch(schema, cols, int64(len(picks))), nil
}

// ApproxRowBytes estimates the memory a buffered row holds: what write
// buffers count against write-buffer-size.
func ApproxRowBytes(row spec.Row) int64 {
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
