//go:build !duckdb_arrow

package main

import (
	"strings"
	"testing"
)

// Without the duckdb_arrow tag "strata sql" exists and says how to build
// it with SQL.
func TestSQLNeedsBuildTag(t *testing.T) {
	c := cli{t, t.TempDir()}
	errs := c.fails(1, "", "sql", "SELECT 1")
	if !strings.Contains(errs, "go build -tags duckdb_arrow") {
		t.Fatalf("stderr %q does not say how to build with SQL", errs)
	}
}
