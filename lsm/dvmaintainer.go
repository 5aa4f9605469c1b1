package lsm

import (
	"maps"
	"slices"
	"sync"

	"github.com/stratalake/strata/spec"
)

// DVMaintainer holds one bucket's deletion vectors, by data file name
// (Paimon's BucketedDvMaintainer). Compaction marks the rows it supersedes;
// the whole map is written as one index file when it changed.
type DVMaintainer struct {
	mu      sync.Mutex
	kind    spec.DVKind
	dvs     map[string]*spec.DeletionVector
	changed bool
}

// NewDVMaintainer starts from the bucket's committed vectors.
func NewDVMaintainer(kind spec.DVKind, restored map[string]*spec.DeletionVector) *DVMaintainer {
	if restored == nil {
		restored = map[string]*spec.DeletionVector{}
	}
	return &DVMaintainer{kind: kind, dvs: restored}
}

// IsDeleted reports whether row pos of file is marked deleted.
func (m *DVMaintainer) IsDeleted(file string, pos int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	dv := m.dvs[file]
	return dv != nil && dv.IsDeleted(pos)
}

// Get returns a file's vector, or nil.
func (m *DVMaintainer) Get(file string) *spec.DeletionVector {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dvs[file]
}

// MarkDeleted marks row pos of file deleted.
func (m *DVMaintainer) MarkDeleted(file string, pos int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dv := m.dvs[file]
	if dv == nil {
		dv = spec.NewDeletionVector(m.kind)
		m.dvs[file] = dv
	}
	added, err := dv.CheckedDelete(pos)
	if added {
		m.changed = true
	}
	return err
}

// Remove drops the vectors of files that compaction rewrote.
func (m *DVMaintainer) Remove(files []*File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range files {
		if _, ok := m.dvs[f.Meta.FileName]; ok {
			delete(m.dvs, f.Meta.FileName)
			m.changed = true
		}
	}
}

// TakeChanged returns the full set of vectors, sorted by file name, if any
// changed since the last call.
func (m *DVMaintainer) TakeChanged() ([]spec.DVIndexEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.changed {
		return nil, false
	}
	m.changed = false
	names := slices.Sorted(maps.Keys(m.dvs))
	out := make([]spec.DVIndexEntry, 0, len(names))
	for _, n := range names {
		if !m.dvs[n].IsEmpty() {
			out = append(out, spec.DVIndexEntry{DataFile: n, DV: m.dvs[n].Clone()})
		}
	}
	return out, true
}
