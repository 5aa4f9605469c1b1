package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// SchemaChange is one change of an ALTER TABLE, Paimon's SchemaChange:
// AddColumn, DropColumn, RenameColumn, UpdateColumnType,
// UpdateColumnNullability, UpdateColumnComment, UpdateColumnPosition,
// SetOption, RemoveOption or UpdateComment. Columns are named at the top
// level (Strata does not alter fields nested in a ROW). ApplySchemaChanges
// applies a list of them to a schema.
type SchemaChange interface {
	apply(e *schemaEditor) error
}

// MoveKind says where a column goes: first, last, or after or before
// another column.
type MoveKind uint8

// The positions a column can move to.
const (
	MoveFirst MoveKind = iota + 1
	MoveLast
	MoveAfter
	MoveBefore
)

// Move places a column: Kind, and for MoveAfter and MoveBefore the column
// it is placed next to.
type Move struct {
	Kind MoveKind
	Ref  string
}

// AddColumn adds a nullable column. Its id is the table's highest field id
// plus one, the ROW fields nested in its type numbered after it as Paimon
// numbers them. Without Move it is appended (or, with
// add-column-before-partition, put before the first partition column).
type AddColumn struct {
	Name    string
	Type    DataType
	Comment *string
	Move    *Move
}

// DropColumn drops a column that is neither a partition nor a primary-key
// column; its id is never reused, so its old data never reappears.
type DropColumn struct{ Name string }

// RenameColumn renames a column that is not a partition column, keeping
// its id. Primary-key lists and the options naming it (bucket-key,
// sequence.field, fields.<column>.*) follow the new name.
type RenameColumn struct{ Name, NewName string }

// UpdateColumnType changes a column's type as CheckTypeChange allows; not
// for partition or primary-key columns. With KeepNullability the column
// keeps its nullability whatever Type says.
type UpdateColumnType struct {
	Name            string
	Type            DataType
	KeepNullability bool
}

// UpdateColumnNullability makes a column nullable (not a primary-key
// column) or NOT NULL (refused while alter-column-null-to-not-null.disabled
// is true, Paimon's default: old rows may hold nulls).
type UpdateColumnNullability struct {
	Name     string
	Nullable bool
}

// UpdateColumnComment sets a column's comment; nil removes it.
type UpdateColumnComment struct {
	Name    string
	Comment *string
}

// UpdateColumnPosition moves a column.
type UpdateColumnPosition struct {
	Name string
	Move Move
}

// SetOption sets a table option. Once the table has snapshots Paimon's
// immutable options cannot change, nor bucket (Strata cannot rescale
// buckets), deletion-vectors.enabled (unless deletion-vectors.modifiable),
// or ignore-delete and ignore-update-before from true to false.
type SetOption struct{ Key, Value string }

// RemoveOption removes a table option (its default applies again), under
// SetOption's rules.
type RemoveOption struct{ Key string }

// UpdateComment sets the table's comment; nil removes it.
type UpdateComment struct{ Comment *string }

// Options ApplySchemaChanges reads from the table being altered.
const (
	OptAddColumnBeforePartition      = "add-column-before-partition"
	OptAlterNullToNotNullDisabled    = "alter-column-null-to-not-null.disabled"
	OptDisableExplicitTypeCasting    = "disable-explicit-type-casting"
	OptDeletionVectorsModifiable     = "deletion-vectors.modifiable"
	optTableType                     = "type"
	optSequenceGroupSuffix           = "sequence-group"
	optNestedKeySuffix               = "nested-key"
	optionsFieldsPrefix              = "fields."
	defaultAlterNullToNotNullDisable = true
)

// immutableOptions are the options Paimon's CoreOptions marks @Immutable:
// they cannot change once a table has snapshots.
var immutableOptions = []string{
	optTableType, OptBucketKey, OptBucketFunctionType, "data-file.path-directory", OptMergeEngine,
	OptSequenceSnapshotOrdering, OptAggregationRemoveOnDelete, OptPartialUpdateRemoveOnDelete,
	OptPartialUpdateRemoveOnGroup, OptRowKindField, OptPrimaryKey, OptPrimaryKeyNullable, OptPartition,
	"dynamic-bucket.initial-buckets", OptForceLookup, OptRowTrackingEnabled, OptDataEvolutionEnabled,
	"index-file-in-data-file-dir", "blob-field", "blob-descriptor-field", "blob-view-field", "pk-clustering-override",
}

// schemaEditor is the state ApplySchemaChanges carries from change to
// change (Paimon's generateTableSchema).
type schemaEditor struct {
	old          *TableSchema
	oldOpts      map[string]string
	hasSnapshots bool

	fields      []DataField
	highest     int
	primaryKeys []string
	comment     *string
	opts        *javaHashMap
	values      map[string]string
	renames     []RenameColumn

	nullToNotNullDisabled bool
	allowExplicit         bool
	addBeforePartition    bool
}

// ApplySchemaChanges returns the schema that follows old after changes,
// applied in order as Paimon's SchemaManager applies them: id old.ID+1, the
// current version and time, options in the order Java's HashMap writes
// them, and then checked with Validate. hasSnapshots says whether the table
// has a snapshot (option changes are stricter then). old is not modified.
// Refusals wrap ErrInvalidSchema (OptionErrors, naming the option, for
// option changes) and name the column or option and why.
func ApplySchemaChanges(old *TableSchema, hasSnapshots bool, changes ...SchemaChange) (*TableSchema, error) {
	e := &schemaEditor{
		old: old, oldOpts: old.Options.Map(), hasSnapshots: hasSnapshots,
		fields:      slices.Clone(old.Fields),
		highest:     old.HighestFieldID,
		primaryKeys: slices.Clone(old.PrimaryKeys),
		comment:     old.Comment,
		values:      old.Options.Map(),
	}
	// Java reads the options into a HashMap, then copies it.
	read := newJavaHashMap()
	for _, k := range old.Options.Keys() {
		read.put(k)
	}
	e.opts = javaHashMapCopy(read.keys())
	e.nullToNotNullDisabled = e.oldBool(OptAlterNullToNotNullDisabled, defaultAlterNullToNotNullDisable)
	e.allowExplicit = !e.oldBool(OptDisableExplicitTypeCasting, false)
	e.addBeforePartition = e.oldBool(OptAddColumnBeforePartition, false)
	if len(changes) == 0 {
		return nil, schemaErrorf("no schema change given")
	}
	for _, c := range changes {
		if c == nil {
			return nil, schemaErrorf("nil schema change")
		}
		if err := c.apply(e); err != nil {
			return nil, err
		}
	}
	return e.finish()
}

// oldBool reads a boolean option of the old schema as Java's
// Boolean.parseBoolean does.
func (e *schemaEditor) oldBool(key string, def bool) bool {
	v, ok := e.oldOpts[key]
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

// index returns the position of column name, or an error naming the
// columns there are.
func (e *schemaEditor) index(name string) (int, error) {
	for i, f := range e.fields {
		if f.Name == name {
			return i, nil
		}
	}
	names := make([]string, len(e.fields))
	for i, f := range e.fields {
		names[i] = f.Name
	}
	return -1, schemaErrorf("column %q does not exist; the columns are %v", name, names)
}

func (e *schemaEditor) isPartition(name string) bool {
	return slices.Contains(e.old.PartitionKeys, name)
}
func (e *schemaEditor) isPrimaryKey(name string) bool {
	return slices.Contains(e.primaryKeys, name)
}

func (c AddColumn) apply(e *schemaEditor) error {
	if strings.TrimSpace(c.Name) == "" {
		return schemaErrorf("a new column needs a name")
	}
	if !c.Type.Nullable {
		return schemaErrorf("column %q cannot be added NOT NULL: the rows already written have no value for it; add it nullable", c.Name)
	}
	if _, err := e.index(c.Name); err == nil {
		return schemaErrorf("column %q already exists", c.Name)
	}
	e.highest++
	f := DataField{ID: e.highest, Name: c.Name, Description: c.Comment}
	f.Type = reassignFieldIDs(c.Type, &e.highest)
	at := len(e.fields)
	switch {
	case c.Move != nil:
		var err error
		if at, err = e.movePosition(c.Move, len(e.fields)); err != nil {
			return err
		}
	case e.addBeforePartition && len(e.old.PartitionKeys) > 0:
		for i, g := range e.fields {
			if e.isPartition(g.Name) {
				at = i
				break
			}
		}
	}
	e.fields = slices.Insert(e.fields, at, f)
	return nil
}

// movePosition returns where in e.fields a column goes; last is the index
// of the end.
func (e *schemaEditor) movePosition(m *Move, last int) (int, error) {
	switch m.Kind {
	case MoveFirst:
		return 0, nil
	case MoveLast:
		return last, nil
	case MoveAfter, MoveBefore:
		i, err := e.index(m.Ref)
		if err != nil {
			return 0, err
		}
		if m.Kind == MoveAfter {
			i++
		}
		return i, nil
	}
	return 0, schemaErrorf("unknown column position %d", m.Kind)
}

func (c DropColumn) apply(e *schemaEditor) error {
	if e.isPartition(c.Name) || e.isPrimaryKey(c.Name) {
		return schemaErrorf("cannot drop column %q: it is a partition or primary-key column", c.Name)
	}
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	if len(e.fields) == 1 {
		return schemaErrorf("cannot drop column %q: a table needs at least one column", c.Name)
	}
	e.fields = slices.Delete(e.fields, i, i+1)
	return nil
}

func (c RenameColumn) apply(e *schemaEditor) error {
	if e.isPartition(c.Name) {
		return schemaErrorf("cannot rename partition column %q: partition directories are named after it", c.Name)
	}
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	if c.NewName == c.Name {
		return nil
	}
	if _, err := e.index(c.NewName); err == nil {
		return schemaErrorf("cannot rename column %q to %q: a column %q already exists", c.Name, c.NewName, c.NewName)
	}
	e.fields[i].Name = c.NewName
	if j := slices.Index(e.primaryKeys, c.Name); j >= 0 {
		e.primaryKeys[j] = c.NewName
	}
	e.renames = append(e.renames, c)
	return nil
}

// checkNullability is Paimon's assertNullabilityChange.
func (e *schemaEditor) checkNullability(name string, from, to bool) error {
	if e.nullToNotNullDisabled && from && !to {
		return schemaErrorf("cannot make column %q NOT NULL: rows already written may hold nulls "+
			"(set %s=false to allow it if you know they do not)", name, OptAlterNullToNotNullDisabled)
	}
	return nil
}

func (c UpdateColumnType) apply(e *schemaEditor) error {
	if e.isPartition(c.Name) || e.isPrimaryKey(c.Name) {
		return schemaErrorf("cannot change the type of column %q: it is a partition or primary-key column, "+
			"whose values are laid out in file names, keys and bucket hashes", c.Name)
	}
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	src, dst := e.fields[i].Type, c.Type
	if c.KeepNullability {
		dst.Nullable = src.Nullable
	} else if err := e.checkNullability(c.Name, src.Nullable, dst.Nullable); err != nil {
		return err
	}
	if isNestedRoot(src.Root) && src.WithNullable(true).String() == dst.WithNullable(true).String() {
		// The same nested type, only its ids unknown to the caller.
		dst = src.WithNullable(dst.Nullable)
	}
	if err := CheckTypeChange(src, dst, e.allowExplicit); err != nil {
		return fmt.Errorf("column %q: %w", c.Name, err)
	}
	e.fields[i].Type = dst
	return nil
}

func (c UpdateColumnNullability) apply(e *schemaEditor) error {
	if c.Nullable && e.isPrimaryKey(c.Name) {
		return schemaErrorf("cannot make primary-key column %q nullable", c.Name)
	}
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	if err := e.checkNullability(c.Name, e.fields[i].Type.Nullable, c.Nullable); err != nil {
		return err
	}
	e.fields[i].Type.Nullable = c.Nullable
	return nil
}

func (c UpdateColumnComment) apply(e *schemaEditor) error {
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	e.fields[i].Description = c.Comment
	return nil
}

func (c UpdateColumnPosition) apply(e *schemaEditor) error {
	i, err := e.index(c.Name)
	if err != nil {
		return err
	}
	if (c.Move.Kind == MoveAfter || c.Move.Kind == MoveBefore) && c.Move.Ref == c.Name {
		return schemaErrorf("cannot move column %q relative to itself", c.Name)
	}
	f := e.fields[i]
	e.fields = slices.Delete(e.fields, i, i+1)
	at, err := e.movePosition(&c.Move, len(e.fields))
	if err != nil {
		return err
	}
	e.fields = slices.Insert(e.fields, at, f)
	return nil
}

func (c UpdateComment) apply(e *schemaEditor) error {
	e.comment = c.Comment
	return nil
}

// finish renames columns in options, lays the options out as Java's
// Schema does and validates the result.
func (e *schemaEditor) finish() (*TableSchema, error) {
	if len(e.renames) > 0 {
		e.opts = javaHashMapCopy(e.opts.keys())
		for _, r := range e.renames {
			e.renameInOptions(r.Name, r.NewName)
		}
	}
	keys := javaHashMapCopy(e.opts.keys()).keys()
	s := &TableSchema{
		Version: SchemaCurrentVersion, ID: e.old.ID + 1, Fields: e.fields, HighestFieldID: e.highest,
		PartitionKeys: slices.Clone(e.old.PartitionKeys), PrimaryKeys: e.primaryKeys,
		Comment: e.comment, TimeMillis: time.Now().UnixMilli(),
	}
	for _, k := range keys {
		s.Options.Set(k, e.values[k])
	}
	pkNullable := strings.EqualFold(e.values[OptPrimaryKeyNullable], "true")
	for i, f := range s.Fields {
		if slices.Contains(s.PrimaryKeys, f.Name) {
			s.Fields[i].Type.Nullable = pkNullable
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// putOption and deleteOption change the options being built.
func (e *schemaEditor) putOption(k, v string) {
	e.values[k] = v
	e.opts.put(k)
}

func (e *schemaEditor) deleteOption(k string) {
	delete(e.values, k)
	e.opts.remove(k)
}

// renameInOptions makes the options that name a column follow its new
// name: bucket-key and sequence.field values, fields.<columns>.<suffix>
// keys, and the column lists of sequence-group and nested-key values.
func (e *schemaEditor) renameInOptions(from, to string) {
	renameList := func(list string) string {
		parts := strings.Split(list, ",")
		for i, p := range parts {
			if p == from {
				parts[i] = to
			}
		}
		return strings.Join(parts, ",")
	}
	for _, k := range []string{OptBucketKey, OptSequenceField} {
		if v, ok := e.values[k]; ok && strings.TrimSpace(v) != "" {
			e.putOption(k, renameList(v))
		}
	}
	for _, k := range e.opts.keys() {
		rest, ok := strings.CutPrefix(k, optionsFieldsPrefix)
		if !ok {
			continue
		}
		columns, suffix, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		newKey := optionsFieldsPrefix + renameList(columns) + "." + suffix
		v := e.values[k]
		if suffix == optSequenceGroupSuffix || suffix == optNestedKeySuffix {
			v = renameList(v)
		}
		if newKey != k || v != e.values[k] {
			e.deleteOption(k)
			e.putOption(newKey, v)
		}
	}
}
