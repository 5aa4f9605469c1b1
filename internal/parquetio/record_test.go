package parquetio

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
)

// recordBytes writes rows[lo:hi] as one Arrow batch, in the scan form of
// arrowconv.Schema or the Parquet form, and returns the file.
func recordBytes(t *testing.T, fields []spec.DataField, rows []spec.Row, scanForm bool, lo, hi int64) []byte {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	newBuilder := arrowconv.NewParquetBuilder
	if scanForm {
		newBuilder = arrowconv.NewBuilder
	}
	b, err := newBuilder(mem, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, r := range rows {
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewBatch()
	defer rec.Release()
	if lo > 0 || hi < rec.NumRows() {
		s := rec.NewSlice(lo, hi)
		defer s.Release()
		rec = s
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(rec); err != nil {
		t.Fatalf("WriteRecord: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWriteRecord writes Arrow batches, in both Arrow forms and sliced, and
// checks they make the very bytes Write makes of the same rows.
func TestWriteRecord(t *testing.T) {
	fields := allTypes()
	var rows []spec.Row
	for range 5 {
		rows = append(rows, allTypesRows()...)
	}
	want := writeFile(t, fields, rows)
	if got := recordBytes(t, fields, rows, false, 0, int64(len(rows))); !bytes.Equal(got, want) {
		t.Error("WriteRecord of the Parquet form differs from Write")
	}
	if got := readAll(t, openBytes(t, want), fields); !equalRows(got, rows) {
		t.Errorf("rows differ")
	}
	sliced := rows[4:11]
	if got := recordBytes(t, fields, rows, false, 4, 11); !bytes.Equal(got, writeFile(t, fields, sliced)) {
		t.Error("WriteRecord of a sliced batch differs from Write")
	}

	// The scan form holds INT96 timestamps as Arrow nanoseconds, which end
	// in 2262.
	inRange := duckRowsOfAllTypes()
	for _, r := range inRange {
		for _, j := range []int{18, 21} {
			if ts, ok := r[j].(spec.Timestamp); ok && ts.Millis > 9e12 {
				r[j] = spec.Timestamp{Millis: 9e12, NanoOfMilli: ts.NanoOfMilli}
			}
		}
	}
	if got, want := recordBytes(t, fields, inRange, true, 0, 3), writeFile(t, fields, inRange); !bytes.Equal(got, want) {
		t.Error("WriteRecord of the scan form differs from Write")
	}
}

func TestWriteRecordErrors(t *testing.T) {
	fields := []spec.DataField{{ID: 0, Name: "id", Type: spec.IntType.NotNull()}, {ID: 1, Name: "r", Type: spec.RowType(spec.DataField{ID: 2, Name: "x", Type: spec.IntType.NotNull()})}}
	loose := []spec.DataField{{ID: 0, Name: "id", Type: spec.IntType}, {ID: 1, Name: "r", Type: spec.RowType(spec.DataField{ID: 2, Name: "x", Type: spec.IntType})}}
	for name, row := range map[string]spec.Row{
		"null top-level": {nil, nil},
		"null nested":    {int32(1), spec.Row{nil}},
	} {
		b, err := arrowconv.NewParquetBuilder(memory.DefaultAllocator, loose)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(row); err != nil {
			t.Fatal(err)
		}
		rec := b.NewBatch()
		w, err := NewWriter(new(bytes.Buffer), fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRecord(rec); !errors.Is(err, spec.ErrSchemaMismatch) {
			t.Errorf("%s: got %v, want ErrSchemaMismatch", name, err)
		}
		rec.Release()
		b.Release()
	}
	b, err := arrowconv.NewParquetBuilder(memory.DefaultAllocator, []spec.DataField{{ID: 0, Name: "id", Type: spec.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	rec := b.NewBatch()
	defer rec.Release()
	w, err := NewWriter(new(bytes.Buffer), fields[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(rec); !errors.Is(err, spec.ErrSchemaMismatch) {
		t.Errorf("BIGINT batch for an INT column: got %v, want ErrSchemaMismatch", err)
	}
}
