package table

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Cross-partition upserts: the primary key (id) lacks the partition column
// (region), so a key may move. Deduplicate moves it (one live row, in the
// new partition), aggregation keeps it in its first partition, first-row
// ignores the move; state survives writer restarts (the global index is
// bootstrapped from the table).
func TestCrossPartitionUpserts(t *testing.T) {
	for _, engine := range []string{"deduplicate", "aggregation", "first-row"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			fields, _ := spec.ParseColumns("region STRING NOT NULL, id BIGINT NOT NULL, n BIGINT")
			opts := spec.NewStringMap("bucket", "-1", "merge-engine", engine, "dynamic-bucket.target-row-num", "10")
			if engine == "aggregation" {
				opts.Set("fields.n.aggregate-function", "sum")
			}
			sc, err := spec.NewSchema(fields, []string{"region"}, []string{"id"}, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/x", sc)
			if err != nil {
				t.Fatal(err)
			}
			type state struct {
				region string
				n      int64
			}
			model := map[int64]state{}
			rng := rand.New(rand.NewPCG(3, 3))
			for c := 0; c < 8; c++ {
				w, err := tb.NewWrite(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 50; i++ {
					id := rng.Int64N(40)
					region := []string{"eu", "us", "apac"}[rng.IntN(3)]
					if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{region, id, int64(1)}); err != nil {
						t.Fatal(err)
					}
					old, ok := model[id]
					switch {
					case !ok:
						model[id] = state{region, 1}
					case engine == "deduplicate":
						model[id] = state{region, 1}
					case engine == "aggregation":
						model[id] = state{old.region, old.n + 1}
					}
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tb.NewCommit("x").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
				w.Close()
				rows := scanAll(t, tb)
				if len(rows) != len(model) {
					t.Fatalf("commit %d: %d rows, model has %d", c, len(rows), len(model))
				}
				for _, r := range rows {
					m := model[r[1].(int64)]
					if r[0] != m.region || r[2] != m.n {
						t.Fatalf("commit %d: row %v, model %v", c, r, m)
					}
				}
			}
		})
	}
}
