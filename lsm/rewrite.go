package lsm

import (
	"context"
	"errors"
	"iter"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
)

// ChangelogMode is how a bucket's compactions produce changelog.
type ChangelogMode uint8

// Changelog produced at compaction.
const (
	ChangelogNone ChangelogMode = iota
	// ChangelogLookup: compactions of level-0 files look up the previous
	// version of each key and emit -U/+U, +I or -D.
	ChangelogLookup
	// ChangelogFullCompaction: compactions into the max level diff the
	// merged result against the max level's previous version.
	ChangelogFullCompaction
)

// Rewriter writes compaction output for one bucket: it merges sorted runs
// with the table's merge function and writes the result at a level, or
// moves a file to a new level without touching its bytes. With a Lookup it
// merges as Paimon's lookup mode does (only the newest high-level version
// counts), marks superseded rows in deletion vectors and produces lookup
// changelog.
type Rewriter struct {
	Writer   *FileWriter
	KeyTypes []spec.DataType
	// Open streams a file's records in key order.
	Open func(ctx context.Context, f *File) Run
	// NewMerge returns a fresh merge function wrapped as Java's reducer (a
	// key's only record passes through), for plain rewrites.
	NewMerge func() (MergeFunction, error)
	// NewBareMerge returns the engine itself, which lookup and full
	// changelog merging feed every record to, as Java does.
	NewBareMerge func() (MergeFunction, error)
	Ordering     *Ordering
	MaxLevel     int

	Lookup    *LookupLevels // set when the table needs lookup
	DV        *DVMaintainer // set for deletion-vector tables
	Changelog ChangelogMode
	// ChangelogWriter writes changelog files (prefix changelog-).
	ChangelogWriter *FileWriter
	RowDedup        bool // changelog-producer.row-deduplicate
	// DedupIgnore are value positions row deduplication does not compare
	// (changelog-producer.row-deduplicate-ignore-fields).
	DedupIgnore []int
	// UpgradeWithoutRewrite: a lone level-0 file may move up in metadata
	// only (deduplicate without sequence.field).
	UpgradeWithoutRewrite bool
	// FirstRow: the first-row engine keeps the oldest version, so a key
	// already present above the output level drops its new records.
	FirstRow bool
	// OpenBatches, when set, streams a file's records as BatchRun batches:
	// plain rewrites then merge column-wise (MergeBatches). Only for tables
	// whose records merge as plain deduplication (no sequence.field, no
	// ignore-delete, no lookup).
	OpenBatches func(ctx context.Context, f *File) BatchRun
	// Mem allocates the batches of column-wise merges.
	Mem memory.Allocator
}

// Rewrite merges each section's runs and writes the result at outputLevel;
// with dropDelete, retractions do not reach the output.
func (r *Rewriter) Rewrite(ctx context.Context, outputLevel int, dropDelete bool, sections [][]SortedRun) ([]*File, []spec.DataFileMeta, error) {
	return r.rewrite(ctx, outputLevel, dropDelete, sections, true)
}

func (r *Rewriter) rewrite(ctx context.Context, outputLevel int, dropDelete bool, sections [][]SortedRun, writeData bool) ([]*File, []spec.DataFileMeta, error) {
	if r.OpenBatches != nil && writeData && r.Lookup == nil && r.Changelog != ChangelogFullCompaction {
		return r.rewriteBatches(ctx, outputLevel, dropDelete, sections)
	}
	mf, err := r.NewMerge()
	if err != nil {
		return nil, nil, err
	}
	bare := mf
	if r.NewBareMerge != nil && (r.Lookup != nil || r.Changelog == ChangelogFullCompaction) {
		if bare, err = r.NewBareMerge(); err != nil {
			return nil, nil, err
		}
	}
	hasL0 := false
	// Per file: a run packed by the interval partition may mix levels.
	for _, sec := range sections {
		for _, run := range sec {
			for _, f := range run.Files {
				hasL0 = hasL0 || f.Level() == 0
			}
		}
	}
	lookupPath := r.Lookup != nil && outputLevel != 0 && hasL0
	fullPath := r.Changelog == ChangelogFullCompaction && outputLevel == r.MaxLevel
	var changes []*KeyValue
	emit := func(kind spec.RowKind, kv *KeyValue) {
		c := *kv
		c.Kind = kind
		changes = append(changes, &c)
	}
	var firstErr error
	merged := func(yield func(*KeyValue, error) bool) {
		for _, sec := range sections {
			runs := make([]Run, len(sec))
			for i, run := range sec {
				runs[i] = r.concat(ctx, run)
			}
			for group, err := range GroupRuns(runs, r.Ordering) {
				if err != nil {
					yield(nil, err)
					return
				}
				var res *KeyValue
				switch {
				case r.Lookup != nil:
					res, err = r.lookupMerge(ctx, bare, group, outputLevel, lookupPath, emit)
				case fullPath:
					res, err = r.fullMerge(bare, group, emit)
				default:
					res, err = mergeGroup(mf, group)
				}
				if err != nil {
					yield(nil, r.locate(err, sec))
					return
				}
				if res == nil || (dropDelete && res.Kind.IsRetract()) {
					continue
				}
				if !yield(res, nil) {
					return
				}
			}
		}
	}
	var out []*File
	if writeData {
		metas, err := r.Writer.WriteSeq(ctx, iter.Seq2[*KeyValue, error](merged), int32(outputLevel), spec.FileSourceCompact)
		if err != nil {
			return nil, nil, err
		}
		out = make([]*File, len(metas))
		for i, m := range metas {
			if out[i], err = NewFile(m, r.KeyTypes); err != nil {
				return nil, nil, err
			}
		}
	} else {
		for _, err := range merged {
			if err != nil {
				firstErr = err
				break
			}
		}
		if firstErr != nil {
			return nil, nil, firstErr
		}
	}
	var changelog []spec.DataFileMeta
	if len(changes) > 0 && r.ChangelogWriter != nil {
		if changelog, err = r.ChangelogWriter.Write(ctx, changes, int32(outputLevel), spec.FileSourceCompact); err != nil {
			return nil, nil, err
		}
	}
	return out, changelog, nil
}

// rewriteBatches is rewrite for plain deduplication, column-wise.
func (r *Rewriter) rewriteBatches(ctx context.Context, outputLevel int, dropDelete bool, sections [][]SortedRun) ([]*File, []spec.DataFileMeta, error) {
	l := r.Writer.layout
	schema, err := arrowconv.Schema(append(parquetio.SystemFields(), l.ValueFields...))
	if err != nil {
		return nil, nil, err
	}
	keyCols := make([]int, len(l.KeyIndex))
	for i, j := range l.KeyIndex {
		keyCols[i] = 2 + j
	}
	merged := func(yield func(arrow.RecordBatch, error) bool) {
		for _, sec := range sections {
			// Each run is decoded, and the merge runs, a step ahead of
			// the encoder.
			runs := make([]BatchRun, len(sec))
			for i, run := range sec {
				runs[i] = Prefetch(r.concatBatches(ctx, run), 1)
			}
			for rec, err := range Prefetch(MergeBatches(ctx, r.Mem, schema, runs, keyCols, r.KeyTypes, dropDelete), 2) {
				if err != nil {
					yield(nil, r.locate(err, sec))
					return
				}
				if !yield(rec, nil) {
					return
				}
			}
		}
	}
	metas, err := r.Writer.WriteBatches(ctx, merged, int32(outputLevel), spec.FileSourceCompact)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*File, len(metas))
	for i, m := range metas {
		if out[i], err = NewFile(m, r.KeyTypes); err != nil {
			return nil, nil, err
		}
	}
	return out, nil, nil
}

// concatBatches chains a run's files (in key order) into one batch stream.
func (r *Rewriter) concatBatches(ctx context.Context, run SortedRun) BatchRun {
	return func(yield func(arrow.RecordBatch, error) bool) {
		for _, f := range run.Files {
			for rec, err := range r.OpenBatches(ctx, f) {
				if !yield(rec, err) || err != nil {
					return
				}
			}
		}
	}
}

// locate names the data file of a record that failed to merge, among the
// files of a section.
func (r *Rewriter) locate(err error, sec []SortedRun) error {
	var metas []spec.DataFileMeta
	for _, run := range sec {
		for _, f := range run.Files {
			metas = append(metas, f.Meta)
		}
	}
	return LocateRecordError(err, metas, r.KeyTypes)
}

func mergeGroup(mf MergeFunction, group []*KeyValue) (*KeyValue, error) {
	mf.Reset()
	for _, kv := range group {
		if err := addRecord(mf, kv); err != nil {
			return nil, err
		}
	}
	return mf.Result(), nil
}

// lookupMerge is Paimon's LookupMergeFunction with the lookup changelog
// wrapper: merge the level-0 records with only the newest high-level
// version (looked up above the output level when the compaction has none),
// and describe the change against that version.
func (r *Rewriter) lookupMerge(ctx context.Context, mf MergeFunction, group []*KeyValue, out int, lookup bool, emit func(spec.RowKind, *KeyValue)) (*KeyValue, error) {
	if r.FirstRow {
		return r.firstRowMerge(ctx, mf, group, out, lookup, emit)
	}
	// Changelog is about keys this compaction brings up from level 0.
	hasL0 := false
	for _, kv := range group {
		hasL0 = hasL0 || kv.Level == 0
	}
	var high *KeyValue
	for _, kv := range group {
		if kv.Level > 0 && (high == nil || kv.Level < high.Level) {
			high = kv
		}
	}
	candidates := group
	hitFile := "" // the file a looked-up version comes from
	if high == nil && lookup {
		hit, err := r.Lookup.Lookup(ctx, group[0].Key, out+1)
		if err != nil {
			return nil, err
		}
		if hit != nil {
			hitFile = hit.File.Meta.FileName
			if r.DV != nil {
				if err := r.DV.MarkDeleted(hit.File.Meta.FileName, hit.Pos); err != nil {
					return nil, err
				}
			}
			high = hit.KV
			// Insert the old version where its sequence puts it.
			candidates = make([]*KeyValue, 0, len(group)+1)
			placed := false
			for _, c := range group {
				if !placed && r.Ordering.CompareSeqOnly(high, c) < 0 {
					candidates = append(candidates, high)
					placed = true
				}
				candidates = append(candidates, c)
			}
			if !placed {
				candidates = append(candidates, high)
			}
		}
	}
	mf.Reset()
	for _, kv := range candidates {
		if kv.Level <= 0 || kv == high {
			if err := addRecord(mf, kv); err != nil {
				var re *RecordError
				if kv == high && hitFile != "" && errors.As(err, &re) && re.File == "" {
					re.File = hitFile
				}
				return nil, err
			}
		}
	}
	res := mf.Result()
	if r.Changelog == ChangelogLookup && hasL0 && lookup {
		switch {
		case high == nil || high.Kind.IsRetract():
			if res != nil && !res.Kind.IsRetract() {
				emit(spec.RowKindInsert, res)
			}
		case res == nil || res.Kind.IsRetract():
			emit(spec.RowKindDelete, high)
		case !r.RowDedup || !r.sameValue(high.Value, res.Value):
			emit(spec.RowKindUpdateBefore, high)
			emit(spec.RowKindUpdateAfter, res)
		}
	}
	return res, nil
}

// firstRowMerge is Paimon's FirstRowMergeFunctionWrapper: the engine keeps
// the first record (and rejects or skips retracts); a key already above
// level 0 keeps its version silently; a key found above the output level
// drops its new records; otherwise the kept record is new and goes to the
// changelog as it is.
func (r *Rewriter) firstRowMerge(ctx context.Context, mf MergeFunction, group []*KeyValue, out int, lookup bool, emit func(spec.RowKind, *KeyValue)) (*KeyValue, error) {
	res, err := mergeGroup(mf, group)
	if err != nil || res == nil {
		return nil, err
	}
	for _, kv := range group {
		if kv.Level > 0 {
			return res, nil
		}
	}
	if lookup {
		hit, err := r.Lookup.Lookup(ctx, res.Key, out+1)
		if err != nil {
			return nil, err
		}
		if hit != nil {
			return nil, nil
		}
		if r.Changelog == ChangelogLookup {
			emit(res.Kind, res)
		}
	}
	return res, nil
}

// LookupMergeGroup merges one key's records as lookup-mode reads do: the
// level-0 (and unflushed) records plus only the newest version above level
// 0, which lookup mode keeps fully merged.
func LookupMergeGroup(mf MergeFunction, group []*KeyValue) (*KeyValue, error) {
	var high *KeyValue
	for _, kv := range group {
		if kv.Level > 0 && (high == nil || kv.Level < high.Level) {
			high = kv
		}
	}
	mf.Reset()
	for _, kv := range group {
		if kv.Level <= 0 || kv == high {
			if err := addRecord(mf, kv); err != nil {
				return nil, err
			}
		}
	}
	return mf.Result(), nil
}

// fullMerge is Paimon's full-compaction changelog wrapper: compare the max
// level's version of the key with the merged result. Retractions are never
// written to the max level.
func (r *Rewriter) fullMerge(mf MergeFunction, group []*KeyValue, emit func(spec.RowKind, *KeyValue)) (*KeyValue, error) {
	var top *KeyValue
	for _, kv := range group {
		if int(kv.Level) == r.MaxLevel {
			top = kv
		}
	}
	var m *KeyValue
	if len(group) == 1 {
		m = group[0]
	} else {
		var err error
		if m, err = mergeGroup(mf, group); err != nil {
			return nil, err
		}
	}
	switch {
	case len(group) == 1 && top != nil:
		// Only the max-level version: nothing changed.
	case top == nil:
		if m != nil && !m.Kind.IsRetract() {
			emit(spec.RowKindInsert, m)
		}
	case m == nil || m.Kind.IsRetract():
		emit(spec.RowKindDelete, top)
	case !r.RowDedup || !r.sameValue(top.Value, m.Value):
		emit(spec.RowKindUpdateBefore, top)
		emit(spec.RowKindUpdateAfter, m)
	}
	if m != nil && m.Kind.IsRetract() {
		return nil, nil
	}
	return m, nil
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
// In lookup mode a level-0 file is first streamed through the lookup merge
// (marking deletion vectors, producing changelog), and rewritten when its
// records may change (Paimon's upgrade strategy).
func (r *Rewriter) Upgrade(ctx context.Context, outputLevel int, f *File) ([]*File, []spec.DataFileMeta, error) {
	section := [][]SortedRun{{{Level: f.Level(), Files: []*File{f}}}}
	if f.Level() == 0 && outputLevel > 0 && r.Lookup != nil {
		{
			if (r.DV != nil && f.MayHoldDeletes()) || (outputLevel != r.MaxLevel && !r.UpgradeWithoutRewrite) {
				return r.rewrite(ctx, outputLevel, r.DV != nil, section, true)
			}
			_, changelog, err := r.rewrite(ctx, outputLevel, r.DV != nil, section, false)
			if err != nil {
				return nil, nil, err
			}
			return []*File{upgraded(f, outputLevel)}, changelog, nil
		}
	}
	if r.Changelog == ChangelogFullCompaction && outputLevel == r.MaxLevel && f.Level() != outputLevel {
		// Every record of a file moving to the max level is new there.
		_, changelog, err := r.rewrite(ctx, outputLevel, true, section, false)
		if err != nil {
			return nil, nil, err
		}
		return []*File{upgraded(f, outputLevel)}, changelog, nil
	}
	return []*File{upgraded(f, outputLevel)}, nil, nil
}

func upgraded(f *File, level int) *File {
	up := *f
	up.Meta.Level = int32(level)
	return &up
}

// sameValue compares two value rows for row deduplication, leaving out the
// ignored fields.
func (r *Rewriter) sameValue(a, b spec.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if slices.Contains(r.DedupIgnore, i) {
			continue
		}
		if spec.CompareValues(a[i], b[i]) != 0 || (a[i] == nil) != (b[i] == nil) {
			return false
		}
	}
	return true
}

// DedupIgnoreFields resolves changelog-producer.row-deduplicate-ignore-fields
// to value positions.
func DedupIgnoreFields(schema *spec.TableSchema, opts spec.Options) ([]int, error) {
	var out []int
	for _, name := range opts.ChangelogRowDedupIgnoreFields {
		i := schema.FieldIndex(name)
		if i < 0 {
			return nil, optionErr(spec.OptChangelogRowDedupIgnore, "field %s can not be found in table schema", name)
		}
		out = append(out, i)
	}
	return out, nil
}
