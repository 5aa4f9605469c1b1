package spec

import "errors"

// Sentinel errors shared across Strata; callers test them with errors.Is.
var (
	// ErrCorrupt marks bytes that do not decode as the format says they must.
	ErrCorrupt = errors.New("strata: corrupt data")
	// ErrSchemaMismatch marks values or files that do not fit the schema.
	ErrSchemaMismatch = errors.New("strata: schema mismatch")
	// ErrNotFound marks a missing table, database, snapshot or file.
	ErrNotFound = errors.New("strata: not found")
	// ErrConflict marks a commit that lost against a concurrent change.
	ErrConflict = errors.New("strata: commit conflict")
)
