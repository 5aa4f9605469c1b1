package lsm

import (
	"context"
	"iter"
	"sort"

	"github.com/stratalake/strata/spec"
)

// PositionedRun streams a file's records with their row positions.
type PositionedRun = iter.Seq2[spec.PositionedKV, error]

// DropPositions streams run's records without their positions.
func DropPositions(run PositionedRun) Run {
	return func(yield func(*KeyValue, error) bool) {
		for p, err := range run {
			if !yield(p.KV, err) || err != nil {
				return
			}
		}
	}
}

// LookupHit is the newest version of a key found in a file above the levels
// being compacted.
type LookupHit struct {
	KV   *KeyValue
	File *File
	Pos  int64
}

// LookupLevels finds the newest version of a key in levels ≥ 1 of one
// bucket (Paimon's LookupLevels), probing one file per level through local
// lookup files (FileLookup), whose cache bounds the memory and disk used.
type LookupLevels struct {
	levels *Levels
	files  *FileLookup
	dv     *DVMaintainer
}

// NewLookupLevels looks keys up in levels through files; dv (optional)
// hides rows already marked deleted.
func NewLookupLevels(levels *Levels, files *FileLookup, dv *DVMaintainer) *LookupLevels {
	return &LookupLevels{levels: levels, files: files, dv: dv}
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
		p, err := l.files.Find(ctx, f, key)
		if err != nil {
			return nil, err
		}
		if p == nil || (l.dv != nil && l.dv.IsDeleted(f.Meta.FileName, p.Pos)) {
			continue
		}
		return &LookupHit{KV: p.KV, File: f, Pos: p.Pos}, nil
	}
	return nil, nil
}

// Forget drops the lookup files of data files that left the tree.
func (l *LookupLevels) Forget(files []*File) { l.files.Forget(files) }
