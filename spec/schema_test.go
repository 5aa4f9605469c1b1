package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenFiles lists the Java-written schema or snapshot files of the shared
// fixtures (../shared beside the repo).
func goldenFiles(t testing.TB, prefix string) []string {
	t.Helper()
	dir := "snapshot"
	if prefix == "schema-" {
		dir = "schema"
	}
	files, err := filepath.Glob(filepath.Join(fixtureDB, "*", dir, prefix+"*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s golden files: %v", prefix, err)
	}
	return files
}

// TestSchemaGolden decodes every Java-written schema and re-encodes it byte
// for byte.
func TestSchemaGolden(t *testing.T) {
	for _, p := range goldenFiles(t, "schema-") {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := DecodeSchema(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := EncodeSchema(s); !bytes.Equal(got, data) {
			t.Errorf("%s: re-encoding differs:\n%s", p, got)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestSchemaGoldenContent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDB, "test_pk_vector_golden", "schema", "schema-0"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 3 || s.ID != 0 || s.HighestFieldID != 1 || s.TimeMillis != 1784213443933 {
		t.Errorf("header: %+v", s)
	}
	if s.Comment == nil || *s.Comment != "" {
		t.Errorf("comment: %v", s.Comment)
	}
	emb, ok := s.Field("embedding")
	if !ok || emb.ID != 1 || emb.Type.Root != TypeVector || emb.Type.Length != 4 || emb.Type.Elem.Root != TypeFloat {
		t.Errorf("embedding: %+v", emb)
	}
	if id, _ := s.Field("id"); id.Type.String() != "INT NOT NULL" {
		t.Errorf("id type %s", id.Type)
	}
	keys := s.Options.Keys()
	if len(keys) != 8 || keys[0] != "bucket" || keys[7] != "ivf-flat.metric" {
		t.Errorf("options order: %v", keys)
	}
	if !slices.Equal(s.PrimaryKeys, []string{"id"}) || len(s.PartitionKeys) != 0 {
		t.Errorf("keys: %v %v", s.PrimaryKeys, s.PartitionKeys)
	}
	if !slices.Equal(s.BucketKeys(), []string{"id"}) || !slices.Equal(s.TrimmedPrimaryKeys(), []string{"id"}) {
		t.Errorf("bucket keys %v", s.BucketKeys())
	}
	opts, err := s.CoreOptions()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Bucket != 1 || !opts.DeletionVectorsEnabled || opts.FileFormat != "parquet" {
		t.Errorf("options: %+v", opts)
	}
	if rt := s.LogicalRowType(); rt.Root != TypeRow || len(rt.Fields) != 2 || !rt.Nullable {
		t.Errorf("row type %s", rt)
	}
}

// sortedOptions returns a copy of s with options sorted by key, for
// comparisons with Java, which reads options into a HashMap.
func sortedOptions(s *TableSchema) *TableSchema {
	c := *s
	c.Options = *StringMapOf(s.Options.Map())
	return &c
}

// TestSchemaAgainstJava compares DecodeSchema/EncodeSchema with Paimon's
// SchemaSerializer on the recorded cases.
func TestSchemaAgainstJava(t *testing.T) {
	in, out := readOracle(t, "schemas")
	for i, line := range in {
		java := out[i]
		ours, err := DecodeSchema([]byte(line))
		if strings.HasPrefix(java, "ERR ") {
			switch {
			case err != nil:
			case !strings.Contains(line, "highestFieldId"):
				// Strata computes a missing highestFieldId; Java fails.
				if ours.HighestFieldID != HighestFieldID(ours.Fields) {
					t.Errorf("line %d: highestFieldId %d", i+1, ours.HighestFieldID)
				}
			case ours.Validate() == nil:
				t.Errorf("line %d: Java rejects it (%s) but Strata accepts it", i+1, java)
			}
			continue
		}
		if err != nil {
			t.Errorf("line %d: Java reads it but Strata fails: %v", i+1, err)
			continue
		}
		// Java's output re-encodes byte for byte.
		fromJava, err := DecodeSchema([]byte(java))
		if err != nil {
			t.Errorf("line %d: decoding Java's output: %v", i+1, err)
			continue
		}
		if got := EncodeSchema(fromJava); string(got) != java {
			t.Errorf("line %d: re-encoding Java's output:\n%s\nwant\n%s", i+1, got, java)
		}
		// Strata reads the input as Java does, options order aside.
		if strings.Contains(line, `"comment":null`) {
			// Java reads an explicit null comment as the text "null";
			// Strata as no comment.
			if ours.Comment != nil || *fromJava.Comment != "null" {
				t.Errorf("line %d: null comment read as %v", i+1, ours.Comment)
			}
			continue
		}
		a, b := EncodeSchema(sortedOptions(ours)), EncodeSchema(sortedOptions(fromJava))
		if !bytes.Equal(a, b) {
			t.Errorf("line %d: Strata reads\n%s\nJava reads\n%s", i+1, a, b)
		}
	}
}

// TestNewSchemaAgainstJava builds schemas with NewSchema and compares them,
// option order included, with what Java's Schema.Builder creates.
func TestNewSchemaAgainstJava(t *testing.T) {
	in, out := readOracle(t, "create")
	for i, line := range in {
		var c struct {
			Columns []struct {
				Name        string          `json:"name"`
				Type        json.RawMessage `json:"type"`
				Description *string         `json:"description"`
			} `json:"columns"`
			PartitionKeys []string    `json:"partitionKeys"`
			PrimaryKeys   []string    `json:"primaryKeys"`
			Options       [][2]string `json:"options"`
			Comment       *string     `json:"comment"`
			TimeMillis    int64       `json:"timeMillis"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		var fields []DataField
		next := -1
		for _, col := range c.Columns {
			var typ DataType
			if err := typ.UnmarshalJSON(col.Type); err != nil {
				t.Fatal(err)
			}
			next++
			id := next
			fields = append(fields, DataField{ID: id, Name: col.Name, Type: reassignFieldIDs(typ, &next), Description: col.Description})
		}
		opts := &StringMap{}
		for _, kv := range c.Options {
			opts.Set(kv[0], kv[1])
		}
		s, err := NewSchema(fields, c.PartitionKeys, c.PrimaryKeys, opts, c.Comment)
		java := out[i]
		if strings.HasPrefix(java, "ERR ") {
			if err == nil {
				t.Errorf("line %d: Java rejects it (%s) but NewSchema accepts it", i+1, java)
			}
			continue
		}
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		s.TimeMillis = c.TimeMillis
		if got := EncodeSchema(s); string(got) != java {
			t.Errorf("line %d: NewSchema gives\n%s\nJava gives\n%s", i+1, got, java)
		}
	}
}

func TestDecodeSchemaTolerant(t *testing.T) {
	s, err := DecodeSchema([]byte(`{"id":2,"fields":[{"id":0,"name":"a","type":"INT","x":1}],"highestFieldId":0,` +
		`"partitionKeys":null,"primaryKeys":[],"options":{"k":"v"},"unknown":[{}],"timeMillis":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 || s.ID != 2 || s.TimeMillis != 0 || len(s.PartitionKeys) != 0 || s.Comment != nil {
		t.Errorf("%+v", s)
	}
	// Version 1 defaults: bucket=1 and file.format=orc, appended.
	if got := s.Options.Keys(); !slices.Equal(got, []string{"k", "bucket", "file.format"}) {
		t.Errorf("options %v", got)
	}
	if v, _ := s.Options.Get(OptFileFormat); v != "orc" {
		t.Errorf("file.format %q", v)
	}
	s, err = DecodeSchema([]byte(`{"version":2,"id":0,"fields":[],"options":{"bucket":"3"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Options.Keys(); !slices.Equal(got, []string{"bucket", "file.format"}) || s.HighestFieldID != -1 {
		t.Errorf("options %v highest %d", got, s.HighestFieldID)
	}
	s, err = DecodeSchema([]byte(`{"version":3,"id":0,"fields":[],"options":{"file.format":"avro"}}`))
	if err != nil || s.Options.Len() != 1 {
		t.Errorf("version 3 must not get defaults: %v %v", err, s.Options.Keys())
	}
}

func TestDecodeSchemaErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{``, ErrCorrupt},
		{`[]`, ErrCorrupt},
		{`{"version":3`, ErrCorrupt},
		{`{"version":3} x`, ErrCorrupt},
		{`{"version":3,"id":0}`, ErrCorrupt},
		{`{"version":"x","fields":[]}`, ErrCorrupt},
		{`{"version":3,"fields":[{"name":"a","type":"INT"}]}`, ErrCorrupt},
		{`{"version":3,"fields":[{"id":0,"name":"a","type":"DECIMAL(99, 1)"}]}`, ErrCorrupt},
		{`{"version":3,"fields":[{"id":0,"name":"a","type":"INT"}],"primaryKeys":"a"}`, ErrCorrupt},
		{`{"version":3,"fields":[{"id":0,"name":"a","type":"VARIANT"}]}`, ErrUnsupportedType},
		{`{"version":3,"fields":[{"id":0,"name":"a","type":{"type":"ARRAY","element":"BLOB"}}]}`, ErrUnsupportedType},
		{`{"version":3,"id":1e40,"fields":[]}`, ErrCorrupt},
	}
	for _, c := range cases {
		_, err := DecodeSchema([]byte(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.in, err, c.want)
		}
	}
	_, err := DecodeSchema([]byte(`{"version":3,"fields":[{"id":0,"name":"a","type":"VARIANT"}]}`))
	if errors.Is(err, ErrCorrupt) {
		t.Errorf("an unsupported type is not corruption: %v", err)
	}
}

func TestEncodeSchemaLayout(t *testing.T) {
	s := &TableSchema{
		Version: 3, ID: 1,
		Fields:         []DataField{{ID: 0, Name: "a", Type: arrayOf(IntType)}},
		HighestFieldID: 0,
		PartitionKeys:  []string{},
		Comment:        ptrTo("<&>\u00e9\u2028\x7f\x01\"\\"),
		TimeMillis:     5,
	}
	want := "{\n" +
		"  \"version\" : 3,\n" +
		"  \"id\" : 1,\n" +
		"  \"fields\" : [ {\n" +
		"    \"id\" : 0,\n" +
		"    \"name\" : \"a\",\n" +
		"    \"type\" : {\n" +
		"      \"type\" : \"ARRAY\",\n" +
		"      \"element\" : \"INT\"\n" +
		"    }\n" +
		"  } ],\n" +
		"  \"highestFieldId\" : 0,\n" +
		"  \"partitionKeys\" : [ ],\n" +
		"  \"primaryKeys\" : [ ],\n" +
		"  \"options\" : { },\n" +
		"  \"comment\" : \"<&>\u00e9\u2028\x7f\\u0001\\\"\\\\\",\n" +
		"  \"timeMillis\" : 5\n" +
		"}"
	if got := string(EncodeSchema(s)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Invalid UTF-8 is written as U+FFFD, as a Java string would hold it.
	s.Comment = ptrTo("a\xffb")
	if got := string(EncodeSchema(s)); !strings.Contains(got, "\"a\uFFFDb\"") {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func TestSchemaHelpers(t *testing.T) {
	fields, err := ParseColumns("dt STRING, id BIGINT, k2 INT, v STRING, r ROW<a INT>")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema(fields, []string{"dt"}, []string{"dt", "id", "k2"}, NewStringMap(OptBucket, "4", OptBucketKey, "id"), ptrTo("c"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.TrimmedPrimaryKeys(), []string{"id", "k2"}) {
		t.Errorf("trimmed %v", s.TrimmedPrimaryKeys())
	}
	if !slices.Equal(s.BucketKeys(), []string{"id"}) {
		t.Errorf("bucket keys %v", s.BucketKeys())
	}
	for _, n := range []string{"dt", "id", "k2"} {
		if f, _ := s.Field(n); f.Type.Nullable {
			t.Errorf("primary-key column %s stays nullable", n)
		}
	}
	if f, _ := s.Field("v"); !f.Type.Nullable {
		t.Errorf("v became NOT NULL")
	}
	if fields[0].Type.Nullable != true {
		t.Errorf("NewSchema changed the caller's fields")
	}
	if s.HighestFieldID != 5 || s.Version != 3 || s.TimeMillis == 0 || *s.Comment != "c" {
		t.Errorf("%+v", s)
	}
	if got := s.PartitionFields(); len(got) != 1 || got[0].Name != "dt" {
		t.Errorf("partition fields %v", got)
	}
	if got := s.PrimaryKeyFields(); len(got) != 3 {
		t.Errorf("pk fields %v", got)
	}
	if got := s.TrimmedPrimaryKeyFields(); len(got) != 2 || got[0].Name != "id" {
		t.Errorf("trimmed pk fields %v", got)
	}
	if got := s.BucketKeyFields(); len(got) != 1 || got[0].ID != 1 {
		t.Errorf("bucket key fields %v", got)
	}
	if f, ok := s.FieldByID(4); !ok || f.Name != "r" {
		t.Errorf("FieldByID: %v", f)
	}
	if s.FieldIndex("v") != 3 || s.FieldIndex("nope") != -1 {
		t.Errorf("FieldIndex")
	}
	if s.CrossPartitionUpdate() {
		t.Errorf("PK includes the partition")
	}
	// The round trip keeps everything.
	back, err := DecodeSchema(EncodeSchema(s))
	if err != nil || !bytes.Equal(EncodeSchema(back), EncodeSchema(s)) {
		t.Errorf("round trip: %v", err)
	}

	// primary-key / partition options move into the key lists.
	s, err = NewSchema(fields, nil, nil, NewStringMap(OptPrimaryKey, " id , k2,", OptPartition, "dt", "x", "1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.PrimaryKeys, []string{"id", "k2"}) || !slices.Equal(s.PartitionKeys, []string{"dt"}) || s.Options.Len() != 1 {
		t.Errorf("keys %v %v options %v", s.PrimaryKeys, s.PartitionKeys, s.Options.Keys())
	}
	if !s.CrossPartitionUpdate() {
		t.Errorf("PK without the partition column is a cross-partition update")
	}
	// primary-key.nullable keeps key columns nullable, even NOT NULL ones.
	notNull := slices.Clone(fields)
	notNull[1].Type = notNull[1].Type.NotNull()
	s, err = NewSchema(notNull, nil, []string{"id"}, NewStringMap(OptPrimaryKeyNullable, "TRUE"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Field("id"); !f.Type.Nullable {
		t.Errorf("primary-key.nullable ignored")
	}
}

func TestNewSchemaValidation(t *testing.T) {
	fields, err := ParseColumns("a INT, b STRING, c ARRAY<INT>, d INT")
	if err != nil {
		t.Fatal(err)
	}
	o := NewStringMap
	cases := []struct {
		name       string
		fields     []DataField
		part, pk   []string
		opts       *StringMap
		wantSubstr string
	}{
		{"duplicate column", append(slices.Clone(fields), DataField{ID: 9, Name: "a", Type: IntType}), nil, nil, nil, "duplicate"},
		{"duplicate id", append(slices.Clone(fields), DataField{ID: 1, Name: "z", Type: IntType}), nil, nil, nil, "field id 1"},
		{"blank name", append(slices.Clone(fields), DataField{ID: 9, Name: " ", Type: IntType}), nil, nil, nil, "non-whitespace"},
		{"system name", append(slices.Clone(fields), DataField{ID: 9, Name: "_SEQUENCE_NUMBER", Type: IntType}), nil, nil, nil, "reserved"},
		{"key prefix", append(slices.Clone(fields), DataField{ID: 9, Name: "_KEY_a", Type: IntType}), nil, nil, nil, "reserved"},
		{"bad type", append(slices.Clone(fields), DataField{ID: 9, Name: "z", Type: DataType{Root: TypeChar}}), nil, nil, nil, "length"},
		{"unknown pk", fields, nil, []string{"x"}, nil, "primary key column"},
		{"unknown partition", fields, []string{"x"}, nil, nil, "partition key column"},
		{"duplicate pk", fields, nil, []string{"a", "a"}, nil, "duplicate"},
		{"nested pk", fields, nil, []string{"c"}, nil, "cannot be a key"},
		{"pk is partition", fields, []string{"a"}, []string{"a"}, nil, "same as the partition"},
		{"pk twice", fields, nil, []string{"a"}, o(OptPrimaryKey, "a"), "both"},
		{"partition twice", fields, []string{"a"}, nil, o(OptPartition, "a"), "both"},
		{"bad option", fields, nil, []string{"a"}, o(OptBucket, "x"), `"bucket"`},
		{"bad pk nullable", fields, nil, []string{"a"}, o(OptPrimaryKeyNullable, "yes"), OptPrimaryKeyNullable},
		{"pk nullable without pk", fields, nil, nil, o(OptPrimaryKeyNullable, "true"), "primary keys"},
		{"zero buckets", fields, nil, []string{"a"}, o(OptBucket, "0"), "bucket count >= 1"},
		{"postpone append", fields, nil, nil, o(OptBucket, "-2"), "bucket count >= 1"},
		{"bucket key with dynamic", fields, nil, []string{"a"}, o(OptBucketKey, "a"), "bucket = -1"},
		{"fixed append without key", fields, nil, nil, o(OptBucket, "2"), "bucket-key"},
		{"bucket key unknown", fields, nil, nil, o(OptBucket, "2", OptBucketKey, "zz"), "not a column"},
		{"bucket key in partition", fields, []string{"a"}, nil, o(OptBucket, "2", OptBucketKey, "a"), "partition"},
		{"bucket key outside pk", fields, nil, []string{"a"}, o(OptBucket, "2", OptBucketKey, "b"), "part of the primary key"},
		{"nested bucket key", fields, nil, nil, o(OptBucket, "2", OptBucketKey, "c"), "nested"},
		{"changelog without pk", fields, nil, nil, o(OptChangelogProducer, "input"), "primary key"},
		{"sequence unknown", fields, nil, []string{"a"}, o(OptSequenceField, "zz"), "sequence field"},
		{"sequence repeated", fields, nil, []string{"a"}, o(OptSequenceField, "b, b"), "repeatedly"},
		{"sequence first-row", fields, nil, []string{"a"}, o(OptSequenceField, "b", OptMergeEngine, "first-row"), "first-row"},
		{"sequence cross partition", fields, []string{"d"}, []string{"a"}, o(OptSequenceField, "b"), "sequence field"},
		{"full compaction dynamic append", fields, nil, nil, o(OptFullCompactionDeltaCommits, "2"), "full-compaction"},
	}
	for _, c := range cases {
		_, err := NewSchema(c.fields, c.part, c.pk, c.opts, nil)
		if !errors.Is(err, ErrInvalidSchema) || !strings.Contains(err.Error(), c.wantSubstr) {
			t.Errorf("%s: got %v, want ErrInvalidSchema mentioning %q", c.name, err, c.wantSubstr)
		}
	}
	ok := []struct {
		name     string
		part, pk []string
		opts     *StringMap
	}{
		{"append unaware", nil, nil, nil},
		{"pk dynamic", nil, []string{"a"}, nil},
		{"pk postpone", nil, []string{"a"}, o(OptBucket, "-2")},
		{"append fixed", nil, nil, o(OptBucket, "3", OptBucketKey, "a,b")},
		{"pk with partition", []string{"d"}, []string{"a", "d"}, o(OptBucket, "3", OptSequenceField, "b")},
	}
	for _, c := range ok {
		if _, err := NewSchema(fields, c.part, c.pk, c.opts, nil); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	s := &TableSchema{Version: 3, Fields: fields, HighestFieldID: 1}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "highestFieldId") {
		t.Errorf("low highestFieldId: %v", err)
	}
}

func TestStringMap(t *testing.T) {
	var m StringMap
	if _, ok := m.Get("x"); ok || m.Len() != 0 || m.Keys() != nil {
		t.Errorf("zero value not empty")
	}
	m.Set("b", "1")
	m.Set("a", "2")
	m.Set("b", "3")
	if !slices.Equal(m.Keys(), []string{"b", "a"}) {
		t.Errorf("keys %v", m.Keys())
	}
	if v, _ := m.Get("b"); v != "3" {
		t.Errorf("b = %q", v)
	}
	c := m.Clone()
	m.Delete("b")
	m.Delete("nope")
	if !slices.Equal(m.Keys(), []string{"a"}) || c.Len() != 2 {
		t.Errorf("delete/clone: %v %v", m.Keys(), c.Keys())
	}
	if !c.Equal(NewStringMap("b", "3", "a", "2")) || c.Equal(NewStringMap("a", "2", "b", "3")) {
		t.Errorf("Equal must respect order")
	}
	if got := StringMapOf(map[string]string{"z": "1", "y": "2"}).Keys(); !slices.Equal(got, []string{"y", "z"}) {
		t.Errorf("StringMapOf order %v", got)
	}
	if got := NewStringMap("odd").Map(); got["odd"] != "" || len(got) != 1 {
		t.Errorf("odd pair: %v", got)
	}
	var nilMap *StringMap
	if nilMap.Len() != 0 || len(nilMap.Map()) != 0 || nilMap.Clone().Len() != 0 {
		t.Errorf("nil map")
	}
}

func TestJavaHashMapOrder(t *testing.T) {
	// The golden schemas were created by Java, so their options are already
	// in HashMap order, which putting them into a HashMap again keeps.
	// (TestNewSchemaAgainstJava covers other insertion orders.)
	for _, p := range goldenFiles(t, "schema-") {
		data, _ := os.ReadFile(p)
		s, err := DecodeSchema(data)
		if err != nil {
			t.Fatal(err)
		}
		keys := s.Options.Keys()
		if got := javaHashMapCopyOrder(keys); !slices.Equal(got, keys) {
			t.Errorf("%s: got %v, want %v", p, got, keys)
		}
	}
	// Values printed by Java's String.hashCode.
	if javaStringHash("bucket") != -1378203158 || javaStringHash("") != 0 || javaStringHash("é😀") != 1996812 {
		t.Errorf("String.hashCode: %d %d", javaStringHash("bucket"), javaStringHash("é😀"))
	}
}

// FuzzDecodeSchema checks that DecodeSchema never panics and that whatever
// it accepts re-encodes to a fixed point.
func FuzzDecodeSchema(f *testing.F) {
	for _, p := range goldenFiles(f, "schema-") {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	in, _ := readOracleLines(filepath.Join("testdata", "oracle", "schemas.in"))
	for _, l := range in {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSchema(data)
		if err != nil {
			return
		}
		_ = s.Validate()
		_, _ = s.CoreOptions()
		_ = s.BucketKeys()
		enc := EncodeSchema(s)
		back, err := DecodeSchema(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if enc2 := EncodeSchema(back); !bytes.Equal(enc, enc2) {
			t.Fatalf("not a fixed point:\n%s\n%s", enc, enc2)
		}
	})
}

// readOracleLines reads the non-empty lines of a file; fuzz seeds use it
// where a *testing.T is not at hand.
func readOracleLines(p string) ([]string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}
