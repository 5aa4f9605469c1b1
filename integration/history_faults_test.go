package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/stratalake/strata/storage"
)

// errInjected marks the failures faultStorage makes up.
var errInjected = errors.New("injected fault")

// faultStorage fails the publication of snapshot files now and then, as a
// flaky object store would: before the write (nothing lands), or after it
// (the snapshot lands and its answer is lost), then maybe the next reads
// of that snapshot too, which leaves the committer unsure of the outcome.
type faultStorage struct {
	storage.Storage
	mu       sync.Mutex
	rng      *rand.Rand
	failGet  map[string]int // snapshot files whose next reads fail, how many
	injected map[string]int64
}

func newFaultStorage(fs storage.Storage, seed uint64) *faultStorage {
	return &faultStorage{Storage: fs, rng: rand.New(rand.NewPCG(seed, 7)), failGet: map[string]int{}, injected: map[string]int64{}}
}

func isSnapshotFile(p string) bool {
	return strings.Contains(p, "/snapshot/snapshot-")
}

// draw picks a fault for a snapshot publication: "" for none.
func (f *faultStorage) draw(p string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch x := f.rng.IntN(100); {
	case x < 8:
		f.injected["publish failed"]++
		return "before"
	case x < 16:
		f.injected["publish answer lost"]++
		// Up to 4 reads of it fail: the committer's read-back, its
		// search among the new snapshots, and a new committer's look for
		// the checkpoint, so that the commit fails with the snapshot
		// published and is retried from scratch.
		f.failGet[p] = f.rng.IntN(5)
		return "after"
	}
	return ""
}

func (f *faultStorage) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if !isSnapshotFile(p) {
		return f.Storage.PutIfAbsent(ctx, p, data)
	}
	switch f.draw(p) {
	case "before":
		return fmt.Errorf("put %s: %w", p, errInjected)
	case "after":
		if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
			return err
		}
		return fmt.Errorf("put %s: answer lost: %w", p, errInjected)
	}
	return f.Storage.PutIfAbsent(ctx, p, data)
}

func (f *faultStorage) Get(ctx context.Context, p string) ([]byte, error) {
	if isSnapshotFile(p) {
		f.mu.Lock()
		fail := f.failGet[p] > 0
		if fail {
			f.failGet[p]--
			f.injected["snapshot read-back failed"]++
		}
		f.mu.Unlock()
		if fail {
			return nil, fmt.Errorf("get %s: %w", p, errInjected)
		}
	}
	return f.Storage.Get(ctx, p)
}

func (f *faultStorage) counts() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.injected)
}
