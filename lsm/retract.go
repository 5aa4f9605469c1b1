package lsm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Verdict is what a table does with a record of a given row kind.
type Verdict int

const (
	// VerdictAccept: the record is kept and the merge engine folds it.
	VerdictAccept Verdict = iota
	// VerdictDrop: the record is skipped without error (ignore-delete,
	// ignore-update-before).
	VerdictDrop
	// VerdictReject: the merge engine cannot fold the record.
	VerdictReject
)

// String returns "accept", "drop" or "reject".
func (v Verdict) String() string {
	switch v {
	case VerdictAccept:
		return "accept"
	case VerdictDrop:
		return "drop"
	case VerdictReject:
		return "reject"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// engineRule is what a merge engine function itself does with a -U/-D
// record it is handed (paimon-lookup.md §4.2-4.4): deduplicate takes every
// retraction; first-row rejects them; partial-update takes them only with
// sequence groups or partial-update.remove-record-on-delete; deduplicate,
// first-row and partial-update skip them with ignore-delete (for files
// written before Paimon applied it at the writer), aggregation never looks
// at it. Whether an aggregation's field aggregators can retract is decided
// by the aggregators (see FieldAggregator.Retract), not here.
type engineRule struct {
	engine         spec.MergeEngine
	ignoreDelete   bool
	groups         bool // partial-update has sequence groups
	removeOnDelete bool // partial-update.remove-record-on-delete
}

// verdict returns the engine's decision for a record of kind; a VerdictReject
// comes with Paimon's error text, wrapping ErrRetractUnsupported.
func (e engineRule) verdict(kind spec.RowKind) (Verdict, error) {
	if !kind.IsRetract() {
		return VerdictAccept, nil
	}
	switch e.engine {
	case spec.MergeEngineAggregation:
		return VerdictAccept, nil
	case spec.MergeEngineFirstRow:
		if e.ignoreDelete {
			return VerdictDrop, nil
		}
		return VerdictReject, fmt.Errorf("%w: By default, First row merge engine can not accept DELETE/UPDATE_BEFORE records.\n"+
			"You can config 'ignore-delete' to ignore the DELETE/UPDATE_BEFORE records.", ErrRetractUnsupported)
	case spec.MergeEnginePartialUpdate:
		switch {
		case e.ignoreDelete:
			return VerdictDrop, nil
		case e.groups, e.removeOnDelete:
			return VerdictAccept, nil
		}
		return VerdictReject, fmt.Errorf("%w: By default, Partial update can not accept delete records, "+
			"you can choose one of the following solutions:\n"+
			"1. Configure 'ignore-delete' to ignore delete records.\n"+
			"2. Configure 'partial-update.remove-record-on-delete' to remove the whole row when receiving delete records.\n"+
			"3. Configure 'sequence-group's to retract partial columns. Also configure "+
			"'partial-update.remove-record-on-sequence-group' to remove the whole row when receiving deleted records of `specified sequence group`.",
			ErrRetractUnsupported)
	}
	if e.ignoreDelete { // deduplicate
		return VerdictDrop, nil
	}
	return VerdictAccept, nil
}

// retractUnsupported is the error of an aggregate function that cannot
// retract: Paimon's text, with the field named where Java prints the
// placeholder ${field_name}.
func retractUnsupported(fn, field string) error {
	return fmt.Errorf("%w: Aggregate function '%s' does not support retraction,"+
		" If you allow this function to ignore retraction messages,"+
		" you can configure 'fields.%s.ignore-retract'='true'.", ErrRetractUnsupported, fn, field)
}

// RetractRule says, for one table, which records its merge engine takes:
// the one statement of the rule that the writer applies (Admit) and the
// merge functions apply (they share its engine part and its aggregator
// errors). Paimon itself checks nothing at write time beyond the
// ignore-delete / ignore-update-before filters and fails later, at a flush,
// compaction or read that merges the record, which leaves the bucket
// unreadable; Strata refuses such records when they are written.
type RetractRule struct {
	engineRule
	ignoreUpdateBefore bool
	aggRemoveOnDelete  bool    // aggregation.remove-record-on-delete
	ordering           [][]int // partial-update: ordering positions per group
	blockers           []retractBlocker
	nullers            []retractNuller
}

// retractNuller is a NOT NULL column whose aggregator can turn a
// retraction into null: last_value and last_non_null_value do whatever the
// column held, and ignore-retract does when the merge has no earlier value
// of the key (two retractions in one write buffer). The merged row could
// not be written; Paimon has no such check and writes the null.
type retractNuller struct {
	pos       int
	field, fn string
	agg       *fieldAgg
}

// retractBlocker is a field whose aggregator cannot retract (no
// fields.<f>.ignore-retract): with aggregation every retraction reaches it
// (group -1); with partial-update, retractions that touch its sequence group.
type retractBlocker struct {
	field, fn string
	group     int
}

// NewRetractRule builds the rule of a table from its schema and options,
// validating them as NewMergeFunctionFactory does. Errors wrap
// spec.ErrInvalidSchema and name the option.
func NewRetractRule(schema *spec.TableSchema, opts spec.Options) (*RetractRule, error) {
	f, err := NewMergeFunctionFactory(schema, opts)
	if err != nil {
		return nil, err
	}
	r := &RetractRule{}
	switch c := f.(type) {
	case *partialUpdateConfig:
		r.engineRule, r.ordering = c.rule, c.groups
		for i, fn := range c.aggFuncs {
			if fn == "" || c.group[i] < 0 {
				continue // ungrouped fields are never retracted
			}
			if err := r.addBlocker(fn, c.aggKeys[i], c.fields[i], c.group[i], opts); err != nil {
				return nil, err
			}
		}
	case *aggregateConfig:
		r.engineRule = engineRule{engine: spec.MergeEngineAggregation, ignoreDelete: opts.IgnoreDelete}
		r.aggRemoveOnDelete = c.removeOnDelete
		for i, fn := range c.funcs {
			if err := r.addBlocker(fn, c.keys[i], c.fields[i], -1, opts); err != nil {
				return nil, err
			}
			if err := r.addNuller(i, fn, c.keys[i], c.fields[i], opts); err != nil {
				return nil, err
			}
		}
	default:
		r.engineRule = engineRule{engine: opts.MergeEngine, ignoreDelete: opts.IgnoreDelete}
		if r.engine == "" {
			r.engine = spec.MergeEngineDeduplicate
		}
	}
	r.ignoreUpdateBefore = opts.IgnoreUpdateBefore
	return r, nil
}

// addBlocker records field as a blocker when its aggregator, built as the
// merge functions build it, cannot retract.
func (r *RetractRule) addBlocker(fn, optKey string, field spec.DataField, group int, opts spec.Options) error {
	a, err := newFieldAggregator(fn, optKey, field, opts)
	if err != nil {
		return err
	}
	if a.retract == nil {
		r.blockers = append(r.blockers, retractBlocker{field: field.Name, fn: fn, group: group})
	}
	return nil
}

// addNuller records a NOT NULL column at pos whose aggregator may retract
// a value to null. Only stateless retractions are probed at write time:
// last_value, last_non_null_value and the ignore-retract wrapper.
func (r *RetractRule) addNuller(pos int, fn, optKey string, field spec.DataField, opts spec.Options) error {
	if field.Type.Nullable || fn == aggPrimaryKey {
		return nil
	}
	ignore, err := rawBool(opts, optFieldsPrefix+field.Name+sufIgnoreRetract, false)
	if err != nil {
		return err
	}
	if !ignore && fn != aggLastValue && fn != aggLastNonNullValue {
		return nil
	}
	a, err := newFieldAggregator(fn, optKey, field, opts)
	if err != nil {
		return err
	}
	r.nullers = append(r.nullers, retractNuller{pos: pos, field: field.Name, fn: fn, agg: a})
	return nil
}

// Admit decides what the writer does with a record whose kind is already
// resolved (rowkind.field applied). ignore-delete drops -U and -D and
// ignore-update-before drops -U, for every engine, as Paimon's
// TableWriteImpl does before the write buffer. What is left is rejected
// when the engine, or an aggregator the record would reach, cannot retract;
// with partial-update sequence groups a record reaches a group's
// aggregators when it carries a non-null ordering value of that group
// (whether the merge then calls them depends on the order of fields and on
// the row it meets, so a record that may fail is refused). The error of a
// VerdictReject wraps spec.ErrSchemaMismatch and ErrRetractUnsupported and
// names the options that would allow the record.
func (r *RetractRule) Admit(kind spec.RowKind, row spec.Row) (Verdict, error) {
	if r == nil || !kind.IsRetract() {
		return VerdictAccept, nil
	}
	if r.ignoreDelete || (kind == spec.RowKindUpdateBefore && r.ignoreUpdateBefore) {
		return VerdictDrop, nil
	}
	v, err := r.verdict(kind)
	var hints []string
	if v == VerdictAccept {
		if err = r.blocked(kind, row); err == nil {
			return VerdictAccept, nil
		}
		v = VerdictReject
		hints = append(hints, "'ignore-delete'=true drops -U/-D records when they are written")
		if r.engine == spec.MergeEngineAggregation && kind == spec.RowKindDelete {
			hints = append(hints, "'aggregation.remove-record-on-delete'=true removes the row on -D")
		}
	}
	if v != VerdictReject {
		return v, nil
	}
	if kind == spec.RowKindUpdateBefore {
		hints = append(hints, "'ignore-update-before'=true drops -U records when they are written")
	}
	msg := ""
	if len(hints) > 0 {
		msg = "\nOther options: " + strings.Join(hints, "; ") + "."
	}
	return VerdictReject, fmt.Errorf("%w: %s record refused, merge-engine %s cannot merge it: %w%s",
		spec.ErrSchemaMismatch, kind, r.engine, err, msg)
}

// blocked returns the error of the first aggregator that the retraction
// would reach and that cannot retract, or nil.
func (r *RetractRule) blocked(kind spec.RowKind, row spec.Row) error {
	if r.aggRemoveOnDelete && kind == spec.RowKindDelete {
		return nil // the row is removed; no aggregator is called
	}
	for _, b := range r.blockers {
		if b.group < 0 || r.touchesGroup(b.group, row) {
			return retractUnsupported(b.fn, b.field)
		}
	}
	for _, n := range r.nullers {
		if n.pos >= len(row) || row[n.pos] == nil {
			continue
		}
		held, _ := n.agg.Retract(row[n.pos], row[n.pos])
		alone, _ := n.agg.Retract(nil, row[n.pos])
		if held == nil || alone == nil {
			return fmt.Errorf("%w: column %s is NOT NULL and its aggregation ('%s') can retract it to null;"+
				" make the column nullable.", ErrRetractUnsupported, n.field, n.fn)
		}
	}
	return nil
}

// touchesGroup reports whether row has a non-null ordering value of group
// g; partial-update skips groups whose ordering fields are all null.
func (r *RetractRule) touchesGroup(g int, row spec.Row) bool {
	for _, j := range r.ordering[g] {
		if j >= len(row) || row[j] != nil {
			return true
		}
	}
	return false
}

// RecordError is a merge failure of one record: the merge function's error
// with the record that caused it, and the data file it came from when the
// caller could tell (LocateRecordError).
type RecordError struct {
	Kind  spec.RowKind
	Key   spec.Row
	Seq   int64
	Level int32  // -1: the record was not yet on disk
	File  string // data file name, "" when unknown
	Err   error
}

// Error names the record, its key and where it was read from.
func (e *RecordError) Error() string {
	where := "the write buffer"
	switch {
	case e.File != "":
		where = fmt.Sprintf("file %s (level %d)", e.File, e.Level)
	case e.Level >= 0:
		where = fmt.Sprintf("a file at level %d", e.Level)
	}
	return fmt.Sprintf("merging %s record of key %v (sequence %d) from %s: %v", e.Kind, e.Key, e.Seq, where, e.Err)
}

// Unwrap returns the merge function's error.
func (e *RecordError) Unwrap() error { return e.Err }

// addRecord feeds kv to mf, attributing a failure to kv unless an inner
// function already attributed it.
func addRecord(mf MergeFunction, kv *KeyValue) error {
	err := mf.Add(kv)
	if err == nil {
		return nil
	}
	var re *RecordError
	if errors.As(err, &re) {
		return err
	}
	return &RecordError{Kind: kv.Kind, Key: kv.Key, Seq: kv.Seq, Level: kv.Level, Err: err}
}

// LocateRecordError fills in the data file of a RecordError in err from the
// files that were merged: the one at the record's level whose sequence and
// key ranges hold it. It returns err, unchanged when there is nothing to
// fill in.
func LocateRecordError(err error, files []spec.DataFileMeta, keyTypes []spec.DataType) error {
	var re *RecordError
	if !errors.As(err, &re) || re.File != "" || re.Level < 0 {
		return err
	}
	for _, m := range files {
		if m.Level != re.Level || re.Seq < m.MinSequenceNumber || re.Seq > m.MaxSequenceNumber {
			continue
		}
		f, ferr := NewFile(m, keyTypes)
		if ferr != nil || CompareKeys(re.Key, f.MinKey) < 0 || CompareKeys(re.Key, f.MaxKey) > 0 {
			continue
		}
		re.File = m.FileName
		break
	}
	return err
}
