package parquetio

import (
	"bytes"
	"context"
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
	c, err := OpenColumnar(bytes.NewReader(data), int64(len(data)), memory.DefaultAllocator)
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

// assertColumnarMatchesRows checks that the columnar path returns what the
// row path returns, batch boundaries aside.
func assertColumnarMatchesRows(t *testing.T, data []byte, fields []spec.DataField) {
	t.Helper()
	rows := readAll(t, openBytes(t, data), fields)
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

func TestColumnarMatchesRowsAllTypes(t *testing.T) {
	data := writeFile(t, allTypes(), allTypesRows())
	assertColumnarMatchesRows(t, data, allTypes())
}

func TestColumnarMatchesRowsJavaFixtures(t *testing.T) {
	for _, table := range []string{"test_pk_global_index_golden", "test_pk_vector_golden"} {
		for _, path := range fixtureFiles(t, table) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fields, err := openBytes(t, data).Fields()
			if err != nil {
				t.Fatal(err)
			}
			t.Run(path, func(t *testing.T) { assertColumnarMatchesRows(t, data, fields) })
		}
	}
}

// TestArrowValuesMatchRows checks arrowconv.Value against the row reader.
func TestArrowValuesMatchRows(t *testing.T) {
	data := writeFile(t, allTypes(), allTypesRows())
	rows := readAll(t, openBytes(t, data), allTypes())
	var i int
	for _, rec := range columnarAll(t, data, BatchRequest{Fields: allTypes()}) {
		for r := range int(rec.NumRows()) {
			for c, f := range allTypes() {
				v, err := arrowconv.Value(rec.Column(c), r, f.Type)
				if err != nil {
					t.Fatal(err)
				}
				if ts, ok := rows[i][c].(spec.Timestamp); ok && f.Type.Precision > 6 && (ts.Millis > 9e12 || ts.Millis < -9e12) {
					continue // beyond Arrow's nanosecond range (years 1677-2262)
				}
				if spec.CompareValues(v, rows[i][c]) != 0 {
					t.Errorf("row %d column %s: arrow %#v, rows %#v", i, f.Name, v, rows[i][c])
				}
			}
			i++
		}
		rec.Release()
	}
}
