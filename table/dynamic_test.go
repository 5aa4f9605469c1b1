package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Dynamic buckets across writer restarts: keys keep their bucket (the HASH
// index is reloaded, not rebuilt), buckets fill to the target row count,
// and every snapshot reads as the model.
func TestDynamicBucketModel(t *testing.T) {
	for _, v := range [][]string{nil, {"deletion-vectors.enabled", "true"}} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 5))
			ctx := context.Background()
			fs := storage.NewMemory()
			fields, _ := spec.ParseColumns("dt STRING NOT NULL, id BIGINT NOT NULL, v STRING")
			opts := spec.NewStringMap(append([]string{"bucket", "-1", "dynamic-bucket.target-row-num", "40"}, v...)...)
			sc, err := spec.NewSchema(fields, []string{"dt"}, []string{"dt", "id"}, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, fs, "db.db/dyn", sc)
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				dt string
				id int64
			}
			model := map[key]spec.Row{}
			for c := 0; c < 12; c++ {
				w, err := tb.NewWrite(ctx) // a fresh writer every commit: a restart
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 60; i++ {
					k := key{[]string{"a", "b"}[rng.IntN(2)], rng.Int64N(300)}
					row := spec.Row{k.dt, k.id, fmt.Sprint(c, ".", i)}
					kind := spec.RowKindInsert
					if rng.IntN(6) == 0 {
						kind = spec.RowKindDelete
						delete(model, k)
					} else {
						model[k] = row
					}
					if err := w.WriteRow(ctx, kind, row); err != nil {
						t.Fatal(err)
					}
				}
				msgs, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tb.NewCommit("d").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
				w.Close()
				rows := scanAll(t, tb)
				if len(rows) != len(model) {
					t.Fatalf("commit %d: %d rows, model has %d (a key in two buckets?)", c, len(rows), len(model))
				}
				for _, r := range rows {
					if m := model[key{r[0].(string), r[1].(int64)}]; spec.CompareRows(m, r) != 0 {
						t.Fatalf("commit %d: row %v, model %v", c, r, m)
					}
				}
			}
			// Buckets hold at most the target number of keys each.
			snap, _ := tb.Snapshots().Latest(ctx)
			hashes, entries, err := tb.readHashIndexes(ctx, snap.IndexManifest)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for k, hs := range hashes {
				if len(hs) > 40 {
					t.Fatalf("bucket %s holds %d keys", k, len(hs))
				}
				if entries[k].RowCount != int64(len(hs)) {
					t.Fatalf("index entry %s row count %d for %d hashes", k, entries[k].RowCount, len(hs))
				}
				total += len(hs)
			}
			if len(hashes) < 4 {
				t.Fatalf("only %d buckets for %d keys", len(hashes), total)
			}
		})
	}
}

// BenchmarkDynamicIndexReload measures what a restarted dynamic-bucket
// writer does first: read the HASH index files of 10M keys (5 buckets of
// 2M, Paimon's default target) and build the key-hash → bucket map.
func BenchmarkDynamicIndexReload(b *testing.B) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "-1"), nil)
	tb, err := Create(ctx, fs, "db.db/reload", sc)
	if err != nil {
		b.Fatal(err)
	}
	const keys, perBucket = 10_000_000, 2_000_000
	var entries []spec.IndexManifestEntry
	rng := rand.New(rand.NewPCG(1, 1))
	for bucket := int32(0); bucket < keys/perBucket; bucket++ {
		hs := make([]int32, perBucket)
		for i := range hs {
			hs[i] = int32(rng.Uint32())
		}
		e, err := tb.writeHashIndex(ctx, spec.SerializedEmptyRow(), bucket, hs)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, e)
	}
	name, err := tb.manifests.WriteIndexManifest(ctx, entries)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("reload", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			index, err := tb.newHashIndex(ctx, &name)
			if err != nil {
				b.Fatal(err)
			}
			a := tb.newBucketAssigner(0, 1)
			if _, err := a.assign(ctx, spec.SerializedEmptyRow(), 12345, index); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(keys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	// Baseline: filling the same hash → bucket map from hashes already in
	// memory, the floor for any reload.
	b.Run("map-baseline", func(b *testing.B) {
		hashes, _, err := tb.readHashIndexes(ctx, &name)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m := map[int32]int32{}
			for k, hs := range hashes {
				_, bucket, _ := parseSplitKey(k)
				for _, h := range hs {
					m[h] = bucket
				}
			}
		}
		b.ReportMetric(float64(keys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}
