package table

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// invalidBatch gives the batch writer a batch it must refuse whole; the
// row writer gets nothing, or the offending row, which it must refuse too.
func (m *batchModel) invalidBatch() {
	ctx := context.Background()
	variants := []string{"unknown column", "missing column", "duplicate column", "wrong type",
		"null in NOT NULL", "bad kind", "kind not TINYINT", "null kind"}
	if m.c.refuses {
		variants = append(variants, "refused kind", "refused kind")
	}
	v := variants[m.rng.IntN(len(variants))]
	n := m.rng.IntN(20)
	if v == "null in NOT NULL" || v == "refused kind" || v == "bad kind" || v == "null kind" {
		n++
	}
	rows, kinds := m.changes(n)
	bad := -1 // the row that makes the batch invalid, if one does
	switch v {
	case "null in NOT NULL":
		var notNull []int
		for j, f := range m.fields {
			if !f.Type.Nullable {
				notNull = append(notNull, j)
			}
		}
		bad = m.rng.IntN(n)
		j := notNull[m.rng.IntN(len(notNull))]
		rows[bad] = slices.Clone(rows[bad])
		rows[bad][j] = nil
	case "refused kind":
		bad = m.rng.IntN(n)
		kinds[bad] = []spec.RowKind{spec.RowKindUpdateBefore, spec.RowKindDelete}[m.rng.IntN(2)]
	}
	cols := m.spoil(v, m.columns(rows, kinds, true), kinds)
	m.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	rec := m.assemble(cols, n)
	defer rec.Release()
	m.note("invalid batch (%s) of %d rows, row %d", v, n, bad)
	err := m.batches.w.Write(ctx, rec)
	if !errors.Is(err, spec.ErrSchemaMismatch) {
		m.fatalf("Write of a batch with %s (row %d of %d): %v, want spec.ErrSchemaMismatch", v, bad, n, err)
	}
	if bad >= 0 {
		if err := m.rows.w.WriteRow(ctx, kinds[bad], rows[bad]); !errors.Is(err, spec.ErrSchemaMismatch) {
			m.fatalf("WriteRow of the row of a %s: %v, want spec.ErrSchemaMismatch", v, err)
		}
	}
}

// spoil makes the columns of a batch (the table's, then RowKindColumn)
// invalid as variant v of invalidBatch says.
func (m *batchModel) spoil(v string, cols []batchCol, kinds []spec.RowKind) []batchCol {
	n := len(kinds)
	kindCol := len(cols) - 1
	replaceKinds := func(a arrow.Array) {
		cols[kindCol].a.Release()
		cols[kindCol].a = a
	}
	switch v {
	case "unknown column":
		cols = append(cols, batchCol{arrow.Field{Name: "zz", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, m.nulls(arrow.PrimitiveTypes.Int32, n)})
	case "missing column":
		j := m.rng.IntN(kindCol)
		cols[j].a.Release()
		cols = slices.Delete(cols, j, j+1)
	case "duplicate column":
		c := cols[m.rng.IntN(kindCol)]
		c.a.Retain()
		cols = append(cols, c)
	case "wrong type":
		j := m.rng.IntN(kindCol)
		t := nearType(cols[j].f.Type)
		if m.rng.IntN(3) == 0 {
			if t = arrow.BinaryTypes.String; arrow.TypeEqual(cols[j].f.Type, t) {
				t = arrow.PrimitiveTypes.Int64
			}
		}
		cols[j].a.Release()
		cols[j].f.Type, cols[j].a = t, m.nulls(t, n)
	case "bad kind":
		kb := array.NewInt8Builder(m.mem)
		for i, k := range kinds {
			if i == n-1 {
				kb.Append([]int8{4, -1, 127}[m.rng.IntN(3)])
			} else {
				kb.Append(int8(k))
			}
		}
		replaceKinds(kb.NewArray())
		kb.Release()
	case "kind not TINYINT":
		kb := array.NewInt32Builder(m.mem)
		for _, k := range kinds {
			kb.Append(int32(k))
		}
		cols[kindCol].f.Type = arrow.PrimitiveTypes.Int32
		replaceKinds(kb.NewArray())
		kb.Release()
	case "null kind":
		kb := array.NewInt8Builder(m.mem)
		for i, k := range kinds {
			if i == n/2 {
				kb.AppendNull()
			} else {
				kb.Append(int8(k))
			}
		}
		replaceKinds(kb.NewArray())
		kb.Release()
	}
	return cols
}

// nearType is a type close to t that Write must still refuse: another
// width, unit, precision or element type.
func nearType(t arrow.DataType) arrow.DataType {
	switch x := t.(type) {
	case *arrow.TimestampType:
		if x.Unit == arrow.Millisecond {
			return &arrow.TimestampType{Unit: arrow.Microsecond}
		}
		return &arrow.TimestampType{Unit: x.Unit, TimeZone: "UTC"}
	case *arrow.Decimal128Type:
		return &arrow.Decimal128Type{Precision: x.Precision + 1, Scale: x.Scale}
	case *arrow.ListType:
		return arrow.ListOf(nearType(x.Elem()))
	case *arrow.MapType:
		return arrow.MapOf(x.KeyType(), nearType(x.ItemType()))
	}
	switch t.ID() {
	case arrow.INT32:
		return arrow.PrimitiveTypes.Int64
	case arrow.INT64:
		return arrow.PrimitiveTypes.Int32
	case arrow.FLOAT64:
		return arrow.PrimitiveTypes.Float32
	case arrow.STRING:
		return arrow.BinaryTypes.LargeString
	case arrow.BINARY:
		return arrow.BinaryTypes.String
	case arrow.BOOL:
		return arrow.PrimitiveTypes.Int8
	case arrow.DATE32:
		return arrow.FixedWidthTypes.Date64
	}
	return arrow.BinaryTypes.String
}

// nulls is an array of n nulls of type t.
func (m *batchModel) nulls(t arrow.DataType, n int) arrow.Array {
	b := array.NewBuilder(m.mem, t)
	defer b.Release()
	b.AppendNulls(n)
	return b.NewArray()
}

var batchStrings = []string{"", "a", "ab", "é", "a,b", "\U0010ffff", "null", strings.Repeat("long ", 60)}

// row draws a row: keys from a small set so that they repeat, nulls in
// nullable columns.
func (m *batchModel) row() spec.Row {
	row := make(spec.Row, len(m.fields))
	for i, f := range m.fields {
		row[i] = m.value(f)
	}
	return row
}

func (m *batchModel) value(f spec.DataField) any {
	r := m.rng
	switch f.Name {
	case "k":
		k := int64(r.IntN(60) - 20)
		if k%7 == 0 {
			k *= 1e15 // far apart keys, negative ones too
		}
		return k
	case "k2":
		return int32(r.IntN(3) - 1)
	case "dt":
		return []string{"2024-01-01", "2024-01-02", "x"}[r.IntN(3)]
	case "nn":
		return int32(r.IntN(200) - 100)
	case "sq":
		if r.IntN(10) == 0 {
			return nil
		}
		return int64(r.IntN(30))
	}
	if f.Type.Nullable && r.IntN(4) == 0 {
		return nil
	}
	switch f.Type.Root {
	case spec.TypeInt:
		return int32(r.IntN(2001) - 1000)
	case spec.TypeBigInt:
		if !m.c.small && r.IntN(4) == 0 {
			return []int64{math.MinInt64, -1, 0, math.MaxInt64}[r.IntN(4)]
		}
		return r.Int64N(1<<40) - 1<<39
	case spec.TypeVarChar:
		return batchStrings[r.IntN(len(batchStrings))]
	case spec.TypeDouble:
		if r.IntN(4) == 0 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}[r.IntN(5)]
		}
		return r.NormFloat64() * 1e6
	case spec.TypeBoolean:
		return r.IntN(2) == 0
	case spec.TypeDate:
		return spec.Date(r.IntN(40000) - 10000)
	case spec.TypeTimestamp:
		ts := spec.Timestamp{Millis: r.Int64N(4e12) - 1e12}
		if f.Type.Precision > 3 {
			ts.NanoOfMilli = int32(r.IntN(1000)) * 1000
		}
		return ts
	case spec.TypeDecimal:
		if m.c.small {
			return spec.NewDecimal(r.Int64N(2e6)-1e6, f.Type.Scale)
		}
		return spec.NewDecimal(r.Int64N(2e12-1)-(1e12-1), f.Type.Scale)
	case spec.TypeVarBinary:
		b := make([]byte, r.IntN(9))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case spec.TypeArray:
		a := make([]any, r.IntN(4))
		for i := range a {
			if r.IntN(4) > 0 {
				a[i] = int32(r.IntN(10))
			}
		}
		return a
	case spec.TypeMap:
		var mp spec.Map
		for _, k := range []string{"a", "b", "c", "d"} {
			if r.IntN(3) > 0 {
				continue
			}
			mp.Keys = append(mp.Keys, k)
			if r.IntN(4) > 0 {
				mp.Values = append(mp.Values, int32(r.IntN(100)))
			} else {
				mp.Values = append(mp.Values, nil)
			}
		}
		return mp
	}
	panic(f.Type.String())
}

// renderRow renders a row with each value's Go type, distinguishing null
// from empty, -0 from 0 and a decimal's scale.
func renderRow(r spec.Row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = renderValue(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("x'%x'", x)
	case float64:
		return "f64 " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "array" + renderRow(x)
	case spec.Map:
		return "map" + renderRow(x.Keys) + renderRow(x.Values)
	case spec.Row:
		return "row" + renderRow(x)
	}
	return fmt.Sprintf("%T %v", v, v)
}

// TestWriteBatchRefusedRowKeepsNothing: a batch holding a retraction its
// table's merge engine refuses fails whole, with spec.ErrSchemaMismatch as
// WriteRow does, even when the refused row is not its first one: the rows
// before it are not kept either.
func TestWriteBatchRefusedRowKeepsNothing(t *testing.T) {
	for _, opts := range [][]string{
		{"merge-engine", "first-row"},
		{"merge-engine", "partial-update"},
		{"merge-engine", "aggregation", "fields.score.aggregate-function", "max"},
	} {
		t.Run(opts[1], func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 1, opts...)
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			m := &batchModel{t: t, rng: rand.New(rand.NewPCG(1, 1)), fields: tb.Schema().Fields, mem: memory.NewCheckedAllocator(memory.NewGoAllocator())}
			rows := []spec.Row{{int64(1), "a", 1.5}, {int64(2), "b", 2.5}, {int64(1), "a", 1.5}}
			kinds := []spec.RowKind{spec.RowKindInsert, spec.RowKindInsert, spec.RowKindDelete}
			rec := m.assemble(m.columns(rows, kinds, true), len(rows))
			defer rec.Release()
			if err := w.Write(ctx, rec); !errors.Is(err, spec.ErrSchemaMismatch) {
				t.Fatalf("Write: %v, want spec.ErrSchemaMismatch", err)
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
				t.Fatal(err)
			}
			if got := scanAll(t, tb); len(got) != 0 {
				t.Fatalf("the refused batch left %v", got)
			}
		})
	}
}
