package parquetio

import (
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/stratalake/strata/spec"
)

// Java Paimon's vectorized Parquet reader misreads DELTA_LENGTH_BYTE_ARRAY
// pages that hold nulls (VectorizedDeltaLengthByteArrayReader takes each
// length at the output row instead of the value's index), so a Strata file
// with a nullable STRING column read back shifted strings in Java. Writers
// of parquet-mr's version 1, Java Paimon's, never use the DELTA encodings:
// neither may Strata, with or without dictionaries.
func TestNoDeltaEncodings(t *testing.T) {
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "s", Type: spec.StringType},
		{ID: 2, Name: "b", Type: spec.BytesType},
		{ID: 3, Name: "d", Type: spec.DecimalType(20, 2)},
		{ID: 4, Name: "tags", Type: arrayOf(spec.StringType)},
		{ID: 5, Name: "m", Type: mapOf(spec.StringType.NotNull(), spec.StringType)},
	}
	var rows []spec.Row
	for i := range 3000 { // more values than one Java read batch (1024)
		var s, b any
		if i%3 != 0 {
			s, b = string(rune('a'+i%26))+"ü中", []byte{byte(i), 0}
		}
		rows = append(rows, spec.Row{int32(i), s, b, spec.NewDecimal(int64(i), 2),
			[]any{s, "x"}, spec.Map{Keys: []any{"k"}, Values: []any{s}}})
	}
	for _, dict := range []bool{false, true} {
		data := writeFile(t, fields, rows, WithDictionary(dict))
		md := arrowOpen(t, data).MetaData()
		for g := range md.NumRowGroups() {
			rg := md.RowGroup(g)
			for c := range rg.NumColumns() {
				cc, err := rg.ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				var plain bool
				for _, e := range cc.Encodings() {
					switch e {
					case parquet.Encodings.DeltaLengthByteArray, parquet.Encodings.DeltaByteArray, parquet.Encodings.DeltaBinaryPacked:
						t.Errorf("dictionary %v: column %v is %v-encoded; Java Paimon cannot read that reliably",
							dict, cc.PathInSchema(), e)
					case parquet.Encodings.Plain:
						plain = true
					}
				}
				if cc.Type() == parquet.Types.ByteArray && !dict && !plain {
					t.Errorf("column %v: encodings %v, want PLAIN without dictionaries", cc.PathInSchema(), cc.Encodings())
				}
			}
		}
		got := readAll(t, openBytes(t, data), fields)
		if !equalRows(got, rows) {
			t.Fatalf("dictionary %v: rows did not round-trip", dict)
		}
	}
}
