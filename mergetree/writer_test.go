package mergetree

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"path"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
)

var writerSeed = flag.Uint64("mergetree.seed", 0, "replay the writer model test with this seed")

// The files a writer hands over, applied commit by commit as a committer
// applies them (APPEND: new files; COMPACT: before out, after in), are
// always files that exist, and merged they hold exactly the rows written:
// on the row path and the columnar one, with flushes, background
// compactions, full compactions and commits that do or do not wait.
func TestWriterIncrementsModel(t *testing.T) {
	seed := *writerSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	for _, columnar := range []bool{false, true} {
		t.Run(fmt.Sprintf("columnar=%v", columnar), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay with -mergetree.seed=%d", seed)
				}
			})
			runWriterModel(t, rand.New(rand.NewPCG(seed, 1)), columnar)
		})
	}
}

func runWriterModel(t *testing.T, rng *rand.Rand, columnar bool) {
	ctx := context.Background()
	// Small files: flushes roll over and compactions upgrade files as
	// well as rewrite them.
	fx := newFixture(t, "num-sorted-run.compaction-trigger", "3", "target-file-size", "1kb")
	o := fx.options(nil)
	o.Columnar = columnar
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	model := map[int64]spec.Row{}
	c := &committed{fx: fx, live: map[string]spec.DataFileMeta{}, handed: map[string]bool{}}
	next := int64(0) // mostly new keys, so that files do not all overlap
	const commits = 20
	for commit := range commits {
		// Rounds of only new keys let compactions upgrade what earlier
		// ones wrote; updates make files overlap.
		updates := []int{0, 20, 4}[rng.IntN(3)]
		for range rng.IntN(400) {
			k := next
			if next > 0 && updates > 0 && rng.IntN(updates) == 0 {
				k = rng.Int64N(next)
			} else {
				next++
			}
			row := spec.Row{k, fmt.Sprint("v", rng.IntN(1000)), float64(commit)}
			kind := spec.RowKindInsert
			if rng.IntN(8) == 0 {
				kind = spec.RowKindDelete
				delete(model, k)
			} else {
				model[k] = row
			}
			if err := w.Add(kind, row); err != nil {
				t.Fatal(err)
			}
			if w.BufferBytes() >= 2<<10 { // a small write-buffer-size
				if err := w.FlushMemory(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if rng.IntN(4) == 0 {
			if err := w.Compact(ctx, rng.IntN(2) == 0); err != nil {
				t.Fatal(err)
			}
		}
		// The last commit waits, so that no compaction is left running.
		inc, err := w.PrepareCommit(ctx, rng.IntN(2) == 0 || commit == commits-1)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("commit %d", commit)
		c.apply(t, what, inc)
		c.checkTree(t, what, w)
		checkLive(t, fx, what, c.live, model)
	}
	c.checkNoLeftovers(t)
	if len(fx.indexes) != 0 {
		t.Errorf("a table without deletion vectors wrote %d index files", len(fx.indexes))
	}
}

// committed is what a committer made of a writer's increments.
type committed struct {
	fx     *fixture
	live   map[string]spec.DataFileMeta // by fileID
	handed map[string]bool              // names of the files handed over
}

func fileID(m spec.DataFileMeta) string { return fmt.Sprint(m.FileName, "@", m.Level) }

// apply commits inc as its APPEND then COMPACT snapshots.
func (c *committed) apply(t *testing.T, what string, inc Increment) {
	t.Helper()
	// The APPEND step may land without the COMPACT one: its files must be
	// there even when this round's compactions replaced them.
	for _, m := range inc.NewFiles {
		if _, err := c.fx.fs.Stat(context.Background(), path.Join(c.fx.dir, m.FileName)); err != nil {
			t.Fatalf("%s: new file %s: %v", what, m.FileName, err)
		}
		c.live[fileID(m)] = m
		c.handed[m.FileName] = true
	}
	for _, m := range inc.CompactBefore {
		if _, ok := c.live[fileID(m)]; !ok {
			t.Fatalf("%s: compaction replaced %s, which is not live", what, fileID(m))
		}
		delete(c.live, fileID(m))
	}
	for _, m := range inc.CompactAfter {
		c.live[fileID(m)] = m
		c.handed[m.FileName] = true
	}
}

// checkTree checks that the writer's levels hold the committed files.
func (c *committed) checkTree(t *testing.T, what string, w *Writer) {
	t.Helper()
	files := w.levels.AllFiles()
	for _, f := range files {
		if _, ok := c.live[fileID(f.Meta)]; !ok {
			t.Fatalf("%s: the tree holds %s, the committed files do not", what, fileID(f.Meta))
		}
	}
	if len(files) != len(c.live) {
		t.Fatalf("%s: %d files committed, the tree holds %d", what, len(c.live), len(files))
	}
}

// checkNoLeftovers checks that files compactions wrote and compacted away
// within a round were deleted: every file left was handed over.
func (c *committed) checkNoLeftovers(t *testing.T) {
	t.Helper()
	files, err := c.fx.fs.List(context.Background(), c.fx.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !c.handed[path.Base(f.Path)] {
			t.Errorf("%s was never handed over and is still there", f.Path)
		}
	}
}

// checkLive merges the live files (the highest sequence number of a key
// wins; a delete removes it) and compares them with the model.
func checkLive(t *testing.T, fx *fixture, what string, live map[string]spec.DataFileMeta, model map[int64]spec.Row) {
	t.Helper()
	ctx := context.Background()
	latest := map[int64]*spec.KeyValue{}
	for _, m := range live {
		if _, err := fx.fs.Stat(ctx, path.Join(fx.dir, m.FileName)); err != nil {
			t.Fatalf("%s: live file %s: %v", what, m.FileName, err)
		}
		for p, err := range fx.Records(ctx, m, nil) {
			if err != nil {
				t.Fatal(err)
			}
			k := p.KV.Key[0].(int64)
			if old := latest[k]; old == nil || old.Seq < p.KV.Seq {
				latest[k] = p.KV
			}
		}
	}
	n := 0
	for k, kv := range latest {
		if kv.Kind.IsRetract() {
			continue
		}
		n++
		if want, ok := model[k]; !ok || spec.CompareRows(kv.Value, want) != 0 {
			t.Fatalf("%s: key %d is %v, model has %v", what, k, kv.Value, want)
		}
	}
	if n != len(model) {
		t.Fatalf("%s: %d live keys, model has %d", what, n, len(model))
	}
}

// A writer that merges record by record refuses batches instead of
// dropping them.
func TestAddBatchNeedsColumnarWriter(t *testing.T) {
	fx := newFixture(t)
	w, err := New(fx.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.AddBatch(nil, []int32{0}, nil); err == nil {
		t.Fatal("AddBatch on a row writer: no error")
	}
}

// Compacting a write-only writer is an error, not a silent no-op.
func TestWriteOnlyDoesNotCompact(t *testing.T) {
	fx := newFixture(t)
	o := fx.options(nil)
	o.WriteOnly = true
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Compacts() {
		t.Error("a write-only writer reports that it compacts")
	}
	if err := w.Compact(context.Background(), true); !errors.Is(err, errNoCompaction) {
		t.Fatalf("Compact on a write-only writer: %v", err)
	}
}
