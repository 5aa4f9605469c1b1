package arrowconv

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/spec"
)

func TestBuilderAllTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	strT := spec.StringType
	intT := spec.IntType
	fl := spec.FloatType
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "s", Type: spec.StringType},
		{ID: 2, Name: "d", Type: spec.DecimalType(20, 2)},
		{ID: 3, Name: "ts", Type: spec.TimestampType(6)},
		{ID: 4, Name: "arr", Type: spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &strT}},
		{ID: 5, Name: "m", Type: spec.DataType{Root: spec.TypeMap, Nullable: true, Key: &strT, Value: &intT}},
		{ID: 6, Name: "r", Type: spec.RowType(spec.DataField{ID: 8, Name: "a", Type: intT})},
		{ID: 7, Name: "v", Type: spec.DataType{Root: spec.TypeVector, Nullable: true, Elem: &fl, Length: 2}},
	}
	b, err := NewBuilder(mem, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	rows := []spec.Row{
		{int32(1), "a", spec.NewDecimal(12345, 2), spec.Timestamp{Millis: 1000, NanoOfMilli: 5000},
			[]any{"x", nil}, spec.Map{Keys: []any{"k"}, Values: []any{int32(1)}}, spec.Row{int32(9)}, []any{float32(1), float32(2)}},
		{int32(2), nil, nil, nil, nil, nil, nil, nil},
	}
	for _, r := range rows {
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewBatch()
	defer rec.Release()
	if rec.NumRows() != 2 || rec.NumCols() != int64(len(fields)) {
		t.Fatalf("shape %d x %d", rec.NumRows(), rec.NumCols())
	}
	if got := rec.Column(1).(*array.String).Value(0); got != "a" {
		t.Fatal(got)
	}
	if got := rec.Column(2).(*array.Decimal128).Value(0).LowBits(); got != 12345 {
		t.Fatal(got)
	}
	if got := rec.Column(3).(*array.Timestamp).Value(0); got != 1000005 {
		t.Fatal(got)
	}
	if !rec.Column(1).IsNull(1) {
		t.Fatal("null lost")
	}
	if id, _ := rec.Schema().Field(6).Metadata.GetValue(FieldIDKey); id != "6" {
		t.Fatalf("field id %q", id)
	}
	if err := b.Append(spec.Row{"x", nil, nil, nil, nil, nil, nil, nil}); err == nil {
		t.Fatal("wrong type accepted")
	}
}
