package parquetio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// columnarAll reads every batch of data's fields through the columnar path.
func columnarAll(t testing.TB, data []byte, req BatchRequest) []arrow.RecordBatch {
	t.Helper()
	c, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for b, err := range c.ReadBatches(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Rec)
	}
	return out
}

// rowsAsArrow builds the batch the row reader's values make.
func rowsAsArrow(t testing.TB, fields []spec.DataField, rows []spec.Row) arrow.RecordBatch {
	t.Helper()
	b, err := arrowconv.NewBuilder(memory.DefaultAllocator, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, r := range rows {
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.NewBatch()
}

// assertBatchesHold checks that the batches of every size, concatenated,
// are rows as Arrow.
func assertBatchesHold(t *testing.T, data []byte, fields []spec.DataField, rows []spec.Row) {
	t.Helper()
	want := rowsAsArrow(t, fields, rows)
	defer want.Release()
	for _, batchRows := range []int{0, 1, 3} {
		got := columnarAll(t, data, BatchRequest{Fields: fields, BatchRows: batchRows})
		var n int64
		for _, rec := range got {
			if !array.RecordEqual(rec, want.NewSlice(n, n+rec.NumRows())) {
				t.Fatalf("batch rows %d: columnar batch at row %d\n%v\nrow path\n%v", batchRows, n, rec, want.NewSlice(n, n+rec.NumRows()))
			}
			n += rec.NumRows()
			rec.Release()
		}
		if n != want.NumRows() {
			t.Fatalf("columnar read %d rows, row path %d", n, want.NumRows())
		}
	}
}

// TestBatchesAllTypes reads back the rows written, as batches of 1, 3 and
// the default number of rows.
// Rows with TIMESTAMP(7..9) values beyond Arrow's nanoseconds fail to
// read as batches, rather than wrap.
func TestBatchesAllTypes(t *testing.T) {
	var in, beyond []spec.Row
	for _, r := range allTypesRows() {
		b, err := arrowconv.NewBuilder(memory.DefaultAllocator, allTypes())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(r); err != nil {
			beyond = append(beyond, r)
		} else {
			in = append(in, r)
		}
		b.Release() // a failed Append leaves the batch unusable
	}
	if len(beyond) == 0 || len(in) == 0 {
		t.Fatalf("%d rows Arrow holds, %d it does not: the test needs both", len(in), len(beyond))
	}
	assertBatchesHold(t, writeFile(t, allTypes(), in), allTypes(), in)
	f := openBytes(t, writeFile(t, allTypes(), beyond))
	for _, err := range f.ReadBatches(context.Background(), BatchRequest{Fields: allTypes()}) {
		if err != nil {
			if !errors.Is(err, spec.ErrSchemaMismatch) {
				t.Fatalf("reading far timestamps: %v, want spec.ErrSchemaMismatch", err)
			}
			return
		}
	}
	t.Fatal("timestamps beyond Arrow's nanoseconds read as batches")
}

// TestBatchesJavaFixtures reads Java's files in batches of every size; the
// rows they must hold are ReadRows' (whose values the fixture tests check),
// so this checks batch boundaries and row ranges.
func TestBatchesJavaFixtures(t *testing.T) {
	for table, value := range map[string][]spec.DataField{"test_pk_global_index_golden": globalIndexValue, "test_pk_vector_golden": vectorValue} {
		fields := KVFields(globalIndexKey, value)
		for _, path := range fixtureFiles(t, table) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(path, func(t *testing.T) { assertBatchesHold(t, data, fields, readAll(t, openBytes(t, data), fields)) })
		}
	}
}

// TestPageRowLimit checks that pages end after PageRowLimit rows, as
// parquet-mr's do, however small the values: the page index of a key
// column then narrows a selective filter.
func TestPageRowLimit(t *testing.T) {
	fields := []spec.DataField{{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()}}
	rows := make([]spec.Row, 100_000)
	for i := range rows {
		rows[i] = spec.Row{int64(i)}
	}
	data := writeFile(t, fields, rows)
	c, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rg, err := c.PageIndex().RowGroup(0)
	if err != nil {
		t.Fatal(err)
	}
	oi, err := rg.GetOffsetIndex(0)
	if err != nil {
		t.Fatal(err)
	}
	locs := oi.GetPageLocations()
	if len(locs) < 100_000/(PageRowLimit+rowBatch) {
		t.Fatalf("%d pages for 100000 rows", len(locs))
	}
	for i := 1; i < len(locs); i++ {
		if n := locs[i].FirstRowIndex - locs[i-1].FirstRowIndex; n > PageRowLimit+rowBatch {
			t.Fatalf("page %d holds %d rows", i-1, n)
		}
	}
}

// A struct whose list field decoded to fewer rows than the struct (found by
// FuzzOpen: a damaged file whose ARRAY<ROW<a INT, b ARRAY<STRING>>> column
// read with b empty) is corrupt, not a struct arrow-go silently clamps and
// a row reader then indexes past b's offsets.
func TestCheckNestedShortStructField(t *testing.T) {
	mem := memory.NewGoAllocator()
	a := array.NewInt32Builder(mem)
	a.AppendValues([]int32{1, 2, 3}, nil)
	ints := a.NewArray()
	defer ints.Release()
	lb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
	empty := lb.NewArray() // no rows
	defer empty.Release()
	st := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	)
	sd := array.NewData(st, 3, []*memory.Buffer{nil}, []arrow.ArrayData{ints.Data(), empty.Data()}, 0, 0)
	defer sd.Release()
	offsets := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 3}))
	ld := array.NewData(arrow.ListOf(st), 1, []*memory.Buffer{nil, offsets}, []arrow.ArrayData{sd}, 0, 0)
	defer ld.Release()
	list := array.MakeFromData(ld)
	defer list.Release()
	if err := checkNested(list); err == nil {
		t.Fatal("a struct of 3 rows with a list field of 0 passed")
	}
	ok := array.NewData(arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	), 3, []*memory.Buffer{nil}, []arrow.ArrayData{ints.Data(), ints.Data()}, 0, 0)
	defer ok.Release()
	okArr := array.MakeFromData(ok)
	defer okArr.Release()
	if err := checkNested(okArr); err != nil {
		t.Fatalf("a whole struct: %v", err)
	}
}
