package lsm

import (
	"fmt"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Ordering is the order in which Paimon feeds the records of one key to a
// merge function: key ascending, then the sequence.field columns (ascending,
// or descending with sequence.field.sort-order=descending; a null always
// sorts first, so it loses), then the system sequence number, then retracts
// before adds. A nil *Ordering orders by key, sequence number and kind only.
type Ordering struct {
	fields []int // value positions of the sequence.field columns
	desc   bool
}

// NewOrdering builds the record ordering of a table from its sequence.field
// options. It returns nil (a valid ordering) when sequence.field is unset.
// Errors wrap spec.ErrInvalidSchema and name the option.
func NewOrdering(schema *spec.TableSchema, opts spec.Options) (*Ordering, error) {
	if len(opts.SequenceField) == 0 {
		return nil, nil
	}
	if opts.MergeEngine == spec.MergeEngineFirstRow {
		return nil, optionErr(spec.OptSequenceField, "Do not support use sequence field on FIRST_ROW merge engine.")
	}
	o := &Ordering{desc: opts.SequenceFieldSortOrder == spec.SortOrderDescending}
	seen := map[string]bool{}
	for _, name := range opts.SequenceField {
		i := schema.FieldIndex(name)
		if i < 0 {
			return nil, optionErr(spec.OptSequenceField, "Sequence field: '%s' can not be found in table schema.", name)
		}
		if seen[name] {
			return nil, optionErr(spec.OptSequenceField, "Sequence field '%s' is defined repeatedly.", name)
		}
		seen[name] = true
		o.fields = append(o.fields, i)
	}
	return o, nil
}

// SequenceFields returns the value positions of the sequence.field columns.
func (o *Ordering) SequenceFields() []int {
	if o == nil {
		return nil
	}
	return o.fields
}

// Compare orders two records as Paimon's sort-merge reader does: key, then
// the user sequence fields, then the sequence number, then retract before
// add (so that an update's -U precedes its +U when both share a number).
func (o *Ordering) Compare(a, b *KeyValue) int {
	if c := CompareKeys(a.Key, b.Key); c != 0 {
		return c
	}
	return o.CompareSequence(a, b)
}

// CompareSequence orders two records of the same key: the user sequence
// fields, then the sequence number, then retract before add.
func (o *Ordering) CompareSequence(a, b *KeyValue) int {
	if c := o.CompareSeqOnly(a, b); c != 0 {
		return c
	}
	ra, rb := a.Kind.IsRetract(), b.Kind.IsRetract()
	switch {
	case ra == rb:
		return 0
	case ra:
		return -1
	}
	return 1
}

// CompareSeqOnly orders two records of the same key by the user sequence
// fields, then the sequence number, with no row-kind tie-break (how the
// lookup changelog wrapper places a looked-up version among candidates).
func (o *Ordering) CompareSeqOnly(a, b *KeyValue) int {
	if c := o.compareFields(a.Value, b.Value); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// compareFields compares the sequence fields. Java's generated comparator
// returns "null is smaller" for both directions and negates only non-null
// comparisons, so nulls sort first even when descending.
func (o *Ordering) compareFields(a, b spec.Row) int {
	if o == nil {
		return 0
	}
	return compareFieldsNullsFirst(o.fields, a, b, o.desc)
}

func compareFieldsNullsFirst(fields []int, a, b spec.Row, desc bool) int {
	for _, i := range fields {
		x, y := a[i], b[i]
		switch {
		case x == nil && y == nil:
			continue
		case x == nil:
			return -1
		case y == nil:
			return 1
		}
		c := spec.CompareValues(x, y)
		if c != 0 {
			if desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// RowKindResolver decides the row kind of a record the writer receives, the
// way Java's TableWriteImpl does before buffering: the kind comes from the
// rowkind.field column when that option is set, and records are dropped when
// ignore-delete (-U and -D) or ignore-update-before (-U) says so. The
// aggregation engine itself never checks ignore-delete, so this filter is what
// keeps retracts away from it. Beyond Paimon, it refuses the records the
// table's merge engine cannot take (RetractRule.Admit), so that they never
// reach a file.
type RowKindResolver struct {
	index int // -1 when rowkind.field is unset
	rule  *RetractRule
}

// NewRowKindResolver reads rowkind.field and the table's RetractRule
// (ignore-delete, ignore-update-before and the merge engine's options).
// Errors wrap spec.ErrInvalidSchema and name the option.
func NewRowKindResolver(schema *spec.TableSchema, opts spec.Options) (*RowKindResolver, error) {
	rule, err := NewRetractRule(schema, opts)
	if err != nil {
		return nil, err
	}
	r := &RowKindResolver{index: -1, rule: rule}
	if opts.RowKindField != nil {
		name := *opts.RowKindField
		i := schema.FieldIndex(name)
		if i < 0 {
			return nil, optionErr(spec.OptRowKindField, "Rowkind field: '%s' can not be found in table schema.", name)
		}
		t := schema.Fields[i].Type
		if t.Root != spec.TypeChar && t.Root != spec.TypeVarChar {
			return nil, optionErr(spec.OptRowKindField, "only support string type for rowkind, but %s is %s", name, t)
		}
		r.index = i
	}
	return r, nil
}

// Resolve returns the kind to buffer row with (given the kind it arrived
// with) and whether to keep it at all. A null or unknown rowkind.field value
// is an error wrapping ErrMergeFailed, as Java throws for it; a record the
// merge engine cannot take is an error wrapping spec.ErrSchemaMismatch and
// ErrRetractUnsupported (see RetractRule.Admit).
func (r *RowKindResolver) Resolve(kind spec.RowKind, row spec.Row) (spec.RowKind, bool, error) {
	if r == nil {
		return kind, true, nil
	}
	if r.index >= 0 {
		v := row[r.index]
		if v == nil {
			return 0, false, fmt.Errorf("%w: Row kind cannot be null.", ErrMergeFailed)
		}
		s, _ := v.(string)
		switch strings.ToUpper(s) {
		case "+I":
			kind = spec.RowKindInsert
		case "-U":
			kind = spec.RowKindUpdateBefore
		case "+U":
			kind = spec.RowKindUpdateAfter
		case "-D":
			kind = spec.RowKindDelete
		default:
			return 0, false, fmt.Errorf("%w: Unsupported short string '%s' for row kind.", ErrMergeFailed, s)
		}
	}
	switch v, err := r.rule.Admit(kind, row); v {
	case VerdictDrop:
		return kind, false, nil
	case VerdictReject:
		return 0, false, err
	}
	return kind, true, nil
}

// optionErr is a configuration error that names the option it is about.
func optionErr(option, format string, args ...any) error {
	return fmt.Errorf("%w: option %q: %s", spec.ErrInvalidSchema, option, fmt.Sprintf(format, args...))
}

// rawBool reads a boolean option the way Paimon does (true/false in any case).
func rawBool(opts spec.Options, key string, def bool) (bool, error) {
	v, ok := opts.Raw[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, optionErr(key, "%q is not a boolean (want true or false)", v)
}

// rawString reads an optional string option.
func rawString(opts spec.Options, key string) (string, bool) {
	v, ok := opts.Raw[key]
	return v, ok
}

// javaSplit splits s on sep as Java's String.split does for a literal
// separator: trailing empty strings are dropped, and a string without the
// separator (the empty string included) is returned whole.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
