package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// The whole engine on real S3 semantics: a partitioned dynamic-bucket table
// with deletion vectors and lookup changelog, written by a streaming writer
// with background compaction, restarted now and then; every commit reads
// as the model, and the changelog replays to it.
func TestModelOnMinIO(t *testing.T) {
	ctx := context.Background()
	fs, _, _ := s3Storage(t)
	fields, _ := spec.ParseColumns("region STRING NOT NULL, id BIGINT NOT NULL, v STRING, n BIGINT")
	opts := spec.NewStringMap("bucket", "-1", "dynamic-bucket.target-row-num", "30",
		"deletion-vectors.enabled", "true", "changelog-producer", "lookup",
		"num-sorted-run.compaction-trigger", "3", "target-file-size", "8 kb")
	sc, err := spec.NewSchema(fields, []string{"region"}, []string{"region", "id"}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "model"}, sc)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		region string
		id     int64
	}
	model := map[key]spec.Row{}
	replayed := map[key]spec.Row{}
	// replay applies the changelog of snapshots (from, to] to replayed.
	replay := func(from, to int64) {
		for id := from + 1; id <= to; id++ {
			for kv, err := range tb.Changelog(ctx, id) {
				if err != nil {
					t.Fatal(err)
				}
				k := key{kv.Value[0].(string), kv.Value[1].(int64)}
				if kv.Kind.IsRetract() {
					delete(replayed, k)
				} else {
					replayed[k] = kv.Value
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var w *table.Write
	commits := 10
	if testing.Short() {
		commits = 4
	}
	for c := 0; c < commits; c++ {
		if w == nil || rng.IntN(3) == 0 {
			if w != nil {
				w.Close()
			}
			if w, err = tb.NewWrite(ctx, table.WithWaitCompaction(rng.IntN(2) == 0)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 80; i++ {
			k := key{[]string{"eu", "us"}[rng.IntN(2)], rng.Int64N(120)}
			row := spec.Row{k.region, k.id, fmt.Sprint(c, "-", i), int64(i)}
			kind := spec.RowKindInsert
			if rng.IntN(5) == 0 {
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
		before, _ := tb.Snapshots().LatestID(ctx)
		last, err := tb.NewCommit("model").Commit(ctx, int64(c), msgs)
		if err != nil {
			t.Fatal(err)
		}
		replay(before, last)
	}
	// Drain the last background compaction so that every row is visible
	// to the deletion-vector scan, as a batch commit would.
	if err := w.Compact(ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := tb.Snapshots().LatestID(ctx)
	last, err := tb.NewCommit("model").Commit(ctx, int64(commits), msgs)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	replay(before, last)
	var got []spec.Row
	for row, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row)
	}
	want := func(m map[key]spec.Row) []spec.Row {
		var out []spec.Row
		for _, r := range m {
			out = append(out, r)
		}
		slices.SortFunc(out, spec.CompareRows)
		return out
	}
	slices.SortFunc(got, spec.CompareRows)
	if fmt.Sprint(got) != fmt.Sprint(want(model)) {
		t.Fatalf("scan differs from the model:\n got %v\nwant %v", got, want(model))
	}
	if fmt.Sprint(want(replayed)) != fmt.Sprint(want(model)) {
		t.Fatalf("changelog replay differs from the model")
	}
}
