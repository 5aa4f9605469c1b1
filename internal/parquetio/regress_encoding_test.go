package parquetio

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
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
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range pf.Metadata().RowGroups {
			for _, c := range rg.Columns {
				var plain bool
				for _, e := range c.MetaData.Encoding {
					switch e {
					case format.DeltaLengthByteArray, format.DeltaByteArray, format.DeltaBinaryPacked:
						t.Errorf("dictionary %v: column %v is %v-encoded; Java Paimon cannot read that reliably",
							dict, c.MetaData.PathInSchema, e)
					case format.Plain:
						plain = true
					}
				}
				if c.MetaData.Type == format.ByteArray && !dict && !plain {
					t.Errorf("column %v: encodings %v, want PLAIN without dictionaries", c.MetaData.PathInSchema, c.MetaData.Encoding)
				}
			}
		}
		got := readAll(t, openBytes(t, data), fields)
		if !equalRows(got, rows) {
			t.Fatalf("dictionary %v: rows did not round-trip", dict)
		}
	}
}
