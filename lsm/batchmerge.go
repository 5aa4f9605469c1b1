package lsm

import (
	"bytes"
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
)

// BatchRun is a sorted run as Arrow record batches: each key at most once,
// ascending, with _SEQUENCE_NUMBER (BIGINT) and _VALUE_KIND (TINYINT) as the
// first two columns.
type BatchRun = iter.Seq2[arrow.RecordBatch, error]

// DedupBatches merges sorted runs as the deduplicate engine does: of a
// key's records the one with the highest sequence number wins, and is kept
// unless it is a retraction (-U, -D). It yields every input batch cut down
// to its winners, in the order the batches are used up, so rows come out in
// key order within a batch but not across batches. keyCols locate the key
// columns, whose types are keyTypes. The caller releases the batches.
//
// Memory holds one batch per run. Keys are compared as lookupfile.EncodeKey
// encodes them, which orders as the runs are sorted.
func DedupBatches(ctx context.Context, mem memory.Allocator, runs []BatchRun, keyCols []int, keyTypes []spec.DataType) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		cur := make([]*runCursor, 0, len(runs))
		defer func() {
			for _, c := range cur {
				c.close()
			}
		}()
		for _, r := range runs {
			next, stop := iter.Pull2(r)
			c := &runCursor{next: next, stop: stop, keyCols: keyCols, keyTypes: keyTypes}
			cur = append(cur, c)
		}
		// emit yields a used-up batch cut to its winners; false stops.
		emit := func(c *runCursor) bool {
			rec, err := c.finish(mem)
			if err != nil {
				yield(nil, err)
				return false
			}
			if rec != nil && !yield(rec, nil) {
				return false
			}
			return true
		}
		live := make([]*runCursor, 0, len(cur))
		for _, c := range cur {
			ok, err := c.load()
			if err != nil {
				yield(nil, err)
				return
			}
			if ok {
				live = append(live, c)
			}
		}
		same := make([]*runCursor, 0, len(live))
		for len(live) > 0 {
			var win *runCursor
			same, win = smallest(live, same)
			if !spec.RowKind(win.kind()).IsRetract() {
				win.keep[win.pos] = true
				win.kept++
			}
			for _, c := range same {
				c.pos++
				if c.pos < c.n {
					continue
				}
				if !emit(c) {
					return
				}
				ok, err := c.load()
				if err != nil {
					yield(nil, err)
					return
				}
				if !ok {
					live = removeCursor(live, c)
				}
			}
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// smallest puts into same (reused) every cursor positioned on the smallest
// current key among live, and returns them with the one whose record is
// newest (the highest sequence number), the deduplicate engine's winner.
func smallest(live, same []*runCursor) ([]*runCursor, *runCursor) {
	same = append(same[:0], live[0])
	minKey := live[0].key()
	for _, c := range live[1:] {
		switch k := c.key(); bytes.Compare(k, minKey) {
		case -1:
			minKey = k
			same = append(same[:0], c)
		case 0:
			same = append(same, c)
		}
	}
	win := same[0]
	for _, c := range same[1:] {
		if c.seq() > win.seq() {
			win = c
		}
	}
	return same, win
}

func removeCursor(cs []*runCursor, c *runCursor) []*runCursor {
	for i, x := range cs {
		if x == c {
			return append(cs[:i], cs[i+1:]...)
		}
	}
	return cs
}

// runCursor is one run's current batch and position in it.
type runCursor struct {
	next     func() (arrow.RecordBatch, error, bool)
	stop     func()
	keyCols  []int
	keyTypes []spec.DataType

	rec   arrow.RecordBatch
	n     int
	pos   int
	seqs  []int64
	kinds []int8
	keys  []byte // encoded keys, back to back
	offs  []int  // key i is keys[offs[i]:offs[i+1]]
	keep  []bool
	kept  int
	src   int // MergeBatches: the current batch's place among the sources
}

// load moves to the run's next non-empty batch; false at the end.
func (c *runCursor) load() (bool, error) {
	for {
		rec, err, ok := c.next()
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		c.rec, c.n, c.pos, c.kept = rec, int(rec.NumRows()), 0, 0
		seq, ok1 := rec.Column(0).(*array.Int64)
		kind, ok2 := rec.Column(1).(*array.Int8)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("%w: a run's batch lacks its system columns", spec.ErrSchemaMismatch)
		}
		c.seqs, c.kinds = seq.Int64Values(), kind.Int8Values()
		if cap(c.keep) < c.n {
			c.keep = make([]bool, c.n)
		}
		c.keep = c.keep[:c.n]
		clear(c.keep)
		if err := c.encodeKeys(); err != nil {
			return false, err
		}
		return true, nil
	}
}

func (c *runCursor) key() []byte { return c.keys[c.offs[c.pos]:c.offs[c.pos+1]] }
func (c *runCursor) seq() int64  { return c.seqs[c.pos] }
func (c *runCursor) kind() int8  { return c.kinds[c.pos] }

// finish returns the used-up batch cut to its winners (nil when none won)
// and lets go of it.
func (c *runCursor) finish(mem memory.Allocator) (arrow.RecordBatch, error) {
	rec := c.rec
	c.rec = nil
	defer rec.Release()
	switch c.kept {
	case 0:
		return nil, nil
	case c.n:
		rec.Retain()
		return rec, nil
	}
	return predicate.Select(mem, rec, c.keep)
}

func (c *runCursor) close() {
	if c.rec != nil {
		c.rec.Release()
		c.rec = nil
	}
	c.stop()
}

// encodeKeys encodes every row's key of the current batch.
func (c *runCursor) encodeKeys() error {
	if cap(c.offs) < c.n+1 {
		c.offs = make([]int, c.n+1)
	}
	c.offs = c.offs[:c.n+1]
	cols := make([]arrow.Array, len(c.keyCols))
	for j, col := range c.keyCols {
		cols[j] = c.rec.Column(col)
	}
	var err error
	c.keys, err = appendKeys(c.keys[:0], c.offs, cols, c.keyTypes)
	return err
}

// appendKeys appends the key encoding (lookupfile.EncodeKey's) of each row
// of the key columns cols to dst, column by column: BIGINT, INT, DATE and
// string keys directly, other types through their values. Row i's key
// starts at offs[i] (the end is offs[n]).
func appendKeys(dst []byte, offs []int, cols []arrow.Array, types []spec.DataType) ([]byte, error) {
	if len(cols) == 1 {
		// One key column: each row's key is just that column's encoding.
		return appendKeyColumn(dst, offs, cols[0], types[0])
	}
	// Several columns: encode each column apart, then interleave per row.
	n := cols[0].Len()
	parts := make([][]byte, len(cols))
	partOffs := make([][]int, len(cols))
	for j, col := range cols {
		partOffs[j] = make([]int, n+1)
		var err error
		if parts[j], err = appendKeyColumn(nil, partOffs[j], col, types[j]); err != nil {
			return nil, err
		}
	}
	for i := range n {
		offs[i] = len(dst)
		for j := range parts {
			dst = append(dst, parts[j][partOffs[j][i]:partOffs[j][i+1]]...)
		}
	}
	offs[n] = len(dst)
	return dst, nil
}

// appendKeyColumn appends the key encoding of each row of a to dst,
// recording row i's start in offs[i] (and the end in offs[len]).
func appendKeyColumn(dst []byte, offs []int, a arrow.Array, t spec.DataType) ([]byte, error) {
	n := a.Len()
	switch x := a.(type) {
	case *array.Int64:
		for i, v := range x.Int64Values() {
			offs[i] = len(dst)
			if x.IsNull(i) {
				dst = lookupfile.AppendNullKey(dst)
				continue
			}
			dst = lookupfile.AppendBigIntKey(dst, v)
		}
	case *array.Int32:
		for i, v := range x.Int32Values() {
			offs[i] = len(dst)
			if x.IsNull(i) {
				dst = lookupfile.AppendNullKey(dst)
				continue
			}
			dst = lookupfile.AppendIntKey(dst, v)
		}
	case *array.String:
		for i := range n {
			offs[i] = len(dst)
			if x.IsNull(i) {
				dst = lookupfile.AppendNullKey(dst)
				continue
			}
			dst = lookupfile.AppendStringKey(dst, x.Value(i))
		}
	default:
		types, one := []spec.DataType{t}, make(spec.Row, 1)
		for i := range n {
			offs[i] = len(dst)
			v, err := arrowconv.Value(a, i, t)
			if err != nil {
				return nil, err
			}
			one[0] = v
			if dst, err = lookupfile.EncodeKey(dst, types, one); err != nil {
				return nil, err
			}
		}
	}
	offs[n] = len(dst)
	return dst, nil
}
