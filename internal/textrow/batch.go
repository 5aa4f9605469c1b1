package textrow

import (
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// The batch decoders read the same input as JSONDecoder and CSVDecoder,
// with the same rows, kinds, errors and line numbers, into Arrow record
// batches of a table's schema. Each row is parsed into one typed slot per
// column (integers, floats and byte strings unboxed; nested and rare forms
// go through the value model), and only once the whole row is valid are
// the slots appended to the column builders, so a bad row leaves the batch
// as it was.

// DefaultBatchRows is the number of rows a batch holds by default.
const DefaultBatchRows = 4096

// maxBatchBytes ends a batch early once its input lines add up to this
// much, bounding the memory of a batch of long rows (and keeping string
// columns far from Arrow's 2 GiB offsets).
const maxBatchBytes = 32 << 20

// Batch is a run of consecutive input rows: in Rec, or, for a row Arrow's
// types cannot hold, in Row.
type Batch struct {
	// Rec holds the rows as columns of arrowconv.Schema's types, named as
	// the fields, plus the kind column (see WithKindColumn) when some row
	// is not +I. It is nil when Row is set.
	Rec arrow.RecordBatch
	// Row and Kind are a single row that Rec cannot hold: a TIMESTAMP of
	// precision 7 to 9 outside Arrow's nanosecond range (the years 1677 to
	// 2262), or a MAP with a null key, in any column.
	Row  spec.Row
	Kind spec.RowKind
	// Lines holds each row's input line: for CSV, the line it starts on.
	Lines []int
	kinds []int8 // of Rec's rows; nil when all are +I
}

// Len returns the number of rows in the batch.
func (b *Batch) Len() int { return len(b.Lines) }

// Release releases Rec.
func (b *Batch) Release() {
	if b.Rec != nil {
		b.Rec.Release()
		b.Rec = nil
	}
}

// RowKind returns row i's kind.
func (b *Batch) RowKind(i int) spec.RowKind {
	if b.Rec == nil {
		return b.Kind
	}
	if b.kinds == nil {
		return spec.RowKindInsert
	}
	return spec.RowKind(b.kinds[i])
}

// RowAt returns row i in the value model of package spec, for fields (the
// fields the decoder was made with).
func (b *Batch) RowAt(i int, fields []spec.DataField) (spec.Row, error) {
	if b.Rec == nil {
		return b.Row, nil
	}
	row := make(spec.Row, len(fields))
	for j, f := range fields {
		v, err := arrowconv.Value(b.Rec.Column(j), i, f.Type)
		if err != nil {
			return nil, err
		}
		row[j] = v
	}
	return row, nil
}

// BatchOption configures a batch decoder.
type BatchOption func(*batchConfig)

type batchConfig struct {
	rows int
	kind string
	mem  memory.Allocator
}

// WithBatchRows sets the most rows a batch holds (DefaultBatchRows).
func WithBatchRows(n int) BatchOption {
	return func(c *batchConfig) {
		if n > 0 {
			c.rows = n
		}
	}
}

// WithKindColumn names the TINYINT column that carries row kinds as
// Paimon's bytes (0 +I, 1 -U, 2 +U, 3 -D); by default "_VALUE_KIND", the
// name table.Write takes.
func WithKindColumn(name string) BatchOption { return func(c *batchConfig) { c.kind = name } }

// WithAllocator sets the allocator of the batches' memory.
func WithAllocator(mem memory.Allocator) BatchOption { return func(c *batchConfig) { c.mem = mem } }

// rowSource is an input format: it parses the next row into the columns'
// slots.
type rowSource interface {
	// next returns the row's kind, its line and its size in bytes; io.EOF
	// after the last row, an *InputError for a bad row (after which it may
	// be called again), or the reader's error.
	next(cols []batchColumn) (kind spec.RowKind, line, size int, err error)
}

// BatchDecoder reads rows into Arrow record batches.
type BatchDecoder struct {
	src      rowSource
	cols     []batchColumn
	schema   *arrow.Schema // the fields
	kSchema  *arrow.Schema // the fields and the kind column
	kindBld  *array.Int8Builder
	rows     int
	n, bytes int
	kinds    []int8
	anyKind  bool
	lines    []int
	pending  *Batch // a Row batch to return next
}

func newBatchDecoder(src rowSource, fields []spec.DataField, opts []BatchOption) (*BatchDecoder, error) {
	cfg := batchConfig{rows: DefaultBatchRows, kind: "_VALUE_KIND", mem: memory.DefaultAllocator}
	for _, o := range opts {
		o(&cfg)
	}
	schema, err := arrowconv.Schema(fields)
	if err != nil {
		return nil, err
	}
	kf := arrow.Field{Name: cfg.kind, Type: arrow.PrimitiveTypes.Int8}
	d := &BatchDecoder{
		src: src, cols: make([]batchColumn, len(fields)), schema: schema,
		kSchema: arrow.NewSchema(append(slices.Clone(schema.Fields()), kf), nil),
		kindBld: array.NewInt8Builder(cfg.mem), rows: cfg.rows,
	}
	for i := range fields {
		d.cols[i].init(&fields[i], array.NewBuilder(cfg.mem, schema.Field(i).Type))
	}
	return d, nil
}

// Next returns the next batch of at most max rows (the configured batch
// size when max is 0 or larger). Like io.Reader, it may return rows and an
// error together: the rows before a bad row come with its *InputError
// (wrapping ErrBadInput), and the last rows may come with io.EOF. The
// decoder may be called again after an *InputError and goes on with the
// next row; it returns a nil batch when it has no rows to give. The caller
// releases each batch.
func (d *BatchDecoder) Next(max int) (*Batch, error) {
	if b := d.pending; b != nil {
		d.pending = nil
		return b, nil
	}
	limit := d.rows
	if max > 0 && max < limit {
		limit = max
	}
	d.reserve(limit)
	for d.n < limit && d.bytes < maxBatchBytes {
		for i := range d.cols {
			d.cols[i].set, d.cols[i].boxed = false, false
		}
		kind, line, size, err := d.src.next(d.cols)
		if err != nil {
			return d.flush(), err
		}
		if !d.fits() {
			one := &Batch{Row: d.rowValues(), Kind: kind, Lines: []int{line}}
			if d.n == 0 {
				return one, nil
			}
			d.pending = one
			return d.flush(), nil
		}
		for i := range d.cols {
			d.cols[i].appendTo()
		}
		d.kinds = append(d.kinds, int8(kind))
		d.anyKind = d.anyKind || kind != spec.RowKindInsert
		d.lines = append(d.lines, line)
		d.n++
		d.bytes += size
	}
	return d.flush(), nil
}

// reserve sizes the builders for a batch of n rows, the variable-width
// data as the last batch's rows.
func (d *BatchDecoder) reserve(n int) {
	for i := range d.cols {
		c := &d.cols[i]
		if c.kind == kOther {
			continue
		}
		c.bld.Reserve(n)
		if c.bin != nil {
			c.bin.ReserveData(c.rowBytes * n * 9 / 8)
		}
	}
}

// fits reports whether the parsed row can be appended to the builders.
func (d *BatchDecoder) fits() bool {
	for i := range d.cols {
		c := &d.cols[i]
		switch {
		case !c.set:
		case c.boxed:
			if !fitsArrow(c.v, c.t) {
				return false
			}
		case c.kind == kTimestamp && c.unit == arrow.Nanosecond:
			if !nanosFit(c.i, c.nano) {
				return false
			}
		}
	}
	return true
}

// rowValues returns the parsed row in the value model.
func (d *BatchDecoder) rowValues() spec.Row {
	row := make(spec.Row, len(d.cols))
	for i := range d.cols {
		row[i] = d.cols[i].value()
	}
	return row
}

// flush returns the rows appended so far as a batch, or nil.
func (d *BatchDecoder) flush() *Batch {
	if d.n == 0 {
		return nil
	}
	arrs := make([]arrow.Array, len(d.cols), len(d.cols)+1)
	for i := range d.cols {
		c := &d.cols[i]
		if c.bin != nil {
			c.rowBytes = c.bin.DataLen()/d.n + 1
		}
		arrs[i] = c.bld.NewArray()
	}
	schema := d.schema
	if d.anyKind {
		d.kindBld.AppendValues(d.kinds, nil)
		arrs = append(arrs, d.kindBld.NewArray())
		schema = d.kSchema
	}
	rec := array.NewRecordBatch(schema, arrs, int64(d.n))
	for _, a := range arrs {
		a.Release()
	}
	b := &Batch{Rec: rec, Lines: d.lines}
	if d.anyKind {
		b.kinds = d.kinds
	}
	d.n, d.bytes, d.kinds, d.anyKind, d.lines = 0, 0, nil, false, nil
	return b
}

// Release frees the builders' memory.
func (d *BatchDecoder) Release() {
	for i := range d.cols {
		d.cols[i].bld.Release()
	}
	d.kindBld.Release()
	d.pending.release()
}

func (b *Batch) release() {
	if b != nil {
		b.Release()
	}
}

// NewJSONBatchDecoder returns a decoder of JSON Lines (as NewJSONDecoder
// reads them) into record batches of the given fields.
func NewJSONBatchDecoder(r io.Reader, fields []spec.DataField, opts ...BatchOption) (*BatchDecoder, error) {
	return newBatchDecoder(newJSONSource(r, fields), fields, opts)
}

// NewCSVBatchDecoder returns a decoder of CSV (as NewCSVDecoder reads it)
// into record batches of the given fields.
func NewCSVBatchDecoder(r io.Reader, fields []spec.DataField, opts ...BatchOption) (*BatchDecoder, error) {
	return newBatchDecoder(&csvSource{d: NewCSVDecoder(r, fields)}, fields, opts)
}
