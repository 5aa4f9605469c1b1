package table

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// gatedFS holds the first read (Get or GetRange) of a path ending in one
// of its gates' suffixes until the gate opens.
type gatedFS struct {
	storage.Storage
	mu    sync.Mutex
	gates []*readGate
}

type readGate struct {
	suffix  string
	armed   bool
	entered chan struct{}
	open    chan struct{}
}

func (g *gatedFS) gate(suffix string) *readGate {
	rg := &readGate{suffix: suffix, armed: true, entered: make(chan struct{}), open: make(chan struct{})}
	g.mu.Lock()
	g.gates = append(g.gates, rg)
	g.mu.Unlock()
	return rg
}

// disarm lets reads through a gate nobody entered.
func (g *gatedFS) disarm(rg *readGate) {
	g.mu.Lock()
	rg.armed = false
	g.mu.Unlock()
}

func (g *gatedFS) Get(ctx context.Context, p string) ([]byte, error) {
	g.hold(p)
	return g.Storage.Get(ctx, p)
}

func (g *gatedFS) GetRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	g.hold(p)
	return g.Storage.GetRange(ctx, p, offset, length)
}

// hold waits for the gate of p, if one is armed for it.
func (g *gatedFS) hold(p string) {
	g.mu.Lock()
	var hold *readGate
	for _, rg := range g.gates {
		if rg.armed && strings.HasSuffix(p, rg.suffix) {
			rg.armed, hold = false, rg
			break
		}
	}
	g.mu.Unlock()
	if hold != nil {
		close(hold.entered)
		<-hold.open
	}
}

// Two refreshes of one lookup race: the first to start reads the latest
// snapshot last (after a commit), the second reads it first. The lookup
// used to order refreshes by when they started, so the second, holding the
// older snapshot, replaced the first's newer state: answers went back from
// snapshot 3 to snapshot 2, which a lookup's readers must never see.
func TestLookupRefreshesNeverGoBack(t *testing.T) {
	ctx := context.Background()
	fs := &gatedFS{Storage: storage.NewMemory()}
	tb := newTestTable(t, fs, 1)
	commit := func(v float64) {
		t.Helper()
		cs := []change{{spec.RowKindInsert, spec.Row{int64(1), "v", v}}}
		if _, err := tb.NewCommit("w").Commit(ctx, BatchCommitIdentifier, writeAll(t, tb, cs, false)); err != nil {
			t.Fatal(err)
		}
	}
	commit(1)
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	commit(2)

	// The first refresh stops at its read of the LATEST hint.
	first := fs.gate("snapshot/LATEST")
	done1 := make(chan error, 1)
	go func() { _, err := l.Refresh(ctx); done1 <- err }()
	<-first.entered
	// The second finds snapshot 2 and stops reading its file.
	second := fs.gate("snapshot/snapshot-2")
	done2 := make(chan error, 1)
	go func() { _, err := l.Refresh(ctx); done2 <- err }()
	select {
	case <-second.entered:
	case <-time.After(300 * time.Millisecond): // it waits for the first refresh
		fs.disarm(second)
	}
	commit(3)
	close(first.open)
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	close(second.open)
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if got := l.Snapshot(); got != 3 {
		t.Fatalf("after both refreshes the lookup serves snapshot %d, want 3", got)
	}
	r, err := l.Get(ctx, spec.Row{int64(1)})
	if err != nil || r == nil || r[2].(float64) != 3 {
		t.Fatalf("lookup of key 1: %v, %v; want version 3", r, err)
	}
}
