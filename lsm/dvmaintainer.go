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
	// staged are the marks of the running compaction: they become part of
	// the bucket's vectors only with that compaction's result, as Java
	// ships a compaction's deletion file with its CompactResult.
	staged map[string][]int64
}

// NewDVMaintainer starts from the bucket's committed vectors.
func NewDVMaintainer(kind spec.DVKind, restored map[string]*spec.DeletionVector) *DVMaintainer {
	if restored == nil {
		restored = map[string]*spec.DeletionVector{}
	}
	return &DVMaintainer{kind: kind, dvs: restored}
}

// IsDeleted reports whether row pos of file is marked deleted, by a
// committed vector or by the running compaction.
func (m *DVMaintainer) IsDeleted(file string, pos int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if dv := m.dvs[file]; dv != nil && dv.IsDeleted(pos) {
		return true
	}
	for _, p := range m.staged[file] {
		if p == pos {
			return true
		}
	}
	return false
}

// Get returns a file's vector, or nil.
func (m *DVMaintainer) Get(file string) *spec.DeletionVector {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dvs[file]
}

// MarkDeleted stages row pos of file as deleted by the running compaction;
// ApplyStaged makes it part of the vectors, DiscardStaged forgets it.
func (m *DVMaintainer) MarkDeleted(file string, pos int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.staged == nil {
		m.staged = map[string][]int64{}
	}
	m.staged[file] = append(m.staged[file], pos)
	return nil
}

// ApplyStaged folds the finished compaction's marks into the vectors.
func (m *DVMaintainer) ApplyStaged() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for file, positions := range m.staged {
		dv := m.dvs[file]
		if dv == nil {
			dv = spec.NewDeletionVector(m.kind)
			m.dvs[file] = dv
		}
		for _, pos := range positions {
			added, err := dv.CheckedDelete(pos)
			if err != nil {
				return err
			}
			if added {
				m.changed = true
			}
		}
	}
	m.staged = nil
	return nil
}

// DiscardStaged forgets the marks of a compaction that failed or was
// cancelled.
func (m *DVMaintainer) DiscardStaged() {
	m.mu.Lock()
	m.staged = nil
	m.mu.Unlock()
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
