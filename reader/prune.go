package reader

import (
	"encoding/binary"
	"math"
	"math/big"
	"slices"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
)

// PruneStats count what filters let readers skip inside data files.
type PruneStats struct {
	RowGroupsRead, RowGroupsSkipped atomic.Int64
	PagesRead, PagesSkipped         atomic.Int64
}

// pruner decides which row groups and rows of one Parquet file a filter
// needs, from the row groups' column statistics and the page indexes.
type pruner struct {
	f      *parquetio.File
	filter *predicate.Bound
	// leaf is, per bound column, the file's leaf column index: -1 for a
	// column the file lacks (all null), -2 for one whose statistics cannot
	// be used (nested, or its type changed since the file was written).
	leaf  []int
	types []spec.DataType // the file's types of the bound columns
	stats *PruneStats
}

func newPruner(f *parquetio.File, filter *predicate.Bound, cols []spec.DataField, first int, casts []int, stats *PruneStats) *pruner {
	p := &pruner{f: f, filter: filter, stats: stats}
	for i := range filter.Fields() {
		c := cols[first+i]
		leaf := f.LeafColumn(c.Name)
		switch {
		case slices.Contains(casts, first+i):
			leaf = -2
		case leaf < 0 && f.HasColumn(c.Name):
			leaf = -2 // nested
		}
		p.leaf = append(p.leaf, leaf)
		p.types = append(p.types, c.Type)
	}
	return p
}

// rowGroups returns the row groups the filter may match.
func (p *pruner) rowGroups() []int {
	md := p.f.Metadata()
	out := make([]int, 0, md.NumRowGroups())
	for rg := range md.NumRowGroups() {
		if p.filter.MayMatch(rowGroupStats{p, md.RowGroup(rg)}) {
			out = append(out, rg)
			p.stats.RowGroupsRead.Add(1)
		} else {
			p.stats.RowGroupsSkipped.Add(1)
		}
	}
	return out
}

// ranges returns the rows of row group rg that pages the filter may match
// hold: for each column with a page index, the pages whose statistics
// alone do not rule the filter out; the ranges of all columns intersect.
// nil reads the whole row group.
func (p *pruner) ranges(rg int) []parquetio.RowRange {
	idx := p.f.PageIndex()
	n := p.f.RowGroupRows(rg)
	if idx == nil || n == 0 {
		return nil
	}
	rgi, err := idx.RowGroup(rg)
	if err != nil {
		return nil
	}
	var out []parquetio.RowRange
	constrained := false
	for i, leaf := range p.leaf {
		if leaf < 0 {
			continue
		}
		ci, err1 := rgi.GetColumnIndex(leaf)
		oi, err2 := rgi.GetOffsetIndex(leaf)
		if err1 != nil || err2 != nil || ci == nil || oi == nil {
			continue
		}
		locs := oi.GetPageLocations()
		mins, maxs, nullPages := ci.GetMinValues(), ci.GetMaxValues(), ci.GetNullPages()
		if len(mins) != len(locs) || len(maxs) != len(locs) || len(nullPages) != len(locs) {
			continue
		}
		var nulls []int64
		if ci.IsSetNullCounts() {
			nulls = ci.GetNullCounts()
		}
		var keep []parquetio.RowRange
		for j, loc := range locs {
			end := n
			if j+1 < len(locs) {
				end = locs[j+1].FirstRowIndex
			}
			st := pageStats{p: p, col: i, rows: end - loc.FirstRowIndex}
			if nullPages[j] {
				st.cs = predicate.ColumnStats{Nulls: st.rows, NullsKnown: true}
			} else {
				st.cs = p.decodeBounds(i, mins[j], maxs[j])
				if len(nulls) == len(locs) {
					st.cs.Nulls, st.cs.NullsKnown = nulls[j], true
				}
			}
			if p.filter.MayMatch(st) {
				keep = appendRange(keep, parquetio.RowRange{Start: loc.FirstRowIndex, End: end})
			}
		}
		if !constrained {
			out, constrained = keep, true
		} else {
			out = intersect(out, keep)
		}
	}
	if !constrained {
		return nil
	}
	pages := p.pageCount(rgi)
	kept := p.pagesIn(rgi, out)
	p.stats.PagesRead.Add(kept)
	p.stats.PagesSkipped.Add(pages - kept)
	if len(out) == 0 {
		return []parquetio.RowRange{} // nothing: an empty, non-nil list
	}
	if len(out) == 1 && out[0].Start == 0 && out[0].End == n {
		return nil
	}
	return out
}

// pageCount and pagesIn count the pages of the first usable column, for
// the statistics.
func (p *pruner) pageCount(rgi *metadata.RowGroupPageIndexReader) int64 {
	locs := p.firstLocations(rgi)
	return int64(len(locs))
}

func (p *pruner) pagesIn(rgi *metadata.RowGroupPageIndexReader, rs []parquetio.RowRange) int64 {
	locs := p.firstLocations(rgi)
	var k int64
	for j, loc := range locs {
		end := int64(math.MaxInt64)
		if j+1 < len(locs) {
			end = locs[j+1].FirstRowIndex
		}
		for _, r := range rs {
			if r.Start < end && loc.FirstRowIndex < r.End {
				k++
				break
			}
		}
	}
	return k
}

func (p *pruner) firstLocations(rgi *metadata.RowGroupPageIndexReader) []*metadata.PageLocation {
	for _, leaf := range p.leaf {
		if leaf < 0 {
			continue
		}
		if oi, err := rgi.GetOffsetIndex(leaf); err == nil && oi != nil {
			return oi.GetPageLocations()
		}
	}
	return nil
}

func appendRange(rs []parquetio.RowRange, r parquetio.RowRange) []parquetio.RowRange {
	if n := len(rs); n > 0 && rs[n-1].End == r.Start {
		rs[n-1].End = r.End
		return rs
	}
	return append(rs, r)
}

func intersect(a, b []parquetio.RowRange) []parquetio.RowRange {
	var out []parquetio.RowRange
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo < hi {
			out = appendRange(out, parquetio.RowRange{Start: lo, End: hi})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// rowGroupStats adapts a row group's column-chunk statistics.
type rowGroupStats struct {
	p  *pruner
	rg *metadata.RowGroupMetaData
}

func (s rowGroupStats) RowCount() int64 { return s.rg.NumRows() }

func (s rowGroupStats) Column(i int) predicate.ColumnStats {
	leaf := s.p.leaf[i]
	if leaf == -1 {
		return predicate.ColumnStats{Nulls: s.rg.NumRows(), NullsKnown: true}
	}
	if leaf < 0 {
		return predicate.ColumnStats{}
	}
	cc, err := s.rg.ColumnChunk(leaf)
	if err != nil {
		return predicate.ColumnStats{}
	}
	st, err := cc.Statistics()
	if err != nil || st == nil {
		return predicate.ColumnStats{}
	}
	var cs predicate.ColumnStats
	if st.HasMinMax() {
		cs = s.p.decodeBounds(i, st.EncodeMin(), st.EncodeMax())
	}
	if st.HasNullCount() {
		cs.Nulls, cs.NullsKnown = st.NullCount(), true
	}
	return cs
}

// pageStats are one page's statistics of one column; the other columns
// are unknown.
type pageStats struct {
	p    *pruner
	col  int
	rows int64
	cs   predicate.ColumnStats
}

func (s pageStats) RowCount() int64 { return s.rows }

func (s pageStats) Column(i int) predicate.ColumnStats {
	if i == s.col {
		return s.cs
	}
	return predicate.ColumnStats{}
}

// decodeBounds turns plain-encoded min and max of bound column i into
// values of its Paimon type; unknown bounds stay nil.
func (p *pruner) decodeBounds(i int, minb, maxb []byte) predicate.ColumnStats {
	d := p.f.Metadata().Schema.Column(p.leaf[i])
	lo, ok1 := statValue(minb, d, p.types[i])
	hi, ok2 := statValue(maxb, d, p.types[i])
	if !ok1 || !ok2 {
		return predicate.ColumnStats{}
	}
	switch x := lo.(type) {
	case float32, float64:
		// Parquet leaves NaN out of float statistics and may write a zero
		// bound with either sign; the predicate orders floats as Java does
		// (-0 < +0, NaN above everything). So a zero min means -0, and the
		// max bounds nothing: a NaN may lie above it.
		if x == float32(0) {
			lo = float32(math.Copysign(0, -1))
		} else if x == float64(0) {
			lo = math.Copysign(0, -1)
		}
		hi = nil
	}
	return predicate.ColumnStats{Min: lo, Max: hi}
}

// statValue decodes a plain-encoded statistic of column d as a value of t.
func statValue(b []byte, d *schema.Column, t spec.DataType) (any, bool) {
	switch d.PhysicalType() {
	case parquet.Types.Boolean:
		if len(b) != 1 || t.Root != spec.TypeBoolean {
			return nil, false
		}
		return b[0] != 0, true
	case parquet.Types.Int32:
		if len(b) != 4 {
			return nil, false
		}
		x := int32(binary.LittleEndian.Uint32(b))
		switch t.Root {
		case spec.TypeTinyInt:
			return int8(x), int32(int8(x)) == x
		case spec.TypeSmallInt:
			return int16(x), int32(int16(x)) == x
		case spec.TypeInt:
			return x, true
		case spec.TypeDate:
			return spec.Date(x), true
		case spec.TypeTime:
			return spec.Time(x), true
		case spec.TypeDecimal:
			return spec.Decimal{Unscaled: big.NewInt(int64(x)), Scale: t.Scale}, true
		}
	case parquet.Types.Int64:
		if len(b) != 8 {
			return nil, false
		}
		x := int64(binary.LittleEndian.Uint64(b))
		switch t.Root {
		case spec.TypeBigInt:
			return x, true
		case spec.TypeDecimal:
			return spec.Decimal{Unscaled: big.NewInt(x), Scale: t.Scale}, true
		case spec.TypeTimestamp, spec.TypeTimestampLTZ:
			return timestampStat(x, d)
		}
	case parquet.Types.Float:
		if len(b) != 4 || t.Root != spec.TypeFloat {
			return nil, false
		}
		x := math.Float32frombits(binary.LittleEndian.Uint32(b))
		return x, x == x // NaN bounds say nothing
	case parquet.Types.Double:
		if len(b) != 8 || t.Root != spec.TypeDouble {
			return nil, false
		}
		x := math.Float64frombits(binary.LittleEndian.Uint64(b))
		return x, x == x
	case parquet.Types.ByteArray:
		switch t.Root {
		case spec.TypeChar, spec.TypeVarChar:
			return string(b), true
		case spec.TypeBinary, spec.TypeVarBinary:
			return slices.Clone(b), true
		case spec.TypeDecimal:
			return spec.Decimal{Unscaled: twosComplement(b), Scale: t.Scale}, len(b) > 0
		}
	case parquet.Types.FixedLenByteArray:
		if t.Root == spec.TypeDecimal && len(b) > 0 {
			return spec.Decimal{Unscaled: twosComplement(b), Scale: t.Scale}, true
		}
	}
	return nil, false
}

// timestampStat reads an INT64 timestamp statistic in the column's unit.
func timestampStat(x int64, d *schema.Column) (any, bool) {
	ts, ok := d.LogicalType().(*schema.TimestampLogicalType)
	if !ok {
		return nil, false
	}
	switch ts.TimeUnit() {
	case schema.TimeUnitMillis:
		return spec.Timestamp{Millis: x}, true
	case schema.TimeUnitMicros:
		ms, rem := x/1000, x%1000
		if rem < 0 {
			ms, rem = ms-1, rem+1000
		}
		return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem * 1000)}, true
	case schema.TimeUnitNanos:
		ms, rem := x/1_000_000, x%1_000_000
		if rem < 0 {
			ms, rem = ms-1, rem+1_000_000
		}
		return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem)}, true
	}
	return nil, false
}

// twosComplement reads a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}
