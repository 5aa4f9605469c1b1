package table

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestModelWithCompaction writes random upserts and deletes through
// long-lived writers that compact in the background and on demand (full and
// normal) at random points. Every snapshot, APPEND or COMPACT, must read as
// the model did at that commit, and the number of sorted runs per bucket
// stays bounded.
func TestModelWithCompaction(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "num-sorted-run.compaction-trigger", "3", "target-file-size", "8 kb")
	model := map[int64]spec.Row{}
	history := map[int64][]spec.Row{}
	w, err := tb.NewWrite(ctx, WithWaitCompaction(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	commits := 40
	if testing.Short() {
		commits = 12
	}
	for c := 0; c < commits; c++ {
		if rng.IntN(8) == 0 {
			// Writers are restarted now and then: state comes from the table.
			w.Close()
			if w, err = tb.NewWrite(ctx, WithWaitCompaction(rng.IntN(2) == 0)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 150; i++ {
			id := rng.Int64N(400)
			if rng.IntN(5) == 0 {
				if err := w.WriteRow(ctx, spec.RowKindDelete, spec.Row{id, nil, nil}); err != nil {
					t.Fatal(err)
				}
				delete(model, id)
				continue
			}
			row := spec.Row{id, fmt.Sprintf("v%d-%d", id, c), float64(c)}
			if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
				t.Fatal(err)
			}
			model[id] = row
		}
		switch rng.IntN(6) {
		case 0:
			if err := w.Compact(ctx, true, nil); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := w.Compact(ctx, false, nil); err != nil {
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
		want := modelRows(model)
		for id := before + 1; id <= last; id++ {
			history[id] = want
			checkEqual(t, fmt.Sprintf("commit %d snapshot %d", c, id), scanAll(t, tb, WithSnapshot(id)), want)
		}
		for _, bw := range w.buckets {
			if runs := bw.tree.NumSortedRuns(); runs > tb.opts.NumSortedRunStopTrigger+2 {
				t.Fatalf("bucket %d has %d sorted runs", bw.bucket, runs)
			}
		}
	}
	// Old snapshots still read as they did.
	for id, want := range history {
		if rng.IntN(4) == 0 {
			checkEqual(t, fmt.Sprintf("old snapshot %d", id), scanAll(t, tb, WithSnapshot(id)), want)
		}
	}
	// A final full compaction leaves one sorted run per bucket at the max level.
	if err := w.Compact(ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	msgs, _ := w.PrepareCommit(ctx)
	if _, err := tb.NewCommit("model").Commit(ctx, int64(commits), msgs); err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "after full compaction", scanAll(t, tb), modelRows(model))
	snap, _ := tb.Snapshots().Latest(ctx)
	files, _ := tb.liveFiles(ctx, snap)
	for _, e := range files {
		if int(e.File.Level) != tb.opts.NumLevels-1 {
			t.Fatalf("file %s at level %d after full compaction", e.File.FileName, e.File.Level)
		}
	}
}

// Two jobs compacting the same files: the second COMPACT commit finds its
// input files gone and fails with ErrConflict, leaving the table intact.
func TestCompactionConflict(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1, "write-only", "true")
	for c := 0; c < 3; c++ {
		w, _ := tb.NewWrite(ctx)
		for i := int64(0); i < 50; i++ {
			if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, fmt.Sprint(c), 0.0}); err != nil {
				t.Fatal(err)
			}
		}
		msgs, _ := w.PrepareCommit(ctx)
		if _, err := tb.NewCommit("w").Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
	}
	compacted, err := Open(ctx, tb.fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	// Open both compaction jobs on the same snapshot, then commit in turn.
	compacted.opts.WriteOnly = false
	jobs := make([][]CommitMessage, 2)
	for i := range jobs {
		w, err := compacted.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Compact(ctx, true, nil); err != nil {
			t.Fatal(err)
		}
		if jobs[i], err = w.PrepareCommit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := compacted.NewCommit("c1").Commit(ctx, 1, jobs[0]); err != nil {
		t.Fatal(err)
	}
	_, err = compacted.NewCommit("c2").Commit(ctx, 1, jobs[1])
	if !errors.Is(err, spec.ErrConflict) {
		t.Fatalf("second compaction: %v, want ErrConflict", err)
	}
	rows := scanAll(t, compacted)
	if len(rows) != 50 || rows[0][1] != "2" {
		t.Fatalf("rows after conflict: %d %v", len(rows), rows[0])
	}
}

// Committing the same (user, identifier) twice, even from a new committer
// after a "crash", writes one set of snapshots.
func TestCommitIdempotent(t *testing.T) {
	ctx := context.Background()
	tb := newTestTable(t, storage.NewMemory(), 1)
	write := func(id int64) []CommitMessage {
		w, _ := tb.NewWrite(ctx, WithWaitCompaction(true))
		defer w.Close()
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, "x", 1.0}); err != nil {
			t.Fatal(err)
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	first, err := tb.NewCommit("job").Commit(ctx, 7, write(1))
	if err != nil || first == 0 {
		t.Fatal(first, err)
	}
	again, err := tb.NewCommit("job").Commit(ctx, 7, write(1))
	if err != nil || again != first {
		t.Fatalf("replay: snapshot %d (%v), want %d", again, err, first)
	}
	if done, _, _ := tb.NewCommit("job").AlreadyCommitted(ctx, 8); done {
		t.Fatal("identifier 8 reported committed")
	}
	if _, err := tb.NewCommit("job").Commit(ctx, 8, write(2)); err != nil {
		t.Fatal(err)
	}
	if rows := scanAll(t, tb); len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	if ids, _ := tb.Snapshots().IDs(ctx); len(ids) != 2 {
		t.Fatalf("snapshots %v", ids)
	}
}

// Under a long stream of commits the manifests of the base list stay few
// (minor merges past manifest.merge-min-count, full compaction past the
// threshold), and the table reads the same.
func TestManifestMerging(t *testing.T) {
	for _, opts := range [][]string{
		{"manifest.merge-min-count", "5"},
		{"manifest.merge-min-count", "5", "manifest.full-compaction-threshold-size", "4 kb"},
	} {
		ctx := context.Background()
		tb := newTestTable(t, storage.NewMemory(), 2, append([]string{"write-only", "true"}, opts...)...)
		model := map[int64]spec.Row{}
		rng := rand.New(rand.NewPCG(9, 9))
		maxManifests := 0
		for c := 0; c < 60; c++ {
			w, _ := tb.NewWrite(ctx)
			for i := 0; i < 5; i++ {
				id := rng.Int64N(40)
				row := spec.Row{id, fmt.Sprint(c), 0.0}
				if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
					t.Fatal(err)
				}
				model[id] = row
			}
			msgs, _ := w.PrepareCommit(ctx)
			if _, err := tb.NewCommit("m").Commit(ctx, int64(c), msgs); err != nil {
				t.Fatal(err)
			}
			w.Close()
			snap, _ := tb.Snapshots().Latest(ctx)
			metas, err := tb.manifests.ReadManifestList(ctx, snap.BaseManifestList)
			if err != nil {
				t.Fatal(err)
			}
			maxManifests = max(maxManifests, len(metas))
		}
		if maxManifests > 6 {
			t.Fatalf("%v: base list grew to %d manifests", opts, maxManifests)
		}
		checkEqual(t, fmt.Sprint(opts), scanAll(t, tb), modelRows(model))
	}
}
