package spec

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

func readSchemaFile(t *testing.T, name string) (*TableSchema, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	return s, data
}

var timeMillisRE = regexp.MustCompile(`"timeMillis" : \d+`)

// The changes of testdata/alter/java-changes.json, applied by Java Paimon
// 1.4.2's SchemaManager to schema-0 (written by strata create), gave
// schema-1; Strata gives the same bytes but for the time.
func TestApplySchemaChangesMatchesJava(t *testing.T) {
	s0, _ := readSchemaFile(t, "testdata/alter/schema-0")
	_, want := readSchemaFile(t, "testdata/alter/schema-1")
	s1, err := ApplySchemaChanges(s0, true,
		AddColumn{Name: "e", Type: BigIntType},
		RenameColumn{Name: "b", NewName: "b2"},
		RenameColumn{Name: "ts", NewName: "ts2"},
		DropColumn{Name: "c"},
		UpdateColumnType{Name: "a", Type: BigIntType},
		UpdateColumnType{Name: "d", Type: DoubleType},
		SetOption{Key: "snapshot.num-retained.max", Value: "50"},
		SetOption{Key: "num-sorted-run.compaction-trigger", Value: "3"},
		RemoveOption{Key: "custom.key"},
	)
	if err != nil {
		t.Fatal(err)
	}
	got := timeMillisRE.ReplaceAllString(string(EncodeSchema(s1)), "")
	if w := timeMillisRE.ReplaceAllString(string(want), ""); got != w {
		t.Fatalf("schema-1 differs from Java's:\n%s\nwant\n%s", got, w)
	}
}

func mustSchema(t *testing.T, cols string, partition, pk []string, kv ...string) *TableSchema {
	t.Helper()
	fields, err := ParseColumns(cols)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema(fields, partition, pk, NewStringMap(kv...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Added columns take highestFieldId+1, nested ROW fields the following ids
// (a nested field's own children first); dropped ids are never reused.
func TestAddColumnFieldIDs(t *testing.T) {
	s := mustSchema(t, "id INT NOT NULL, a STRING, r ROW<x INT, y ROW<z INT>>", nil, []string{"id"}, "bucket", "1")
	if s.HighestFieldID != 5 {
		t.Fatalf("highest %d", s.HighestFieldID)
	}
	nested, err := ParseType("ROW<p INT, q ROW<w STRING>>")
	if err != nil {
		t.Fatal(err)
	}
	s1, err := ApplySchemaChanges(s, true, DropColumn{Name: "a"}, AddColumn{Name: "a", Type: StringType, Move: &Move{Kind: MoveFirst}},
		AddColumn{Name: "n", Type: nested, Move: &Move{Kind: MoveAfter, Ref: "id"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range s1.Fields {
		got = append(got, f.Name)
	}
	if strings.Join(got, ",") != "a,id,n,r" {
		t.Fatalf("order %v", got)
	}
	a, _ := s1.Field("a")
	n, _ := s1.Field("n")
	// n takes 7, then p 8, w 9, q 10 (Paimon's ReassignFieldId order).
	if a.ID != 6 || n.ID != 7 || n.Type.Fields[0].ID != 8 || n.Type.Fields[1].Type.Fields[0].ID != 9 ||
		n.Type.Fields[1].ID != 10 || s1.HighestFieldID != 10 || s1.ID != 1 {
		t.Fatalf("ids: a %d, n %+v, highest %d", a.ID, n, s1.HighestFieldID)
	}
}

func TestSchemaChangePositionsAndRenames(t *testing.T) {
	s := mustSchema(t, "id INT NOT NULL, a INT, b INT, c INT, ts BIGINT", nil, []string{"id"},
		"bucket", "2", "sequence.field", "ts", "merge-engine", "partial-update",
		"fields.ts.sequence-group", "a,b", "fields.c.aggregate-function", "sum")
	s1, err := ApplySchemaChanges(s, true,
		UpdateColumnPosition{Name: "c", Move: Move{Kind: MoveBefore, Ref: "a"}},
		UpdateColumnPosition{Name: "id", Move: Move{Kind: MoveLast}},
		RenameColumn{Name: "a", NewName: "a2"}, RenameColumn{Name: "c", NewName: "c2"},
		RenameColumn{Name: "id", NewName: "key"}, RenameColumn{Name: "ts", NewName: "ts2"},
		UpdateColumnComment{Name: "b", Comment: ptr("bee")}, UpdateComment{Comment: ptr("table")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s1.FieldNames(), ","); got != "c2,a2,b,ts2,key" {
		t.Fatalf("order %s", got)
	}
	o := s1.Options.Map()
	if o["sequence.field"] != "ts2" || o["fields.ts2.sequence-group"] != "a2,b" || o["fields.c2.aggregate-function"] != "sum" ||
		len(o) != 5 || s1.PrimaryKeys[0] != "key" || *s1.Comment != "table" || *s1.Fields[2].Description != "bee" {
		t.Fatalf("schema %s", EncodeSchema(s1))
	}
	if k, _ := s1.Field("key"); k.ID != 0 || k.Type.Nullable {
		t.Fatalf("key %+v", k)
	}
}

func ptr(s string) *string { return &s }

// Each refusal wraps ErrInvalidSchema and says why.
func TestSchemaChangeRefusals(t *testing.T) {
	s := mustSchema(t, "dt STRING NOT NULL, id INT NOT NULL, a INT, b STRING, n INT NOT NULL, r ROW<x INT>", []string{"dt"}, []string{"dt", "id"},
		"bucket", "2", "ignore-delete", "true", "merge-engine", "deduplicate")
	cases := []struct {
		name   string
		change SchemaChange
		snaps  bool
		want   string
	}{
		{"add not null", AddColumn{Name: "x", Type: IntType.NotNull()}, false, "NOT NULL"},
		{"add existing", AddColumn{Name: "a", Type: IntType}, false, "already exists"},
		{"add after missing", AddColumn{Name: "x", Type: IntType, Move: &Move{Kind: MoveAfter, Ref: "zz"}}, false, "does not exist"},
		{"add reserved", AddColumn{Name: "_SEQUENCE_NUMBER", Type: IntType}, false, "reserved"},
		{"drop pk", DropColumn{Name: "id"}, false, "primary-key"},
		{"drop partition", DropColumn{Name: "dt"}, false, "partition"},
		{"drop missing", DropColumn{Name: "zz"}, false, "does not exist"},
		{"rename partition", RenameColumn{Name: "dt", NewName: "day"}, false, "partition"},
		{"rename onto existing", RenameColumn{Name: "a", NewName: "b"}, false, "already exists"},
		{"type of pk", UpdateColumnType{Name: "id", Type: BigIntType.NotNull()}, false, "primary-key"},
		{"type of partition", UpdateColumnType{Name: "dt", Type: StringType}, false, "partition"},
		{"narrowing", UpdateColumnType{Name: "a", Type: SmallIntType}, false, "cannot change to"},
		{"string to int", UpdateColumnType{Name: "b", Type: IntType}, false, "cannot change to"},
		{"nested", UpdateColumnType{Name: "r", Type: RowType(DataField{ID: 9, Name: "x", Type: BigIntType})}, false, "nested"},
		{"type to not null", UpdateColumnType{Name: "a", Type: BigIntType.NotNull()}, false, "NOT NULL"},
		{"null to not null", UpdateColumnNullability{Name: "a", Nullable: false}, false, "NOT NULL"},
		{"pk nullable", UpdateColumnNullability{Name: "id", Nullable: true}, false, "primary-key"},
		{"move itself", UpdateColumnPosition{Name: "a", Move: Move{Kind: MoveAfter, Ref: "a"}}, false, "itself"},
		{"set type", SetOption{Key: "type", Value: "append-only"}, false, "type"},
		{"set primary-key", SetOption{Key: "primary-key", Value: "a"}, false, "fixed"},
		{"merge-engine", SetOption{Key: "merge-engine", Value: "first-row"}, true, "immutable"},
		{"bucket count", SetOption{Key: "bucket", Value: "4"}, true, "rescale"},
		{"bucket dynamic", SetOption{Key: "bucket", Value: "-1"}, true, "-1"},
		{"remove bucket", RemoveOption{Key: "bucket"}, true, "bucket count"},
		{"ignore-delete", SetOption{Key: "ignore-delete", Value: "false"}, true, "true to false"},
		{"remove ignore-delete", RemoveOption{Key: "ignore-delete"}, true, "true to false"},
		{"dv", SetOption{Key: "deletion-vectors.enabled", Value: "true"}, true, "modifiable"},
		{"bad value", SetOption{Key: "num-levels", Value: "many"}, false, "num-levels"},
		{"sequence.field missing", SetOption{Key: "sequence.field", Value: "zz"}, true, "sequence.field"},
	}
	for _, c := range cases {
		_, err := ApplySchemaChanges(s, c.snaps, c.change)
		if !errors.Is(err, ErrInvalidSchema) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an ErrInvalidSchema saying %q", c.name, err, c.want)
		}
	}
	// Without snapshots the immutable options may change, as in Paimon.
	if _, err := ApplySchemaChanges(s, false, SetOption{Key: "bucket", Value: "4"}); err != nil {
		t.Errorf("bucket without snapshots: %v", err)
	}
	withDVMod := mustSchema(t, "id INT NOT NULL, a INT", nil, []string{"id"}, "bucket", "1", "deletion-vectors.modifiable", "true")
	if _, err := ApplySchemaChanges(withDVMod, true, SetOption{Key: "deletion-vectors.enabled", Value: "true"}); err != nil {
		t.Errorf("dv with modifiable: %v", err)
	}
	relaxed := mustSchema(t, "id INT NOT NULL, a INT", nil, []string{"id"}, "bucket", "1", OptAlterNullToNotNullDisabled, "false")
	if _, err := ApplySchemaChanges(relaxed, true, UpdateColumnNullability{Name: "a"}); err != nil {
		t.Errorf("null to not null when allowed: %v", err)
	}
}

// Every change CheckTypeChange allows reads old values back with
// CastValue; the lossy or engine-dependent ones are refused.
func TestCheckTypeChange(t *testing.T) {
	VarCharType := func(n int) DataType { return DataType{Root: TypeVarChar, Nullable: true, Length: n} }
	CharType := func(n int) DataType { return DataType{Root: TypeChar, Nullable: true, Length: n} }
	BinaryType := func(n int) DataType { return DataType{Root: TypeBinary, Nullable: true, Length: n} }
	ArrayType := func(e DataType) DataType { return DataType{Root: TypeArray, Nullable: true, Elem: &e} }
	allowed := []struct {
		from, to DataType
		v        any
	}{
		{TinyIntType, IntType, int8(-3)}, {IntType, BigIntType, int32(7)}, {SmallIntType, FloatType, int16(3)},
		{BigIntType, DoubleType, int64(1) << 40}, {FloatType, DoubleType, float32(1.5)},
		{IntType, DecimalType(12, 2), int32(-8)}, {DecimalType(10, 3), DecimalType(12, 4), NewDecimal(12345, 3)},
		{DecimalType(10, 3), DoubleType, NewDecimal(12345, 3)}, {VarCharType(5), VarCharType(10), "abc"},
		{CharType(3), StringType, "abc"}, {BinaryType(4), BytesType, []byte("ab")},
		{TimestampType(3), TimestampType(6), Timestamp{Millis: 5}}, {DateType, TimestampType(3), Date(3)},
		{IntType, StringType, int32(4)}, {BooleanType, StringType, true}, {DoubleType, StringType, 2.5},
		{DateType, StringType, Date(1)}, {IntType.NotNull(), IntType, int32(1)},
	}
	for _, c := range allowed {
		if err := CheckTypeChange(c.from, c.to, true); err != nil {
			t.Errorf("%s → %s refused: %v", c.from, c.to, err)
			continue
		}
		if _, err := CastValue(c.v, c.from, c.to); err != nil {
			t.Errorf("%s → %s allowed but not readable: %v", c.from, c.to, err)
		}
	}
	refused := [][2]DataType{
		{BigIntType, IntType}, {DoubleType, FloatType}, {DoubleType, DecimalType(10, 2)}, {BigIntType, DecimalType(10, 0)},
		{DecimalType(10, 2), DecimalType(10, 3)}, {DecimalType(10, 2), DecimalType(9, 2)}, {VarCharType(10), VarCharType(5)},
		{StringType, IntType}, {IntType, VarCharType(20)}, {TimestampType(6), TimestampType(3)},
		{TimestampType(3), DataType{Root: TypeTimestampLTZ, Nullable: true, Precision: 3}}, {TimestampType(3), StringType},
		{BooleanType, IntType}, {DateType, IntType}, {ArrayType(IntType), ArrayType(BigIntType)}, {BytesType, StringType},
	}
	for _, c := range refused {
		if err := CheckTypeChange(c[0], c[1], true); !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("%s → %s: got %v, want a refusal", c[0], c[1], err)
		}
	}
	if err := CheckTypeChange(IntType, StringType, false); !errors.Is(err, ErrInvalidSchema) {
		t.Errorf("explicit cast with disable-explicit-type-casting: %v", err)
	}
}
