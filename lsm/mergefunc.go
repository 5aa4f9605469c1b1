package lsm

import (
	"errors"
	"fmt"

	"github.com/stratalake/strata/spec"
)

// Errors a merge function returns for records Paimon rejects at merge time.
// Configuration errors are reported when the factory is built instead, and
// wrap spec.ErrInvalidSchema.
var (
	// ErrRetractUnsupported marks a -U/-D record that reached a merge engine
	// or field aggregator that cannot take it (Java throws
	// IllegalArgumentException or UnsupportedOperationException).
	ErrRetractUnsupported = errors.New("lsm: retraction not supported")
	// ErrMergeFailed marks any other record a merge function cannot fold:
	// integer overflow, division by zero, a null in a NOT NULL column, a
	// value of the wrong Go type.
	ErrMergeFailed = errors.New("lsm: merge failed")
)

// MergeFunction folds the records of one key, fed in the order Ordering
// gives, into at most one record. Implementations follow Paimon's merge
// engines. The record Result returns must not be modified by later calls.
type MergeFunction interface {
	// Reset starts a new key.
	Reset()
	// Add folds in the next record of the current key.
	Add(kv *KeyValue) error
	// Result returns the merged record, or nil when nothing remains.
	Result() *KeyValue
}

// MergeFunctionFactory makes fresh merge functions for one table schema, as
// Java's MergeFunctionFactory does. Build it once per table (that is where
// options are validated) and call Create per merge: functions keep state.
type MergeFunctionFactory interface {
	// Create returns a new merge function of the table's engine. It feeds
	// every record to the engine, including a key's only record; wrap it in
	// NewReducer for flushes, plain compactions and merged reads, where Java
	// passes a single record through untouched.
	Create() MergeFunction
}

// NewMergeFunctionFactory returns the merge function factory for the table's
// merge-engine, validating the engine's options as Java does when the table
// is opened. Errors wrap spec.ErrInvalidSchema and name the offending option.
func NewMergeFunctionFactory(schema *spec.TableSchema, opts spec.Options) (MergeFunctionFactory, error) {
	switch opts.MergeEngine {
	case "", spec.MergeEngineDeduplicate:
		return factoryFunc(func() MergeFunction { return &Deduplicate{IgnoreDelete: opts.IgnoreDelete} }), nil
	case spec.MergeEngineFirstRow:
		return factoryFunc(func() MergeFunction { return &FirstRow{IgnoreDelete: opts.IgnoreDelete} }), nil
	case spec.MergeEnginePartialUpdate:
		return newPartialUpdateFactory(schema, opts)
	case spec.MergeEngineAggregation:
		return newAggregateFactory(schema, opts)
	}
	return nil, optionErr(spec.OptMergeEngine, "Unsupported merge engine: %s", opts.MergeEngine)
}

type factoryFunc func() MergeFunction

func (f factoryFunc) Create() MergeFunction { return f() }

// Deduplicate keeps the last record of each key, deletes included (Paimon's
// deduplicate engine). With IgnoreDelete, retractions are dropped instead.
type Deduplicate struct {
	IgnoreDelete bool
	last         *KeyValue
}

// Reset implements MergeFunction.
func (d *Deduplicate) Reset() { d.last = nil }

// Add implements MergeFunction.
func (d *Deduplicate) Add(kv *KeyValue) error {
	// Files written before Paimon 0.7 may hold retracts despite ignore-delete,
	// so the engine filters them too, not only the writer.
	if kv.Kind.IsRetract() {
		rule := engineRule{engine: spec.MergeEngineDeduplicate, ignoreDelete: d.IgnoreDelete}
		if v, err := rule.verdict(kv.Kind); v != VerdictAccept {
			return err // nil: ignore-delete skips it
		}
	}
	d.last = kv
	return nil
}

// Result implements MergeFunction.
func (d *Deduplicate) Result() *KeyValue { return d.last }

// FirstRow keeps the first record of each key (Paimon's first-row engine).
// A retraction is dropped with IgnoreDelete and rejected otherwise.
type FirstRow struct {
	IgnoreDelete bool
	first        *KeyValue
}

// Reset implements MergeFunction.
func (f *FirstRow) Reset() { f.first = nil }

// Add implements MergeFunction.
func (f *FirstRow) Add(kv *KeyValue) error {
	if kv.Kind.IsRetract() {
		rule := engineRule{engine: spec.MergeEngineFirstRow, ignoreDelete: f.IgnoreDelete}
		if v, err := rule.verdict(kv.Kind); v != VerdictAccept {
			return err // nil for a retraction ignore-delete skips
		}
	}
	if f.first == nil {
		f.first = kv
	}
	return nil
}

// Result implements MergeFunction.
func (f *FirstRow) Result() *KeyValue { return f.first }

// reducer is Java's ReducerMergeFunctionWrapper: a key with a single record
// yields that record unchanged (kind and sequence number included) without
// consulting the engine; two or more are all fed to the engine.
type reducer struct {
	inner   MergeFunction
	initial *KeyValue
	merging bool
}

// NewReducer wraps mf with the single-record shortcut Java applies at flush,
// in plain compaction and in merged reads. It matters for engines that
// rewrite records: aggregation would turn a lone -U into an +I, and first-row
// would reject a lone retract that Java writes through.
func NewReducer(mf MergeFunction) MergeFunction { return &reducer{inner: mf} }

// Reset implements MergeFunction.
func (r *reducer) Reset() {
	r.initial, r.merging = nil, false
	r.inner.Reset()
}

// Add implements MergeFunction.
func (r *reducer) Add(kv *KeyValue) error {
	if r.initial == nil {
		r.initial = kv
		return nil
	}
	if !r.merging {
		r.merging = true
		if err := addRecord(r.inner, r.initial); err != nil {
			return err
		}
	}
	return addRecord(r.inner, kv)
}

// Result implements MergeFunction.
func (r *reducer) Result() *KeyValue {
	if r.merging {
		return r.inner.Result()
	}
	return r.initial
}

// NewMergeFunction returns a merge function for the engines that need no
// schema: deduplicate (as before, unwrapped, so a lone retract is still
// dropped with ignore-delete, standing in for the writer-side filter) and
// first-row (wrapped in NewReducer).
//
// Deprecated: use NewMergeFunctionFactory, which supports every engine and
// validates the table's options.
func NewMergeFunction(opts MergeOptions) (MergeFunction, error) {
	switch opts.Engine {
	case "", string(spec.MergeEngineDeduplicate):
		return &Deduplicate{IgnoreDelete: opts.IgnoreDelete}, nil
	case string(spec.MergeEngineFirstRow):
		return NewReducer(&FirstRow{IgnoreDelete: opts.IgnoreDelete}), nil
	}
	return nil, fmt.Errorf("%w: merge-engine %q needs the table schema; use NewMergeFunctionFactory", spec.ErrSchemaMismatch, opts.Engine)
}

// MergeOptions selects and configures a merge function for NewMergeFunction.
type MergeOptions struct {
	Engine       string // merge-engine
	IgnoreDelete bool   // ignore-delete
}
