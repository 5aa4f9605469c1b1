package spec

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// ErrInvalidSchema marks a table schema that breaks one of Paimon's rules
// (duplicate columns, unknown key columns, bad options, ...).
var ErrInvalidSchema = errors.New("invalid schema")

// Schema file versions (TableSchema.PAIMON_07_VERSION and friends). They
// decide the defaults DecodeSchema fills in for options older writers left
// implicit.
const (
	SchemaVersionPaimon07 = 1
	SchemaVersionPaimon08 = 2
	SchemaCurrentVersion  = 3
)

// Reserved column names and prefix (Java's SpecialFields): the key-value
// file layout uses them, so table columns may not.
var systemFieldNames = map[string]bool{
	"_SEQUENCE_NUMBER": true, "_VALUE_KIND": true, "_LEVEL": true, "rowkind": true, "_ROW_ID": true,
}

const keyFieldPrefix = "_KEY_"

// StringMap is a string-to-string map that remembers insertion order. Paimon
// writes schema options and snapshot properties in its Java map's order, so
// a byte-identical round trip needs the order read from the file. The zero
// value is an empty map ready to use. Copying a StringMap value shares its
// storage; use Clone for an independent copy.
type StringMap struct {
	keys []string
	m    map[string]string
}

// NewStringMap returns a map holding the given key/value pairs in order; a
// trailing odd key gets the value "".
func NewStringMap(kv ...string) *StringMap {
	sm := &StringMap{}
	for i := 0; i < len(kv); i += 2 {
		v := ""
		if i+1 < len(kv) {
			v = kv[i+1]
		}
		sm.Set(kv[i], v)
	}
	return sm
}

// StringMapOf copies m into a StringMap with keys in sorted order, so the
// result does not depend on Go's map iteration.
func StringMapOf(m map[string]string) *StringMap {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sm := &StringMap{}
	for _, k := range keys {
		sm.Set(k, m[k])
	}
	return sm
}

// Len returns the number of entries.
func (sm *StringMap) Len() int {
	if sm == nil {
		return 0
	}
	return len(sm.keys)
}

// Get returns the value of k and whether it is present.
func (sm *StringMap) Get(k string) (string, bool) {
	if sm == nil || sm.m == nil {
		return "", false
	}
	v, ok := sm.m[k]
	return v, ok
}

// Set stores v under k; a new key goes last, an existing one keeps its place.
func (sm *StringMap) Set(k, v string) {
	if sm.m == nil {
		sm.m = map[string]string{}
	}
	if _, ok := sm.m[k]; !ok {
		sm.keys = append(sm.keys, k)
	}
	sm.m[k] = v
}

// Delete removes k if present.
func (sm *StringMap) Delete(k string) {
	if sm == nil || sm.m == nil {
		return
	}
	if _, ok := sm.m[k]; !ok {
		return
	}
	delete(sm.m, k)
	sm.keys = slices.DeleteFunc(slices.Clone(sm.keys), func(x string) bool { return x == k })
}

// Keys returns the keys in order.
func (sm *StringMap) Keys() []string {
	if sm == nil {
		return nil
	}
	return slices.Clone(sm.keys)
}

// Map returns the entries as a plain Go map.
func (sm *StringMap) Map() map[string]string {
	out := make(map[string]string, sm.Len())
	if sm != nil {
		for k, v := range sm.m {
			out[k] = v
		}
	}
	return out
}

// Clone returns an independent copy.
func (sm *StringMap) Clone() *StringMap {
	out := &StringMap{}
	for _, k := range sm.Keys() {
		out.Set(k, sm.m[k])
	}
	return out
}

// Equal reports whether both maps hold the same entries in the same order.
func (sm *StringMap) Equal(o *StringMap) bool {
	if sm.Len() != o.Len() {
		return false
	}
	for i, k := range sm.Keys() {
		if o.keys[i] != k || o.m[k] != sm.m[k] {
			return false
		}
	}
	return true
}

// TableSchema is one schema/schema-N file: the columns with their ids, key
// columns, options and bookkeeping (Java's TableSchema).
type TableSchema struct {
	Version int   // file format version, SchemaCurrentVersion for new files
	ID      int64 // N of schema-N
	Fields  []DataField
	// HighestFieldID is the largest field id ever assigned, nested ROW fields
	// included; ids of dropped columns are never reused.
	HighestFieldID int
	PartitionKeys  []string
	PrimaryKeys    []string
	// Options are the explicitly set table options in file order.
	Options    StringMap
	Comment    *string // nil when the table has no comment
	TimeMillis int64   // creation time, epoch milliseconds
}

// EncodeSchema renders s exactly as Java's SchemaSerializer does through
// Jackson's default pretty printer, with no trailing newline. It writes what
// s holds; call Validate first to catch a schema Java would refuse.
func EncodeSchema(s *TableSchema) []byte {
	w := &jsonWriter{pretty: true}
	w.beginObject()
	w.intField("version", int64(s.Version))
	w.intField("id", s.ID)
	w.name("fields")
	writeFieldsJSON(w, s.Fields)
	w.intField("highestFieldId", int64(s.HighestFieldID))
	w.name("partitionKeys")
	writeStringsJSON(w, s.PartitionKeys)
	w.name("primaryKeys")
	writeStringsJSON(w, s.PrimaryKeys)
	w.name("options")
	writeStringMapJSON(w, &s.Options)
	if s.Comment != nil {
		w.strField("comment", *s.Comment)
	}
	w.intField("timeMillis", s.TimeMillis)
	w.endObject()
	return w.buf
}

func writeStringsJSON(w *jsonWriter, ss []string) {
	w.beginArray()
	for _, s := range ss {
		w.str(s)
	}
	w.endArray()
}

func writeStringMapJSON(w *jsonWriter, sm *StringMap) {
	w.beginObject()
	for _, k := range sm.Keys() {
		v, _ := sm.Get(k)
		w.strField(k, v)
	}
	w.endObject()
}

// corruptErr wraps a decoding problem in ErrCorrupt, keeping an unsupported
// type recognisable as ErrUnsupportedType instead.
func corruptErr(what string, err error) error {
	if errors.Is(err, ErrUnsupportedType) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
}

// DecodeSchema parses a schema file the way Java's SchemaSerializer does:
// unknown members are ignored, a missing version means 1, a missing
// highestFieldId is computed from the fields, and absent key lists, options,
// id and timeMillis are empty or 0 (Java would fail on a missing id or
// highestFieldId). Values are read leniently, as Jackson's asText and asInt
// do: numeric strings count as numbers and scalar option values keep their
// text. An explicit null comment or description counts as absent. Like Java it then fills in the defaults of
// old writers: bucket=1 for version 1 and file.format=orc for versions up to
// 2 when those options are not set. Columns of types Strata does not support
// give an error wrapping ErrUnsupportedType; other defects wrap ErrCorrupt.
// The result is not checked against Paimon's rules; see Validate.
func DecodeSchema(data []byte) (*TableSchema, error) {
	root, err := parseJSONTree(data)
	if err != nil {
		return nil, corruptErr("schema", err)
	}
	if root.kind != jsonObject {
		return nil, corruptErr("schema", fmt.Errorf("want an object, found %s", root.kindName()))
	}
	s := &TableSchema{Version: SchemaVersionPaimon07}
	intMember := func(key string, bitSize int) (int64, error) {
		v, err := root.get(key).asInt64(bitSize)
		if err != nil {
			return 0, corruptErr("schema "+key, err)
		}
		return v, nil
	}
	if vn := root.get("version"); vn != nil {
		v, err := intMember("version", 32)
		if err != nil {
			return nil, err
		}
		s.Version = int(v)
	}
	if s.ID, err = intMember("id", 64); err != nil {
		return nil, err
	}
	fn := root.get("fields")
	if fn == nil || fn.kind != jsonArray {
		return nil, corruptErr("schema", fmt.Errorf("\"fields\" is %s, want an array", fn.kindName()))
	}
	s.Fields = make([]DataField, 0, len(fn.arr))
	for i, n := range fn.arr {
		f, err := parseFieldNode(n, nil, 0)
		if err != nil {
			return nil, corruptErr(fmt.Sprintf("schema field %d", i), err)
		}
		s.Fields = append(s.Fields, f)
	}
	if root.get("highestFieldId").isNull() {
		s.HighestFieldID = HighestFieldID(s.Fields)
	} else {
		v, err := intMember("highestFieldId", 32)
		if err != nil {
			return nil, err
		}
		s.HighestFieldID = int(v)
	}
	if s.PartitionKeys, err = textList(root.get("partitionKeys"), "partitionKeys"); err != nil {
		return nil, err
	}
	if s.PrimaryKeys, err = textList(root.get("primaryKeys"), "primaryKeys"); err != nil {
		return nil, err
	}
	if on := root.get("options"); on != nil && on.kind == jsonObject {
		for i, k := range on.keys {
			// Java reads every value with asText, so numbers and
			// booleans keep their literal text.
			s.Options.Set(k, on.vals[i].asText())
		}
	}
	if s.Version <= SchemaVersionPaimon07 {
		if _, ok := s.Options.Get(OptBucket); !ok {
			s.Options.Set(OptBucket, "1")
		}
	}
	if s.Version <= SchemaVersionPaimon08 {
		if _, ok := s.Options.Get(OptFileFormat); !ok {
			s.Options.Set(OptFileFormat, "orc")
		}
	}
	if cn := root.get("comment"); !cn.isNull() {
		c := cn.asText()
		s.Comment = &c
	}
	if s.TimeMillis, err = intMember("timeMillis", 64); err != nil {
		return nil, err
	}
	return s, nil
}

// textList reads an array of names; a missing or null member is empty.
func textList(n *jsonNode, what string) ([]string, error) {
	out := []string{}
	if n.isNull() {
		return out, nil
	}
	if n.kind != jsonArray {
		return nil, corruptErr("schema "+what, fmt.Errorf("want an array, found %s", n.kindName()))
	}
	for _, e := range n.arr {
		out = append(out, e.asText())
	}
	return out, nil
}

// FieldNames returns the top-level column names in order.
func (s *TableSchema) FieldNames() []string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names
}

// FieldIndex returns the position of the column called name, or -1.
func (s *TableSchema) FieldIndex(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Field returns the column called name.
func (s *TableSchema) Field(name string) (DataField, bool) {
	if i := s.FieldIndex(name); i >= 0 {
		return s.Fields[i], true
	}
	return DataField{}, false
}

// FieldByID returns the top-level column with the given id.
func (s *TableSchema) FieldByID(id int) (DataField, bool) {
	for _, f := range s.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return DataField{}, false
}

// TrimmedPrimaryKeys returns the primary key without the partition columns:
// the key actually stored in data files, since the partition is implied by
// the file's location.
func (s *TableSchema) TrimmedPrimaryKeys() []string {
	out := []string{}
	for _, k := range s.PrimaryKeys {
		if !slices.Contains(s.PartitionKeys, k) {
			out = append(out, k)
		}
	}
	return out
}

// BucketKeys returns the columns hashed to pick a bucket: the bucket-key
// option split at commas (no trimming, as in Java), or else the trimmed
// primary key. It is empty for an append table without bucket-key.
func (s *TableSchema) BucketKeys() []string {
	if v, ok := s.Options.Get(OptBucketKey); ok && strings.TrimSpace(v) != "" {
		return strings.Split(v, ",")
	}
	return s.TrimmedPrimaryKeys()
}

// CrossPartitionUpdate reports whether the primary key lacks some partition
// column, so one key may move between partitions.
func (s *TableSchema) CrossPartitionUpdate() bool {
	if len(s.PrimaryKeys) == 0 || len(s.PartitionKeys) == 0 {
		return false
	}
	for _, p := range s.PartitionKeys {
		if !slices.Contains(s.PrimaryKeys, p) {
			return true
		}
	}
	return false
}

// projectFields returns the columns named in names, skipping unknown ones
// as Java's projection does.
func (s *TableSchema) projectFields(names []string) []DataField {
	out := []DataField{}
	for _, n := range names {
		if f, ok := s.Field(n); ok {
			out = append(out, f)
		}
	}
	return out
}

// LogicalRowType returns the (nullable) ROW type of all columns.
func (s *TableSchema) LogicalRowType() DataType { return RowType(slices.Clone(s.Fields)...) }

// PartitionFields returns the partition columns in partition-key order.
func (s *TableSchema) PartitionFields() []DataField { return s.projectFields(s.PartitionKeys) }

// PrimaryKeyFields returns the primary-key columns in key order.
func (s *TableSchema) PrimaryKeyFields() []DataField { return s.projectFields(s.PrimaryKeys) }

// TrimmedPrimaryKeyFields returns the columns of TrimmedPrimaryKeys.
func (s *TableSchema) TrimmedPrimaryKeyFields() []DataField {
	return s.projectFields(s.TrimmedPrimaryKeys())
}

// BucketKeyFields returns the columns of BucketKeys.
func (s *TableSchema) BucketKeyFields() []DataField { return s.projectFields(s.BucketKeys()) }

// CoreOptions parses the schema's options into typed form.
func (s *TableSchema) CoreOptions() (Options, error) { return ParseOptions(s.Options.Map()) }

func schemaErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidSchema}, args...)...)
}

func duplicateNames(names []string) []string {
	seen := map[string]int{}
	var dup []string
	for _, n := range names {
		seen[n]++
		if seen[n] == 2 {
			dup = append(dup, n)
		}
	}
	return dup
}

func isNestedRoot(r TypeRoot) bool {
	switch r {
	case TypeArray, TypeMap, TypeMultiset, TypeRow, TypeVector:
		return true
	}
	return false
}

// Validate checks s against the rules Java enforces when a schema is created
// or loaded (Schema, TableSchema and the commonly hit parts of
// SchemaValidation): valid and uniquely named columns with unique ids, key
// columns that exist and are not nested types, a primary key that is not
// just the partition, well-formed options, a consistent bucket setup, a
// valid sequence.field, fields.* keys that name columns, and Paimon's
// changelog-producer and deletion-vector combinations. Errors wrap
// ErrInvalidSchema.
func (s *TableSchema) Validate() error {
	names := s.FieldNames()
	for _, f := range s.Fields {
		if strings.TrimSpace(f.Name) == "" {
			return schemaErrorf("column names must contain at least one non-whitespace character")
		}
		if systemFieldNames[f.Name] || strings.HasPrefix(f.Name, keyFieldPrefix) {
			return schemaErrorf("column name %q is reserved for Paimon's system fields", f.Name)
		}
		if err := f.Type.Validate(); err != nil {
			return schemaErrorf("column %q: %w", f.Name, err)
		}
	}
	if d := duplicateNames(names); len(d) > 0 {
		return schemaErrorf("columns %v must not contain duplicate names, found %v", names, d)
	}
	if err := checkUniqueFieldIDs(s.Fields); err != nil {
		return err
	}
	if h := HighestFieldID(s.Fields); s.HighestFieldID < h {
		return schemaErrorf("highestFieldId %d is below the largest field id %d", s.HighestFieldID, h)
	}
	for _, keys := range []struct {
		what  string
		names []string
	}{{"partition key", s.PartitionKeys}, {"primary key", s.PrimaryKeys}} {
		if d := duplicateNames(keys.names); len(d) > 0 {
			return schemaErrorf("%s %v must not contain duplicate columns, found %v", keys.what, keys.names, d)
		}
		for _, k := range keys.names {
			f, ok := s.Field(k)
			if !ok {
				return schemaErrorf("%s column %q is not a column of %v", keys.what, k, names)
			}
			if isNestedRoot(f.Type.Root) {
				return schemaErrorf("%s column %q has type %s, which cannot be a key", keys.what, k, f.Type)
			}
		}
	}
	if len(s.PrimaryKeys) > 0 && len(s.TrimmedPrimaryKeys()) == 0 {
		return schemaErrorf("primary key %v must not be the same as the partition keys %v, or a partition could hold only one row",
			s.PrimaryKeys, s.PartitionKeys)
	}
	opts, err := s.CoreOptions()
	if err != nil {
		return schemaError(err)
	}
	if opts.PrimaryKeyNullable && len(s.PrimaryKeys) == 0 {
		return schemaErrorf("option %q can only be enabled for a table with primary keys", OptPrimaryKeyNullable)
	}
	if len(s.PrimaryKeys) == 0 && opts.ChangelogProducer != ChangelogProducerNone {
		return schemaErrorf("option %q needs a primary key", OptChangelogProducer)
	}
	if err := s.validateBucket(opts); err != nil {
		return err
	}
	return s.validateOptions(opts)
}

func (s *TableSchema) validateBucket(opts Options) error {
	names := s.FieldNames()
	explicit, hasBucketKey := s.Options.Get(OptBucketKey)
	hasBucketKey = hasBucketKey && strings.TrimSpace(explicit) != ""
	if hasBucketKey {
		for _, k := range s.BucketKeys() {
			if !slices.Contains(names, k) {
				return schemaErrorf("bucket key %q is not a column of %v", k, names)
			}
			if slices.Contains(s.PartitionKeys, k) {
				return schemaErrorf("bucket key %q must not be a partition key", k)
			}
			if len(s.PrimaryKeys) > 0 && !slices.Contains(s.PrimaryKeys, k) {
				return schemaErrorf("bucket key %q must be part of the primary key %v", k, s.PrimaryKeys)
			}
		}
	}
	switch {
	case opts.Bucket == BucketDynamic:
		if _, ok := s.Options.Get(OptBucketKey); ok {
			return schemaErrorf("cannot define %q with bucket = -1; remove it or set a bucket number", OptBucketKey)
		}
		if len(s.PrimaryKeys) == 0 && opts.FullCompactionDeltaCommits != nil {
			return schemaErrorf("append tables with unaware or dynamic buckets do not support %q", OptFullCompactionDeltaCommits)
		}
	case opts.Bucket < 1 && !(opts.Bucket == BucketPostpone && len(s.PrimaryKeys) > 0):
		return invalidOption(OptBucket, s.rawOption(OptBucket),
			"want -1 (dynamic buckets) or a bucket count >= 1 (-2, postpone buckets, needs a primary key)")
	default:
		bucketKeys := s.BucketKeys()
		if len(s.PrimaryKeys) == 0 && len(bucketKeys) == 0 && (opts.Bucket != 1 || s.Version != SchemaVersionPaimon07) {
			return schemaErrorf("an append table with fixed buckets needs a %q", OptBucketKey)
		}
		for _, k := range bucketKeys {
			if f, ok := s.Field(k); ok && isNestedRoot(f.Type.Root) && f.Type.Root != TypeVector {
				return schemaErrorf("bucket key %q has nested type %s", k, f.Type)
			}
		}
	}
	return nil
}

// checkUniqueFieldIDs rejects a field id used twice anywhere in the schema,
// nested ROW fields included (Java's collectFieldIds).
func checkUniqueFieldIDs(fields []DataField) error {
	seen := map[int]bool{}
	var visit func(fs []DataField) error
	var visitType func(t *DataType) error
	visitType = func(t *DataType) error {
		if t == nil {
			return nil
		}
		if err := visit(t.Fields); err != nil {
			return err
		}
		for _, c := range []*DataType{t.Elem, t.Key, t.Value} {
			if err := visitType(c); err != nil {
				return err
			}
		}
		return nil
	}
	visit = func(fs []DataField) error {
		for i := range fs {
			if seen[fs[i].ID] {
				return schemaErrorf("field id %d is used twice", fs[i].ID)
			}
			seen[fs[i].ID] = true
			if err := visitType(&fs[i].Type); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(fields)
}

// NewSchema builds schema 0 of a new table the way Java's Schema and
// TableSchema.create do, then validates it:
//   - "primary-key" and "partition" options move into the key lists (giving
//     keys both ways is an error);
//   - primary-key columns become NOT NULL, or nullable with
//     primary-key.nullable=true;
//   - HighestFieldID is computed from the fields, whose ids are kept as given
//     (ParseColumns assigns them as Paimon does);
//   - options are put in the order Java's HashMap would iterate them after
//     Schema copies the builder's map, so the file matches a Java-created
//     one whenever Java would have been given the options in the same order.
//
// TimeMillis is the current time. Errors wrap ErrInvalidSchema.
func NewSchema(fields []DataField, partitionKeys, primaryKeys []string, options *StringMap, comment *string) (*TableSchema, error) {
	opts := options.Clone()
	ordered := javaHashMapCopyOrder(opts.Keys())
	var err error
	if partitionKeys, err = keysFromOption(opts, OptPartition, partitionKeys, "partition"); err != nil {
		return nil, err
	}
	if primaryKeys, err = keysFromOption(opts, OptPrimaryKey, primaryKeys, "primary key"); err != nil {
		return nil, err
	}
	pkNullable := false
	if v, ok := opts.Get(OptPrimaryKeyNullable); ok {
		if pkNullable, err = parseBoolOption(OptPrimaryKeyNullable, v); err != nil {
			return nil, schemaError(err)
		}
	}
	s := &TableSchema{
		Version:       SchemaCurrentVersion,
		Fields:        make([]DataField, len(fields)),
		PartitionKeys: append([]string{}, partitionKeys...),
		PrimaryKeys:   append([]string{}, primaryKeys...),
		TimeMillis:    time.Now().UnixMilli(),
	}
	if comment != nil {
		c := *comment
		s.Comment = &c
	}
	for i, f := range fields {
		if slices.Contains(primaryKeys, f.Name) {
			f.Type.Nullable = pkNullable
		}
		s.Fields[i] = f
	}
	s.HighestFieldID = HighestFieldID(s.Fields)
	for _, k := range ordered {
		if v, ok := opts.Get(k); ok {
			s.Options.Set(k, v)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// keysFromOption moves a comma-separated key list out of an option.
func keysFromOption(opts *StringMap, option string, given []string, what string) ([]string, error) {
	v, ok := opts.Get(option)
	if !ok {
		return given, nil
	}
	if len(given) > 0 {
		return nil, schemaErrorf("cannot define the %s both directly and with option %q", what, option)
	}
	opts.Delete(option)
	out := []string{}
	for _, k := range strings.Split(v, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out, nil
}

// javaStringHash is Java's String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// javaHashBucket is the bucket of key k in a java.util.HashMap table of
// capacity c (a power of two).
func javaHashBucket(k string, c int) int {
	h := uint32(javaStringHash(k))
	return int((h ^ h>>16) & uint32(c-1))
}

// javaHashMapCopyOrder returns the iteration order of Java's
// new HashMap<>(builder), where builder is a default HashMap into which keys
// were put in the given order; it is how Schema stores a new table's options.
// Within one bucket Java keeps insertion order, and a resize keeps it too, so
// each map's order is a stable sort by bucket. The copy is sized the way
// Java 8 to 18 size it (tableSizeFor(n/0.75f + 1)); tree bins, which need 8
// keys in one bucket, are not modelled.
func javaHashMapCopyOrder(keys []string) []string {
	n := len(keys)
	if n == 0 {
		return nil
	}
	builderCap := 16
	for float64(n) > 0.75*float64(builderCap) {
		builderCap *= 2
	}
	t := int(float32(n)/0.75 + 1)
	copyCap := 1
	if t > 1 {
		copyCap = 1 << bits.Len(uint(t-1))
	}
	out := slices.Clone(keys)
	sort.SliceStable(out, func(i, j int) bool {
		return javaHashBucket(out[i], builderCap) < javaHashBucket(out[j], builderCap)
	})
	sort.SliceStable(out, func(i, j int) bool {
		return javaHashBucket(out[i], copyCap) < javaHashBucket(out[j], copyCap)
	})
	return out
}
