package lsm

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Partial-update option names.
const (
	optPURemoveOnDelete   = spec.OptPartialUpdateRemoveOnDelete
	optPURemoveOnSeqGroup = spec.OptPartialUpdateRemoveOnGroup
	sufSequenceGroup      = "sequence-group"
)

// partialUpdateConfig is the validated configuration of one table's
// partial-update engine, shared by the functions its factory creates.
type partialUpdateConfig struct {
	fields         []spec.DataField
	ignoreDelete   bool
	removeOnDelete bool
	// group[i] is the index into groups of the sequence group field i is
	// an ordering or protected member of, or -1.
	group  []int
	groups [][]int // ordering field positions of each group
	// aggFuncs[i] names field i's aggregator ("" for none) and aggKeys[i]
	// the option it came from.
	aggFuncs, aggKeys []string
	// partialDelete marks the ordering fields listed in
	// partial-update.remove-record-on-sequence-group.
	partialDelete []bool
	opts          spec.Options
	// rule is what the engine does with a retraction (see RetractRule).
	rule engineRule
}

func newPartialUpdateFactory(schema *spec.TableSchema, opts spec.Options) (MergeFunctionFactory, error) {
	c := &partialUpdateConfig{fields: schema.Fields, ignoreDelete: opts.IgnoreDelete, opts: opts,
		removeOnDelete: opts.PartialUpdateRemoveRecordOnDelete}
	n := len(schema.Fields)
	c.group = make([]int, n)
	for i := range c.group {
		c.group[i] = -1
	}
	names := schema.FieldNames()
	require := func(key, name string) (int, error) {
		i := slices.Index(names, name)
		if i < 0 {
			return 0, optionErr(key, "Field %s can not be found in table schema", name)
		}
		return i, nil
	}
	isPK := func(name string) bool { return slices.Contains(schema.PrimaryKeys, name) }
	pkErr := func(key, name string) error {
		return optionErr(key, "The sequence-group '%s' contains primary key field '%s', "+
			"which is not allowed. Primary key columns cannot be put in sequence-group.", key, name)
	}
	var orderingNames, protectedNames []string
	orderingIndex := map[string]int{}
	// Java walks a HashMap; sorting makes the first reported error stable.
	keys := make([]string, 0, len(opts.Raw))
	for k := range opts.Raw {
		if strings.HasPrefix(k, "fields") && strings.HasSuffix(k, sufSequenceGroup) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, optFieldsPrefix) || !strings.HasSuffix(k, "."+sufSequenceGroup) ||
			len(k) < len(optFieldsPrefix)+len(sufSequenceGroup)+1 {
			return nil, optionErr(k, "Invalid sequence-group option: %s", k)
		}
		var ordering []int
		for _, name := range javaSplit(k[len(optFieldsPrefix):len(k)-len(sufSequenceGroup)-1], ",") {
			i, err := require(k, name)
			if err != nil {
				return nil, err
			}
			ordering = append(ordering, i)
		}
		g := len(c.groups)
		c.groups = append(c.groups, ordering)
		for _, name := range javaSplit(opts.Raw[k], ",") {
			i, err := require(k, name)
			if err != nil {
				return nil, err
			}
			if isPK(name) {
				return nil, pkErr(k, name)
			}
			if c.group[i] >= 0 {
				return nil, optionErr(k, "Field %s is defined repeatedly by multiple groups: %s", name, k)
			}
			c.group[i] = g
			protectedNames = append(protectedNames, name)
		}
		for _, i := range ordering {
			if isPK(names[i]) {
				return nil, pkErr(k, names[i])
			}
			orderingNames = append(orderingNames, names[i])
			c.group[i] = g
			orderingIndex[names[i]] = i
		}
	}
	if err := c.resolveAggregators(schema, orderingNames, protectedNames); err != nil {
		return nil, err
	}
	// Java creates the aggregators lazily, after the checks below, so their
	// errors are reported last.
	removeOnGroup, hasRemoveOnGroup := "", opts.PartialUpdateRemoveRecordOnGroup != nil
	if hasRemoveOnGroup {
		removeOnGroup = *opts.PartialUpdateRemoveRecordOnGroup
	}
	conflict := "%s and %s have conflicting behavior so should not be enabled at the same time."
	switch {
	case c.removeOnDelete && c.ignoreDelete:
		return nil, optionErr(optPURemoveOnDelete, conflict, spec.OptIgnoreDelete, optPURemoveOnDelete)
	case hasRemoveOnGroup && c.ignoreDelete:
		return nil, optionErr(optPURemoveOnSeqGroup, conflict, spec.OptIgnoreDelete, optPURemoveOnSeqGroup)
	case c.removeOnDelete && len(c.groups) > 0:
		return nil, optionErr(optPURemoveOnDelete, conflict, sufSequenceGroup, optPURemoveOnDelete)
	}
	c.partialDelete = make([]bool, n)
	if hasRemoveOnGroup {
		for _, name := range javaSplit(removeOnGroup, ",") {
			i, ok := orderingIndex[name]
			if !ok {
				return nil, optionErr(optPURemoveOnSeqGroup,
					"field '%s' defined in '%s' option must be part of sequence groups", removeOnGroup, optPURemoveOnSeqGroup)
			}
			c.partialDelete[i] = true
		}
	}
	for i, fn := range c.aggFuncs {
		if fn == "" {
			continue
		}
		if _, err := newFieldAggregator(fn, c.aggKeys[i], c.fields[i], opts); err != nil {
			return nil, err
		}
	}
	c.rule = engineRule{engine: spec.MergeEnginePartialUpdate, ignoreDelete: c.ignoreDelete,
		groups: len(c.groups) > 0, removeOnDelete: c.removeOnDelete}
	return c, nil
}

// resolveAggregators picks each field's aggregate function as Java's
// getAggFuncName does: none for ordering fields, primary-key for key
// fields, else the field's or the default function, which must be
// last_non_null_value unless a sequence group protects the field.
func (c *partialUpdateConfig) resolveAggregators(schema *spec.TableSchema, ordering, protected []string) error {
	n := len(schema.Fields)
	c.aggFuncs, c.aggKeys = make([]string, n), make([]string, n)
	def, hasDef := defaultAggFunction(c.opts)
	for i, f := range schema.Fields {
		switch {
		case slices.Contains(ordering, f.Name):
			continue
		case slices.Contains(schema.PrimaryKeys, f.Name):
			c.aggFuncs[i], c.aggKeys[i] = aggPrimaryKey, ""
		default:
			key := optFieldsPrefix + f.Name + sufAggFunction
			fn, ok := rawString(c.opts, key)
			if !ok && hasDef {
				fn, key, ok = def, spec.OptFieldsDefaultAggFunction, true
			}
			if !ok {
				continue
			}
			if fn != aggLastNonNullValue && !slices.Contains(protected, f.Name) {
				return optionErr(key, "Must use sequence group for aggregation functions but not found for field %s.", f.Name)
			}
			c.aggFuncs[i], c.aggKeys[i] = fn, key
		}
	}
	return nil
}

// Create implements MergeFunctionFactory.
func (c *partialUpdateConfig) Create() MergeFunction {
	p := &partialUpdate{cfg: c, aggs: make([]FieldAggregator, len(c.fields))}
	for i, fn := range c.aggFuncs {
		if fn != "" {
			// Validated by the factory, so this cannot fail.
			a, _ := newFieldAggregator(fn, c.aggKeys[i], c.fields[i], c.opts)
			p.aggs[i] = a
		}
	}
	return p
}

// partialUpdate is Paimon's partial-update engine: non-null fields overwrite,
// sequence groups update their fields only when their ordering fields do not
// go backwards, and per-field aggregators fold protected fields.
type partialUpdate struct {
	cfg  *partialUpdateConfig
	aggs []FieldAggregator

	key        spec.Row
	row        spec.Row
	latestSeq  int64
	added      bool
	meetInsert bool // an add (+I/+U) was seen
	deleteRow  bool // the last record removed the whole row
	filled     bool // row was initialised from a record
	processed  []bool
}

// Reset implements MergeFunction. The row is allocated by the first Add, so
// keys that the reducer passes through cost nothing here.
func (p *partialUpdate) Reset() {
	p.key, p.row, p.latestSeq = nil, nil, 0
	p.added, p.meetInsert, p.deleteRow, p.filled = false, false, false, false
	for _, a := range p.aggs {
		if a != nil {
			a.Reset()
		}
	}
}

// Add implements MergeFunction.
func (p *partialUpdate) Add(kv *KeyValue) error {
	if err := checkWidth(kv, len(p.cfg.fields)); err != nil {
		return err
	}
	if p.row == nil {
		p.row = make(spec.Row, len(p.cfg.fields))
	}
	p.key, p.added, p.deleteRow = kv.Key, true, false
	if kv.Kind.IsRetract() {
		// Java seeds the row from the first record even when it is a
		// retract that ignore-delete then skips.
		if !p.filled {
			if err := p.initRow(kv.Value); err != nil {
				return err
			}
			p.filled = true
		}
		// ignore-delete skips it (VerdictDrop); without sequence groups or
		// remove-record-on-delete it is rejected.
		if v, err := p.cfg.rule.verdict(kv.Kind); v != VerdictAccept {
			return err
		}
		p.latestSeq = kv.Seq
		if len(p.cfg.groups) > 0 {
			return p.retractWithGroups(kv)
		}
		// remove-record-on-delete: -D removes the row, -U is ignored.
		if kv.Kind == spec.RowKindDelete {
			p.deleteRow = true
			return p.initRow(kv.Value)
		}
		return nil
	}
	p.latestSeq = kv.Seq
	var err error
	if len(p.cfg.groups) == 0 {
		err = p.updateNonNull(kv.Value)
	} else {
		err = p.updateWithGroups(kv.Value)
	}
	if err != nil {
		return err
	}
	p.meetInsert, p.filled = true, true
	return nil
}

// checkWidth rejects a record whose value does not have one entry per
// column, which would otherwise index out of range.
func checkWidth(kv *KeyValue, n int) error {
	if len(kv.Value) != n {
		return fmt.Errorf("%w: record has %d values for %d columns", ErrMergeFailed, len(kv.Value), n)
	}
	return nil
}

func nullErr(i int) error { return fmt.Errorf("%w: Field %d can not be null", ErrMergeFailed, i) }

// initRow replaces the row with a copy of value, refusing nulls in NOT NULL
// columns.
func (p *partialUpdate) initRow(value spec.Row) error {
	row := make(spec.Row, len(p.cfg.fields))
	for i := range row {
		v := value[i]
		if v == nil && !p.cfg.fields[i].Type.Nullable {
			return nullErr(i)
		}
		row[i] = v
	}
	p.row = row
	return nil
}

func (p *partialUpdate) updateNonNull(value spec.Row) error {
	for i, v := range value {
		if v != nil {
			p.row[i] = v
		} else if !p.cfg.fields[i].Type.Nullable {
			return nullErr(i)
		}
	}
	return nil
}

// emptyGroup reports whether the input has no ordering value for group g,
// marking the group's ordering fields handled if so.
func (p *partialUpdate) emptyGroup(value spec.Row, g int) bool {
	for _, j := range p.cfg.groups[g] {
		if value[j] != nil {
			return false
		}
	}
	for _, j := range p.cfg.groups[g] {
		p.processed[j] = true
	}
	return true
}

func (p *partialUpdate) startPass() {
	if len(p.processed) != len(p.row) {
		p.processed = make([]bool, len(p.row))
	}
	clear(p.processed)
}

// updateWithGroups walks the fields in order, as Java does; a group's
// ordering fields are compared with the row as it stands at each field.
func (p *partialUpdate) updateWithGroups(value spec.Row) error {
	p.startPass()
	for i := range p.row {
		in, agg, g := value[i], p.aggs[i], p.cfg.group[i]
		if g < 0 {
			if agg != nil {
				v, err := agg.Agg(p.row[i], in)
				if err != nil {
					return err
				}
				p.row[i] = v
			} else if in != nil {
				p.row[i] = in
			}
			continue
		}
		if p.processed[i] || p.emptyGroup(value, g) {
			continue
		}
		ordering := p.cfg.groups[g]
		if compareFieldsNullsFirst(ordering, value, p.row, false) >= 0 {
			if slices.Contains(ordering, i) {
				for _, j := range ordering {
					p.row[j] = value[j]
					p.processed[j] = true
				}
				continue
			}
			if agg == nil {
				p.row[i] = in // a null overwrites: the group moves as a unit
				continue
			}
			v, err := agg.Agg(p.row[i], in)
			if err != nil {
				return err
			}
			p.row[i] = v
		} else if agg != nil {
			v, err := agg.AggReversed(p.row[i], in)
			if err != nil {
				return err
			}
			p.row[i] = v
		}
	}
	return nil
}

// retractWithGroups applies a -U/-D to the groups it does not predate:
// their ordering fields take the record's values and their other fields
// are nulled or retracted from their aggregators; older groups only retract
// aggregated fields. A -D on a group listed in
// remove-record-on-sequence-group removes the whole row instead.
func (p *partialUpdate) retractWithGroups(kv *KeyValue) error {
	value := kv.Value
	p.startPass()
	for i := range p.row {
		g := p.cfg.group[i]
		if g < 0 || p.processed[i] || p.emptyGroup(value, g) {
			continue
		}
		agg := p.aggs[i]
		ordering := p.cfg.groups[g]
		if compareFieldsNullsFirst(ordering, value, p.row, false) >= 0 {
			if slices.Contains(ordering, i) {
				for _, j := range ordering {
					if !p.processed[j] {
						if kv.Kind == spec.RowKindDelete && p.cfg.partialDelete[j] {
							p.deleteRow = true
							return p.initRow(value)
						}
						p.row[j] = value[j]
					}
					p.processed[j] = true
				}
				continue
			}
			if agg == nil {
				p.row[i] = nil
				continue
			}
		} else if agg == nil {
			continue
		}
		v, err := agg.Retract(p.row[i], value[i])
		if err != nil {
			return err
		}
		p.row[i] = v
	}
	return nil
}

// Result implements MergeFunction. The kind is -D when the last record
// removed the row or no add was ever seen, +I otherwise.
func (p *partialUpdate) Result() *KeyValue {
	if !p.added {
		return nil
	}
	kind := spec.RowKindInsert
	if p.deleteRow || !p.meetInsert {
		kind = spec.RowKindDelete
	}
	return &KeyValue{Key: p.key, Seq: p.latestSeq, Kind: kind, Value: slices.Clone(p.row)}
}
