package lsm

import (
	"slices"

	"github.com/stratalake/strata/spec"
)

// aggregateConfig is the validated configuration of one table's aggregation
// engine: the aggregate function of every column.
type aggregateConfig struct {
	fields         []spec.DataField
	funcs, keys    []string // function per field and the option naming it
	removeOnDelete bool
	opts           spec.Options
}

// newAggregateFactory resolves each column's function as Java's
// AggregateMergeFunction.getAggFuncName does: sequence.field columns use
// last_value, primary-key columns keep their value, then the column's
// aggregate-function, then fields.default-aggregate-function, then
// last_non_null_value.
func newAggregateFactory(schema *spec.TableSchema, opts spec.Options) (MergeFunctionFactory, error) {
	c := &aggregateConfig{fields: schema.Fields, opts: opts, removeOnDelete: opts.AggregationRemoveRecordOnDelete}
	n := len(schema.Fields)
	c.funcs, c.keys = make([]string, n), make([]string, n)
	def, hasDef := defaultAggFunction(opts)
	for i, f := range schema.Fields {
		key := optFieldsPrefix + f.Name + sufAggFunction
		fn, ok := rawString(opts, key)
		switch {
		case slices.Contains(opts.SequenceField, f.Name):
			fn, key = aggLastValue, spec.OptSequenceField
		case slices.Contains(schema.PrimaryKeys, f.Name):
			fn, key = aggPrimaryKey, ""
		case ok:
		case hasDef:
			fn, key = def, spec.OptFieldsDefaultAggFunction
		default:
			fn, key = aggLastNonNullValue, ""
		}
		if _, err := newFieldAggregator(fn, key, f, opts); err != nil {
			return nil, err
		}
		c.funcs[i], c.keys[i] = fn, key
	}
	return c, nil
}

// Create implements MergeFunctionFactory.
func (c *aggregateConfig) Create() MergeFunction {
	a := &aggregate{cfg: c, aggs: make([]FieldAggregator, len(c.fields))}
	for i, fn := range c.funcs {
		// Validated by the factory, so this cannot fail.
		a.aggs[i], _ = newFieldAggregator(fn, c.keys[i], c.fields[i], c.opts)
	}
	return a
}

// aggregate is Paimon's aggregation engine: each column folds its values
// with its aggregator, retracts call the aggregators' Retract, and with
// aggregation.remove-record-on-delete a -D replaces the row and marks it
// deleted. The result is +I unless that happened: a retract alone never
// produces a retract result.
type aggregate struct {
	cfg       *aggregateConfig
	aggs      []FieldAggregator
	latest    *KeyValue
	row       spec.Row
	deleteRow bool
}

// Reset implements MergeFunction.
func (a *aggregate) Reset() {
	a.latest, a.row, a.deleteRow = nil, nil, false // row allocated by the first Add
	for _, g := range a.aggs {
		g.Reset()
	}
}

// Add implements MergeFunction.
func (a *aggregate) Add(kv *KeyValue) error {
	if err := checkWidth(kv, len(a.cfg.fields)); err != nil {
		return err
	}
	if a.row == nil {
		a.row = make(spec.Row, len(a.cfg.fields))
	}
	a.latest = kv
	a.deleteRow = a.cfg.removeOnDelete && kv.Kind == spec.RowKindDelete
	if a.deleteRow {
		row := make(spec.Row, len(a.cfg.fields))
		for i, v := range kv.Value {
			if v == nil && !a.cfg.fields[i].Type.Nullable {
				return nullErr(i)
			}
			row[i] = v
		}
		a.row = row
		return nil
	}
	retract := kv.Kind.IsRetract()
	for i, g := range a.aggs {
		var v any
		var err error
		if retract {
			v, err = g.Retract(a.row[i], kv.Value[i])
		} else {
			v, err = g.Agg(a.row[i], kv.Value[i])
		}
		if err != nil {
			return err
		}
		a.row[i] = v
	}
	return nil
}

// Result implements MergeFunction: the latest record's key and sequence
// number with the folded row.
func (a *aggregate) Result() *KeyValue {
	if a.latest == nil {
		return nil
	}
	kind := spec.RowKindInsert
	if a.deleteRow {
		kind = spec.RowKindDelete
	}
	return &KeyValue{Key: a.latest.Key, Seq: a.latest.Seq, Kind: kind, Value: slices.Clone(a.row)}
}

// defaultAggFunction returns fields.default-aggregate-function, if set.
func defaultAggFunction(opts spec.Options) (string, bool) {
	if opts.FieldsDefaultAggFunction == nil {
		return "", false
	}
	return *opts.FieldsDefaultAggFunction, true
}
