package manifest

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Identifier is what makes a manifest entry's file unique, as in Java's
// FileEntry.Identifier: partition, bucket, level, name, extra files,
// embedded index and external path. A level change is therefore a DELETE of
// one identifier and an ADD of another.
func Identifier(e *spec.ManifestEntry) string {
	var b strings.Builder
	b.Write(e.Partition)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(int(e.Bucket)))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(int(e.File.Level)))
	b.WriteByte(0)
	b.WriteString(e.File.FileName)
	b.WriteByte(0)
	for _, x := range e.File.ExtraFiles {
		b.WriteString(x)
		b.WriteByte(1)
	}
	b.WriteByte(0)
	b.Write(e.File.EmbeddedIndex)
	b.WriteByte(0)
	if e.File.ExternalPath != nil {
		b.WriteString(*e.File.ExternalPath)
	}
	return b.String()
}

// Merge folds entries, in order, the way Java's FileEntry.mergeEntries does:
// an ADD followed by a DELETE of the same file cancel; a DELETE with no ADD
// before it is kept; an ADD of a file already present is an error wrapping
// spec.ErrConflict. The result keeps first-insertion order. Several slices
// are merged as their concatenation.
func Merge(parts ...[]spec.ManifestEntry) ([]spec.ManifestEntry, error) {
	live, kept, err := liveEntries(parts)
	if err != nil {
		return nil, err
	}
	res := make([]spec.ManifestEntry, 0, kept)
	pos := 0
	for _, p := range parts {
		for i := range p {
			if live[pos] {
				res = append(res, p[i])
			}
			pos++
		}
	}
	return res, nil
}

// MergeInPlace is Merge of one slice that it reuses for the result: the
// survivors move to its front, and nothing moves when nothing cancels.
func MergeInPlace(entries []spec.ManifestEntry) ([]spec.ManifestEntry, error) {
	live, _, err := liveEntries([][]spec.ManifestEntry{entries})
	if err != nil {
		return nil, err
	}
	w := 0
	for i := range entries {
		if live[i] {
			if w != i {
				entries[w] = entries[i]
			}
			w++
		}
	}
	clear(entries[w:])
	return entries[:w], nil
}

// liveEntries computes which entries survive merging, by position in the
// concatenation of parts. Planning a snapshot merges every live file, a
// million or more: the entries are indexed where they are, in an
// open-addressing table of positions (a Go map keyed by identifier costs
// three times as much).
func liveEntries(parts [][]spec.ManifestEntry) ([]bool, int, error) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	all := make([]*spec.ManifestEntry, 0, n)
	for _, p := range parts {
		for i := range p {
			all = append(all, &p[i])
		}
	}
	// The table maps a file identifier to the position of its latest entry;
	// the identifier is present, as in Java's map, while that entry is live.
	t := newPositionTable(n)
	live := make([]bool, n)
	kept := 0
	for pos, e := range all {
		slot, found := t.find(e, all)
		if found && live[slot.pos] {
			if e.Kind == spec.FileKindAdd {
				return nil, 0, fmt.Errorf("%w: file %s (bucket %d, level %d) is added twice", spec.ErrConflict, e.File.FileName, e.Bucket, e.File.Level)
			}
			live[slot.pos] = false
			kept--
			continue
		}
		slot.hash, slot.pos = t.hash, int32(pos)
		live[pos] = true
		kept++
	}
	return live, kept, nil
}

// positionTable is a linear-probing hash table from file identifier to a
// position in Merge's entries; it never shrinks and never deletes.
type positionTable struct {
	slots []positionSlot
	shift uint
	seed  maphash.Seed
	hash  uint32 // the hash of the entry last passed to find
}

type positionSlot struct {
	hash uint32 // high bits of the identifier's hash, 0 for an empty slot
	pos  int32
}

func newPositionTable(n int) *positionTable {
	bits := uint(4)
	for 1<<bits < 2*n {
		bits++
	}
	return &positionTable{slots: make([]positionSlot, 1<<bits), shift: 64 - bits, seed: maphash.MakeSeed()}
}

// find returns the slot of e's identifier: the one holding it, or the empty
// slot where it goes.
func (t *positionTable) find(e *spec.ManifestEntry, all []*spec.ManifestEntry) (*positionSlot, bool) {
	h := maphash.String(t.seed, e.File.FileName) ^ (uint64(uint32(e.Bucket))<<32 | uint64(uint32(e.File.Level)))
	h *= 0x9e3779b97f4a7c15
	t.hash = uint32(h>>32) | 1
	mask := len(t.slots) - 1
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == 0 {
			return s, false
		}
		if s.hash == t.hash && sameFile(all[s.pos], e) {
			return s, true
		}
	}
}

// sameFile compares what Identifier covers.
func sameFile(a, b *spec.ManifestEntry) bool {
	if a.Bucket != b.Bucket || a.File.Level != b.File.Level || a.File.FileName != b.File.FileName || !bytes.Equal(a.Partition, b.Partition) {
		return false
	}
	return keyOf(a, "").rest == keyOf(b, "").rest
}

// Merger merges entries incrementally; see Merge.
type Merger struct {
	index map[fileKey]int
	out   []spec.ManifestEntry
	live  []bool
}

// fileKey is Identifier as a comparable struct: the common case (no extra
// files, embedded index or external path) needs no string building.
type fileKey struct {
	partition string
	bucket    int32
	level     int32
	name      string
	rest      string // Identifier's remaining parts, when any is set
}

// keyOf is e's key, with partition standing for e.Partition.
func keyOf(e *spec.ManifestEntry, partition string) fileKey {
	k := fileKey{partition: partition, bucket: e.Bucket, level: e.File.Level, name: e.File.FileName}
	if len(e.File.ExtraFiles) > 0 || len(e.File.EmbeddedIndex) > 0 || e.File.ExternalPath != nil {
		k.rest = Identifier(e)
	}
	return k
}

// NewMerger returns an empty merger sized for about n entries.
func NewMerger(n int) *Merger {
	return &Merger{index: make(map[fileKey]int, n)}
}

// Add folds one entry in.
func (m *Merger) Add(e *spec.ManifestEntry) error {
	id := keyOf(e, string(e.Partition))
	i, ok := m.index[id]
	switch {
	case ok && e.Kind == spec.FileKindAdd:
		return fmt.Errorf("%w: file %s (bucket %d, level %d) is added twice", spec.ErrConflict, e.File.FileName, e.Bucket, e.File.Level)
	case ok:
		m.live[i] = false
		delete(m.index, id)
	default:
		m.index[id] = len(m.out)
		m.out = append(m.out, *e)
		m.live = append(m.live, true)
	}
	return nil
}

// Result returns the surviving entries in first-insertion order.
func (m *Merger) Result() []spec.ManifestEntry {
	res := make([]spec.ManifestEntry, 0, len(m.index))
	for i := range m.out {
		if m.live[i] {
			res = append(res, m.out[i])
		}
	}
	return res
}
