package table

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A streaming writer (WithWaitCompaction(false)) on a table read through
// lookups still waits at every commit while lookup-wait holds, as Paimon's
// prepareCommitWaitCompaction: otherwise a scan after the commit misses the
// rows left in level 0. With lookup-wait=false it may miss them.
func TestLookupWaitAtEveryCommit(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []string
	}{
		{"deletion-vectors", []string{"deletion-vectors.enabled", "true"}},
		{"changelog-lookup", []string{"changelog-producer", "lookup"}},
		{"first-row", []string{"merge-engine", "first-row"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 2, c.opts...)
			w, err := tb.NewWrite(ctx, WithWaitCompaction(false))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			model := map[int64]spec.Row{}
			for commit := range 6 {
				for i := range 200 {
					id := int64(commit*100 + i) // half new keys, half updates
					row := spec.Row{id, fmt.Sprintf("v%d", commit), float64(commit)}
					if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
						t.Fatal(err)
					}
					if _, ok := model[id]; !ok || c.name != "first-row" {
						model[id] = row
					}
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tb.NewCommit("w").Commit(ctx, int64(commit), msgs); err != nil {
					t.Fatal(err)
				}
				checkEqual(t, fmt.Sprintf("after commit %d", commit), scanAll(t, tb), modelRows(model))
			}
		})
	}
}
