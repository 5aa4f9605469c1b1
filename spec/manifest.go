package spec

// SimpleStats are per-column min, max and null counts. MinValues and
// MaxValues are serialized BinaryRows (SerializeBinaryRow) with one field per
// stats column; NullCounts nil means null (Avro null), and an entry of nil
// means the count is unknown.
type SimpleStats struct {
	MinValues  []byte
	MaxValues  []byte
	NullCounts []*int64
}

// EmptyStats is Paimon's EMPTY_STATS: arity-0 rows and no null counts.
func EmptyStats() SimpleStats {
	return SimpleStats{MinValues: SerializedEmptyRow(), MaxValues: SerializedEmptyRow(), NullCounts: []*int64{}}
}

// FileSource says whether a data file came from a write or a compaction.
type FileSource int32

// The two file sources.
const (
	FileSourceAppend  FileSource = 0
	FileSourceCompact FileSource = 1
)

// DataFileMeta describes one data (or changelog) file in a manifest entry.
// Field order and meaning follow Java's DataFileMeta.
type DataFileMeta struct {
	FileName          string
	FileSize          int64
	RowCount          int64
	MinKey            []byte // serialized BinaryRow of the trimmed primary key
	MaxKey            []byte
	KeyStats          SimpleStats
	ValueStats        SimpleStats
	MinSequenceNumber int64
	MaxSequenceNumber int64
	SchemaID          int64
	Level             int32
	ExtraFiles        []string
	// CreationTime is epoch milliseconds of the local wall clock read as
	// UTC, as Java writes it (LocalDateTime.now()).
	CreationTime   *int64
	DeleteRowCount *int64
	EmbeddedIndex  []byte // nil means null
	FileSource     *FileSource
	// ValueStatsCols nil means every value column has stats; a pointer to an
	// empty slice means none has.
	ValueStatsCols *[]string
	ExternalPath   *string
	FirstRowID     *int64
	WriteCols      *[]string
}

// FileKind is ADD or DELETE in a manifest entry.
type FileKind int8

// The two manifest entry kinds.
const (
	FileKindAdd    FileKind = 0
	FileKindDelete FileKind = 1
)

// String returns ADD or DELETE.
func (k FileKind) String() string {
	if k == FileKindDelete {
		return "DELETE"
	}
	return "ADD"
}

// ManifestEntry is one row of a manifest file.
type ManifestEntry struct {
	Kind         FileKind
	Partition    []byte // serialized BinaryRow
	Bucket       int32
	TotalBuckets int32
	File         DataFileMeta
}

// ManifestFileMeta is one row of a manifest list.
type ManifestFileMeta struct {
	FileName        string
	FileSize        int64
	NumAddedFiles   int64
	NumDeletedFiles int64
	PartitionStats  SimpleStats
	SchemaID        int64
	MinBucket       *int32
	MaxBucket       *int32
	MinLevel        *int32
	MaxLevel        *int32
	MinRowID        *int64
	MaxRowID        *int64
}

// GlobalIndexMeta is the global-index part of an index manifest entry; Strata
// carries it through unchanged.
type GlobalIndexMeta struct {
	RowRangeStart int64
	RowRangeEnd   int64
	IndexFieldID  int32
	ExtraFieldIDs []int32 // nil means null
	IndexMeta     []byte  // nil means null
	SourceMeta    []byte  // nil means null
}

// Index types in index manifests.
const (
	IndexTypeHash = "HASH"
)

// IndexManifestEntry is one row of an index manifest.
type IndexManifestEntry struct {
	Kind         FileKind
	Partition    []byte
	Bucket       int32
	IndexType    string
	FileName     string
	FileSize     int64
	RowCount     int64
	DVRanges     []*DeletionVectorMeta // nil means null
	ExternalPath *string
	GlobalIndex  *GlobalIndexMeta
}
