package spec

import "errors"

// Sentinel errors shared across Strata; callers test them with errors.Is.
// Their messages carry no "strata:" prefix: wrapped into longer messages, a
// prefix would repeat (the CLI prints one in front of every error).
var (
	// ErrCorrupt marks bytes that do not decode as the format says they must.
	ErrCorrupt = errors.New("corrupt data")
	// ErrSchemaMismatch marks values or files that do not fit the schema.
	ErrSchemaMismatch = errors.New("schema mismatch")
	// ErrNotFound marks a missing table, database, snapshot or file.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a commit that lost against a concurrent change.
	ErrConflict = errors.New("commit conflict")
)
