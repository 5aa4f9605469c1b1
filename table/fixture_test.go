package table

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

const fixtureWarehouse = "../../shared/fixtures/paimon-java"

// copyFixture loads a Java-written table into in-memory storage, so nothing
// can touch the shared fixture.
func copyFixture(t testing.TB, table string) storage.Storage {
	t.Helper()
	ctx := context.Background()
	mem := storage.NewMemory()
	root := filepath.Join(fixtureWarehouse, "default.db", table)
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("fixture missing (../shared must sit beside the repo): %v", err)
	}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(fixtureWarehouse), p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.Put(ctx, filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

func scanAll(t testing.TB, tb *Table, opts ...ScanOption) []spec.Row {
	t.Helper()
	var rows []spec.Row
	for r, err := range tb.NewScan(opts...).Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	checkBatchesMatchRows(t, tb, rows, opts...)
	return rows
}

// globalIndexVisible is, per snapshot of test_pk_global_index_golden, how
// many rows its README says a batch scan sees: level-0 data stays hidden
// until a COMPACT moves it up.
var globalIndexVisible = map[int64]int{1: 0, 2: 2, 3: 2, 4: 4, 5: 4, 6: 6}

// globalIndexRow is that fixture's row of key i.
func globalIndexRow(i int) spec.Row {
	cat := "odd"
	if i%2 == 0 {
		cat = "even"
	}
	return spec.Row{int32(i), fmt.Sprintf("name-%d", i), cat}
}

// The README of the fixtures lists the rows a batch scan sees at each
// snapshot.
func TestJavaFixtureGlobalIndex(t *testing.T) {
	ctx := context.Background()
	fs := copyFixture(t, "test_pk_global_index_golden")
	tb, err := Open(ctx, fs, "default.db/test_pk_global_index_golden")
	if err != nil {
		t.Fatal(err)
	}
	for snap, n := range globalIndexVisible {
		rows := scanAll(t, tb, WithSnapshot(snap))
		var want []spec.Row
		for i := 1; i <= n; i++ {
			want = append(want, globalIndexRow(i))
		}
		slices.SortFunc(rows, spec.CompareRows)
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("snapshot %d: got %v, want %v", snap, rows, want)
		}
	}
	if rows := scanAll(t, tb); len(rows) != 6 {
		t.Errorf("latest: %d rows", len(rows))
	}
}

func TestJavaFixtureVector(t *testing.T) {
	ctx := context.Background()
	fs := copyFixture(t, "test_pk_vector_golden")
	tb, err := Open(ctx, fs, "default.db/test_pk_vector_golden")
	if err != nil {
		t.Fatal(err)
	}
	if rows := scanAll(t, tb, WithSnapshot(1)); len(rows) != 0 {
		t.Errorf("snapshot 1: %v", rows)
	}
	rows := scanAll(t, tb)
	want := "[[1 [1 0 0 0]] [2 [0.9 0.1 0 0]] [3 [0 1 0 0]] [4 [0 0 1 0]]]"
	slices.SortFunc(rows, spec.CompareRows)
	if fmt.Sprint(rows) != want {
		t.Errorf("got %v, want %s", rows, want)
	}
}
