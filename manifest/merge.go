package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

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
//
// It indexes the entries where they are and copies the survivors once: at a
// million entries of 400 bytes, every copy costs as much as the merge.
func Merge(parts ...[]spec.ManifestEntry) ([]spec.ManifestEntry, error) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	index := make(map[fileKey]int, n)
	live := make([]bool, n)
	pos := 0
	for _, p := range parts {
		for i := range p {
			e := &p[i]
			// The map lives only during this call, while the entries do not
			// change: its keys may alias their partitions.
			id := keyOf(e, aliasString(e.Partition))
			j, ok := index[id]
			switch {
			case ok && e.Kind == spec.FileKindAdd:
				return nil, fmt.Errorf("%w: file %s (bucket %d, level %d) is added twice", spec.ErrConflict, e.File.FileName, e.Bucket, e.File.Level)
			case ok:
				live[j] = false
				delete(index, id)
			default:
				index[id] = pos
				live[pos] = true
			}
			pos++
		}
	}
	res := make([]spec.ManifestEntry, 0, len(index))
	pos = 0
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

func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
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
