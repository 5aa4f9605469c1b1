package lsm

import (
	"fmt"

	"github.com/stratalake/strata/spec"
)

// MergeFunction folds the records of one key, fed in sequence order, into at
// most one record. Implementations follow Paimon's merge engines.
type MergeFunction interface {
	// Reset starts a new key.
	Reset()
	// Add folds in the next record of the current key.
	Add(kv *KeyValue) error
	// Result returns the merged record, or nil when nothing remains.
	Result() *KeyValue
}

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
	if d.IgnoreDelete && kv.Kind.IsRetract() {
		return nil
	}
	d.last = kv
	return nil
}

// Result implements MergeFunction.
func (d *Deduplicate) Result() *KeyValue { return d.last }

// NewMergeFunction returns the merge function the table options name.
func NewMergeFunction(opts MergeOptions) (MergeFunction, error) {
	switch opts.Engine {
	case "", "deduplicate":
		return &Deduplicate{IgnoreDelete: opts.IgnoreDelete}, nil
	}
	return nil, fmt.Errorf("%w: merge-engine %q is not supported yet", spec.ErrSchemaMismatch, opts.Engine)
}

// MergeOptions selects and configures a merge function.
type MergeOptions struct {
	Engine       string // merge-engine
	IgnoreDelete bool   // ignore-delete
}
