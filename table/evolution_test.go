package table

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Files written under an older schema are read through field ids: a renamed
// column keeps its values, an added one reads as null, a dropped one is gone.
func TestSchemaEvolutionByFieldID(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2)
	w, _ := tb.NewWrite(ctx)
	for i := int64(0); i < 10; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, fmt.Sprint("n", i), float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ := w.PrepareCommit(ctx)
	if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	// schema-1: "name" renamed to "label", "score" dropped, "flag" added.
	s1 := *tb.Schema()
	s1.ID = 1
	s1.Fields = []spec.DataField{s1.Fields[0], {ID: 1, Name: "label", Type: spec.StringType}, {ID: 3, Name: "flag", Type: spec.BooleanType}}
	s1.HighestFieldID = 3
	if err := tb.schemas.create(ctx, &s1); err != nil {
		t.Fatal(err)
	}
	tb2, err := Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	rows := scanAll(t, tb2)
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if r[1] != fmt.Sprint("n", r[0]) || r[2] != nil || len(r) != 3 {
			t.Fatalf("row %v", r)
		}
	}
	// New writes under schema-1 merge with the old files.
	w2, err := tb2.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(3), "three", true}); err != nil {
		t.Fatal(err)
	}
	msgs, _ = w2.PrepareCommit(ctx)
	if _, err := tb2.NewCommit("u").Commit(ctx, 2, msgs); err != nil {
		t.Fatal(err)
	}
	for _, r := range scanAll(t, tb2) {
		if r[0] == int64(3) && (r[1] != "three" || r[2] != true) {
			t.Fatalf("updated row %v", r)
		}
	}
}

// A deletion vector hides exactly the row positions it marks.
func TestReaderAppliesDeletionVector(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 1)
	w, _ := tb.NewWrite(ctx)
	for i := int64(0); i < 5; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, nil, nil}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil || len(msgs) != 1 || len(msgs[0].NewFiles) != 1 {
		t.Fatal(msgs, err)
	}
	for _, kind := range []spec.DVKind{spec.DVBitmap32, spec.DVBitmap64} {
		dv := spec.NewDeletionVector(kind)
		_ = dv.Delete(1)
		_ = dv.Delete(3)
		f := msgs[0].NewFiles[0]
		req := reader.Request{Dir: tb.bucketDir("", 0), File: &f, FileSchema: tb.Schema(),
			ReadFields: tb.Schema().Fields, KeyIndex: tb.layout.KeyIndex, DV: dv}
		var ids []int64
		for kv, err := range reader.ReadKeyValues(ctx, fs, req) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, kv.Key[0].(int64))
		}
		if fmt.Sprint(ids) != "[0 2 4]" {
			t.Fatalf("%v: ids %v", kind, ids)
		}
	}
}

// Files written before a column's type was widened read in the new type.
func TestSchemaEvolutionTypeWidening(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("id INT NOT NULL, n INT, price DECIMAL(10, 3)")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1"), nil)
	tb, err := Create(ctx, fs, "db.db/w", sc)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := tb.NewWrite(ctx)
	if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int32(1), int32(7), spec.NewDecimal(12345, 3)}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	w.Close()
	if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	s1 := *tb.Schema()
	s1.ID = 1
	s1.Fields = []spec.DataField{s1.Fields[0], {ID: 1, Name: "n", Type: spec.BigIntType}, {ID: 2, Name: "price", Type: spec.DecimalType(12, 4)}}
	if err := tb.schemas.create(ctx, &s1); err != nil {
		t.Fatal(err)
	}
	tb2, err := Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	rows := scanAll(t, tb2)
	if len(rows) != 1 || rows[0][1] != int64(7) || rows[0][2].(spec.Decimal).String() != "12.3450" {
		t.Fatalf("rows %v", rows)
	}
}
