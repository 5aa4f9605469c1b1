package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func newTestTable(t testing.TB, fs storage.Storage, buckets int, extra ...string) *Table {
	t.Helper()
	return newTestTableAt(t, fs, "db.db/t", buckets, extra...)
}

// newTestTableAt is newTestTable at another path.
func newTestTableAt(t testing.TB, fs storage.Storage, at string, buckets int, extra ...string) *Table {
	t.Helper()
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 1, Name: "name", Type: spec.StringType},
		{ID: 2, Name: "score", Type: spec.DoubleType},
	}
	opts := spec.NewStringMap(append([]string{"bucket", fmt.Sprint(buckets)}, extra...)...)
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(context.Background(), fs, at, sc)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// modelRows renders a map model as sorted rows.
func modelRows(m map[int64]spec.Row) []spec.Row {
	out := make([]spec.Row, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, spec.CompareRows)
	return out
}

func checkEqual(t testing.TB, what string, got, want []spec.Row) {
	t.Helper()
	slices.SortFunc(got, spec.CompareRows)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, model has %d", what, len(got), len(want))
	}
	for i := range got {
		if spec.CompareRows(got[i], want[i]) != 0 {
			t.Fatalf("%s: row %d = %v, model has %v", what, i, got[i], want[i])
		}
	}
}

// TestModelRandomUpserts writes thousands of random upserts and deletes over
// many commits, and after every commit checks the latest snapshot and a
// random older one against a plain map.
func TestModelRandomUpserts(t *testing.T) {
	for _, backend := range []string{"memory", "local"} {
		t.Run(backend, func(t *testing.T) {
			var fs storage.Storage = storage.NewMemory()
			if backend == "local" {
				l, err := storage.NewLocal(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				fs = l
			}
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 1))
			ctx := context.Background()
			tb := newTestTable(t, fs, 3)
			model := map[int64]spec.Row{}
			history := map[int64][]spec.Row{}
			commits := 25
			if testing.Short() {
				commits = 8
			}
			for c := 0; c < commits; c++ {
				w, err := tb.NewWrite(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 200; i++ {
					id := rng.Int64N(300)
					if rng.IntN(4) == 0 {
						row := spec.Row{id, nil, nil}
						if old, ok := model[id]; ok {
							row = old
						}
						if err := w.WriteRow(ctx, spec.RowKindDelete, row); err != nil {
							t.Fatal(err)
						}
						delete(model, id)
						continue
					}
					var name any = fmt.Sprintf("name-%d-%d", id, rng.IntN(1000))
					if rng.IntN(10) == 0 {
						name = nil
					}
					row := spec.Row{id, name, rng.Float64()}
					if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
						t.Fatal(err)
					}
					model[id] = row
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				before, _ := tb.Snapshots().LatestID(ctx)
				snap, err := tb.NewCommit("model").Commit(ctx, int64(c), msgs)
				if err != nil {
					t.Fatal(err)
				}
				// A commit makes an APPEND and maybe a COMPACT snapshot.
				for id := before + 1; id <= snap; id++ {
					history[id] = modelRows(model)
				}
				checkEqual(t, fmt.Sprintf("snapshot %d", snap), scanAll(t, tb), history[snap])
				old := rng.Int64N(snap) + 1
				checkEqual(t, fmt.Sprintf("old snapshot %d", old), scanAll(t, tb, WithSnapshot(old)), history[old])
			}
		})
	}
}

func TestRecordsStreamsBatches(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 2)
	w, _ := tb.NewWrite(ctx)
	for i := int64(0); i < 2500; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, fmt.Sprint(i), 1.5}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ := w.PrepareCommit(ctx)
	if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	rr, err := tb.NewScan(WithProjection("score", "id")).Records(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var sizes []int64
	for rr.Next() {
		rec := rr.RecordBatch()
		if rec.NumCols() != 2 || rec.Schema().Field(0).Name != "score" {
			t.Fatalf("schema %v", rec.Schema())
		}
		sizes = append(sizes, rec.NumRows())
	}
	if rr.Err() != nil || fmt.Sprint(sizes) != "[1000 1000 500]" {
		t.Fatalf("batches %v, err %v", sizes, rr.Err())
	}
}
