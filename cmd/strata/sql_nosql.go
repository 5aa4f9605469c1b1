//go:build !duckdb_arrow

package main

import (
	"context"
	"errors"
)

// sqlBuilt says whether this build has "strata sql" (strata version).
const sqlBuilt = false

// errNoSQL is the error of "strata sql" in a build without DuckDB.
var errNoSQL = errors.New("sql: this strata was built without SQL support.\n" + sqlBuildHelp)

func (e *env) runSQL(context.Context, sqlRequest) error { return errNoSQL }
