package table

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// gateFS blocks the publishing (Close) of the n-th data file streamed after
// arming until released.
type gateFS struct {
	storage.Storage
	mu      sync.Mutex
	armed   bool
	skip    int
	entered chan struct{}
	release chan struct{}
}

func (g *gateFS) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	w, err := g.Storage.Create(ctx, p)
	if err != nil || !strings.Contains(p, "/bucket-") || !strings.Contains(p, "/data-") {
		return w, err
	}
	return &gatedWriter{ObjectWriter: w, g: g}, nil
}

type gatedWriter struct {
	storage.ObjectWriter
	g *gateFS
}

func (w *gatedWriter) Close() error {
	g := w.g
	g.mu.Lock()
	block := false
	if g.armed {
		if g.skip == 0 {
			block = true
			g.armed = false
		} else {
			g.skip--
		}
	}
	g.mu.Unlock()
	if block {
		close(g.entered)
		<-g.release
	}
	return w.ObjectWriter.Close()
}

// A streaming writer (WithWaitCompaction(false)) on a deletion-vector table
// without lookup-wait (which would make every commit wait) commits the deletion vectors an unfinished compaction has marked so far,
// while the compaction's output is not committed: the key vanishes.
func TestDVMarksTravelWithTheirCompaction(t *testing.T) {
	ctx := context.Background()
	g := &gateFS{Storage: storage.NewMemory(), entered: make(chan struct{}), release: make(chan struct{})}
	tb := newTestTable(t, g, 1, "deletion-vectors.enabled", "true", "lookup-wait", "false")
	// Commit 1 (batch): k=1 ends up above level 0.
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "v1", 1.0})
	w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(2), "v1", 1.0})
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	checkEqual(t, "after commit 1", scanAll(t, tb), []spec.Row{{int64(1), "v1", 1.0}, {int64(2), "v1", 1.0}})

	// Streaming writer: update k=1.
	w, err = tb.NewWrite(ctx, WithWaitCompaction(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "v2", 2.0})
	w.WriteRow(ctx, spec.RowKindDelete, spec.Row{int64(3), nil, nil}) // a delete forces a rewrite
	g.mu.Lock()
	g.armed, g.skip = true, 1 // let the flush's level-0 file through, block the compaction output
	g.mu.Unlock()
	msgs, err = w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 2, msgs); err != nil {
		t.Fatal(err)
	}
	<-g.entered // compaction has merged (and marked) and is writing its output
	msgs, err = w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("u").Commit(ctx, 3, msgs); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, tb)
	close(g.release)
	checkEqual(t, "while compaction runs", got, []spec.Row{{int64(1), "v1", 1.0}, {int64(2), "v1", 1.0}})
}
