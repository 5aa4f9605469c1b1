package parquetio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// rangeBufferSize is the read size of a column chunk read in row ranges.
const rangeBufferSize = 1 << 20

// DefaultBatchRows is the number of rows of a record batch when the request
// does not say: big enough that per-batch work vanishes, small enough that
// a bucket's batches stay in the CPU caches' neighbourhood.
const DefaultBatchRows = 16 << 10

// File is an open Parquet file, read column by column into Arrow arrays
// (arrow-go's pqarrow decodes pages straight into them) or into rows, by
// one goroutine at a time.
type File struct {
	src    *readTracker
	props  *parquet.ReaderProperties
	pr     *file.Reader
	fr     *pqarrow.FileReader
	mem    memory.Allocator
	byName map[string]int // top-level field → index in fr.Manifest.Fields
}

// Open reads the footer of a Parquet file of the given size. Files that are
// not Parquet, are truncated or are corrupt fail with an error wrapping
// spec.ErrCorrupt.
func Open(r io.ReaderAt, size int64) (*File, error) {
	c := &File{mem: memory.DefaultAllocator, src: &readTracker{r: r}}
	r = c.src
	head := make([]byte, 4)
	if size < 12 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a Parquet file", spec.ErrCorrupt, size)
	}
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", c.decodeErr(context.Background(), err))
	}
	if string(head) != "PAR1" {
		return nil, fmt.Errorf("%w: no Parquet magic at the start of the file", spec.ErrCorrupt)
	}
	md, err := c.readFooter(r, size)
	if err != nil {
		return nil, err
	}
	err = guard("opening file", func() error {
		c.props = parquet.NewReaderProperties(c.mem)
		c.props.BufferSize = rangeBufferSize
		pr, err := file.NewParquetReader(io.NewSectionReader(r, 0, size), file.WithReadProps(c.props), file.WithMetadata(md))
		if err != nil {
			return c.decodeErr(context.Background(), err)
		}
		c.pr = pr
		c.fr, err = pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: DefaultBatchRows}, c.mem)
		if err != nil {
			return fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
		}
		return checkRowGroups(pr.MetaData(), size)
	})
	if err != nil {
		return nil, err
	}
	c.byName = make(map[string]int, len(c.fr.Manifest.Fields))
	for i, f := range c.fr.Manifest.Fields {
		if _, dup := c.byName[f.Field.Name]; !dup {
			c.byName[f.Field.Name] = i
		}
	}
	return c, nil
}

// checkRowGroups validates the row-group metadata the reader relies
// on before any page is read.
func checkRowGroups(md *metadata.FileMetaData, size int64) error {
	var total int64
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		if rg.NumRows() < 0 {
			return fmt.Errorf("%w: row group %d has %d rows", spec.ErrCorrupt, i, rg.NumRows())
		}
		if rg.NumColumns() != md.Schema.NumColumns() {
			return fmt.Errorf("%w: row group %d has %d column chunks, schema has %d columns", spec.ErrCorrupt, i, rg.NumColumns(), md.Schema.NumColumns())
		}
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				return fmt.Errorf("%w: row group %d column %d: %w", spec.ErrCorrupt, i, j, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			if start < 0 || cc.TotalCompressedSize() < 0 || start > size || cc.TotalCompressedSize() > size-start {
				return fmt.Errorf("%w: row group %d column %d lies outside the file", spec.ErrCorrupt, i, j)
			}
		}
		total += rg.NumRows()
	}
	if total != md.NumRows {
		return fmt.Errorf("%w: footer counts %d rows, row groups hold %d", spec.ErrCorrupt, md.NumRows, total)
	}
	return nil
}

// NumRows is the file's row count.
func (c *File) NumRows() int64 { return c.pr.NumRows() }

// NumRowGroups is the file's row-group count.
func (c *File) NumRowGroups() int { return c.pr.NumRowGroups() }

// RowGroupRows is the row count of row group rg.
func (c *File) RowGroupRows(rg int) int64 { return c.pr.MetaData().RowGroup(rg).NumRows() }

// Metadata is the file's footer, for statistics and page indexes.
func (c *File) Metadata() *metadata.FileMetaData { return c.pr.MetaData() }

// PageIndex is the file's page index reader (column and offset indexes),
// nil when the file has none.
func (c *File) PageIndex() *metadata.PageIndexReader { return c.pr.GetPageIndexReader() }

// LeafColumn returns the Parquet leaf column index of a top-level primitive
// column, or -1 when the file has no such column or it is nested.
func (c *File) LeafColumn(name string) int {
	i, ok := c.byName[name]
	if !ok {
		return -1
	}
	f := c.fr.Manifest.Fields[i]
	if !f.IsLeaf() {
		return -1
	}
	return f.ColIndex
}

// RowRange is the rows [Start, End) of one row group.
type RowRange struct{ Start, End int64 }

// BatchRequest says what ReadBatches reads.
type BatchRequest struct {
	// Fields are the columns to return, matched to the file's top-level
	// columns by name (Java's ParquetReaderFactory does the same); their
	// types are the types the file was written with. A field the file lacks
	// reads as null.
	Fields []spec.DataField
	// RowGroups to read, in order; nil reads all.
	RowGroups []int
	// Ranges, when set, gives the rows to read of each row group (ascending,
	// disjoint); nil or an empty result reads the whole row group.
	Ranges func(rowGroup int) []RowRange
	// BatchRows caps a batch's rows (DefaultBatchRows when 0).
	BatchRows int
	// Streamed reads column chunks a page at a time through a small buffer
	// rather than each chunk whole: less memory, more reads. For readers
	// that hold many files open at once, such as compactions.
	Streamed bool
	// exactInt96 reads top-level INT96 columns as their 12 bytes
	// (arrowconv.Int96Type): TIMESTAMP(7..9) values outside Arrow's
	// nanosecond range (1677-2262), for ReadRows.
	exactInt96 bool
}

// Batch is a record batch and the file position of its first row; a batch
// never spans two row ranges, so its rows are consecutive in the file.
type Batch struct {
	Rec      arrow.RecordBatch
	FirstRow int64
}

// ReadBatches streams the requested columns as Arrow record batches whose
// schema is arrowconv.Schema(req.Fields). The caller releases each batch.
func (c *File) ReadBatches(ctx context.Context, req BatchRequest) iter.Seq2[Batch, error] {
	return func(yield func(Batch, error) bool) {
		schema, err := c.batchSchema(req)
		if err != nil {
			yield(Batch{}, err)
			return
		}
		rgs := req.RowGroups
		if rgs == nil {
			rgs = make([]int, c.NumRowGroups())
			for i := range rgs {
				rgs[i] = i
			}
		}
		limit := int64(req.BatchRows)
		if limit <= 0 {
			limit = DefaultBatchRows
		}
		var rgStart int64
		starts := make([]int64, c.NumRowGroups()+1)
		for i := range c.NumRowGroups() {
			starts[i+1] = starts[i] + c.RowGroupRows(i)
		}
		for _, rg := range rgs {
			if rg < 0 || rg >= c.NumRowGroups() {
				yield(Batch{}, fmt.Errorf("parquetio: no row group %d", rg))
				return
			}
			rgStart = starts[rg]
			ok, err := c.readRowGroup(ctx, schema, req, rg, rgStart, limit, yield)
			if err != nil {
				yield(Batch{}, fmt.Errorf("parquetio: row group %d: %w", rg, c.decodeErr(ctx, err)))
				return
			}
			if !ok {
				return
			}
		}
	}
}

// batchSchema is arrowconv's schema of the fields, with exactInt96's
// INT96 columns as their bytes.
func (c *File) batchSchema(req BatchRequest) (*arrow.Schema, error) {
	schema, err := arrowconv.Schema(req.Fields)
	if err != nil || !req.exactInt96 {
		return schema, err
	}
	fs := schema.Fields()
	for i, f := range req.Fields {
		if leaf := c.LeafColumn(f.Name); leaf >= 0 && c.pr.MetaData().Schema.Column(leaf).PhysicalType() == parquet.Types.Int96 {
			fs[i].Type = arrowconv.Int96Type
		}
	}
	return arrow.NewSchema(fs, nil), nil
}

// readRowGroup reads one row group's ranges; false when the consumer
// stopped.
func (c *File) readRowGroup(ctx context.Context, schema *arrow.Schema, req BatchRequest, rg int, rgStart, limit int64,
	yield func(Batch, error) bool) (bool, error) {
	n := c.RowGroupRows(rg)
	var ranges []RowRange
	if req.Ranges != nil {
		ranges = req.Ranges(rg)
	}
	// A whole row group reads each column chunk with one read; ranges read
	// the pages they need through a buffer, as seeking to a row opens the
	// chunk again.
	c.props.BufferedStreamEnabled = ranges != nil || req.Streamed
	if ranges == nil {
		ranges = []RowRange{{0, n}}
	}
	cols := make([]columnSource, len(req.Fields))
	defer func() {
		for _, cr := range cols {
			if cr != nil {
				cr.release()
			}
		}
	}()
	for i, f := range req.Fields {
		fi, ok := c.byName[f.Name]
		if !ok {
			continue
		}
		err := guard("opening column "+f.Name, func() error {
			var err error
			cols[i], err = c.openColumn(ctx, fi, rg, arrow.TypeEqual(schema.Field(i).Type, arrowconv.Int96Type))
			return err
		})
		if err != nil {
			return false, err
		}
	}
	pos := int64(0) // where the column readers stand
	for _, r := range ranges {
		if r.Start < pos || r.End > n || r.Start > r.End {
			return false, fmt.Errorf("parquetio: bad row range [%d, %d) of %d rows", r.Start, r.End, n)
		}
		if r.Start > pos {
			for _, cr := range cols {
				if cr == nil {
					continue
				}
				if err := guard("seeking", func() error { return cr.seek(r.Start) }); err != nil {
					return false, err
				}
			}
			pos = r.Start
		}
		for pos < r.End {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			m := min(limit, r.End-pos)
			rec, err := c.nextBatch(schema, req.Fields, cols, m)
			if err != nil {
				return false, err
			}
			if !yield(Batch{Rec: rec, FirstRow: rgStart + pos}, nil) {
				return false, nil
			}
			pos += m
		}
	}
	return true, nil
}

// nextBatch reads m rows from every column reader into one record batch.
func (c *File) nextBatch(schema *arrow.Schema, fields []spec.DataField, cols []columnSource, m int64) (arrow.RecordBatch, error) {
	arrs := make([]arrow.Array, len(fields))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, cr := range cols {
		want := schema.Field(i).Type
		if cr == nil {
			arrs[i] = array.MakeArrayOfNull(c.mem, want, int(m))
			continue
		}
		// A damaged page can make arrow-go panic or return arrays that do
		// not hold together; both become spec.ErrCorrupt.
		err := guard("decoding "+fields[i].Name, func() error {
			a, err := cr.next(m)
			if err != nil {
				return err
			}
			defer a.Release()
			if int64(a.Len()) != m {
				return fmt.Errorf("%w: yields %d rows, want %d", spec.ErrCorrupt, a.Len(), m)
			}
			if err := checkNested(a); err != nil {
				return fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
			}
			arrs[i], err = adapt(c.mem, a, want)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", fields[i].Name, err)
		}
	}
	return array.NewRecordBatch(schema, arrs, m), nil
}

// leafSet lists the leaf columns under a manifest field.
func leafSet(f *pqarrow.SchemaField) map[int]bool {
	out := map[int]bool{}
	var walk func(f *pqarrow.SchemaField)
	walk = func(f *pqarrow.SchemaField) {
		if f.IsLeaf() {
			out[f.ColIndex] = true
		}
		for i := range f.Children {
			walk(&f.Children[i])
		}
	}
	walk(f)
	return out
}

// concatChunks flattens a chunked array into one array.
func concatChunks(mem memory.Allocator, ch *arrow.Chunked) (arrow.Array, error) {
	switch chunks := ch.Chunks(); len(chunks) {
	case 0:
		return array.MakeArrayOfNull(mem, ch.DataType(), 0), nil
	case 1:
		chunks[0].Retain()
		return chunks[0], nil
	default:
		return array.Concatenate(chunks, mem)
	}
}

// HasColumn reports whether the file has a top-level column of that name.
func (c *File) HasColumn(name string) bool {
	_, ok := c.byName[name]
	return ok
}

// readTracker remembers the first error its reader returned other than
// io.EOF: arrow-go's errors do not say whether reading or decoding failed.
type readTracker struct {
	r   io.ReaderAt
	mu  sync.Mutex
	err error
}

func (t *readTracker) ReadAt(p []byte, off int64) (int, error) {
	n, err := t.r.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *readTracker) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// decodeErr classifies an error of reading pages: the reader's own error
// when reading failed (a storage error is not a damaged file), ctx's when
// it ended, and otherwise spec.ErrCorrupt: the bytes did not decode (a
// page that fails to decompress, a level or length past its page, or a
// read past the end of a truncated file).
func (c *File) decodeErr(ctx context.Context, err error) error {
	if errors.Is(err, spec.ErrCorrupt) || ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	if ioErr := c.src.failed(); ioErr != nil {
		if errors.Is(err, ioErr) {
			return err
		}
		return fmt.Errorf("%w (reading: %w)", err, ioErr)
	}
	return fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
}

// guard runs an arrow-go call and turns a panic on malformed input into an
// error wrapping spec.ErrCorrupt: arrow-go trusts what it decodes more than
// a reader of untrusted files may.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", spec.ErrCorrupt, what, r)
		}
	}()
	return f()
}

// checkNested checks that a decoded nested array holds together at every
// level: arrow-go validates a list's offsets against its child, one level
// only, and clamps a struct's short children when it slices them, so a
// damaged page could decode to a struct whose list field has fewer rows
// than the struct (reading such a row indexed past the offsets).
func checkNested(a arrow.Array) error {
	switch a := a.(type) {
	case interface { // lists, maps, fixed-size lists
		ValidateFull() error
		ListValues() arrow.Array
	}:
		if err := a.ValidateFull(); err != nil {
			return err
		}
		return checkNested(a.ListValues())
	case *array.Struct:
		d := a.Data()
		for j, c := range d.Children() {
			if c.Len() < d.Offset()+d.Len() {
				return fmt.Errorf("struct field %d has %d rows, the struct %d", j, c.Len(), d.Offset()+d.Len())
			}
			if err := checkNested(a.Field(j)); err != nil {
				return err
			}
		}
	}
	return nil
}
