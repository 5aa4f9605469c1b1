package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Engines end to end: writes over many commits, with compaction, read back
// as the engine defines. Each table runs with and without lookup changelog
// and deletion vectors (which change how levels are merged).
func TestEnginesEndToEnd(t *testing.T) {
	variants := [][]string{nil, {"changelog-producer", "lookup"}, {"deletion-vectors.enabled", "true"}}
	for _, v := range variants {
		t.Run(fmt.Sprint("aggregation", v), func(t *testing.T) {
			ctx := context.Background()
			fields, _ := spec.ParseColumns("k INT NOT NULL, total BIGINT, seen BIGINT, last STRING")
			opts := spec.NewStringMap(append([]string{"bucket", "2", "merge-engine", "aggregation",
				"fields.total.aggregate-function", "sum", "fields.seen.aggregate-function", "max",
				"num-sorted-run.compaction-trigger", "2"}, v...)...)
			sc, err := spec.NewSchema(fields, nil, []string{"k"}, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/agg", sc)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			totals := map[int32]int64{}
			maxSeen := map[int32]int64{}
			last := map[int32]string{}
			for c := 0; c < 8; c++ {
				w, _ := tb.NewWrite(ctx)
				for i := 0; i < 100; i++ {
					k := int32(rng.IntN(20))
					n := int64(rng.IntN(10))
					if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{k, n, n, fmt.Sprint(c)}); err != nil {
						t.Fatal(err)
					}
					totals[k] += n
					maxSeen[k] = max(maxSeen[k], n)
					last[k] = fmt.Sprint(c)
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tb.NewCommit("a").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
				w.Close()
				rows := scanAll(t, tb)
				if len(rows) != len(totals) {
					t.Fatalf("commit %d: %d rows, want %d", c, len(rows), len(totals))
				}
				for _, r := range rows {
					k := r[0].(int32)
					if r[1].(int64) != totals[k] || r[2].(int64) != maxSeen[k] || r[3] != last[k] {
						t.Fatalf("commit %d: row %v, want total %d max %d", c, r, totals[k], maxSeen[k])
					}
				}
			}
		})
	}
	for _, v := range [][]string{nil, {"changelog-producer", "lookup"}} {
		t.Run(fmt.Sprint("first-row", v), func(t *testing.T) {
			ctx := context.Background()
			fields, _ := spec.ParseColumns("k INT NOT NULL, v STRING")
			opts := spec.NewStringMap(append([]string{"bucket", "1", "merge-engine", "first-row"}, v...)...)
			sc, _ := spec.NewSchema(fields, nil, []string{"k"}, opts, nil)
			tb, err := Create(ctx, storage.NewMemory(), "db.db/fr", sc)
			if err != nil {
				t.Fatal(err)
			}
			first := map[int32]string{}
			for c := 0; c < 5; c++ {
				w, _ := tb.NewWrite(ctx)
				for k := int32(0); k < int32(10*(c+1)); k += 3 {
					val := fmt.Sprint("c", c)
					if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{k, val}); err != nil {
						t.Fatal(err)
					}
					if _, ok := first[k]; !ok {
						first[k] = val
					}
				}
				msgs, _ := w.PrepareCommit(ctx)
				if _, err := tb.NewCommit("f").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
				w.Close()
				rows := scanAll(t, tb)
				if len(rows) != len(first) {
					t.Fatalf("commit %d: %d rows, want %d", c, len(rows), len(first))
				}
				for _, r := range rows {
					if r[1] != first[r[0].(int32)] {
						t.Fatalf("commit %d: row %v, want first %q", c, r, first[r[0].(int32)])
					}
				}
			}
		})
	}
}
