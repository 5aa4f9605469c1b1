package parquetio

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/stratalake/strata/spec"
)

// cursorBuffer is how many values a column cursor decodes at a time.
const cursorBuffer = 512

// errEndOfColumn is returned by a cursor whose column chunk is exhausted.
var errEndOfColumn = errors.New("end of column chunk")

// cursor streams the values of one column chunk, page by page. Values are
// converted (and byte arrays copied) as they are consumed, so a page can be
// released once its last value is taken.
type cursor struct {
	col    int
	chunk  *cachedChunk
	cache  *chunkCache
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader
	buf    []parquet.Value
	i, n   int
	done   bool
	maxDef int
	maxRep int
}

func (c *cursor) fill() error {
	for stalls := 0; c.i >= c.n; {
		if c.done {
			return errEndOfColumn
		}
		if c.values == nil {
			if c.page != nil {
				parquet.Release(c.page)
				c.page = nil
			}
			var pg parquet.Page
			err := guard("reading page", func() error {
				var err error
				pg, err = c.pages.ReadPage()
				return err
			})
			if errors.Is(err, io.EOF) {
				c.done = true
				continue
			}
			// The chunk is in memory (chunkCache), so a failure here is
			// in the data, not in I/O.
			if err != nil && !errors.Is(err, spec.ErrCorrupt) {
				err = fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
			}
			if err != nil {
				return fmt.Errorf("column %d: %w", c.col, err)
			}
			c.page = pg
			if err := guard("decoding page", func() error { c.values = pg.Values(); return nil }); err != nil {
				return fmt.Errorf("column %d: %w", c.col, err)
			}
			continue
		}
		var n int
		err := guard("decoding values", func() error {
			var err error
			n, err = c.values.ReadValues(c.buf)
			return err
		})
		if n < 0 || n > len(c.buf) {
			return fmt.Errorf("%w: column %d: page decoder returned %d values", spec.ErrCorrupt, c.col, n)
		}
		c.i, c.n = 0, n
		for _, v := range c.buf[:n] {
			if v.DefinitionLevel() > c.maxDef || v.RepetitionLevel() > c.maxRep {
				return fmt.Errorf("%w: column %d: levels (%d, %d) exceed (%d, %d)", spec.ErrCorrupt,
					c.col, v.RepetitionLevel(), v.DefinitionLevel(), c.maxRep, c.maxDef)
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			c.values = nil
		case err != nil:
			return fmt.Errorf("%w: column %d: %v", spec.ErrCorrupt, c.col, err)
		case n == 0:
			if stalls++; stalls > 3 {
				return fmt.Errorf("%w: column %d: page decoder makes no progress", spec.ErrCorrupt, c.col)
			}
		}
	}
	return nil
}

func (c *cursor) peek() (*parquet.Value, error) {
	if err := c.fill(); err != nil {
		return nil, err
	}
	return &c.buf[c.i], nil
}

func (c *cursor) next() (parquet.Value, error) {
	if err := c.fill(); err != nil {
		return parquet.Value{}, err
	}
	c.i++
	return c.buf[c.i-1], nil
}

func (c *cursor) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		_ = c.pages.Close()
	}
	if c.chunk != nil {
		c.cache.release(c.chunk)
	}
}

// assembler rebuilds nested values from column cursors (Dremel assembly).
type assembler struct {
	curs []*cursor // by column index; nil for columns not read
}

// atEnd reports an exhausted column as corruption: the row group's row count
// promised more values.
func atEnd(err error, col int) error {
	if errors.Is(err, errEndOfColumn) {
		return fmt.Errorf("%w: column %d ends early", spec.ErrCorrupt, col)
	}
	return err
}

// readRowGroup yields the rows of one row group; it returns false when the
// consumer stopped.
func (f *File) readRowGroup(index int, plan *readPlan, yield func(spec.Row, error) bool) (bool, error) {
	rg := f.pf.RowGroups()[index]
	md := &f.pf.Metadata().RowGroups[index]
	numRows := md.NumRows
	cols := slices.Clone(plan.cols)
	slices.Sort(cols)
	cols = slices.Compact(cols)
	a := assembler{curs: make([]*cursor, len(rg.ColumnChunks()))}
	defer func() {
		for _, c := range a.curs {
			if c != nil {
				c.close()
			}
		}
	}()
	for _, col := range cols {
		if col >= len(a.curs) || col >= len(f.leaves) {
			return false, fmt.Errorf("%w: column %d missing from row group", spec.ErrCorrupt, col)
		}
		leaf := f.leaves[col]
		c := &cursor{col: col, cache: f.cache, buf: make([]parquet.Value, cursorBuffer), maxDef: leaf.def, maxRep: leaf.repLevel}
		a.curs[col] = c
		meta := &md.Columns[col].MetaData
		chunk, err := f.cache.load(meta, numRows, leaf.repLevel > 0)
		if err != nil {
			return false, err
		}
		c.chunk = chunk
		if err := guard("opening column chunk", func() error {
			c.pages = rg.ColumnChunks()[col].Pages()
			return nil
		}); err != nil {
			return false, err
		}
	}
	for range numRows {
		for _, col := range cols {
			v, err := a.curs[col].peek()
			if err != nil {
				return false, atEnd(err, col)
			}
			if v.RepetitionLevel() != 0 {
				return false, fmt.Errorf("%w: column %d does not start a row where expected", spec.ErrCorrupt, col)
			}
		}
		row := make(spec.Row, len(plan.fields))
		for i, n := range plan.fields {
			if n == nil {
				continue
			}
			v, err := a.read(n)
			if err != nil {
				return false, err
			}
			row[i] = v
		}
		if plan.probe != nil {
			if _, err := a.read(plan.probe); err != nil {
				return false, err
			}
		}
		if !yield(row, nil) {
			return false, nil
		}
	}
	for _, col := range cols {
		if _, err := a.curs[col].peek(); !errors.Is(err, errEndOfColumn) {
			if err != nil {
				return false, err
			}
			return false, fmt.Errorf("%w: column %d holds values past the row group's %d rows", spec.ErrCorrupt, col, numRows)
		}
	}
	return true, nil
}

// peek returns the next value of col without consuming it.
func (a *assembler) peek(col int) (*parquet.Value, error) {
	v, err := a.curs[col].peek()
	if err != nil {
		return nil, atEnd(err, col)
	}
	return v, nil
}

// skipAbsent consumes the single entry each leaf under n has for an absent
// (null or empty) n, checking that every leaf agrees it is absent.
func (a *assembler) skipAbsent(n *rnode, empty bool) error {
	for _, col := range n.leaves {
		v, err := a.curs[col].next()
		if err != nil {
			return atEnd(err, col)
		}
		d := v.DefinitionLevel()
		if (empty && d != n.def) || (!empty && (d >= n.def || d < n.pdef)) {
			return fmt.Errorf("%w: column %s: inconsistent definition levels", spec.ErrCorrupt, n.path)
		}
	}
	return nil
}

// read assembles the next value of n.
func (a *assembler) read(n *rnode) (any, error) {
	switch n.kind {
	case kindLeaf:
		v, err := a.curs[n.col].next()
		if err != nil {
			return nil, atEnd(err, n.col)
		}
		if d := v.DefinitionLevel(); d < n.def {
			if !n.optional || d < n.pdef {
				return nil, fmt.Errorf("%w: column %s: unexpected null", spec.ErrCorrupt, n.path)
			}
			return nil, nil
		}
		if n.dec == decSkip {
			return nil, nil
		}
		if v.Kind() != n.pkind {
			return nil, fmt.Errorf("%w: column %s: value of kind %s, want %s", spec.ErrCorrupt, n.path, v.Kind(), n.pkind)
		}
		return decodeLeaf(n.dec, n.scale, v), nil

	case kindRow:
		if n.optional {
			v, err := a.peek(n.leaves[0])
			if err != nil {
				return nil, err
			}
			if v.DefinitionLevel() < n.def {
				return nil, a.skipAbsent(n, false)
			}
		}
		out := make(spec.Row, n.nout)
		for i, c := range n.children {
			v, err := a.read(c)
			if err != nil {
				return nil, err
			}
			if n.out[i] >= 0 {
				out[n.out[i]] = v
			}
		}
		return out, nil

	case kindList, kindMap:
		first := n.leaves[0]
		v, err := a.peek(first)
		if err != nil {
			return nil, err
		}
		switch d := v.DefinitionLevel(); {
		case d < n.def:
			if !n.optional {
				return nil, fmt.Errorf("%w: column %s: unexpected null", spec.ErrCorrupt, n.path)
			}
			return nil, a.skipAbsent(n, false)
		case d == n.def:
			if err := a.skipAbsent(n, true); err != nil {
				return nil, err
			}
			if n.kind == kindMap {
				return spec.Map{Keys: []any{}, Values: []any{}}, nil
			}
			return []any{}, nil
		}
		var elems, keys, values []any
		for {
			if n.kind == kindList {
				e, err := a.read(n.children[0])
				if err != nil {
					return nil, err
				}
				elems = append(elems, e)
			} else {
				k, err := a.read(n.children[0])
				if err != nil {
					return nil, err
				}
				var val any
				if len(n.children) > 1 {
					if val, err = a.read(n.children[1]); err != nil {
						return nil, err
					}
				}
				keys, values = append(keys, k), append(values, val)
			}
			v, err := a.curs[first].peek()
			if errors.Is(err, errEndOfColumn) {
				break
			}
			if err != nil {
				return nil, err
			}
			r := v.RepetitionLevel()
			if r > n.rep {
				return nil, fmt.Errorf("%w: column %s: inconsistent repetition levels", spec.ErrCorrupt, n.path)
			}
			if r < n.rep {
				break
			}
		}
		if n.kind == kindMap {
			return spec.Map{Keys: keys, Values: values}, nil
		}
		return elems, nil
	}
	return nil, fmt.Errorf("parquetio: unknown read node kind %d", n.kind)
}
