package parquetio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stratalake/strata/internal/arrowconv"
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

// zstdLevel is Paimon's file.compression.zstd-level default.
const zstdLevel = 1

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

// WithPageSize sets the size in bytes at which a column's page is cut
// (default DefaultPageSize).
func WithPageSize(bytes int) Option { return func(o *options) { o.pageSize = bytes } }

// WithDictionary turns dictionary encoding on or off (default on). As in
// parquet-mr, every column starts with a dictionary and falls back to PLAIN
// when the dictionary outgrows DefaultDictionarySize or does not make the
// first page smaller than PLAIN would.
func WithDictionary(on bool) Option { return func(o *options) { o.dictionary = on } }

// rowBatch bounds how many rows Write turns into one Arrow batch, and how
// many rows go into a row group between checks of its size.
const rowBatch = 1024

// Writer writes rows of a fixed Paimon row type to one Parquet file with
// arrow-go's Parquet writer: the schema Java writes (see Schema), v1 data
// pages, chunk statistics and page indexes (column and offset index) on
// every column. It is not safe for concurrent use. After Write, WriteRecord
// or Close fails, the file is unusable and every later call returns the same
// error.
type Writer struct {
	out     *countingWriter
	fw      *file.Writer
	rgw     file.BufferedRowGroupWriter
	cols    []*columnPlan
	rb      *arrowconv.Builder
	arrow   *arrow.Schema // the Parquet form (arrowconv.ParquetSchema)
	scan    *arrow.Schema // the scan form (arrowconv.Schema)
	ctx     context.Context
	lv      levels
	opts    options
	numRows int64
	err     error
	closed  bool
}

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
		return nil, fmt.Errorf("%w: parquetio: row group and page sizes must be positive", spec.ErrInvalidOption)
	}
	props := []parquet.WriterProperty{
		parquet.WithAllocator(memory.DefaultAllocator),
		// parquet-mr's writer version 1: v1 data pages, PLAIN and
		// dictionary encodings only. Java Paimon's vectorized reader
		// misreads DELTA_LENGTH_BYTE_ARRAY pages holding nulls.
		parquet.WithVersion(parquet.V1_0),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithCreatedBy(CreatedBy),
		parquet.WithDataPageSize(int64(o.pageSize)),
		parquet.WithDictionaryDefault(o.dictionary),
		parquet.WithDictionaryPageSizeLimit(DefaultDictionarySize),
		parquet.WithStats(true),
		parquet.WithPageIndexEnabled(true),
	}
	switch o.compression {
	case CompressionZstd:
		props = append(props, parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(zstdLevel))
	case CompressionSnappy:
		props = append(props, parquet.WithCompression(compress.Codecs.Snappy))
	case CompressionNone:
		props = append(props, parquet.WithCompression(compress.Codecs.Uncompressed))
	default:
		return nil, fmt.Errorf("%w: parquetio: unknown compression %d", spec.ErrInvalidOption, o.compression)
	}
	sc, err := Schema(fields)
	if err != nil {
		return nil, err
	}
	if o.dictionary {
		// parquet-mr's shouldFallBack: drop a dictionary that does not pay
		// for itself by the first page, compressed columns included.
		for i := range sc.NumColumns() {
			props = append(props, parquet.WithDictionaryCostFallbackPath(sc.Column(i).ColumnPath(), true))
		}
	}
	cols, err := planColumns(sc)
	if err != nil {
		return nil, err
	}
	rb, err := arrowconv.NewParquetBuilder(new(bufPool), fields)
	if err != nil {
		return nil, fmt.Errorf("parquetio: %w", err)
	}
	scan, err := arrowconv.Schema(fields)
	if err != nil {
		rb.Release()
		return nil, fmt.Errorf("parquetio: %w", err)
	}
	out := &countingWriter{w: w}
	fw, err := file.NewParquetWriterWithError(out, sc.Root(), file.WithWriterProps(parquet.NewWriterProperties(props...)))
	if err != nil {
		rb.Release()
		return nil, fmt.Errorf("parquetio: starting file: %w", err)
	}
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(memory.DefaultAllocator))
	return &Writer{
		out:   out,
		fw:    fw,
		cols:  cols,
		rb:    rb,
		arrow: rb.Schema(),
		scan:  scan,
		ctx:   pqarrow.NewArrowWriteContext(context.Background(), &arrowProps),
		opts:  o,
	}, nil
}

// Write appends rows; each row holds one Go value per top-level field, in
// the Writer's field order, typed as package spec describes. A value of the
// wrong Go type, a null in a NOT NULL column, a VECTOR of the wrong length, a
// decimal that does not fit its column or a null map key fails with
// spec.ErrSchemaMismatch.
func (w *Writer) Write(rows []spec.Row) error {
	if err := w.usable(); err != nil {
		return err
	}
	for len(rows) > 0 {
		n := min(len(rows), rowBatch)
		for i, row := range rows[:n] {
			if err := w.rb.Append(row); err != nil {
				return w.fail(fmt.Errorf("parquetio: row %d: %w", w.numRows+int64(i), err))
			}
		}
		rec := w.rb.NewBatch()
		err := w.writeRecord(rec)
		rec.Release()
		if err != nil {
			return w.fail(err)
		}
		rows = rows[n:]
	}
	return nil
}

// WriteRecord appends an Arrow record batch whose columns are the Writer's
// fields, typed as arrowconv.ParquetSchema or arrowconv.Schema gives them
// (field metadata and names are not compared). Nulls in NOT NULL columns and
// null map keys fail with spec.ErrSchemaMismatch. Decimals must fit their
// column's precision; arrow-go checks that only for precisions up to 18.
func (w *Writer) WriteRecord(rec arrow.RecordBatch) error {
	if err := w.usable(); err != nil {
		return err
	}
	if int(rec.NumCols()) != len(w.cols) {
		return w.fail(fmt.Errorf("%w: parquetio: record has %d columns, file %d", spec.ErrSchemaMismatch, rec.NumCols(), len(w.cols)))
	}
	for i, c := range rec.Columns() {
		dt := c.DataType()
		if !arrow.TypeEqual(dt, w.arrow.Field(i).Type) && !arrow.TypeEqual(dt, w.scan.Field(i).Type) {
			return w.fail(fmt.Errorf("%w: parquetio: column %s is %s, want %s", spec.ErrSchemaMismatch, w.cols[i].name, dt, w.arrow.Field(i).Type))
		}
	}
	if err := w.writeRecord(rec); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquetio: write after close")
	}
	return nil
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// writeRecord writes rec in slices of at most rowBatch rows, cutting the row
// group between slices once it reaches the row group size.
func (w *Writer) writeRecord(rec arrow.RecordBatch) error {
	for off := int64(0); off < rec.NumRows(); off += rowBatch {
		end := min(off+rowBatch, rec.NumRows())
		part := rec
		if off > 0 || end < rec.NumRows() {
			part = rec.NewSlice(off, end)
		}
		err := w.writeSlice(part)
		if part != rec {
			part.Release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) writeSlice(rec arrow.RecordBatch) error {
	if w.rgw == nil {
		rgw, err := w.fw.AppendBufferedRowGroupChecked()
		if err != nil {
			return fmt.Errorf("parquetio: starting row group: %w", err)
		}
		w.rgw = rgw
	}
	for i, c := range w.cols {
		if err := c.write(w.ctx, w.rgw, rec.Column(i), &w.lv); err != nil {
			return fmt.Errorf("parquetio: column %s: %w", c.name, err)
		}
	}
	w.numRows += rec.NumRows()
	if w.rowGroupBytes() >= w.opts.rowGroupSize {
		return w.closeRowGroup()
	}
	return nil
}

// rowGroupBytes estimates the open row group's size on disk: its finished
// pages compressed, its open pages encoded, like parquet-mr's estimate
// behind parquet.block.size.
func (w *Writer) rowGroupBytes() int64 {
	if w.rgw == nil {
		return 0
	}
	n := w.rgw.TotalBytesWritten()
	for i := range w.rgw.NumColumns() {
		if cw, err := w.rgw.Column(i); err == nil {
			n += cw.CurrentEncoder().EstimatedDataEncodedSize()
		}
	}
	return n
}

func (w *Writer) closeRowGroup() error {
	rgw := w.rgw
	w.rgw = nil
	if err := rgw.Close(); err != nil {
		return fmt.Errorf("parquetio: closing row group: %w", err)
	}
	return nil
}

// NumRows returns the number of rows written so far.
func (w *Writer) NumRows() int64 { return w.numRows }

// Size estimates the bytes the file holds so far, the open row group
// included, for rolling files at a target size.
func (w *Writer) Size() int64 { return w.out.n + w.rowGroupBytes() }

// Close flushes the last row group and writes the page indexes and the
// footer. It does not close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	w.closed = true
	w.rb.Release()
	if w.rgw != nil {
		if err := w.closeRowGroup(); err != nil {
			return w.fail(err)
		}
	}
	if err := w.fw.Close(); err != nil {
		return w.fail(fmt.Errorf("parquetio: writing footer: %w", err))
	}
	return nil
}

// countingWriter counts the bytes written through it. It also hides any
// Close method of the destination from arrow-go's writer, which would close
// it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
