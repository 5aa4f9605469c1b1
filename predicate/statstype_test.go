package predicate

import (
	"testing"

	"github.com/stratalake/strata/spec"
)

// Statistics of another type than the column's literal prove nothing: the
// file may match (read it) rather than be skipped by comparing unlike
// values.
func TestMayMatchStatsOfAnotherType(t *testing.T) {
	fields, err := spec.ParseColumns("d DATE, n INT")
	if err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{"d > '2024-01-01'", "d = '2024-01-01'", "d IN ('2024-01-01', '2024-02-01')", "n < 5"} {
		p, err := Parse(expr, fields)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Bind(p, fields)
		if err != nil {
			t.Fatal(err)
		}
		// int64 bounds where a DATE or INT column's are spec.Date or int32.
		st := statsOf{rows: 10, cols: []ColumnStats{{Min: int64(1), Max: int64(2)}, {Min: int64(100), Max: int64(200)}}}
		if !b.MayMatch(st) {
			t.Errorf("%s: MayMatch false for statistics of another type", expr)
		}
	}
}
