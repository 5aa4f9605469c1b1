package mergetree

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// FileReader reads a bucket's data files back in the schema the writer
// writes; the caller resolves the schema each file was written with.
type FileReader interface {
	// Records streams a file's records in file order with their row
	// positions, skipping those dv (nil for none) marks deleted.
	Records(ctx context.Context, meta spec.DataFileMeta, dv *spec.DeletionVector) lsm.PositionedRun
	// Batches streams a file's records, system columns included, as Arrow
	// batches. Only columnar writers call it.
	Batches(ctx context.Context, meta spec.DataFileMeta) lsm.BatchRun
}

// Options configure a Writer: a table's settings for one bucket, as plain
// values.
type Options struct {
	// FS and Dir are where the bucket's files live.
	FS  storage.Storage
	Dir string
	// Layout describes the data files.
	Layout *lsm.FileLayout
	// Files reads the bucket's data files back, for compactions and
	// lookups.
	Files FileReader
	// Restored are the bucket's live files: the first record written gets
	// the sequence number after their highest. RestoredDVs are their
	// deletion vectors, by file name.
	Restored    []spec.DataFileMeta
	RestoredDVs map[string]*spec.DeletionVector

	DataFilePrefix      string // data-file.prefix
	ChangelogFilePrefix string // changelog-file.prefix
	TargetFileSize      int64  // target-file-size
	NumLevels           int    // num-levels

	// AppendOnly: a table without a primary key, whose records are written
	// in arrival order, never merged or compacted.
	AppendOnly bool
	// NewMerge returns a fresh merge function wrapped as Java's reducer (a
	// key's only record passes through).
	NewMerge func() (lsm.MergeFunction, error)
	// Ordering orders a key's records (sequence.field).
	Ordering *lsm.Ordering
	// Columnar: records are buffered, flushed and compacted column by
	// column, for tables that merge as plain deduplication and need no
	// lookups and no changelog.
	Columnar bool

	// Spiller moves a full row buffer to local disk
	// (write-buffer-spillable); nil: FlushMemory always flushes.
	Spiller *lsm.Spiller

	// WriteOnly: the writer never compacts (write-only).
	WriteOnly   bool
	Strategy    compaction.Strategy
	StopTrigger int              // num-sorted-run.stop-trigger
	Slots       compaction.Slots // shared with the other buckets' writers

	ChangelogProducer spec.ChangelogProducer
	RowDedup          bool // changelog-producer.row-deduplicate
	// DedupIgnore are the value positions row deduplication does not
	// compare (changelog-producer.row-deduplicate-ignore-fields).
	DedupIgnore []int
	// NewBareMerge returns the merge engine without the single-record
	// shortcut, which lookup and full-compaction changelog merging feed
	// every record to, as Java's LookupMergeFunction and
	// FullChangelogMergeFunctionWrapper do.
	NewBareMerge func() (lsm.MergeFunction, error)
	// FirstRow: the first-row merge engine.
	FirstRow bool
	// UpgradeWithoutRewrite: a lone level-0 file may move up in metadata
	// only (deduplicate without sequence.field).
	UpgradeWithoutRewrite bool

	// NeedLookup: compactions look keys up in the levels above them
	// (Paimon's LookupStrategy.needLookup), through local lookup files in
	// LookupCache.
	NeedLookup  bool
	LookupCache *lookupfile.Cache

	// DeletionVectors is the bitmap kind of the bucket's deletion vectors;
	// 0 when the table has none.
	DeletionVectors spec.DVKind
	// WriteDVIndex writes the bucket's deletion vectors as an index file,
	// at a commit after they changed.
	WriteDVIndex func(ctx context.Context, entries []spec.DVIndexEntry) (spec.IndexManifestEntry, error)
}

// smallFileRatio is compaction.small-file-ratio: files below this share of
// target-file-size are rewritten rather than upgraded.
const smallFileRatio = 0.7

// Writer is one bucket's LSM writer (Paimon's MergeTreeWriter): a write
// buffer flushed into level-0 files, and a compaction manager that keeps
// the number of sorted runs bounded in the background. It is not safe for
// concurrent use.
type Writer struct {
	o         Options
	buf       *lsm.Buffer      // nil when cbuf is set
	cbuf      *lsm.BatchBuffer // columnar writers
	fw        *lsm.FileWriter
	levels    *lsm.Levels
	manager   *compaction.Manager // nil for write-only and append writers
	lookup    *lsm.LookupLevels
	dv        *lsm.DVMaintainer
	changelog *lsm.FileWriter // changelog files, when a producer is set

	newFiles         []spec.DataFileMeta
	newChangelog     []spec.DataFileMeta
	compactBefore    []spec.DataFileMeta
	compactAfter     []spec.DataFileMeta
	compactChangelog []spec.DataFileMeta
}

// New returns the writer of a bucket holding o.Restored.
func New(o Options) (*Writer, error) {
	switch {
	case o.FS == nil || o.Layout == nil || o.Files == nil:
		return nil, errors.New("mergetree: a writer needs FS, Layout and Files")
	case !o.AppendOnly && (o.NewMerge == nil || o.Strategy == nil && !o.WriteOnly):
		return nil, errors.New("mergetree: a primary-key writer needs NewMerge and, unless write-only, a Strategy")
	case o.DeletionVectors != 0 && o.WriteDVIndex == nil:
		return nil, errors.New("mergetree: a writer with deletion vectors needs WriteDVIndex")
	}
	nextSeq := int64(0)
	files := make([]*lsm.File, 0, len(o.Restored))
	for _, m := range o.Restored {
		nextSeq = max(nextSeq, m.MaxSequenceNumber+1)
		f, err := lsm.NewFile(m, o.Layout.KeyTypes())
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	levels, err := lsm.NewLevels(files, o.NumLevels)
	if err != nil {
		return nil, err
	}
	w := &Writer{o: o, levels: levels, fw: lsm.NewFileWriter(o.FS, o.Dir, o.DataFilePrefix, o.Layout, o.TargetFileSize)}
	if err := w.newBuffer(nextSeq); err != nil {
		return nil, err
	}
	if o.ChangelogProducer != "" && o.ChangelogProducer != spec.ChangelogProducerNone {
		w.changelog = lsm.NewFileWriter(o.FS, o.Dir, o.ChangelogFilePrefix, o.Layout, o.TargetFileSize)
	}
	if o.DeletionVectors != 0 {
		w.dv = lsm.NewDVMaintainer(o.DeletionVectors, o.RestoredDVs)
	}
	if o.NeedLookup && !o.WriteOnly { // write-only writers never compact
		if o.LookupCache == nil {
			return nil, errors.New("mergetree: a lookup table's writer needs a lookup cache")
		}
		// Lookup files are built without deletion vectors: LookupLevels
		// checks positions against the current ones.
		files := lsm.NewFileLookup(o.LookupCache, o.Layout.KeyTypes(), valueTypes(o.Layout),
			func(ctx context.Context, f *lsm.File) lsm.PositionedRun {
				return o.Files.Records(ctx, f.Meta, nil)
			})
		w.lookup = lsm.NewLookupLevels(levels, files, w.dv)
	}
	if !o.WriteOnly && !o.AppendOnly {
		w.manager = compaction.NewManager(levels, w.rewriter(), compaction.ManagerOptions{
			Strategy:        o.Strategy,
			SmallFileSize:   int64(float64(o.TargetFileSize) * smallFileRatio),
			StopTrigger:     o.StopTrigger,
			DeletionVectors: w.dv != nil,
			Slots:           o.Slots,
			NeedsRewrite: func(f *lsm.File) bool {
				dv := w.dvOf(f.Meta.FileName)
				return dv != nil && !dv.IsEmpty()
			},
		})
	}
	return w, nil
}

func valueTypes(l *lsm.FileLayout) []spec.DataType {
	types := make([]spec.DataType, len(l.ValueFields))
	for i, f := range l.ValueFields {
		types[i] = f.Type
	}
	return types
}

// newBuffer gives the writer an empty write buffer whose first record gets
// sequence number nextSeq.
func (w *Writer) newBuffer(nextSeq int64) error {
	if w.cbuf != nil {
		w.cbuf.Release()
	}
	if !w.o.Columnar {
		w.buf = lsm.NewBuffer(nextSeq)
		return nil
	}
	var err error
	w.cbuf, err = lsm.NewBatchBuffer(memory.DefaultAllocator, w.o.Layout.ValueFields, w.o.Layout.KeyIndex, nextSeq)
	return err
}

// SetNextSequence drops what the buffer holds and makes the next record
// get sequence number seq (tests line up with Java-written files by it).
func (w *Writer) SetNextSequence(seq int64) error { return w.newBuffer(seq) }

// BufferBytes is the memory the write buffer holds (Paimon's
// memoryOccupancy): the caller decides when it is too much, for one bucket
// or for all of them together.
func (w *Writer) BufferBytes() int64 {
	if w.cbuf != nil {
		return w.cbuf.Bytes()
	}
	return w.buf.Bytes()
}

// Add buffers one record (a row with one value per column).
func (w *Writer) Add(kind spec.RowKind, row spec.Row) error {
	if w.cbuf != nil {
		return w.cbuf.AddRow(kind, row)
	}
	w.buf.Add(&lsm.KeyValue{Key: w.o.Layout.KeyOf(row), Kind: kind, Value: row, Level: -1}, lsm.ApproxRowBytes(row))
	return nil
}

// AddBatch buffers the rows sel of a batch's columns as
// lsm.BatchBuffer.AddBatch takes them. Only columnar writers take batches.
func (w *Writer) AddBatch(cols []arrow.Array, sel []int32, kinds []int8) error {
	if w.cbuf == nil {
		return errors.New("mergetree: a writer that merges record by record takes no batches")
	}
	return w.cbuf.AddBatch(cols, sel, kinds)
}

// FlushMemory empties the write buffer (Paimon's flushMemory): spilled to
// local disk when the writer has a Spiller (level-0 files are then written
// at commit, or once the disk budget is used), else flushed as level-0
// files. A columnar buffer is flushed, not spilled.
func (w *Writer) FlushMemory(ctx context.Context) error {
	if w.o.Spiller != nil && w.buf != nil {
		ok, err := w.buf.Spill(w.o.Spiller, w.o.Ordering)
		if err != nil || ok {
			return err
		}
	}
	return w.flush(ctx, false, false)
}

func (w *Writer) dvOf(file string) *spec.DeletionVector {
	if w.dv == nil {
		return nil
	}
	return w.dv.Get(file)
}

// rewriter reads and writes the bucket's files for compaction.
func (w *Writer) rewriter() *lsm.Rewriter {
	o := w.o
	rw := &lsm.Rewriter{
		Writer:   lsm.NewFileWriter(o.FS, o.Dir, o.DataFilePrefix, o.Layout, o.TargetFileSize),
		KeyTypes: o.Layout.KeyTypes(),
		Open: func(ctx context.Context, f *lsm.File) lsm.Run {
			return lsm.DropPositions(o.Files.Records(ctx, f.Meta, w.dvOf(f.Meta.FileName)))
		},
		NewMerge:              o.NewMerge,
		Ordering:              o.Ordering,
		MaxLevel:              w.levels.MaxLevel(),
		Lookup:                w.lookup,
		DV:                    w.dv,
		ChangelogWriter:       w.changelog,
		RowDedup:              o.RowDedup,
		DedupIgnore:           o.DedupIgnore,
		NewBareMerge:          o.NewBareMerge,
		FirstRow:              o.FirstRow,
		UpgradeWithoutRewrite: o.UpgradeWithoutRewrite,
	}
	if o.Columnar {
		rw.Mem = memory.DefaultAllocator
		rw.OpenBatches = func(ctx context.Context, f *lsm.File) lsm.BatchRun {
			return o.Files.Batches(ctx, f.Meta)
		}
	}
	switch o.ChangelogProducer {
	case spec.ChangelogProducerLookup:
		rw.Changelog = lsm.ChangelogLookup
	case spec.ChangelogProducerFullCompaction:
		rw.Changelog = lsm.ChangelogFullCompaction
	}
	return rw
}

// Compacts reports whether the writer compacts: write-only and append
// writers do not.
func (w *Writer) Compacts() bool { return w.manager != nil }

// NumSortedRuns is the number of sorted runs in the bucket's levels.
func (w *Writer) NumSortedRuns() int { return w.levels.NumberOfSortedRuns() }

// Files lists the data files of the writer's levels, level 0 first.
func (w *Writer) Files() []*lsm.File { return w.levels.AllFiles() }

// Close stops a running compaction and drops the buffer. Files not yet
// committed stay behind as orphans.
func (w *Writer) Close() {
	if w.manager != nil {
		w.manager.Close()
	}
	if w.cbuf != nil {
		w.cbuf.Release()
	} else {
		w.buf.Reset()
	}
	if w.dv != nil {
		w.dv.DiscardStaged()
	}
}

// errNoCompaction is Compact on a writer that does not compact.
var errNoCompaction = errors.New("mergetree: a write-only or append writer does not compact")
