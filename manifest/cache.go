package manifest

import (
	"container/list"
	"sync"
	"unsafe"

	"github.com/stratalake/strata/spec"
)

// DefaultCacheBytes bounds a Store's cache of decoded manifests unless
// WithCacheBytes says otherwise: an entry takes about 500 bytes, so this
// holds about half a million live files' worth of manifests.
const DefaultCacheBytes = 256 << 20

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithCacheBytes bounds the memory the Store spends keeping decoded
// manifests (an estimate of their entries' size); 0 or less disables the
// cache.
func WithCacheBytes(n int64) StoreOption {
	return func(s *Store) { s.cache.limit = max(n, 0) }
}

// entryCache keeps decoded manifests by file name, least recently used
// first out. Manifest files are immutable and their names unique, so an
// entry never goes stale; one that is no longer referenced ages out.
type entryCache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	lru   list.List // of *cachedManifest, most recent at the front
	items map[string]*list.Element
}

type cachedManifest struct {
	name    string
	entries []spec.ManifestEntry
	size    int64
}

func (c *entryCache) get(name string) ([]spec.ManifestEntry, bool) {
	if c.limit == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[name]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cachedManifest).entries, true
}

func (c *entryCache) put(name string, entries []spec.ManifestEntry) {
	if c.limit == 0 {
		return
	}
	size := entriesSize(entries)
	if size > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[string]*list.Element{}
	}
	if _, ok := c.items[name]; ok {
		return // decoded twice concurrently
	}
	for c.used+size > c.limit {
		old := c.lru.Remove(c.lru.Back()).(*cachedManifest)
		delete(c.items, old.name)
		c.used -= old.size
	}
	c.items[name] = c.lru.PushFront(&cachedManifest{name: name, entries: entries, size: size})
	c.used += size
}

// entriesSize estimates the memory decoded entries hold: the structs and
// what their slices and pointers reach.
func entriesSize(es []spec.ManifestEntry) int64 {
	n := int64(len(es)) * int64(unsafe.Sizeof(spec.ManifestEntry{}))
	for i := range es {
		e, f := &es[i], &es[i].File
		n += int64(len(e.Partition) + len(f.FileName) + len(f.MinKey) + len(f.MaxKey) + len(f.EmbeddedIndex) +
			len(f.KeyStats.MinValues) + len(f.KeyStats.MaxValues) + len(f.ValueStats.MinValues) + len(f.ValueStats.MaxValues) +
			16*(len(f.KeyStats.NullCounts)+len(f.ValueStats.NullCounts)) + 48)
		for _, x := range f.ExtraFiles {
			n += int64(len(x)) + 16
		}
		for _, cols := range []*[]string{f.ValueStatsCols, f.WriteCols} {
			if cols != nil {
				for _, x := range *cols {
					n += int64(len(x)) + 16
				}
			}
		}
	}
	return n
}
