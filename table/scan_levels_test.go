package table

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// commitLevelRows writes rows (a -D for a nil name) in one batch commit.
func commitLevelRows(t *testing.T, tb *Table, rows ...spec.Row) {
	t.Helper()
	var cs []change
	for _, r := range rows {
		kind := spec.RowKindInsert
		if r[1] == nil {
			kind = spec.RowKindDelete
		}
		cs = append(cs, change{kind, r})
	}
	if _, err := tb.NewCommit("").Commit(context.Background(), BatchCommitIdentifier, writeAll(t, tb, cs, false)); err != nil {
		t.Fatal(err)
	}
}

func sortedScan(t *testing.T, tb *Table, opts ...ScanOption) string {
	rows := scanAll(t, tb, opts...)
	slices.SortFunc(rows, spec.CompareRows)
	return fmt.Sprint(rows)
}

// WithAllLevels merges level 0 into scans of tables whose batch scans skip
// it (write-only keeps everything at level 0 here).
func TestScanWithAllLevels(t *testing.T) {
	cases := []struct {
		name  string
		opts  []string
		want  string
		rows2 []spec.Row
	}{
		{"deletion-vectors", []string{"deletion-vectors.enabled", "true"}, "[[1 v2 2]]",
			[]spec.Row{{int64(1), "v2", 2.0}, {int64(2), nil, nil}}},
		{"first-row", []string{"merge-engine", "first-row"}, "[[1 v1 1] [2 v1 1] [3 v2 2]]",
			[]spec.Row{{int64(1), "v2", 2.0}, {int64(3), "v2", 2.0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := newTestTable(t, storage.NewMemory(), 2, append(c.opts, "write-only", "true")...)
			commitLevelRows(t, tb, spec.Row{int64(1), "v1", 1.0}, spec.Row{int64(2), "v1", 1.0})
			commitLevelRows(t, tb, c.rows2...)
			if got := sortedScan(t, tb); got != "[]" {
				t.Errorf("default scan sees level 0: %s", got)
			}
			if got := sortedScan(t, tb, WithAllLevels()); got != c.want {
				t.Errorf("all levels: got %s, want %s", got, c.want)
			}
		})
	}
}
