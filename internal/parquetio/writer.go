package parquetio

import (
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// CreatedBy is the created_by string of files Strata writes. It is not
// "parquet-mr", so readers apply none of their parquet-mr bug workarounds.
const CreatedBy = "strata version 0.1.0"

// Compression names a page compression codec.
type Compression uint8

// The codecs Paimon's file.compression accepts that Strata writes.
const (
	// CompressionZstd is Paimon's default (zstd level 1).
	CompressionZstd Compression = iota
	// CompressionSnappy is Paimon's file.compression=snappy.
	CompressionSnappy
	// CompressionNone stores pages uncompressed.
	CompressionNone
)

// Defaults follow parquet-mr as Paimon configures it.
const (
	// DefaultRowGroupSize is parquet.block.size (128 MiB).
	DefaultRowGroupSize = 128 << 20
	// DefaultPageSize is parquet.page.size (1 MiB).
	DefaultPageSize = 1 << 20
	// DefaultDictionarySize is parquet.dictionary.page.size (1 MiB); a
	// column whose dictionary grows past it falls back to PLAIN.
	DefaultDictionarySize = 1 << 20
)

type options struct {
	compression  Compression
	rowGroupSize int64
	pageSize     int
	dictionary   bool
}

// Option configures a Writer.
type Option func(*options)

// WithCompression sets the page codec (default CompressionZstd).
func WithCompression(c Compression) Option { return func(o *options) { o.compression = c } }

// WithRowGroupSize sets the approximate size in bytes at which the Writer
// closes a row group (default DefaultRowGroupSize).
func WithRowGroupSize(bytes int64) Option { return func(o *options) { o.rowGroupSize = bytes } }

// WithPageSize sets the uncompressed size in bytes at which a column's page is
// cut (default DefaultPageSize).
func WithPageSize(bytes int) Option { return func(o *options) { o.pageSize = bytes } }

// WithDictionary turns dictionary encoding of string, binary, small-integer,
// date and decimal columns on or off (default on).
func WithDictionary(on bool) Option { return func(o *options) { o.dictionary = on } }

// Writer writes rows of a fixed Paimon row type to one Parquet file. It is not
// safe for concurrent use. After Write or Close fails, the file is unusable
// and every later call returns the same error.
type Writer struct {
	out     *tailWriter
	pw      *parquet.Writer
	root    *pnode
	elems   []schemaElement
	shred   shredder
	opts    options
	noIdx   []int // leaf columns whose column index Close drops
	numRows int64
	err     error
	closed  bool

	rows []parquet.Row
	ends []int
}

// writeBatch bounds how many rows are shredded before being handed to
// parquet-go, which keeps the scratch buffers small.
const writeBatch = 256

// NewWriter starts a Parquet file on w for rows of the given fields, in
// physical column order (for a primary-key file, the output of KVFields).
func NewWriter(w io.Writer, fields []spec.DataField, opts ...Option) (*Writer, error) {
	o := options{
		compression:  CompressionZstd,
		rowGroupSize: DefaultRowGroupSize,
		pageSize:     DefaultPageSize,
		dictionary:   true,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.rowGroupSize <= 0 || o.pageSize <= 0 {
		return nil, errors.New("parquetio: row group and page sizes must be positive")
	}
	var codec compress.Codec
	switch o.compression {
	case CompressionZstd:
		codec = &zstd.Codec{Level: zstd.SpeedFastest}
	case CompressionSnappy:
		codec = new(snappy.Codec)
	case CompressionNone:
		codec = new(uncompressed.Codec)
	default:
		return nil, fmt.Errorf("parquetio: unknown compression %d", o.compression)
	}
	root, err := buildSchema(fields)
	if err != nil {
		return nil, err
	}
	schema := parquet.NewSchema(RootName, root.parquetNode(o.dictionary))
	cfg := []parquet.WriterOption{
		schema,
		parquet.Compression(codec),
		parquet.DataPageVersion(1),
		parquet.PageBufferSize(o.pageSize),
		parquet.DictionaryMaxBytes(DefaultDictionarySize),
		// The column index carries page bounds; page headers need not.
		parquet.DataPageStatistics(false),
	}
	// parquet-go orders FIXED_LEN_BYTE_ARRAY and INT96 statistics as unsigned
	// bytes, which is wrong for negative decimals and timestamps. Engines
	// prune on statistics, so those columns get none: no chunk min/max here,
	// and Close drops their column index.
	paths, unordered := unorderedLeaves(root)
	for _, path := range paths {
		cfg = append(cfg, parquet.SkipPageBounds(path...))
	}
	tw := &tailWriter{w: w}
	wr := &Writer{
		out:   tw,
		pw:    parquet.NewWriter(tw, cfg...),
		root:  root,
		elems: root.elements(),
		opts:  o,
		noIdx: unordered,
	}
	wr.shred.init(root)
	return wr, nil
}

// unorderedLeaves lists the paths and column indexes of leaves whose
// Parquet statistics parquet-go would order wrongly.
func unorderedLeaves(root *pnode) (paths [][]string, cols []int) {
	col := 0
	var walk func(n *pnode, path []string)
	walk = func(n *pnode, path []string) {
		path = append(path[:len(path):len(path)], n.name)
		if n.kind == kindLeaf {
			if n.phys == format.FixedLenByteArray || n.phys == format.Int96 {
				paths = append(paths, path)
				cols = append(cols, col)
			}
			col++
			return
		}
		for _, c := range n.children {
			walk(c, path)
		}
	}
	for _, c := range root.children {
		walk(c, nil)
	}
	return paths, cols
}

// Write appends rows; each row holds one Go value per top-level field, in
// the Writer's field order, typed as package spec describes. A value of the
// wrong Go type, a null in a NOT NULL column, a VECTOR of the wrong length or
// a null map key fails with spec.ErrSchemaMismatch.
func (w *Writer) Write(rows []spec.Row) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquetio: write after close")
	}
	for len(rows) > 0 {
		n := min(len(rows), writeBatch)
		if err := w.writeBatch(rows[:n]); err != nil {
			w.err = err
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func (w *Writer) writeBatch(rows []spec.Row) error {
	s := &w.shred
	s.arena = s.arena[:0]
	s.scratch = s.scratch[:0]
	w.ends = w.ends[:0]
	for i, row := range rows {
		if err := s.row(row); err != nil {
			return fmt.Errorf("parquetio: row %d: %w", w.numRows+int64(i), err)
		}
		w.ends = append(w.ends, len(s.arena))
	}
	w.rows = w.rows[:0]
	start := 0
	for _, end := range w.ends {
		w.rows = append(w.rows, s.arena[start:end:end])
		start = end
	}
	if _, err := w.pw.WriteRows(w.rows); err != nil {
		return fmt.Errorf("parquetio: writing rows: %w", err)
	}
	w.numRows += int64(len(rows))
	// parquet-go's Size counts finished pages compressed and the open page
	// and dictionaries raw, a close upper bound of the row group on disk,
	// like parquet-mr's estimate behind parquet.block.size.
	if w.pw.Size()-w.out.n >= w.opts.rowGroupSize {
		if err := w.pw.Flush(); err != nil {
			return fmt.Errorf("parquetio: flushing row group: %w", err)
		}
	}
	return nil
}

// NumRows returns the number of rows written so far.
func (w *Writer) NumRows() int64 { return w.numRows }

// Size estimates the bytes the file holds so far, buffered rows included
// (their open pages uncompressed), for rolling files at a target size.
func (w *Writer) Size() int64 { return w.pw.Size() }

// Close flushes the last row group and writes the footer. It does not close
// the underlying io.Writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.pw.Flush(); err != nil {
		w.err = fmt.Errorf("parquetio: flushing row group: %w", err)
		return w.err
	}
	// Everything parquet-go writes from here on is page indexes and the
	// footer; hold it back to put the Java schema into the footer.
	w.out.holding = true
	if err := w.pw.Close(); err != nil {
		w.err = fmt.Errorf("parquetio: closing parquet writer: %w", err)
		return w.err
	}
	tail, err := patchFooter(w.out.held, w.out.n, w.elems, w.noIdx, CreatedBy)
	if err == nil {
		w.out.holding = false
		_, err = w.out.Write(tail)
	}
	if err != nil {
		w.err = fmt.Errorf("parquetio: writing footer: %w", err)
	}
	return w.err
}

// tailWriter forwards writes, or holds them back while holding is set.
type tailWriter struct {
	w       io.Writer
	n       int64 // bytes forwarded
	holding bool
	held    []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.holding {
		t.held = append(t.held, p...)
		return len(p), nil
	}
	n, err := t.w.Write(p)
	t.n += int64(n)
	return n, err
}

// wnode is the write plan of one schema node: where its values go and with
// which levels.
type wnode struct {
	kind     nodeKind
	path     string
	dt       spec.DataType
	optional bool
	def      int // definition level of a present value of this node
	rep      int // repetition level of this node's repeated children
	col      int // leaf: column index
	colLo    int // first leaf column under this node
	colHi    int // one past the last leaf column
	enc      leafEnc
	fixedLen int
	decLimit *big.Int
	vecLen   int // VECTOR length, or -1
	children []*wnode
}

// shredder turns Go rows into parquet-go rows (Dremel shredding).
type shredder struct {
	fields  []*wnode
	cols    [][]parquet.Value // per-column values of the current row
	arena   []parquet.Value   // the batch's rows, column-major within a row
	scratch []byte            // decimal bytes of the batch
}

func (s *shredder) init(root *pnode) {
	col := 0
	var plan func(n *pnode, path string, def, rep int) *wnode
	plan = func(n *pnode, path string, def, rep int) *wnode {
		w := &wnode{kind: n.kind, path: path, dt: n.dt, optional: n.rep == format.Optional, vecLen: -1, colLo: col}
		if n.rep != format.Required {
			def++
		}
		w.def, w.rep = def, rep
		switch n.kind {
		case kindLeaf:
			w.col = col
			col++
			w.enc = leafEncFor(n.dt)
			w.fixedLen = int(n.length)
			if n.dt.Root == spec.TypeDecimal {
				w.decLimit = decimalLimit(n.dt.Precision)
			}
		case kindRow:
			for _, c := range n.children {
				w.children = append(w.children, plan(c, path+"."+c.name, def, rep))
			}
		case kindList, kindMap:
			if n.dt.Root == spec.TypeVector {
				w.vecLen = n.dt.Length
			}
			// The repeated middle group adds one definition and one
			// repetition level.
			mid := n.children[0]
			for _, c := range mid.children {
				w.children = append(w.children, plan(c, path+"."+c.name, def+1, rep+1))
			}
		}
		w.colHi = col
		return w
	}
	for _, c := range root.children {
		s.fields = append(s.fields, plan(c, c.name, 0, 0))
	}
	s.cols = make([][]parquet.Value, col)
}

func (s *shredder) row(row spec.Row) error {
	if len(row) != len(s.fields) {
		return fmt.Errorf("%w: row has %d values, schema has %d columns", spec.ErrSchemaMismatch, len(row), len(s.fields))
	}
	for i := range s.cols {
		s.cols[i] = s.cols[i][:0]
	}
	for i, f := range s.fields {
		if err := s.value(f, row[i], 0); err != nil {
			return err
		}
	}
	for _, c := range s.cols {
		s.arena = append(s.arena, c...)
	}
	return nil
}

// nulls records an absent value for every leaf under n.
func (s *shredder) nulls(n *wnode, rep, def int) {
	for c := n.colLo; c < n.colHi; c++ {
		s.cols[c] = append(s.cols[c], parquet.Value{}.Level(rep, def, c))
	}
}

func (s *shredder) value(n *wnode, v any, rep int) error {
	if v == nil {
		if !n.optional {
			return fmt.Errorf("%w: column %s is NOT NULL but got null", spec.ErrSchemaMismatch, n.path)
		}
		s.nulls(n, rep, n.def-1)
		return nil
	}
	switch n.kind {
	case kindLeaf:
		pv, err := s.encodeLeaf(n, v)
		if err != nil {
			return err
		}
		s.cols[n.col] = append(s.cols[n.col], pv.Level(rep, n.def, n.col))
	case kindRow:
		r, ok := v.(spec.Row)
		if !ok {
			if a, isSlice := v.([]any); isSlice {
				r, ok = spec.Row(a), true
			}
		}
		if !ok || len(r) != len(n.children) {
			return fmt.Errorf("%w: column %s of type %s cannot hold %T of length %d", spec.ErrSchemaMismatch, n.path, n.dt, v, len(r))
		}
		for i, c := range n.children {
			if err := s.value(c, r[i], rep); err != nil {
				return err
			}
		}
	case kindList:
		elems, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%w: column %s of type %s cannot hold a Go %T", spec.ErrSchemaMismatch, n.path, n.dt, v)
		}
		if n.vecLen >= 0 && len(elems) != n.vecLen {
			return fmt.Errorf("%w: column %s: vector length mismatch: expected %d but got %d", spec.ErrSchemaMismatch, n.path, n.vecLen, len(elems))
		}
		if len(elems) == 0 {
			s.nulls(n, rep, n.def)
			return nil
		}
		for i, e := range elems {
			r := rep
			if i > 0 {
				r = n.rep + 1
			}
			if err := s.value(n.children[0], e, r); err != nil {
				return err
			}
		}
	case kindMap:
		m, ok := v.(spec.Map)
		if !ok || len(m.Keys) != len(m.Values) {
			return fmt.Errorf("%w: column %s of type %s cannot hold %T", spec.ErrSchemaMismatch, n.path, n.dt, v)
		}
		if len(m.Keys) == 0 {
			s.nulls(n, rep, n.def)
			return nil
		}
		for i := range m.Keys {
			r := rep
			if i > 0 {
				r = n.rep + 1
			}
			if m.Keys[i] == nil {
				return fmt.Errorf("%w: column %s: Parquet does not support null map keys", spec.ErrSchemaMismatch, n.path)
			}
			if err := s.value(n.children[0], m.Keys[i], r); err != nil {
				return err
			}
			if err := s.value(n.children[1], m.Values[i], r); err != nil {
				return err
			}
		}
	}
	return nil
}
