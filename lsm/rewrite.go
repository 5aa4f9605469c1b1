package lsm

import (
	"context"
	"iter"

	"github.com/stratalake/strata/spec"
)

// Rewriter writes compaction output for one bucket: it merges sorted runs
// with the table's merge function and writes the result at a level, or
// moves a file to a new level without touching its bytes.
type Rewriter struct {
	Writer   *FileWriter
	KeyTypes []spec.DataType
	// Open streams a file's records in key order.
	Open func(ctx context.Context, f *File) Run
	// NewMerge returns a fresh merge function.
	NewMerge func() (MergeFunction, error)
}

// Rewrite merges each section's runs and writes the result at outputLevel;
// with dropDelete, retractions do not reach the output.
func (r *Rewriter) Rewrite(ctx context.Context, outputLevel int, dropDelete bool, sections [][]SortedRun) ([]*File, error) {
	mf, err := r.NewMerge()
	if err != nil {
		return nil, err
	}
	merged := func(yield func(*KeyValue, error) bool) {
		for _, sec := range sections {
			runs := make([]Run, len(sec))
			for i, run := range sec {
				runs[i] = r.concat(ctx, run)
			}
			for kv, err := range MergeRuns(runs, mf) {
				if err != nil {
					yield(nil, err)
					return
				}
				if dropDelete && kv.Kind.IsRetract() {
					continue
				}
				if !yield(kv, nil) {
					return
				}
			}
		}
	}
	metas, err := r.Writer.WriteSeq(ctx, iter.Seq2[*KeyValue, error](merged), int32(outputLevel), spec.FileSourceCompact)
	if err != nil {
		return nil, err
	}
	out := make([]*File, len(metas))
	for i, m := range metas {
		if out[i], err = NewFile(m, r.KeyTypes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// concat chains a run's files (in key order) into one stream.
func (r *Rewriter) concat(ctx context.Context, run SortedRun) Run {
	return func(yield func(*KeyValue, error) bool) {
		for _, f := range run.Files {
			for kv, err := range r.Open(ctx, f) {
				if !yield(kv, err) || err != nil {
					return
				}
			}
		}
	}
}

// Upgrade moves f to outputLevel: the same file, listed at a new level.
func (r *Rewriter) Upgrade(_ context.Context, outputLevel int, f *File) (*File, error) {
	up := *f
	up.Meta.Level = int32(outputLevel)
	return &up, nil
}
