package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/avro"
	"github.com/twmb/avro/ocf"
)

// The Avro schemas below are the ones Java Paimon writes (field names, order,
// record names and ["null", T] unions), as seen in Java-written manifests.
// Java readers match fields by name and take union branch 1 as the value, so
// the null branch must come first.

const statsFields = `[{"name":"_MIN_VALUES","type":"bytes"},{"name":"_MAX_VALUES","type":"bytes"},{"name":"_NULL_COUNTS","type":["null",{"type":"array","items":["null","long"]}],"default":null}]`

// ManifestEntrySchema is the Avro schema of manifest files.
const ManifestEntrySchema = `{"type":"record","name":"record","namespace":"org.apache.paimon.avro.generated","fields":[` +
	`{"name":"_VERSION","type":"int"},{"name":"_KIND","type":"int"},{"name":"_PARTITION","type":"bytes"},{"name":"_BUCKET","type":"int"},{"name":"_TOTAL_BUCKETS","type":"int"},` +
	`{"name":"_FILE","type":{"type":"record","name":"record__FILE","fields":[{"name":"_FILE_NAME","type":"string"},{"name":"_FILE_SIZE","type":"long"},{"name":"_ROW_COUNT","type":"long"},{"name":"_MIN_KEY","type":"bytes"},{"name":"_MAX_KEY","type":"bytes"},` +
	`{"name":"_KEY_STATS","type":{"type":"record","name":"record__FILE__KEY_STATS","fields":` + statsFields + `}},` +
	`{"name":"_VALUE_STATS","type":{"type":"record","name":"record__FILE__VALUE_STATS","fields":` + statsFields + `}},` +
	`{"name":"_MIN_SEQUENCE_NUMBER","type":"long"},{"name":"_MAX_SEQUENCE_NUMBER","type":"long"},{"name":"_SCHEMA_ID","type":"long"},{"name":"_LEVEL","type":"int"},` +
	`{"name":"_EXTRA_FILES","type":{"type":"array","items":"string"}},{"name":"_CREATION_TIME","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},` +
	`{"name":"_DELETE_ROW_COUNT","type":["null","long"],"default":null},{"name":"_EMBEDDED_FILE_INDEX","type":["null","bytes"],"default":null},` +
	`{"name":"_FILE_SOURCE","type":["null","int"],"default":null},{"name":"_VALUE_STATS_COLS","type":["null",{"type":"array","items":"string"}],"default":null},` +
	`{"name":"_EXTERNAL_PATH","type":["null","string"],"default":null},{"name":"_FIRST_ROW_ID","type":["null","long"],"default":null},` +
	`{"name":"_WRITE_COLS","type":["null",{"type":"array","items":"string"}],"default":null}]}}]}`

// ManifestFileMetaSchema is the Avro schema of manifest lists.
const ManifestFileMetaSchema = `{"type":"record","name":"record","namespace":"org.apache.paimon.avro.generated","fields":[` +
	`{"name":"_VERSION","type":"int"},{"name":"_FILE_NAME","type":"string"},{"name":"_FILE_SIZE","type":"long"},{"name":"_NUM_ADDED_FILES","type":"long"},{"name":"_NUM_DELETED_FILES","type":"long"},` +
	`{"name":"_PARTITION_STATS","type":{"type":"record","name":"record__PARTITION_STATS","fields":` + statsFields + `}},` +
	`{"name":"_SCHEMA_ID","type":"long"},{"name":"_MIN_BUCKET","type":["null","int"],"default":null},{"name":"_MAX_BUCKET","type":["null","int"],"default":null},` +
	`{"name":"_MIN_LEVEL","type":["null","int"],"default":null},{"name":"_MAX_LEVEL","type":["null","int"],"default":null},` +
	`{"name":"_MIN_ROW_ID","type":["null","long"],"default":null},{"name":"_MAX_ROW_ID","type":["null","long"],"default":null}]}`

// IndexManifestEntrySchema is the Avro schema of index manifests.
const IndexManifestEntrySchema = `{"type":"record","name":"record","namespace":"org.apache.paimon.avro.generated","fields":[` +
	`{"name":"_VERSION","type":"int"},{"name":"_KIND","type":"int"},{"name":"_PARTITION","type":"bytes"},{"name":"_BUCKET","type":"int"},{"name":"_INDEX_TYPE","type":"string"},` +
	`{"name":"_FILE_NAME","type":"string"},{"name":"_FILE_SIZE","type":"long"},{"name":"_ROW_COUNT","type":"long"},` +
	`{"name":"_DELETIONS_VECTORS_RANGES","type":["null",{"type":"array","items":["null",{"type":"record","name":"record__DELETIONS_VECTORS_RANGES","fields":[{"name":"f0","type":"string"},{"name":"f1","type":"int"},{"name":"f2","type":"int"},{"name":"_CARDINALITY","type":["null","long"],"default":null}]}]}],"default":null},` +
	`{"name":"_EXTERNAL_PATH","type":["null","string"],"default":null},` +
	`{"name":"_GLOBAL_INDEX","type":["null",{"type":"record","name":"record__GLOBAL_INDEX","fields":[{"name":"_ROW_RANGE_START","type":"long"},{"name":"_ROW_RANGE_END","type":"long"},{"name":"_INDEX_FIELD_ID","type":"int"},{"name":"_EXTRA_FIELD_IDS","type":["null",{"type":"array","items":"int"}],"default":null},{"name":"_INDEX_META","type":["null","bytes"],"default":null},{"name":"_SOURCE_META","type":["null","bytes"],"default":null}]}],"default":null}]}`

// Format versions Java stamps into the leading _VERSION field.
const (
	manifestVersion      = 2
	indexManifestVersion = 1
)

type avroStats struct {
	MinValues  []byte    `avro:"_MIN_VALUES"`
	MaxValues  []byte    `avro:"_MAX_VALUES"`
	NullCounts *[]*int64 `avro:"_NULL_COUNTS"`
}

type avroFile struct {
	FileName          string    `avro:"_FILE_NAME"`
	FileSize          int64     `avro:"_FILE_SIZE"`
	RowCount          int64     `avro:"_ROW_COUNT"`
	MinKey            []byte    `avro:"_MIN_KEY"`
	MaxKey            []byte    `avro:"_MAX_KEY"`
	KeyStats          avroStats `avro:"_KEY_STATS"`
	ValueStats        avroStats `avro:"_VALUE_STATS"`
	MinSeq            int64     `avro:"_MIN_SEQUENCE_NUMBER"`
	MaxSeq            int64     `avro:"_MAX_SEQUENCE_NUMBER"`
	SchemaID          int64     `avro:"_SCHEMA_ID"`
	Level             int32     `avro:"_LEVEL"`
	ExtraFiles        []string  `avro:"_EXTRA_FILES"`
	CreationTime      *int64    `avro:"_CREATION_TIME"`
	DeleteRowCount    *int64    `avro:"_DELETE_ROW_COUNT"`
	EmbeddedFileIndex *[]byte   `avro:"_EMBEDDED_FILE_INDEX"`
	FileSource        *int32    `avro:"_FILE_SOURCE"`
	ValueStatsCols    *[]string `avro:"_VALUE_STATS_COLS"`
	ExternalPath      *string   `avro:"_EXTERNAL_PATH"`
	FirstRowID        *int64    `avro:"_FIRST_ROW_ID"`
	WriteCols         *[]string `avro:"_WRITE_COLS"`
}

type avroEntry struct {
	Version      int32    `avro:"_VERSION"`
	Kind         int32    `avro:"_KIND"`
	Partition    []byte   `avro:"_PARTITION"`
	Bucket       int32    `avro:"_BUCKET"`
	TotalBuckets int32    `avro:"_TOTAL_BUCKETS"`
	File         avroFile `avro:"_FILE"`
}

type avroManifestFileMeta struct {
	Version         int32     `avro:"_VERSION"`
	FileName        string    `avro:"_FILE_NAME"`
	FileSize        int64     `avro:"_FILE_SIZE"`
	NumAddedFiles   int64     `avro:"_NUM_ADDED_FILES"`
	NumDeletedFiles int64     `avro:"_NUM_DELETED_FILES"`
	PartitionStats  avroStats `avro:"_PARTITION_STATS"`
	SchemaID        int64     `avro:"_SCHEMA_ID"`
	MinBucket       *int32    `avro:"_MIN_BUCKET"`
	MaxBucket       *int32    `avro:"_MAX_BUCKET"`
	MinLevel        *int32    `avro:"_MIN_LEVEL"`
	MaxLevel        *int32    `avro:"_MAX_LEVEL"`
	MinRowID        *int64    `avro:"_MIN_ROW_ID"`
	MaxRowID        *int64    `avro:"_MAX_ROW_ID"`
}

type avroDVRange struct {
	DataFile    string `avro:"f0"`
	Offset      int32  `avro:"f1"`
	Length      int32  `avro:"f2"`
	Cardinality *int64 `avro:"_CARDINALITY"`
}

type avroGlobalIndex struct {
	RowRangeStart int64    `avro:"_ROW_RANGE_START"`
	RowRangeEnd   int64    `avro:"_ROW_RANGE_END"`
	IndexFieldID  int32    `avro:"_INDEX_FIELD_ID"`
	ExtraFieldIDs *[]int32 `avro:"_EXTRA_FIELD_IDS"`
	IndexMeta     *[]byte  `avro:"_INDEX_META"`
	SourceMeta    *[]byte  `avro:"_SOURCE_META"`
}

type avroIndexEntry struct {
	Version      int32            `avro:"_VERSION"`
	Kind         int32            `avro:"_KIND"`
	Partition    []byte           `avro:"_PARTITION"`
	Bucket       int32            `avro:"_BUCKET"`
	IndexType    string           `avro:"_INDEX_TYPE"`
	FileName     string           `avro:"_FILE_NAME"`
	FileSize     int64            `avro:"_FILE_SIZE"`
	RowCount     int64            `avro:"_ROW_COUNT"`
	DVRanges     *[]*avroDVRange  `avro:"_DELETIONS_VECTORS_RANGES"`
	ExternalPath *string          `avro:"_EXTERNAL_PATH"`
	GlobalIndex  *avroGlobalIndex `avro:"_GLOBAL_INDEX"`
}

// schemas are parsed once; the parsed form is immutable and safe to share.
var schemas = sync.OnceValues(func() ([3]*avro.Schema, error) {
	var out [3]*avro.Schema
	for i, s := range []string{ManifestEntrySchema, ManifestFileMetaSchema, IndexManifestEntrySchema} {
		p, err := avro.Parse(s)
		if err != nil {
			return out, err
		}
		out[i] = p
	}
	return out, nil
})

func codecFor(compression string) (ocf.Codec, error) {
	switch compression {
	case "", "zstd":
		return ocf.ZstdCodec([]zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault)}, nil)
	case "none", "null":
		return nil, nil
	case "snappy":
		return ocf.SnappyCodec(), nil
	case "deflate":
		return ocf.DeflateCodec(-1), nil
	}
	return nil, fmt.Errorf("unsupported manifest.compression %q", compression)
}

func encodeOCF[T any](schemaIdx int, compression string, rows []T) ([]byte, error) {
	ss, err := schemas()
	if err != nil {
		return nil, err
	}
	var opts []ocf.WriterOpt
	c, err := codecFor(compression)
	if err != nil {
		return nil, err
	}
	if c != nil {
		opts = append(opts, ocf.WithCodec(c))
	}
	var buf bytes.Buffer
	w, err := ocf.NewWriter(&buf, ss[schemaIdx], opts...)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if err := w.Encode(&rows[i]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeOCF decodes every row of an OCF file and hands it to each, which
// converts it at once: keeping only the converted rows halves the memory
// and copying of large manifests.
func decodeOCF[T any](schemaIdx int, data []byte, each func(*T) error) error {
	ss, err := schemas()
	if err != nil {
		return err
	}
	// The file's own schema may be older or newer than ours; resolve it
	// against ours so that added fields read as null and unknown ones are
	// skipped, as Java's reader does.
	r, err := ocf.NewReader(bytes.NewReader(data), ocf.WithReaderSchema(ss[schemaIdx]))
	if err != nil {
		return fmt.Errorf("%w: avro header: %v", ErrCorrupt, err)
	}
	var v T
	for n := 0; ; n++ {
		var zero T
		v = zero
		if err := r.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: avro row %d: %v", ErrCorrupt, n, err)
		}
		if err := each(&v); err != nil {
			return err
		}
	}
}

func toAvroStats(s SimpleStats) avroStats {
	a := avroStats{MinValues: nonNil(s.MinValues), MaxValues: nonNil(s.MaxValues)}
	if s.NullCounts != nil {
		nc := s.NullCounts
		a.NullCounts = &nc
	}
	return a
}

func fromAvroStats(a avroStats) SimpleStats {
	s := SimpleStats{MinValues: a.MinValues, MaxValues: a.MaxValues}
	if a.NullCounts != nil {
		s.NullCounts = *a.NullCounts
		if s.NullCounts == nil {
			s.NullCounts = []*int64{}
		}
	}
	return s
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func optBytes(b []byte) *[]byte {
	if b == nil {
		return nil
	}
	return &b
}

func derefBytes(p *[]byte) []byte {
	if p == nil {
		return nil
	}
	if *p == nil {
		return []byte{}
	}
	return *p
}

// EncodeManifestEntries writes a manifest file (Avro OCF) with the given
// compression (manifest.compression: zstd, snappy, deflate or none).
func EncodeManifestEntries(entries []ManifestEntry, compression string) ([]byte, error) {
	rows := make([]avroEntry, len(entries))
	for i, e := range entries {
		f := e.File
		extra := f.ExtraFiles
		if extra == nil {
			extra = []string{}
		}
		var src *int32
		if f.FileSource != nil {
			v := int32(*f.FileSource)
			src = &v
		}
		rows[i] = avroEntry{
			Version: manifestVersion, Kind: int32(e.Kind), Partition: nonNil(e.Partition),
			Bucket: e.Bucket, TotalBuckets: e.TotalBuckets,
			File: avroFile{
				FileName: f.FileName, FileSize: f.FileSize, RowCount: f.RowCount,
				MinKey: nonNil(f.MinKey), MaxKey: nonNil(f.MaxKey),
				KeyStats: toAvroStats(f.KeyStats), ValueStats: toAvroStats(f.ValueStats),
				MinSeq: f.MinSequenceNumber, MaxSeq: f.MaxSequenceNumber, SchemaID: f.SchemaID,
				Level: f.Level, ExtraFiles: extra, CreationTime: f.CreationTime,
				DeleteRowCount: f.DeleteRowCount, EmbeddedFileIndex: optBytes(f.EmbeddedIndex),
				FileSource: src, ValueStatsCols: f.ValueStatsCols, ExternalPath: f.ExternalPath,
				FirstRowID: f.FirstRowID, WriteCols: f.WriteCols,
			},
		}
	}
	return encodeOCF(0, compression, rows)
}

// DecodeManifestEntries reads a manifest file. Errors wrap ErrCorrupt.
//
// Files whose writer schema compiles to a decoding plan (every schema Java
// has written for manifests so far) are decoded by that plan, straight into
// the entries and with values sharing a few buffers; the rest go through
// the generic decoder, which gives the same entries.
func DecodeManifestEntries(data []byte) ([]ManifestEntry, error) {
	return AppendManifestEntries(nil, data)
}

// AppendManifestEntries is DecodeManifestEntries appending to dst: with room
// in dst, the entries are decoded in place. On error dst's contents past
// its length are undefined.
func AppendManifestEntries(dst []ManifestEntry, data []byte) ([]ManifestEntry, error) {
	out, ok, err := decodeEntriesPlanned(dst, data)
	if !ok {
		es, err := decodeManifestEntriesGeneric(data)
		if err != nil {
			return nil, err
		}
		return append(dst, es...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return out, nil
}

// decodeManifestEntriesGeneric decodes through the reflection-based Avro
// reader, resolving the writer schema against ManifestEntrySchema.
func decodeManifestEntriesGeneric(data []byte) ([]ManifestEntry, error) {
	var out []ManifestEntry
	err := decodeOCF(0, data, func(r *avroEntry) error {
		if r.Version != manifestVersion {
			return fmt.Errorf("%w: manifest entry version %d (want %d)", ErrCorrupt, r.Version, manifestVersion)
		}
		if r.Kind != 0 && r.Kind != 1 {
			return fmt.Errorf("%w: manifest entry kind %d", ErrCorrupt, r.Kind)
		}
		f := &r.File
		var src *FileSource
		if f.FileSource != nil {
			v := FileSource(*f.FileSource)
			src = &v
		}
		e := ManifestEntry{
			Kind: FileKind(r.Kind), Partition: r.Partition, Bucket: r.Bucket, TotalBuckets: r.TotalBuckets,
			File: DataFileMeta{
				FileName: f.FileName, FileSize: f.FileSize, RowCount: f.RowCount,
				MinKey: f.MinKey, MaxKey: f.MaxKey,
				KeyStats: fromAvroStats(f.KeyStats), ValueStats: fromAvroStats(f.ValueStats),
				MinSequenceNumber: f.MinSeq, MaxSequenceNumber: f.MaxSeq, SchemaID: f.SchemaID,
				Level: f.Level, ExtraFiles: f.ExtraFiles, CreationTime: f.CreationTime,
				DeleteRowCount: f.DeleteRowCount, EmbeddedIndex: derefBytes(f.EmbeddedFileIndex),
				FileSource: src, ValueStatsCols: f.ValueStatsCols, ExternalPath: f.ExternalPath,
				FirstRowID: f.FirstRowID, WriteCols: f.WriteCols,
			},
		}
		if e.File.ExtraFiles == nil {
			e.File.ExtraFiles = []string{}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EncodeManifestList writes a manifest list (Avro OCF).
func EncodeManifestList(metas []ManifestFileMeta, compression string) ([]byte, error) {
	rows := make([]avroManifestFileMeta, len(metas))
	for i, m := range metas {
		rows[i] = avroManifestFileMeta{
			Version: manifestVersion, FileName: m.FileName, FileSize: m.FileSize,
			NumAddedFiles: m.NumAddedFiles, NumDeletedFiles: m.NumDeletedFiles,
			PartitionStats: toAvroStats(m.PartitionStats), SchemaID: m.SchemaID,
			MinBucket: m.MinBucket, MaxBucket: m.MaxBucket, MinLevel: m.MinLevel, MaxLevel: m.MaxLevel,
			MinRowID: m.MinRowID, MaxRowID: m.MaxRowID,
		}
	}
	return encodeOCF(1, compression, rows)
}

// DecodeManifestList reads a manifest list. Errors wrap ErrCorrupt.
func DecodeManifestList(data []byte) ([]ManifestFileMeta, error) {
	var out []ManifestFileMeta
	err := decodeOCF(1, data, func(r *avroManifestFileMeta) error {
		if r.Version != manifestVersion {
			return fmt.Errorf("%w: manifest list version %d (want %d)", ErrCorrupt, r.Version, manifestVersion)
		}
		out = append(out, ManifestFileMeta{
			FileName: r.FileName, FileSize: r.FileSize, NumAddedFiles: r.NumAddedFiles,
			NumDeletedFiles: r.NumDeletedFiles, PartitionStats: fromAvroStats(r.PartitionStats),
			SchemaID: r.SchemaID, MinBucket: r.MinBucket, MaxBucket: r.MaxBucket,
			MinLevel: r.MinLevel, MaxLevel: r.MaxLevel, MinRowID: r.MinRowID, MaxRowID: r.MaxRowID,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EncodeIndexManifest writes an index manifest (Avro OCF).
func EncodeIndexManifest(entries []IndexManifestEntry, compression string) ([]byte, error) {
	rows := make([]avroIndexEntry, len(entries))
	for i, e := range entries {
		r := avroIndexEntry{
			Version: indexManifestVersion, Kind: int32(e.Kind), Partition: nonNil(e.Partition),
			Bucket: e.Bucket, IndexType: e.IndexType, FileName: e.FileName, FileSize: e.FileSize,
			RowCount: e.RowCount, ExternalPath: e.ExternalPath,
		}
		if e.DVRanges != nil {
			rs := make([]*avroDVRange, len(e.DVRanges))
			for j, d := range e.DVRanges {
				if d != nil {
					rs[j] = &avroDVRange{DataFile: d.DataFile, Offset: d.Offset, Length: d.Length, Cardinality: d.Cardinality}
				}
			}
			r.DVRanges = &rs
		}
		if g := e.GlobalIndex; g != nil {
			r.GlobalIndex = &avroGlobalIndex{
				RowRangeStart: g.RowRangeStart, RowRangeEnd: g.RowRangeEnd, IndexFieldID: g.IndexFieldID,
				IndexMeta: optBytes(g.IndexMeta), SourceMeta: optBytes(g.SourceMeta),
			}
			if g.ExtraFieldIDs != nil {
				ids := g.ExtraFieldIDs
				r.GlobalIndex.ExtraFieldIDs = &ids
			}
		}
		rows[i] = r
	}
	return encodeOCF(2, compression, rows)
}

// DecodeIndexManifest reads an index manifest. Errors wrap ErrCorrupt.
func DecodeIndexManifest(data []byte) ([]IndexManifestEntry, error) {
	var out []IndexManifestEntry
	err := decodeOCF(2, data, func(r *avroIndexEntry) error {
		if r.Version != indexManifestVersion {
			return fmt.Errorf("%w: index manifest version %d (want %d)", ErrCorrupt, r.Version, indexManifestVersion)
		}
		e := IndexManifestEntry{
			Kind: FileKind(r.Kind), Partition: r.Partition, Bucket: r.Bucket, IndexType: r.IndexType,
			FileName: r.FileName, FileSize: r.FileSize, RowCount: r.RowCount, ExternalPath: r.ExternalPath,
		}
		if r.DVRanges != nil {
			e.DVRanges = make([]*DeletionVectorMeta, len(*r.DVRanges))
			for j, d := range *r.DVRanges {
				if d != nil {
					e.DVRanges[j] = &DeletionVectorMeta{DataFile: d.DataFile, Offset: d.Offset, Length: d.Length, Cardinality: d.Cardinality}
				}
			}
		}
		if g := r.GlobalIndex; g != nil {
			e.GlobalIndex = &GlobalIndexMeta{
				RowRangeStart: g.RowRangeStart, RowRangeEnd: g.RowRangeEnd, IndexFieldID: g.IndexFieldID,
				IndexMeta: derefBytes(g.IndexMeta), SourceMeta: derefBytes(g.SourceMeta),
			}
			if g.ExtraFieldIDs != nil {
				e.GlobalIndex.ExtraFieldIDs = *g.ExtraFieldIDs
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
