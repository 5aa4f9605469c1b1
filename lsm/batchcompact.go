package lsm

import (
	"context"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// MergeBatches merges sorted runs as the deduplicate engine does, for
// compaction: of a key's records the one with the highest sequence number
// wins; with dropDelete a winning retraction is left out. Output batches
// (of schema, the BatchRun form) are in key order, their values gathered
// column by column from the runs' batches. keyCols locate the key columns,
// whose types are keyTypes. Memory holds about two batches per run. The
// caller releases the batches.
func MergeBatches(ctx context.Context, mem memory.Allocator, schema *arrow.Schema, runs []BatchRun, keyCols []int, keyTypes []spec.DataType, dropDelete bool) BatchRun {
	return func(yield func(arrow.RecordBatch, error) bool) {
		m := &batchMerge{mem: mem, schema: schema}
		defer m.close()
		for _, r := range runs {
			next, stop := iter.Pull2(r)
			c := &runCursor{next: next, stop: stop, keyCols: keyCols, keyTypes: keyTypes}
			m.cursors = append(m.cursors, c)
			ok, err := c.load()
			if err != nil {
				yield(nil, err)
				return
			}
			if ok {
				m.live = append(m.live, c)
				m.addSource(c)
			}
		}
		same := make([]*runCursor, 0, len(m.live))
		for len(m.live) > 0 {
			var win *runCursor
			same, win = smallest(m.live, same)
			if !dropDelete || !spec.RowKind(win.kind()).IsRetract() {
				m.picks = append(m.picks, arrowconv.Pick{Src: uint32(win.src), Row: uint32(win.pos)})
				m.seqs = append(m.seqs, win.seq())
				m.kinds = append(m.kinds, win.kind())
			}
			for _, c := range same {
				if err := m.advance(c); err != nil {
					yield(nil, err)
					return
				}
			}
			if len(m.picks) >= outRows {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				rec, err := m.emit()
				if err != nil || !yield(rec, nil) {
					if err != nil {
						yield(nil, err)
					}
					return
				}
			}
		}
		if len(m.picks) > 0 {
			rec, err := m.emit()
			if err != nil {
				yield(nil, err)
				return
			}
			yield(rec, nil)
		}
	}
}

// batchMerge is MergeBatches' state: the cursors, and the batches the
// pending picks come from (current ones, and ones used up since the last
// output batch).
type batchMerge struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	cursors []*runCursor
	live    []*runCursor
	sources []arrow.RecordBatch
	retired []arrow.RecordBatch
	picks   []arrowconv.Pick
	seqs    []int64
	kinds   []int8
}

func (m *batchMerge) addSource(c *runCursor) {
	c.src = len(m.sources)
	m.sources = append(m.sources, c.rec)
}

// advance moves c past its current record, loading its next batch (and
// keeping the used-up one for the pending output) at a batch's end.
func (m *batchMerge) advance(c *runCursor) error {
	c.pos++
	if c.pos < c.n {
		return nil
	}
	m.retired = append(m.retired, c.rec)
	c.rec = nil
	ok, err := c.load()
	if err != nil {
		return err
	}
	if !ok {
		m.live = removeCursor(m.live, c)
		return nil
	}
	m.addSource(c)
	return nil
}

// emit gathers the pending picks into a batch and lets go of the batches
// no cursor still reads.
func (m *batchMerge) emit() (arrow.RecordBatch, error) {
	cols := make([][]arrow.Array, m.schema.NumFields()-2)
	for j := range cols {
		cols[j] = make([]arrow.Array, len(m.sources))
		for s, rec := range m.sources {
			cols[j][s] = rec.Column(2 + j)
		}
	}
	rec, err := gatherRun(m.mem, m.schema, cols, m.picks, m.seqs, m.kinds)
	m.picks, m.seqs, m.kinds = m.picks[:0], m.seqs[:0], m.kinds[:0]
	for _, r := range m.retired {
		r.Release()
	}
	m.retired = m.retired[:0]
	m.sources = m.sources[:0]
	for _, c := range m.live {
		m.addSource(c)
	}
	return rec, err
}

func (m *batchMerge) close() {
	for _, r := range m.retired {
		r.Release()
	}
	for _, c := range m.cursors {
		c.close()
	}
}
