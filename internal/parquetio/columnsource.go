package parquetio

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// columnSource yields one top-level column of one row group, m rows at a
// time.
type columnSource interface {
	next(m int64) (arrow.Array, error)
	seek(row int64) error // to a row of the row group, forward only
	release()
}

// openColumn returns the source of top-level field fi in row group rg.
// raw asks an INT96 column for its bytes (arrowconv.Int96Type).
func (c *File) openColumn(ctx context.Context, fi, rg int, raw bool) (columnSource, error) {
	f := &c.fr.Manifest.Fields[fi]
	if f.IsLeaf() && c.pr.MetaData().Schema.Column(f.ColIndex).PhysicalType() == parquet.Types.Int96 {
		cr, err := c.pr.RowGroup(rg).Column(f.ColIndex)
		if err != nil {
			return nil, err
		}
		r, ok := cr.(*file.Int96ColumnChunkReader)
		if !ok {
			return nil, fmt.Errorf("INT96 column has reader %T", cr)
		}
		return &int96Source{r: r, mem: c.mem, optional: f.Field.Nullable, raw: raw}, nil
	}
	cr, err := c.fr.GetFieldReader(ctx, fi, leafSet(f), []int{rg})
	if err != nil {
		return nil, err
	}
	return arrowSource{cr, c.mem}, nil
}

// arrowSource reads through pqarrow.
type arrowSource struct {
	cr  *pqarrow.ColumnReader
	mem memory.Allocator
}

func (s arrowSource) next(m int64) (arrow.Array, error) {
	ch, err := s.cr.NextBatch(m)
	if err != nil {
		return nil, err
	}
	defer ch.Release()
	return concatChunks(s.mem, ch)
}

func (s arrowSource) seek(row int64) error { return s.cr.SeekToRow(row) }
func (s arrowSource) release()             { s.cr.Release() }

// int96Source reads a flat INT96 timestamp column itself: Java writes a
// timestamp before 1970 with negative nanoseconds of day (its division
// truncates), which arrow-go refuses as invalid.
type int96Source struct {
	r        *file.Int96ColumnChunkReader
	mem      memory.Allocator
	optional bool
	raw      bool // the 12 bytes, not Arrow nanoseconds
	vals     []parquet.Int96
	defs     []int16
}

const julianUnixEpochDays = 2440588

func (s *int96Source) next(m int64) (arrow.Array, error) {
	if int64(cap(s.vals)) < m {
		s.vals, s.defs = make([]parquet.Int96, m), make([]int16, m)
	}
	vals, defs := s.vals[:m], s.defs[:m]
	var ts *array.TimestampBuilder
	var raw *array.FixedSizeBinaryBuilder
	if s.raw {
		raw = array.NewFixedSizeBinaryBuilder(s.mem, arrowconv.Int96Type)
		defer raw.Release()
		raw.Reserve(int(m))
	} else {
		ts = array.NewTimestampBuilder(s.mem, &arrow.TimestampType{Unit: arrow.Nanosecond})
		defer ts.Release()
		ts.Reserve(int(m))
	}
	for got := int64(0); got < m; {
		var d []int16
		if s.optional {
			d = defs[got:]
		}
		levels, nvals, err := s.r.ReadBatch(m-got, vals, d, nil)
		if err != nil {
			return nil, err
		}
		if levels == 0 {
			return nil, fmt.Errorf("INT96 column ends after %d of %d rows", got, m)
		}
		v := 0
		for i := range levels {
			if s.optional && d[i] == 0 {
				if s.raw {
					raw.AppendNull()
				} else {
					ts.AppendNull()
				}
				continue
			}
			if v >= nvals {
				return nil, fmt.Errorf("INT96 column has fewer values than levels")
			}
			if s.raw {
				raw.Append(vals[v][:])
			} else {
				x, ok := int96Nanos(vals[v])
				if !ok {
					return nil, fmt.Errorf("%w: an INT96 timestamp beyond the years Arrow nanoseconds hold (1677-2262); read it as rows", spec.ErrSchemaMismatch)
				}
				ts.Append(x)
			}
			v++
		}
		got += levels
	}
	if s.raw {
		return raw.NewArray(), nil
	}
	return ts.NewArray(), nil
}

// int96Nanos reads nanoseconds of day as a signed number, as Java writes it;
// false when the instant does not fit Arrow's int64 nanoseconds.
func int96Nanos(x parquet.Int96) (arrow.Timestamp, bool) {
	nanos := int64(binary.LittleEndian.Uint64(x[:8]))
	days := int64(binary.LittleEndian.Uint32(x[8:])) - julianUnixEpochDays
	const nanosPerDay = 86_400_000_000_000
	if days > math.MaxInt64/nanosPerDay-1 || days < math.MinInt64/nanosPerDay+1 {
		return 0, false
	}
	t := days*nanosPerDay + nanos
	if (nanos > 0 && t < days*nanosPerDay) || (nanos < 0 && t > days*nanosPerDay) {
		return 0, false
	}
	return arrow.Timestamp(t), true
}

func (s *int96Source) seek(row int64) error { return s.r.SeekToRow(row) }
func (s *int96Source) release()             {}
