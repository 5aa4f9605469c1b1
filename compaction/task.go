package compaction

import (
	"context"

	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// Rewriter does the I/O of a compaction.
type Rewriter interface {
	// Rewrite merges the sections (each a set of overlapping sorted runs, in
	// key order) into new files at outputLevel, dropping retractions when
	// dropDelete is set.
	// It also returns the changelog files the rewrite produced, if any.
	Rewrite(ctx context.Context, outputLevel int, dropDelete bool, sections [][]lsm.SortedRun) ([]*lsm.File, []spec.DataFileMeta, error)
	// Upgrade moves a file to outputLevel, normally without rewriting it
	// (same file, new level in the metadata); a changelog producer may
	// still read it, or rewrite it.
	Upgrade(ctx context.Context, outputLevel int, f *lsm.File) ([]*lsm.File, []spec.DataFileMeta, error)
}

// Result is what a compaction replaced: files to delete (at their old level)
// and files to add.
type Result struct {
	Before    []*lsm.File
	After     []*lsm.File
	Changelog []spec.DataFileMeta
}

// Task is one compaction unit with the facts needed to run it.
type Task struct {
	Unit *Unit
	// MaxLevel of the tree.
	MaxLevel int
	// DropDelete drops retractions from the output (the output is the
	// oldest data of its keys, or deletion vectors keep older rows hidden).
	DropDelete bool
	// SmallFileSize: files below it are rewritten with neighbours instead
	// of upgraded (target-file-size × compaction.small-file-ratio).
	SmallFileSize int64
}

// Run performs the task as Paimon's MergeTreeCompactTask does: overlapping
// sections and small files are rewritten; big files with no overlap are
// upgraded in place, except into the max level when they may hold deletes.
func (t *Task) Run(ctx context.Context, rw Rewriter) (*Result, error) {
	res := &Result{}
	out := t.Unit.OutputLevel
	if t.Unit.FileRewrite {
		for _, f := range t.Unit.Files {
			after, changelog, err := rw.Rewrite(ctx, out, t.DropDelete, [][]lsm.SortedRun{{{Level: f.Level(), Files: []*lsm.File{f}}}})
			if err != nil {
				return nil, err
			}
			res.Before = append(res.Before, f)
			res.After = append(res.After, after...)
			res.Changelog = append(res.Changelog, changelog...)
		}
		return res, nil
	}
	var candidate [][]lsm.SortedRun
	rewrite := func(sections [][]lsm.SortedRun) error {
		after, changelog, err := rw.Rewrite(ctx, out, t.DropDelete, sections)
		if err != nil {
			return err
		}
		res.Changelog = append(res.Changelog, changelog...)
		for _, sec := range sections {
			for _, r := range sec {
				res.Before = append(res.Before, r.Files...)
			}
		}
		res.After = append(res.After, after...)
		return nil
	}
	upgrade := func(f *lsm.File) error {
		if out == t.MaxLevel && f.MayHoldDeletes() {
			return rewrite([][]lsm.SortedRun{{{Level: f.Level(), Files: []*lsm.File{f}}}})
		}
		if f.Level() == out {
			return nil
		}
		after, changelog, err := rw.Upgrade(ctx, out, f)
		if err != nil {
			return err
		}
		res.Before = append(res.Before, f)
		res.After = append(res.After, after...)
		res.Changelog = append(res.Changelog, changelog...)
		return nil
	}
	flush := func() error {
		if len(candidate) == 0 {
			return nil
		}
		c := candidate
		candidate = nil
		if len(c) == 1 && len(c[0]) == 1 {
			// A lone small file is not worth rewriting.
			for _, f := range c[0][0].Files {
				if err := upgrade(f); err != nil {
					return err
				}
			}
			return nil
		}
		return rewrite(c)
	}
	for _, section := range IntervalPartition(t.Unit.Files) {
		if len(section) > 1 {
			candidate = append(candidate, section)
			continue
		}
		for _, f := range section[0].Files {
			if f.Size() < t.SmallFileSize {
				candidate = append(candidate, []lsm.SortedRun{{Level: f.Level(), Files: []*lsm.File{f}}})
				continue
			}
			if err := flush(); err != nil {
				return nil, err
			}
			if err := upgrade(f); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return res, nil
}
