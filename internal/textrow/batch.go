package textrow

import (
	"io"
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
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
	fields   []spec.DataField
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
		src: src, fields: fields, cols: make([]batchColumn, len(fields)), schema: schema,
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
	if d.n == 0 {
		d.reserve(limit)
	}
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

// nanosFit reports whether a timestamp of ms milliseconds and nano
// nanoseconds fits Arrow's int64 nanoseconds (math.MinInt64 is
// 1677-09-21T00:12:43.145224192, math.MaxInt64 2262-04-11T23:47:16.854775807).
func nanosFit(ms int64, nano int32) bool {
	const lo, hi = -9_223_372_036_855, 9_223_372_036_854 // the milliseconds of the ends
	switch {
	case ms > lo && ms < hi:
		return true
	case ms == lo:
		return nano >= 224_192
	case ms == hi:
		return nano <= 775_807
	}
	return false
}

// fitsArrow reports whether v, a value of t, can be held by an array of
// arrowconv.Type(t): Arrow has no null map keys, and its nanosecond
// timestamps end in 2262.
func fitsArrow(v any, t *spec.DataType) bool {
	if v == nil {
		return true
	}
	switch t.Root {
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, ok := v.(spec.Timestamp)
		return !ok || t.Precision <= 6 || nanosFit(ts.Millis, ts.NanoOfMilli)
	case spec.TypeArray, spec.TypeVector:
		xs, _ := v.([]any)
		for _, x := range xs {
			if !fitsArrow(x, t.Elem) {
				return false
			}
		}
	case spec.TypeMap, spec.TypeMultiset:
		m, _ := v.(spec.Map)
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &multisetCount
		}
		for i, k := range m.Keys {
			if k == nil || !fitsArrow(k, kt) || (i < len(m.Values) && !fitsArrow(m.Values[i], vt)) {
				return false
			}
		}
	case spec.TypeRow:
		r, _ := v.(spec.Row)
		for i := range min(len(r), len(t.Fields)) {
			if !fitsArrow(r[i], &t.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// colKind says how a column's slot holds a value and reaches its builder.
type colKind uint8

const (
	kOther     colKind = iota // boxed in v, appended by arrowconv.AppendValue
	kBool                     // i: 0 or 1
	kInt8                     // i
	kInt16                    // i
	kInt32                    // i
	kInt64                    // i
	kFloat32                  // f, already rounded to float32
	kFloat64                  // f
	kString                   // b
	kBinary                   // b
	kDecimal                  // i: the unscaled value (larger ones boxed)
	kDate                     // i: epoch day
	kTime                     // i: millisecond of the day
	kTimestamp                // i: epoch milliseconds, nano: of the millisecond
)

// batchColumn is one column: its builder and the slot of the row being
// parsed.
type batchColumn struct {
	t    *spec.DataType
	kind colKind
	unit arrow.TimeUnit
	bld  array.Builder

	boolB *array.BooleanBuilder
	i8    *array.Int8Builder
	i16   *array.Int16Builder
	i32   *array.Int32Builder
	i64   *array.Int64Builder
	f32   *array.Float32Builder
	f64   *array.Float64Builder
	bin   *array.BinaryBuilder // strings too
	// rowBytes is the mean size of the last batch's values, to size the
	// next batch's data buffer.
	rowBytes int
	dec      *array.Decimal128Builder
	date     *array.Date32Builder
	time     *array.Time32Builder
	ts       *array.TimestampBuilder

	// The slot: set once a non-null value is parsed; boxed when it is in
	// v rather than in the typed fields.
	set, boxed bool
	i          int64
	nano       int32
	f          float64
	b          []byte // aliases the input or buf until the row is appended
	v          any
	buf        []byte
}

func (c *batchColumn) init(f *spec.DataField, bld array.Builder) {
	c.t, c.bld = &f.Type, bld
	switch b := bld.(type) {
	case *array.BooleanBuilder:
		c.kind, c.boolB = kBool, b
	case *array.Int8Builder:
		c.kind, c.i8 = kInt8, b
	case *array.Int16Builder:
		c.kind, c.i16 = kInt16, b
	case *array.Int32Builder:
		c.kind, c.i32 = kInt32, b
	case *array.Int64Builder:
		c.kind, c.i64 = kInt64, b
	case *array.Float32Builder:
		c.kind, c.f32 = kFloat32, b
	case *array.Float64Builder:
		c.kind, c.f64 = kFloat64, b
	case *array.StringBuilder:
		c.kind, c.bin = kString, b.BinaryBuilder
	case *array.BinaryBuilder:
		c.kind, c.bin = kBinary, b
	case *array.Decimal128Builder:
		c.kind, c.dec = kDecimal, b
	case *array.Date32Builder:
		c.kind, c.date = kDate, b
	case *array.Time32Builder:
		c.kind, c.time = kTime, b
	case *array.TimestampBuilder:
		c.kind, c.ts, c.unit = kTimestamp, b, b.Type().(*arrow.TimestampType).Unit
	}
}

// numeric reports whether the column takes JSON numbers.
func (c *batchColumn) numeric() bool {
	switch c.kind {
	case kInt8, kInt16, kInt32, kInt64, kFloat32, kFloat64, kDecimal:
		return true
	}
	return false
}

// text parses s, the text form of a value (see parseText), into the slot.
func (c *batchColumn) text(s []byte) error {
	var err error
	switch c.kind {
	case kBool:
		var b bool
		if b, err = parseBool(s); b {
			c.i = 1
		} else {
			c.i = 0
		}
	case kInt8, kInt16, kInt32, kInt64:
		c.i, err = parseInt64(s, c.t)
	case kFloat32, kFloat64:
		c.f, err = parseFloat64(s, c.t)
	case kDecimal:
		var small bool
		if c.i, small, err = parseDecimal64(s, c.t); err == nil && !small {
			c.v, err = parseDecimal(s, c.t)
			c.boxed = true
		}
	case kString:
		if !utf8.Valid(s) {
			return errorf("invalid UTF-8 in %s value", typeName(c.t))
		}
		err = checkLength(s, c.t)
		c.b = s
	case kBinary:
		var b []byte
		if b, err = appendBase64(c.buf, s, c.t); err == nil {
			c.buf, c.b = b, b
		}
	case kDate:
		var d spec.Date
		d, err = parseDate(s)
		c.i = int64(d)
	case kTime:
		var t spec.Time
		t, err = parseTime(s, c.t.Precision)
		c.i = int64(t)
	case kTimestamp:
		var ts spec.Timestamp
		ts, err = parseTimestamp(s, c.t)
		c.i, c.nano = ts.Millis, ts.NanoOfMilli
	default:
		c.v, err = parseText(s, c.t)
		c.boxed = true
	}
	if err != nil {
		c.boxed = false
		return err
	}
	c.set = true
	return nil
}

// appendTo appends the slot's value, or null, to the builder.
func (c *batchColumn) appendTo() {
	if !c.set {
		c.bld.AppendNull()
		return
	}
	if c.boxed {
		// fits checked what AppendValue refuses; a decimal was parsed at
		// the column's precision and scale.
		_ = arrowconv.AppendValue(c.bld, *c.t, c.v)
		return
	}
	switch c.kind {
	case kBool:
		c.boolB.Append(c.i != 0)
	case kInt8:
		c.i8.Append(int8(c.i))
	case kInt16:
		c.i16.Append(int16(c.i))
	case kInt32:
		c.i32.Append(int32(c.i))
	case kInt64:
		c.i64.Append(c.i)
	case kFloat32:
		c.f32.Append(float32(c.f))
	case kFloat64:
		c.f64.Append(c.f)
	case kString, kBinary:
		c.bin.Append(c.b)
	case kDecimal:
		c.dec.Append(decimal128.FromI64(c.i))
	case kDate:
		c.date.Append(arrow.Date32(c.i))
	case kTime:
		c.time.Append(arrow.Time32(c.i))
	case kTimestamp:
		switch c.unit {
		case arrow.Millisecond:
			c.ts.Append(arrow.Timestamp(c.i))
		case arrow.Microsecond:
			c.ts.Append(arrow.Timestamp(c.i*1000 + int64(c.nano)/1000))
		default:
			c.ts.Append(arrow.Timestamp(c.i*1_000_000 + int64(c.nano)))
		}
	}
}

// value returns the slot's value in the value model.
func (c *batchColumn) value() any {
	switch {
	case !c.set:
		return nil
	case c.boxed:
		return c.v
	}
	switch c.kind {
	case kBool:
		return c.i != 0
	case kInt8:
		return int8(c.i)
	case kInt16:
		return int16(c.i)
	case kInt32:
		return int32(c.i)
	case kInt64:
		return c.i
	case kFloat32:
		return float32(c.f)
	case kFloat64:
		return c.f
	case kString:
		return string(c.b)
	case kBinary:
		return slices.Clone(c.b)
	case kDecimal:
		return spec.Decimal{Unscaled: big.NewInt(c.i), Scale: c.t.Scale}
	case kDate:
		return spec.Date(c.i)
	case kTime:
		return spec.Time(c.i)
	case kTimestamp:
		return spec.Timestamp{Millis: c.i, NanoOfMilli: c.nano}
	}
	return nil
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
