package lsm

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/stratalake/strata/spec"
)

// File is a data file of the tree with its decoded key range.
type File struct {
	Meta   spec.DataFileMeta
	MinKey spec.Row
	MaxKey spec.Row
}

// Level is the file's LSM level.
func (f *File) Level() int { return int(f.Meta.Level) }

// MayHoldDeletes reports whether the file may contain retractions: its
// delete count is unknown (older writers) or positive.
func (f *File) MayHoldDeletes() bool {
	return f.Meta.DeleteRowCount == nil || *f.Meta.DeleteRowCount > 0
}

// Size is the file's size in bytes.
func (f *File) Size() int64 { return f.Meta.FileSize }

// NewFile decodes the key range of a file's metadata.
func NewFile(meta spec.DataFileMeta, keyTypes []spec.DataType) (*File, error) {
	dec := func(b []byte) (spec.Row, error) {
		_, row, err := spec.DeserializeBinaryRow(b)
		if err != nil {
			return nil, err
		}
		k, _, err := spec.DecodeBinaryRow(keyTypes, row)
		return k, err
	}
	minK, err := dec(meta.MinKey)
	if err != nil {
		return nil, fmt.Errorf("min key of %s: %w", meta.FileName, err)
	}
	maxK, err := dec(meta.MaxKey)
	if err != nil {
		return nil, fmt.Errorf("max key of %s: %w", meta.FileName, err)
	}
	return &File{Meta: meta, MinKey: minK, MaxKey: maxK}, nil
}

// SortedRun is a list of files with non-overlapping key ranges, in key
// order, at one level.
type SortedRun struct {
	Level int
	Files []*File
}

// Size is the total size of the run's files.
func (r SortedRun) Size() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Size()
	}
	return n
}

// Levels is one bucket's tree: level-0 files, each its own sorted run, and
// levels 1..n-1, each one sorted run (Paimon's Levels).
type Levels struct {
	level0 []*File
	levels [][]*File // levels[i] is level i+1, sorted by min key
}

// NewLevels places files in their levels. numLevels grows to hold the
// highest level present.
func NewLevels(files []*File, numLevels int) (*Levels, error) {
	maxLevel := numLevels - 1
	for _, f := range files {
		maxLevel = max(maxLevel, f.Level())
	}
	if maxLevel < 1 {
		return nil, fmt.Errorf("num-levels must be at least 2, got %d", maxLevel+1)
	}
	l := &Levels{levels: make([][]*File, maxLevel)}
	if err := l.Update(nil, files); err != nil {
		return nil, err
	}
	return l, nil
}

// NumberOfLevels is the number of levels, level 0 included.
func (l *Levels) NumberOfLevels() int { return len(l.levels) + 1 }

// MaxLevel is the highest level.
func (l *Levels) MaxLevel() int { return len(l.levels) }

// Level0 returns the level-0 files, newest first.
func (l *Levels) Level0() []*File { return l.level0 }

// RunOfLevel returns level i ≥ 1 as a run.
func (l *Levels) RunOfLevel(i int) SortedRun { return SortedRun{Level: i, Files: l.levels[i-1]} }

// SortedRuns lists the runs newest to oldest: each level-0 file, then each
// non-empty level.
func (l *Levels) SortedRuns() []SortedRun {
	runs := make([]SortedRun, 0, len(l.level0)+len(l.levels))
	for _, f := range l.level0 {
		runs = append(runs, SortedRun{Level: 0, Files: []*File{f}})
	}
	for i, fs := range l.levels {
		if len(fs) > 0 {
			runs = append(runs, SortedRun{Level: i + 1, Files: fs})
		}
	}
	return runs
}

// NumberOfSortedRuns counts level-0 files plus non-empty levels.
func (l *Levels) NumberOfSortedRuns() int {
	n := len(l.level0)
	for _, fs := range l.levels {
		if len(fs) > 0 {
			n++
		}
	}
	return n
}

// NonEmptyHighestLevel is the highest level holding files, 0 when only
// level 0 does and -1 for an empty tree.
func (l *Levels) NonEmptyHighestLevel() int {
	for i := len(l.levels) - 1; i >= 0; i-- {
		if len(l.levels[i]) > 0 {
			return i + 1
		}
	}
	if len(l.level0) > 0 {
		return 0
	}
	return -1
}

// AllFiles lists every file, level 0 first.
func (l *Levels) AllFiles() []*File {
	out := slices.Clone(l.level0)
	for _, fs := range l.levels {
		out = append(out, fs...)
	}
	return out
}

// TotalSize sums the sizes of all files.
func (l *Levels) TotalSize() int64 {
	var n int64
	for _, f := range l.AllFiles() {
		n += f.Size()
	}
	return n
}

// AddLevel0 adds a freshly flushed file.
func (l *Levels) AddLevel0(f *File) {
	l.level0 = append(l.level0, f)
	sortLevel0(l.level0)
}

// sortLevel0 orders level-0 files as Java's TreeSet does: newest (highest
// max sequence number) first, then min sequence, creation time and name.
func sortLevel0(fs []*File) {
	slices.SortFunc(fs, func(a, b *File) int {
		if c := cmp.Compare(b.Meta.MaxSequenceNumber, a.Meta.MaxSequenceNumber); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Meta.MinSequenceNumber, b.Meta.MinSequenceNumber); c != 0 {
			return c
		}
		var ac, bc int64
		if a.Meta.CreationTime != nil {
			ac = *a.Meta.CreationTime
		}
		if b.Meta.CreationTime != nil {
			bc = *b.Meta.CreationTime
		}
		if c := cmp.Compare(ac, bc); c != 0 {
			return c
		}
		return cmp.Compare(a.Meta.FileName, b.Meta.FileName)
	})
}

// Update removes before and adds after (a compaction's result). Files of a
// level ≥ 1 must not overlap.
func (l *Levels) Update(before, after []*File) error {
	gone := make(map[string]int, len(before))
	for _, f := range before {
		gone[fileID(f)]++
	}
	keep := func(fs []*File) []*File {
		out := fs[:0]
		for _, f := range fs {
			if gone[fileID(f)] > 0 {
				gone[fileID(f)]--
				continue
			}
			out = append(out, f)
		}
		return out
	}
	l.level0 = keep(l.level0)
	for i := range l.levels {
		l.levels[i] = keep(l.levels[i])
	}
	for _, f := range after {
		switch lv := f.Level(); {
		case lv == 0:
			l.level0 = append(l.level0, f)
		case lv <= len(l.levels):
			l.levels[lv-1] = append(l.levels[lv-1], f)
		default:
			return fmt.Errorf("file %s is at level %d, tree has %d levels", f.Meta.FileName, lv, len(l.levels)+1)
		}
	}
	sortLevel0(l.level0)
	for i, fs := range l.levels {
		slices.SortFunc(fs, func(a, b *File) int { return CompareKeys(a.MinKey, b.MinKey) })
		for j := 1; j < len(fs); j++ {
			if CompareKeys(fs[j-1].MaxKey, fs[j].MinKey) >= 0 {
				return fmt.Errorf("%w: level %d files %s and %s overlap", spec.ErrCorrupt, i+1, fs[j-1].Meta.FileName, fs[j].Meta.FileName)
			}
		}
	}
	return nil
}

func fileID(f *File) string { return fmt.Sprintf("%d/%s", f.Meta.Level, f.Meta.FileName) }
