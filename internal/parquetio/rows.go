package parquetio

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// ReadRows streams the file's rows as Strata's Go values (see package
// spec): one value per requested field, matched to the file's top-level
// columns by name (Java's ParquetReaderFactory does the same) and decoded
// as the field's type. A field the file lacks reads as null, and so does a
// nested ROW field the file lacks. Only the requested columns are read.
//
// The sequence yields (nil, err) once and stops when the request does not
// fit the file (spec.ErrSchemaMismatch) or the data is corrupt
// (spec.ErrCorrupt). The iterator may be run more than once.
func (c *File) ReadRows(fields []spec.DataField) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		req := BatchRequest{Fields: fields, exactInt96: true}
		for b, err := range c.ReadBatches(context.Background(), req) {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := yieldRows(b.Rec, fields, yield)
			b.Rec.Release()
			if err != nil {
				yield(nil, err)
				return
			}
			if !ok {
				return
			}
		}
	}
}

// yieldRows converts a batch into rows, column by column.
func yieldRows(rec arrow.RecordBatch, fields []spec.DataField, yield func(spec.Row, error) bool) (bool, error) {
	n := int(rec.NumRows())
	vals := make([]any, n*len(fields)) // one allocation for the batch's rows
	for j, f := range fields {
		col := rec.Column(j)
		if fb, ok := col.(*array.FixedSizeBinary); ok && arrow.TypeEqual(col.DataType(), arrowconv.Int96Type) {
			for i := range n {
				if !fb.IsNull(i) {
					vals[i*len(fields)+j] = int96Timestamp(fb.Value(i))
				}
			}
			continue
		}
		for i := range n {
			v, err := arrowconv.Value(col, i, f.Type)
			if err != nil {
				return false, fmt.Errorf("column %s: %w", f.Name, err)
			}
			vals[i*len(fields)+j] = v
		}
	}
	for i := range n {
		if !yield(spec.Row(vals[i*len(fields):(i+1)*len(fields):(i+1)*len(fields)]), nil) {
			return false, nil
		}
	}
	return true, nil
}

// int96Timestamp reads a Parquet INT96 timestamp: nanoseconds of the day as
// a signed number (Java writes a negative one before 1970), then the Julian
// day.
func int96Timestamp(b []byte) spec.Timestamp {
	nanos := int64(binary.LittleEndian.Uint64(b[:8]))
	days := int64(int32(binary.LittleEndian.Uint32(b[8:]))) - julianUnixEpochDays
	ms := days*86_400_000 + nanos/1_000_000
	rem := nanos % 1_000_000
	if rem < 0 {
		ms--
		rem += 1_000_000
	}
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem)}
}

// SchemaString renders the file's Parquet schema like parquet-mr's
// MessageType.toString, as SchemaString does for fields.
func (c *File) SchemaString() string { return formatNode(c.pr.MetaData().Schema.Root()) }

// Columns lists the file's top-level column names in order.
func (c *File) Columns() []string {
	out := make([]string, len(c.fr.Manifest.Fields))
	for i, f := range c.fr.Manifest.Fields {
		out[i] = f.Field.Name
	}
	return out
}
