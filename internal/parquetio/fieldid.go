package parquetio

import (
	"math"

	"github.com/stratalake/strata/spec"
)

// Reserved field ids and names of Paimon's system columns
// (paimon-api/.../table/SpecialFields.java).
const (
	// KeyFieldIDStart is added to a primary-key field's id to form the id of
	// its _KEY_ column (SpecialFields.KEY_FIELD_ID_START = MAX_INT/2).
	KeyFieldIDStart = math.MaxInt32 / 2
	// KeyFieldPrefix prefixes the names of the _KEY_ columns.
	KeyFieldPrefix = "_KEY_"
	// SequenceNumberFieldID is the id of the _SEQUENCE_NUMBER column.
	SequenceNumberFieldID = math.MaxInt32 - 1
	// SequenceNumberName names the BIGINT NOT NULL sequence-number column.
	SequenceNumberName = "_SEQUENCE_NUMBER"
	// ValueKindFieldID is the id of the _VALUE_KIND column.
	ValueKindFieldID = math.MaxInt32 - 2
	// ValueKindName names the TINYINT NOT NULL row-kind column.
	ValueKindName = "_VALUE_KIND"
	// LevelFieldID is the id of the _LEVEL system field (never stored in
	// data files; readers add it).
	LevelFieldID = math.MaxInt32 - 3
	// RowIDFieldID is the id of the _ROW_ID row-tracking field.
	RowIDFieldID = math.MaxInt32 - 5

	// RootName is the name of the Parquet message of every Paimon file.
	RootName = "paimon_schema"

	structuredFieldIDBase = math.MaxInt32 / 4
	structuredDepthLimit  = 1 << 10
)

// ArrayElementFieldID is the field id Java gives the element of an ARRAY or
// VECTOR whose field id is arrayFieldID, at the given nesting depth (1 for a
// top-level array). Java computes it in int32 arithmetic, overflow included.
func ArrayElementFieldID(arrayFieldID, depth int) int {
	return int(int32(structuredFieldIDBase) + int32(arrayFieldID)*structuredDepthLimit + int32(depth))
}

// MapKeyFieldID is the field id Java gives the key of a MAP or MULTISET.
func MapKeyFieldID(mapFieldID, depth int) int {
	return int(int32(structuredFieldIDBase) - int32(mapFieldID)*structuredDepthLimit - int32(depth))
}

// MapValueFieldID is the field id Java gives the value of a MAP or MULTISET.
// It equals ArrayElementFieldID for the same arguments, as in Java.
func MapValueFieldID(mapFieldID, depth int) int {
	return int(int32(structuredFieldIDBase) + int32(mapFieldID)*structuredDepthLimit + int32(depth))
}

// KVFields returns the physical columns of a primary-key data file, in
// Java's order (KeyValue.createKeyValueFields): one _KEY_<name> column per
// key field (id + KeyFieldIDStart, same type), _SEQUENCE_NUMBER BIGINT NOT
// NULL, _VALUE_KIND TINYINT NOT NULL, then valueFields unchanged.
//
// keyFields are the trimmed primary keys (primary keys minus partition keys),
// as Java's TableSchema.trimmedPrimaryKeysFields gives them; valueFields are
// all table columns, partition columns included.
func KVFields(keyFields, valueFields []spec.DataField) []spec.DataField {
	out := make([]spec.DataField, 0, len(keyFields)+2+len(valueFields))
	for _, f := range keyFields {
		f.Name = KeyFieldPrefix + f.Name
		f.ID = int(int32(f.ID) + KeyFieldIDStart)
		out = append(out, f)
	}
	out = append(out, SystemFields()...)
	return append(out, valueFields...)
}

// SystemFields are _SEQUENCE_NUMBER (BIGINT NOT NULL) and _VALUE_KIND
// (TINYINT NOT NULL), the columns between a key-value file's key and value
// columns, and the first two of the batches merges work on.
func SystemFields() []spec.DataField {
	return []spec.DataField{
		{ID: SequenceNumberFieldID, Name: SequenceNumberName, Type: spec.BigIntType.NotNull()},
		{ID: ValueKindFieldID, Name: ValueKindName, Type: spec.TinyIntType.NotNull()},
	}
}
