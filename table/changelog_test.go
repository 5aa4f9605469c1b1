package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestModelProducers runs random upserts and deletes against tables with
// each changelog producer, with and without deletion vectors. After every
// commit: the batch scan (the DV path for DV tables) equals the model, a
// merge-on-read of the same files equals it too, and replaying every
// changelog record so far rebuilds the model exactly.
func TestModelProducers(t *testing.T) {
	cases := []struct {
		name string
		opts []string
	}{
		{"none", nil},
		{"input", []string{"changelog-producer", "input"}},
		{"lookup", []string{"changelog-producer", "lookup"}},
		{"full-compaction", []string{"changelog-producer", "full-compaction"}},
		{"dv", []string{"deletion-vectors.enabled", "true"}},
		{"dv+lookup", []string{"deletion-vectors.enabled", "true", "changelog-producer", "lookup"}},
		{"dv+input+bitmap64", []string{"deletion-vectors.enabled", "true", "changelog-producer", "input", "deletion-vectors.bitmap64", "true"}},
		// A tiny write buffer spills to local disk many times per commit.
		{"spill+input", []string{"write-buffer-size", "4 kb", "changelog-producer", "input"}},
		{"spill+lookup+dv", []string{"write-buffer-size", "4 kb", "changelog-producer", "lookup", "deletion-vectors.enabled", "true"}},
		{"no-spill", []string{"write-buffer-size", "4 kb", "write-buffer-spillable", "false"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 3))
			ctx := context.Background()
			fs := storage.NewMemory()
			opts := append([]string{"num-sorted-run.compaction-trigger", "3", "target-file-size", "4 kb"}, tc.opts...)
			tb := newTestTable(t, fs, 2, opts...)
			producer := tb.opts.ChangelogProducer
			model := map[int64]spec.Row{}
			replayed := map[int64]spec.Row{}
			maxL0 := 0
			defer func() {
				// Without spilling, a 4 kb buffer flushes several files a commit.
				if tb.opts.Raw["write-buffer-spillable"] == "false" && maxL0 < 2 {
					t.Errorf("no-spill table flushed at most %d file per commit", maxL0)
				}
			}()
			commits := 15
			if testing.Short() {
				commits = 6
			}
			for c := 0; c < commits; c++ {
				spillDir := t.TempDir()
				w, err := tb.NewWrite(ctx, WithSpillDir(spillDir))
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 120; i++ {
					id := rng.Int64N(200)
					if rng.IntN(4) == 0 {
						if _, ok := model[id]; !ok && producer == spec.ChangelogProducerInput {
							continue // input changelog replays raw records; keep deletes meaningful
						}
						if err := w.WriteRow(ctx, spec.RowKindDelete, spec.Row{id, nil, nil}); err != nil {
							t.Fatal(err)
						}
						delete(model, id)
						continue
					}
					row := spec.Row{id, fmt.Sprintf("v%d-%d-%d", id, c, i), float64(i)}
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
				last, err := tb.NewCommit("p").Commit(ctx, int64(c), msgs)
				w.Close()
				if err != nil {
					t.Fatal(err)
				}
				if left, _ := os.ReadDir(spillDir); len(left) > 0 {
					t.Fatalf("spill files left behind: %v", left)
				}
				for _, m := range msgs {
					maxL0 = max(maxL0, len(m.NewFiles))
					if tb.opts.Raw["write-buffer-size"] != "" && tb.opts.Raw["write-buffer-spillable"] != "false" && len(m.NewFiles) != 1 {
						t.Fatalf("bucket %d: %d level-0 files from one spilled buffer, want 1", m.Bucket, len(m.NewFiles))
					}
				}
				want := modelRows(model)
				checkEqual(t, fmt.Sprintf("commit %d scan", c), scanAll(t, tb), want)
				if tb.opts.DeletionVectorsEnabled {
					mor, err := Open(ctx, fs, tb.Path())
					if err != nil {
						t.Fatal(err)
					}
					mor.opts.DeletionVectorsMergeOnRead = true
					checkEqual(t, fmt.Sprintf("commit %d merge-on-read", c), scanAll(t, mor), want)
				}
				if producer == spec.ChangelogProducerNone {
					continue
				}
				for id := before + 1; id <= last; id++ {
					for kv, err := range tb.Changelog(ctx, id) {
						if err != nil {
							t.Fatal(err)
						}
						if kv.Kind.IsRetract() {
							delete(replayed, kv.Key[0].(int64))
						} else {
							replayed[kv.Key[0].(int64)] = kv.Value
						}
					}
				}
				checkEqual(t, fmt.Sprintf("commit %d changelog replay", c), modelRows(replayed), want)
			}
		})
	}
}
