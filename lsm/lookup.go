package lsm

import (
	"context"
	"iter"
	"sort"
	"sync"

	"github.com/stratalake/strata/spec"
)

// PositionedRun streams a file's records with their row positions.
type PositionedRun = iter.Seq2[PositionedKV, error]

// PositionedKV is a record and its row position in its file.
type PositionedKV struct {
	KV  *KeyValue
	Pos int64
}

// LookupHit is the newest version of a key found in a file above the levels
// being compacted.
type LookupHit struct {
	KV   *KeyValue
	File *File
	Pos  int64
}

// LookupLevels finds the newest version of a key in levels ≥ 1 of one
// bucket (Paimon's LookupLevels). Paimon keeps local lookup files; Strata
// keeps a sorted in-memory index per file, loaded on first use and dropped
// when the file leaves the tree.
type LookupLevels struct {
	levels *Levels
	open   func(ctx context.Context, f *File) PositionedRun
	dv     *DVMaintainer

	mu    sync.Mutex
	index map[string][]PositionedKV // by file name
}

// NewLookupLevels looks keys up in levels; open reads a file with row
// positions; dv (optional) hides rows already marked deleted.
func NewLookupLevels(levels *Levels, open func(ctx context.Context, f *File) PositionedRun, dv *DVMaintainer) *LookupLevels {
	return &LookupLevels{levels: levels, open: open, dv: dv, index: map[string][]PositionedKV{}}
}

// Lookup returns the newest version of key at levels ≥ startLevel, or nil.
func (l *LookupLevels) Lookup(ctx context.Context, key spec.Row, startLevel int) (*LookupHit, error) {
	for lv := max(startLevel, 1); lv <= l.levels.MaxLevel(); lv++ {
		files := l.levels.RunOfLevel(lv).Files
		i := sort.Search(len(files), func(i int) bool { return CompareKeys(files[i].MaxKey, key) >= 0 })
		if i == len(files) || CompareKeys(files[i].MinKey, key) > 0 {
			continue
		}
		f := files[i]
		idx, err := l.load(ctx, f)
		if err != nil {
			return nil, err
		}
		j := sort.Search(len(idx), func(j int) bool { return CompareKeys(idx[j].KV.Key, key) >= 0 })
		if j < len(idx) && CompareKeys(idx[j].KV.Key, key) == 0 {
			if l.dv != nil && l.dv.IsDeleted(f.Meta.FileName, idx[j].Pos) {
				continue
			}
			return &LookupHit{KV: idx[j].KV, File: f, Pos: idx[j].Pos}, nil
		}
	}
	return nil, nil
}

func (l *LookupLevels) load(ctx context.Context, f *File) ([]PositionedKV, error) {
	l.mu.Lock()
	idx, ok := l.index[f.Meta.FileName]
	l.mu.Unlock()
	if ok {
		return idx, nil
	}
	for p, err := range l.open(ctx, f) {
		if err != nil {
			return nil, err
		}
		idx = append(idx, p)
	}
	l.mu.Lock()
	l.index[f.Meta.FileName] = idx
	l.mu.Unlock()
	return idx, nil
}

// Forget drops the index of files that left the tree.
func (l *LookupLevels) Forget(files []*File) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range files {
		delete(l.index, f.Meta.FileName)
	}
}
