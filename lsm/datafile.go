package lsm

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"sync/atomic"
	"time"

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
}

// NewFileLayout builds the layout of a primary-key table's data files.
func NewFileLayout(schema *spec.TableSchema, opts spec.Options) (*FileLayout, error) {
	keys := schema.TrimmedPrimaryKeyFields()
	l := &FileLayout{SchemaID: schema.ID, KeyFields: keys, ValueFields: schema.Fields}
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
	var metas []spec.DataFileMeta
	for len(kvs) > 0 {
		n, meta, err := w.writeOne(ctx, kvs, level, source)
		if err != nil {
			return nil, err
		}
		metas = append(metas, meta)
		kvs = kvs[n:]
	}
	return metas, nil
}

// rollCheckEvery bounds how often the writer asks the Parquet writer for
// its size, which is not free.
const rollCheckEvery = 1024

func (w *FileWriter) writeOne(ctx context.Context, kvs []*KeyValue, level int32, source spec.FileSource) (int, spec.DataFileMeta, error) {
	l := w.layout
	var buf bytes.Buffer
	fields := parquetio.KVFields(l.KeyFields, l.ValueFields)
	pw, err := parquetio.NewWriter(&buf, fields, parquetio.WithCompression(l.Compression))
	if err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	keyModes := make([]spec.StatsMode, len(l.KeyFields))
	for i := range keyModes {
		keyModes[i] = spec.KeyStatsMode
	}
	keyStats := spec.NewStatsCollector(l.KeyTypes(), keyModes)
	valTypes := make([]spec.DataType, len(l.ValueFields))
	for i, f := range l.ValueFields {
		valTypes[i] = f.Type
	}
	valStats := spec.NewStatsCollector(valTypes, l.ValueModes)

	nk := len(l.KeyFields)
	batch := make([]spec.Row, 0, 256)
	var deletes int64
	minSeq, maxSeq := kvs[0].Seq, kvs[0].Seq
	n := 0
	for n < len(kvs) {
		kv := kvs[n]
		row := make(spec.Row, nk+2+len(kv.Value))
		copy(row, kv.Key)
		row[nk] = kv.Seq
		row[nk+1] = int8(kv.Kind)
		copy(row[nk+2:], kv.Value)
		batch = append(batch, row)
		keyStats.Add(kv.Key)
		valStats.Add(kv.Value)
		if kv.Kind.IsRetract() {
			deletes++
		}
		minSeq, maxSeq = min(minSeq, kv.Seq), max(maxSeq, kv.Seq)
		n++
		if len(batch) == cap(batch) {
			if err := pw.Write(batch); err != nil {
				return 0, spec.DataFileMeta{}, err
			}
			batch = batch[:0]
		}
		if n%rollCheckEvery == 0 && pw.Size() >= w.targetSize {
			break
		}
	}
	if err := pw.Write(batch); err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	if err := pw.Close(); err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	name := w.newName()
	if err := w.fs.Put(ctx, path.Join(w.dir, name), buf.Bytes()); err != nil {
		return 0, spec.DataFileMeta{}, fmt.Errorf("write %s: %w", name, err)
	}
	minKey, err := spec.EncodeBinaryRow(l.KeyTypes(), kvs[0].Key, spec.RowKindInsert)
	if err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	maxKey, err := spec.EncodeBinaryRow(l.KeyTypes(), kvs[n-1].Key, spec.RowKindInsert)
	if err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	keyNames := make([]string, nk)
	for i, f := range l.KeyFields {
		keyNames[i] = f.Name
	}
	ks, _, err := keyStats.Result(keyNames)
	if err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	valNames := make([]string, len(l.ValueFields))
	for i, f := range l.ValueFields {
		valNames[i] = f.Name
	}
	vs, cols, err := valStats.Result(valNames)
	if err != nil {
		return 0, spec.DataFileMeta{}, err
	}
	ct := CreationTime(time.Now())
	src := source
	return n, spec.DataFileMeta{
		FileName: name, FileSize: int64(buf.Len()), RowCount: int64(n),
		MinKey: spec.SerializeBinaryRow(nk, minKey), MaxKey: spec.SerializeBinaryRow(nk, maxKey),
		KeyStats: ks, ValueStats: vs,
		MinSequenceNumber: minSeq, MaxSequenceNumber: maxSeq,
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
