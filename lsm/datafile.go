package lsm

import (
	"context"
	"fmt"
	"iter"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"

	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// FileLayout describes the key-value files of one table schema.
type FileLayout struct {
	SchemaID    int64
	KeyFields   []spec.DataField // trimmed primary key, as value fields
	ValueFields []spec.DataField // every table column
	KeyIndex    []int            // position of each key field among the values
	ValueModes  []spec.StatsMode // stats mode per value field
	Compression parquetio.Compression
	// Append: a table without a primary key, whose files hold only the
	// table columns (no _KEY_, _SEQUENCE_NUMBER or _VALUE_KIND).
	Append bool
	// Dictionary turns Parquet dictionary encoding on
	// (parquet.enable.dictionary). Off by default: on the unique values of
	// a primary-key table it costs a third of the write path's CPU and zstd
	// already shrinks repeated values.
	Dictionary bool
	// RowGroupSize is where a file's row group ends: parquet.block.size
	// when the table sets it, else DefaultRowGroupSize.
	RowGroupSize int64

	schemaOnce sync.Once // fileSchema
	schema     *arrow.Schema
	schemaErr  error
}

// NewFileLayout builds the layout of a primary-key table's data files.
func NewFileLayout(schema *spec.TableSchema, opts spec.Options) (*FileLayout, error) {
	keys := schema.TrimmedPrimaryKeyFields()
	l := &FileLayout{SchemaID: schema.ID, KeyFields: keys, ValueFields: schema.Fields, Append: len(schema.PrimaryKeys) == 0}
	for _, k := range keys {
		i := schema.FieldIndex(k.Name)
		if i < 0 {
			return nil, fmt.Errorf("%w: primary key %s is not a column", spec.ErrSchemaMismatch, k.Name)
		}
		l.KeyIndex = append(l.KeyIndex, i)
	}
	mode := spec.DefaultStatsMode
	if opts.MetadataStatsMode != "" {
		m, err := spec.ParseStatsMode(opts.MetadataStatsMode)
		if err != nil {
			return nil, err
		}
		mode = m
	}
	for _, f := range schema.Fields {
		m := spec.ColumnStatsMode(f.Type, mode)
		if v, ok := opts.Raw["fields."+f.Name+".stats-mode"]; ok {
			fm, err := spec.ParseStatsMode(v)
			if err != nil {
				return nil, fmt.Errorf("fields.%s.stats-mode: %w", f.Name, err)
			}
			m = fm
		}
		l.ValueModes = append(l.ValueModes, m)
	}
	l.Dictionary = opts.ParquetEnableDictionary
	l.RowGroupSize = DefaultRowGroupSize
	if v, ok := opts.Raw["parquet.block.size"]; ok {
		n, err := spec.ParseMemorySize(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: parquet.block.size %q is not a positive size", spec.ErrInvalidOption, v)
		}
		l.RowGroupSize = n
	}
	switch opts.FileCompression {
	case "", "zstd":
		l.Compression = parquetio.CompressionZstd
	case "snappy":
		l.Compression = parquetio.CompressionSnappy
	case "none", "uncompressed":
		l.Compression = parquetio.CompressionNone
	default:
		return nil, fmt.Errorf("file.compression %q is not supported", opts.FileCompression)
	}
	return l, nil
}

// DefaultRowGroupSize bounds a data file's row groups unless the table
// sets parquet.block.size. It is smaller than parquet-mr's 128 MiB because
// an open file holds its row group in memory until the group ends: 16 MiB
// keeps a writer's memory to its write buffer plus a little per open file,
// and a compaction reading a row group of each of its inputs as small.
const DefaultRowGroupSize = 16 << 20

// KeyTypes are the key fields' types.
func (l *FileLayout) KeyTypes() []spec.DataType {
	ts := make([]spec.DataType, len(l.KeyFields))
	for i, f := range l.KeyFields {
		ts[i] = f.Type
	}
	return ts
}

// KeyOf extracts the key of a value row.
func (l *FileLayout) KeyOf(value spec.Row) spec.Row {
	k := make(spec.Row, len(l.KeyIndex))
	for i, j := range l.KeyIndex {
		k[i] = value[j]
	}
	return k
}

// FileWriter writes sorted key-value records of one bucket as level files in
// Paimon's layout (_KEY_ columns, _SEQUENCE_NUMBER, _VALUE_KIND, values),
// rolling to a new file at the target size, and describes each file with
// the DataFileMeta Java would write for it.
type FileWriter struct {
	fs         storage.Storage
	dir        string // bucket directory
	prefix     string // data- or changelog-
	layout     *FileLayout
	targetSize int64
	fileID     string
	counter    atomic.Int64
}

// NewFileWriter returns a writer of files named <prefix><uuid>-<n>.parquet in
// dir.
func NewFileWriter(fs storage.Storage, dir, prefix string, layout *FileLayout, targetSize int64) *FileWriter {
	return &FileWriter{fs: fs, dir: dir, prefix: prefix, layout: layout, targetSize: targetSize, fileID: uuid.NewString()}
}

// Dir is the bucket directory the writer puts files in.
func (w *FileWriter) Dir() string { return w.dir }

func (w *FileWriter) newName() string {
	return w.prefix + w.fileID + "-" + strconv.FormatInt(w.counter.Add(1)-1, 10) + ".parquet"
}

// Write writes kvs, which must be sorted by key with one record per key, at
// the given level and returns the files written.
func (w *FileWriter) Write(ctx context.Context, kvs []*KeyValue, level int32, source spec.FileSource) ([]spec.DataFileMeta, error) {
	return w.WriteSeq(ctx, SliceRun(kvs), level, source)
}

// rollCheckEvery bounds how often the writer asks the Parquet writer for
// its size, which is not free.
const rollCheckEvery = 1024

// WriteSeq streams sorted records (one per key) into files at the given
// level, rolling at the target size; memory holds one file's row group.
//
// Files are streamed to storage as they are encoded. On error the open file
// is discarded, but files already finished stay: they are unreferenced
// until committed, and orphan cleaning removes them as it does the files of
// any failed write.
func (w *FileWriter) WriteSeq(ctx context.Context, kvs iter.Seq2[*KeyValue, error], level int32, source spec.FileSource) ([]spec.DataFileMeta, error) {
	var metas []spec.DataFileMeta
	var cur *openFile
	defer func() {
		if cur != nil {
			cur.out.Abort()
		}
	}()
	for kv, err := range kvs {
		if err != nil {
			return nil, err
		}
		if cur == nil {
			if cur, err = w.open(ctx); err != nil {
				return nil, err
			}
		}
		if err := cur.add(kv); err != nil {
			return nil, err
		}
		if cur.n%rollCheckEvery == 0 && cur.size() >= w.targetSize {
			f := cur
			cur = nil // finish publishes or aborts it
			meta, err := w.finish(f, level, source)
			if err != nil {
				return nil, err
			}
			metas = append(metas, meta)
		}
	}
	return w.finishLast(&cur, metas, level, source)
}

// finishLast finishes the file left open at the end of a write, if any, and
// adds it to metas.
func (w *FileWriter) finishLast(cur **openFile, metas []spec.DataFileMeta, level int32, source spec.FileSource) ([]spec.DataFileMeta, error) {
	if *cur == nil {
		return metas, nil
	}
	f := *cur
	*cur = nil // finish publishes or aborts it
	meta, err := w.finish(f, level, source)
	if err != nil {
		return nil, err
	}
	return append(metas, meta), nil
}

// openFile is a data file being written.
type openFile struct {
	l        *FileLayout
	name     string
	out      storage.ObjectWriter
	written  int64 // bytes handed to out
	pw       *parquetio.Writer
	batch    []spec.Row
	keyStats *spec.StatsCollector
	valStats *spec.StatsCollector
	n        int64
	deletes  int64
	minSeq   int64
	maxSeq   int64
	minKey   spec.Row
	maxKey   spec.Row
}

func (w *FileWriter) open(ctx context.Context) (*openFile, error) {
	l := w.layout
	f := &openFile{l: l, name: w.newName(), batch: make([]spec.Row, 0, 256)}
	out, err := w.fs.Create(ctx, path.Join(w.dir, f.name))
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", f.name, err)
	}
	f.out = out
	fields := parquetio.KVFields(l.KeyFields, l.ValueFields)
	if l.Append {
		fields = l.ValueFields
	}
	pw, err := parquetio.NewWriter(f, fields, parquetio.WithCompression(l.Compression), parquetio.WithDictionary(l.Dictionary),
		parquetio.WithRowGroupSize(l.RowGroupSize))
	if err != nil {
		out.Abort()
		return nil, err
	}
	f.pw = pw
	keyModes := make([]spec.StatsMode, len(l.KeyFields))
	for i := range keyModes {
		keyModes[i] = spec.KeyStatsMode
	}
	f.keyStats = spec.NewStatsCollector(l.KeyTypes(), keyModes)
	valTypes := make([]spec.DataType, len(l.ValueFields))
	for i, fl := range l.ValueFields {
		valTypes[i] = fl.Type
	}
	f.valStats = spec.NewStatsCollector(valTypes, l.ValueModes)
	return f, nil
}

func (f *openFile) add(kv *KeyValue) error {
	nk := len(f.l.KeyFields)
	// The Parquet writer copies values out of a batch, so batch rows are
	// reused rather than allocated per record.
	i := len(f.batch)
	f.batch = f.batch[:i+1]
	if f.l.Append {
		f.batch[i] = kv.Value
	} else {
		row := f.batch[i]
		if len(row) != nk+2+len(kv.Value) {
			row = make(spec.Row, nk+2+len(kv.Value))
			f.batch[i] = row
		}
		copy(row, kv.Key)
		row[nk] = kv.Seq
		row[nk+1] = int8(kv.Kind)
		copy(row[nk+2:], kv.Value)
	}
	f.keyStats.Add(kv.Key)
	f.valStats.Add(kv.Value)
	if kv.Kind.IsRetract() {
		f.deletes++
	}
	if f.n == 0 {
		f.minSeq, f.maxSeq, f.minKey = kv.Seq, kv.Seq, kv.Key
	}
	f.minSeq, f.maxSeq = min(f.minSeq, kv.Seq), max(f.maxSeq, kv.Seq)
	f.maxKey = kv.Key
	f.n++
	if len(f.batch) == cap(f.batch) {
		if err := f.pw.Write(f.batch); err != nil {
			return err
		}
		f.batch = f.batch[:0]
	}
	return nil
}

func (f *openFile) size() int64 { return f.pw.Size() }

// Write passes the Parquet encoder's output to storage, counting the file's
// size.
func (f *openFile) Write(b []byte) (int, error) {
	n, err := f.out.Write(b)
	f.written += int64(n)
	return n, err
}

// finish completes and publishes f, or aborts it on error.
func (w *FileWriter) finish(f *openFile, level int32, source spec.FileSource) (spec.DataFileMeta, error) {
	err := f.pw.Write(f.batch)
	if err == nil {
		err = f.pw.Close()
	}
	if err != nil {
		f.out.Abort()
		return spec.DataFileMeta{}, fmt.Errorf("write %s: %w", f.name, err)
	}
	if err := f.out.Close(); err != nil {
		return spec.DataFileMeta{}, fmt.Errorf("write %s: %w", f.name, err)
	}
	return w.meta(f, level, source)
}

// meta describes a finished file as Java's DataFileMeta would.
func (w *FileWriter) meta(f *openFile, level int32, source spec.FileSource) (spec.DataFileMeta, error) {
	l := w.layout
	name := f.name
	nk := len(l.KeyFields)
	minKey, err := spec.EncodeBinaryRow(l.KeyTypes(), f.minKey, spec.RowKindInsert)
	if err != nil {
		return spec.DataFileMeta{}, err
	}
	maxKey, err := spec.EncodeBinaryRow(l.KeyTypes(), f.maxKey, spec.RowKindInsert)
	if err != nil {
		return spec.DataFileMeta{}, err
	}
	keyNames := make([]string, nk)
	for i, fl := range l.KeyFields {
		keyNames[i] = fl.Name
	}
	ks, _, err := f.keyStats.Result(keyNames)
	if err != nil {
		return spec.DataFileMeta{}, err
	}
	valNames := make([]string, len(l.ValueFields))
	for i, fl := range l.ValueFields {
		valNames[i] = fl.Name
	}
	vs, cols, err := f.valStats.Result(valNames)
	if err != nil {
		return spec.DataFileMeta{}, err
	}
	ct := CreationTime(time.Now())
	src := source
	deletes := f.deletes
	return spec.DataFileMeta{
		FileName: name, FileSize: f.written, RowCount: f.n,
		MinKey: spec.SerializeBinaryRow(nk, minKey), MaxKey: spec.SerializeBinaryRow(nk, maxKey),
		KeyStats: ks, ValueStats: vs,
		MinSequenceNumber: f.minSeq, MaxSequenceNumber: f.maxSeq,
		SchemaID: l.SchemaID, Level: level, ExtraFiles: []string{},
		CreationTime: &ct, DeleteRowCount: &deletes, FileSource: &src, ValueStatsCols: cols,
	}, nil
}

// CreationTime is Java's _CREATION_TIME: the local wall clock encoded as if
// it were UTC (LocalDateTime.now()).
func CreationTime(t time.Time) int64 {
	_, off := t.Zone()
	return t.UnixMilli() + int64(off)*1000
}
