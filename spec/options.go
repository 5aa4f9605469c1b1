package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidOption marks a table option whose value does not parse or is
// refused.
var ErrInvalidOption = errors.New("invalid table option")

// OptionError is a refused table option: its key, its value as written and
// why. It matches ErrInvalidOption with errors.Is, and ErrInvalidSchema too
// when it was found checking a table schema.
type OptionError struct {
	Key, Value string
	// Reason says what is wrong and what is allowed.
	Reason string
	// InSchema is set when the error refuses a table schema.
	InSchema bool
}

// Error implements error.
func (e *OptionError) Error() string {
	if e.InSchema {
		return fmt.Sprintf("%v: option %q = %q: %s", ErrInvalidSchema, e.Key, e.Value, e.Reason)
	}
	return fmt.Sprintf("%v %q = %q: %s", ErrInvalidOption, e.Key, e.Value, e.Reason)
}

// Unwrap returns the sentinels the error matches.
func (e *OptionError) Unwrap() []error {
	if e.InSchema {
		return []error{ErrInvalidOption, ErrInvalidSchema}
	}
	return []error{ErrInvalidOption}
}

// schemaError makes err, met while checking a table schema, wrap
// ErrInvalidSchema; an OptionError keeps its key, value and reason.
func schemaError(err error) error {
	var oe *OptionError
	if errors.As(err, &oe) {
		c := *oe
		c.InSchema = true
		return &c
	}
	return fmt.Errorf("%w: %w", ErrInvalidSchema, err)
}

// Names of the table options Strata reads, as Paimon's CoreOptions spells
// them.
const (
	OptBucket                       = "bucket"
	OptBucketKey                    = "bucket-key"
	OptBucketFunctionType           = "bucket-function.type"
	OptPath                         = "path"
	OptPrimaryKey                   = "primary-key"
	OptPartition                    = "partition"
	OptPrimaryKeyNullable           = "primary-key.nullable"
	OptFileFormat                   = "file.format"
	OptFileCompression              = "file.compression"
	OptFileSuffixIncludeCompression = "file.suffix.include.compression"
	OptDataFilePrefix               = "data-file.prefix"
	OptChangelogFilePrefix          = "changelog-file.prefix"
	OptMergeEngine                  = "merge-engine"
	OptChangelogProducer            = "changelog-producer"
	OptChangelogRowDeduplicate      = "changelog-producer.row-deduplicate"
	OptSequenceField                = "sequence.field"
	OptSequenceFieldSortOrder       = "sequence.field.sort-order"
	OptIgnoreDelete                 = "ignore-delete"
	OptWriteOnly                    = "write-only"
	OptDeletionVectorsEnabled       = "deletion-vectors.enabled"
	OptDeletionVectorsBitmap64      = "deletion-vectors.bitmap64"
	OptTargetFileSize               = "target-file-size"
	OptWriteBufferSize              = "write-buffer-size"
	OptLookupCacheMaxDiskSize       = "lookup.cache-max-disk-size"
	OptLookupCacheMaxMemorySize     = "lookup.cache-max-memory-size"
	OptNumSortedRunCompactTrigger   = "num-sorted-run.compaction-trigger"
	OptNumSortedRunStopTrigger      = "num-sorted-run.stop-trigger"
	OptNumLevels                    = "num-levels"
	OptCompactionMaxSizeAmpPercent  = "compaction.max-size-amplification-percent"
	OptCompactionSizeRatio          = "compaction.size-ratio"
	OptCompactionForceUpLevel0      = "compaction.force-up-level-0"
	OptFullCompactionDeltaCommits   = "full-compaction.delta-commits"
	OptLookupWait                   = "lookup-wait"
	OptManifestTargetFileSize       = "manifest.target-file-size"
	OptManifestMergeMinCount        = "manifest.merge-min-count"
	OptManifestFullCompactionSize   = "manifest.full-compaction-threshold-size"
	OptManifestCompression          = "manifest.compression"
	OptMetadataStatsMode            = "metadata.stats-mode"
	OptPartitionDefaultName         = "partition.default-name"
	OptPartitionLegacyName          = "partition.legacy-name"
	OptDynamicBucketTargetRowNum    = "dynamic-bucket.target-row-num"
	OptDynamicBucketMaxBuckets      = "dynamic-bucket.max-buckets"
	OptCommitUserPrefix             = "commit.user-prefix"
	OptCommitMaxRetries             = "commit.max-retries"
	OptSnapshotNumRetainedMin       = "snapshot.num-retained.min"
	OptSnapshotNumRetainedMax       = "snapshot.num-retained.max"
	OptSnapshotTimeRetained         = "snapshot.time-retained"
	OptSnapshotExpireLimit          = "snapshot.expire.limit"
	OptChangelogNumRetainedMin      = "changelog.num-retained.min"
	OptChangelogNumRetainedMax      = "changelog.num-retained.max"
	OptChangelogTimeRetained        = "changelog.time-retained"
	OptTagDefaultTimeRetained       = "tag.default-time-retained"
	OptConsumerExpirationTime       = "consumer.expiration-time"
	OptRowTrackingEnabled           = "row-tracking.enabled"
	OptRowKindField                 = "rowkind.field"
	OptIgnoreUpdateBefore           = "ignore-update-before"
	OptWriteBufferSpillable         = "write-buffer-spillable"
	OptWriteBufferSpillMaxDiskSize  = "write-buffer-spill.max-disk-size"
	OptDeletionVectorsMergeOnRead   = "deletion-vectors.merge-on-read"
	OptParquetEnableDictionary      = "parquet.enable.dictionary"
	OptChangelogRowDedupIgnore      = "changelog-producer.row-deduplicate-ignore-fields"
	OptFieldsDefaultAggFunction     = "fields.default-aggregate-function"
	OptAggregationRemoveOnDelete    = "aggregation.remove-record-on-delete"
	OptPartialUpdateRemoveOnDelete  = "partial-update.remove-record-on-delete"
	OptPartialUpdateRemoveOnGroup   = "partial-update.remove-record-on-sequence-group"
	OptForceLookup                  = "force-lookup"
	OptSequenceSnapshotOrdering     = "sequence.snapshot-ordering"
	OptDataEvolutionEnabled         = "data-evolution.enabled"
)

// Special values of the bucket option.
const (
	// BucketDynamic (-1, the default) means dynamic buckets for primary-key
	// tables and bucket-unaware writing for append tables.
	BucketDynamic = -1
	// BucketPostpone (-2) stages primary-key writes until a compaction
	// assigns real buckets.
	BucketPostpone = -2
)

// MergeEngine is the merge-engine option.
type MergeEngine string

// The merge engines.
const (
	MergeEngineDeduplicate   MergeEngine = "deduplicate"
	MergeEnginePartialUpdate MergeEngine = "partial-update"
	MergeEngineAggregation   MergeEngine = "aggregation"
	MergeEngineFirstRow      MergeEngine = "first-row"
)

// ChangelogProducer is the changelog-producer option.
type ChangelogProducer string

// The changelog producers.
const (
	ChangelogProducerNone           ChangelogProducer = "none"
	ChangelogProducerInput          ChangelogProducer = "input"
	ChangelogProducerLookup         ChangelogProducer = "lookup"
	ChangelogProducerFullCompaction ChangelogProducer = "full-compaction"
)

// BucketFunctionType is the bucket-function.type option.
type BucketFunctionType string

// The bucket functions.
const (
	BucketFunctionDefault BucketFunctionType = "default"
	BucketFunctionMod     BucketFunctionType = "mod"
	BucketFunctionHive    BucketFunctionType = "hive"
)

// SortOrder is the sequence.field.sort-order option.
type SortOrder string

// The sort orders.
const (
	SortOrderAscending  SortOrder = "ascending"
	SortOrderDescending SortOrder = "descending"
)

// Size constants for MemorySize values.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// Options are a table's options in typed form, with Paimon's defaults for
// everything not set. Derived values (NumSortedRunStopTrigger, NumLevels) are
// already resolved the way CoreOptions resolves them. Sizes are in bytes.
type Options struct {
	// Raw is the option map the values were parsed from.
	Raw map[string]string

	Bucket             int                // default -1 (BucketDynamic)
	BucketKey          []string           // nil unless bucket-key is set
	BucketFunctionType BucketFunctionType // default "default"
	PrimaryKeyNullable bool

	FileFormat                   string // lower-cased, default "parquet"
	FileCompression              string // default "zstd"
	FileSuffixIncludeCompression bool
	DataFilePrefix               string // default "data-"
	ChangelogFilePrefix          string // default "changelog-"

	MergeEngine                MergeEngine       // default deduplicate
	ChangelogProducer          ChangelogProducer // default none
	ChangelogRowDeduplicate    bool
	SequenceField              []string // trimmed names; nil unless set
	SequenceFieldSortOrder     SortOrder
	IgnoreDelete               bool
	WriteOnly                  bool
	DeletionVectorsEnabled     bool
	DeletionVectorsBitmap64    bool
	LookupWait                 bool // default true
	FullCompactionDeltaCommits *int
	RowTrackingEnabled         bool
	DynamicBucketTargetRowNum  int64 // default 2,000,000
	DynamicBucketMaxBuckets    int   // default -1 (no limit)
	CommitUserPrefix           *string
	CommitMaxRetries           int           // default 10
	SnapshotNumRetainedMin     int           // default 10
	SnapshotNumRetainedMax     int           // default math.MaxInt32
	SnapshotTimeRetained       time.Duration // default 1 h
	SnapshotExpireLimit        int           // default 50
	// The changelog's retention; each defaults to the snapshots'.
	ChangelogNumRetainedMin, ChangelogNumRetainedMax int
	ChangelogTimeRetained                            time.Duration
	PartitionDefaultName                             string
	PartitionLegacyName                              bool // default true: partition paths use Java toString of internal values
	MetadataStatsMode                                string
	ManifestCompression                              string
	ManifestTargetFileSize                           int64 // default 8 MiB
	ManifestMergeMinCount                            int   // default 30
	ManifestFullCompactionSize                       int64 // default 16 MiB
	TargetFileSize                                   *int64
	WriteBufferSize                                  int64 // default 256 MiB
	// LookupCacheMaxDiskSize bounds a lookup's local files (default
	// unlimited); LookupCacheMaxMemorySize its block cache (256 MiB).
	LookupCacheMaxDiskSize, LookupCacheMaxMemorySize int64
	NumSortedRunCompactTrigger                       int // default 5
	NumSortedRunStopTrigger                          int // default trigger+3, never below the trigger
	NumLevels                                        int // default trigger+1
	CompactionMaxSizeAmpPercent                      int // default 200
	CompactionSizeRatio                              int // default 1
	CompactionForceUpLevel0                          bool

	IgnoreUpdateBefore bool
	// RowKindField names the column holding each row's kind; nil unless
	// rowkind.field is set.
	RowKindField *string
	// WriteBufferSpillable (default true) lets full write buffers spill to
	// local disk.
	WriteBufferSpillable bool
	// WriteBufferSpillMaxDiskSize bounds the spilled bytes; 0 (the default)
	// is unlimited.
	WriteBufferSpillMaxDiskSize int64
	DeletionVectorsMergeOnRead  bool
	// ParquetEnableDictionary is parquet.enable.dictionary read as Hadoop's
	// Configuration.getBoolean does: "true" in any case, else false.
	ParquetEnableDictionary bool
	// ChangelogRowDedupIgnoreFields are the trimmed column names of
	// changelog-producer.row-deduplicate-ignore-fields; nil unless set.
	ChangelogRowDedupIgnoreFields     []string
	AggregationRemoveRecordOnDelete   bool
	PartialUpdateRemoveRecordOnDelete bool
	// PartialUpdateRemoveRecordOnGroup is the raw value of
	// partial-update.remove-record-on-sequence-group (ordering fields);
	// nil unless set.
	PartialUpdateRemoveRecordOnGroup *string
	// FieldsDefaultAggFunction is fields.default-aggregate-function; nil
	// unless set.
	FieldsDefaultAggFunction *string
	// TagDefaultTimeRetained is tag.default-time-retained, the retention of
	// tags created without one; nil unless set.
	TagDefaultTimeRetained *time.Duration
	// ConsumerExpirationTime is consumer.expiration-time: snapshot
	// expiration deletes consumers not written for that long; nil unless
	// set.
	ConsumerExpirationTime *time.Duration
}

// TargetFileSizeBytes returns target-file-size, whose default depends on the
// table kind: 128 MiB with a primary key, 256 MiB without.
func (o Options) TargetFileSizeBytes(hasPrimaryKey bool) int64 {
	if o.TargetFileSize != nil {
		return *o.TargetFileSize
	}
	if hasPrimaryKey {
		return 128 * MiB
	}
	return 256 * MiB
}

// CommitUser returns a commit user for a new writing job from a random id
// (normally a UUID): the id itself, or "<commit.user-prefix>_<id>".
func (o Options) CommitUser(id string) string {
	if o.CommitUserPrefix == nil {
		return id
	}
	return *o.CommitUserPrefix + "_" + id
}

func optionError(key, value string, err error) error {
	return &OptionError{Key: key, Value: value, Reason: err.Error()}
}

// optionParser looks options up with Paimon's fallback keys and keeps the
// first error.
type optionParser struct {
	m   map[string]string
	err error
}

func (p *optionParser) lookup(key string, fallbacks ...string) (string, string, bool) {
	for _, k := range append([]string{key}, fallbacks...) {
		if v, ok := p.m[k]; ok {
			return k, v, true
		}
	}
	return "", "", false
}

func (p *optionParser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *optionParser) str(def, key string, fallbacks ...string) string {
	if _, v, ok := p.lookup(key, fallbacks...); ok {
		return v
	}
	return def
}

func (p *optionParser) optStr(key string) *string {
	if _, v, ok := p.lookup(key); ok {
		return &v
	}
	return nil
}

func (p *optionParser) int(def int, key string, fallbacks ...string) int {
	if v := p.optInt(key, fallbacks...); v != nil {
		return *v
	}
	return def
}

// optInt parses a Java int (Integer.parseInt: optional sign, no spaces).
func (p *optionParser) optInt(key string, fallbacks ...string) *int {
	k, v, ok := p.lookup(key, fallbacks...)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		p.fail(optionError(k, v, errors.New("want a 32-bit integer")))
		return nil
	}
	i := int(n)
	return &i
}

func (p *optionParser) long(def int64, key string) int64 {
	k, v, ok := p.lookup(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		p.fail(optionError(k, v, errors.New("want a 64-bit integer")))
		return def
	}
	return n
}

func (p *optionParser) duration(def time.Duration, key string) time.Duration {
	if d := p.optDuration(key); d != nil {
		return *d
	}
	return def
}

func (p *optionParser) bool(def bool, key string, fallbacks ...string) bool {
	k, v, ok := p.lookup(key, fallbacks...)
	if !ok {
		return def
	}
	b, err := parseBoolOption(k, v)
	if err != nil {
		p.fail(err)
		return def
	}
	return b
}

// parseBoolOption accepts true or false in any case, as Paimon does.
func parseBoolOption(key, v string) (bool, error) {
	switch strings.ToUpper(v) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, optionError(key, v, errors.New("want true or false"))
}

func (p *optionParser) optSize(key string) *int64 {
	k, v, ok := p.lookup(key)
	if !ok {
		return nil
	}
	n, err := ParseMemorySize(v)
	if err != nil {
		p.fail(optionError(k, v, fmt.Errorf("%w; want a size such as \"64 mb\"", err)))
		return nil
	}
	return &n
}

func (p *optionParser) size(def int64, key string) int64 {
	if v := p.optSize(key); v != nil {
		return *v
	}
	return def
}

// enum matches v against allowed without regard to case, as Paimon's
// OptionsUtils.convertToEnum does, and returns the canonical spelling.
func (p *optionParser) enum(def string, key string, allowed ...string) string {
	k, v, ok := p.lookup(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a
		}
	}
	p.fail(optionError(k, v, fmt.Errorf("want one of %s", strings.Join(allowed, ", "))))
	return def
}

// ParseOptions reads a table's options into typed form with Paimon's
// defaults. A value that does not parse is an error wrapping
// ErrInvalidOption that names the option; unknown options are ignored (they
// stay in Raw), so tables written by Java with options Strata does not know
// still open. ValidateCreate applies the stricter checks for new tables.
func ParseOptions(m map[string]string) (Options, error) {
	p := &optionParser{m: m}
	raw := make(map[string]string, len(m))
	for k, v := range m {
		raw[k] = v
	}
	o := Options{Raw: raw}
	p.parseLayout(&o)
	p.parseMerge(&o)
	p.parseCommit(&o)
	p.parseLSM(&o)
	o.TagDefaultTimeRetained = p.optDuration(OptTagDefaultTimeRetained)
	o.ConsumerExpirationTime = p.optDuration(OptConsumerExpirationTime)
	if p.err != nil {
		return Options{}, p.err
	}
	return o, nil
}

// parseLayout reads the bucket, file and partition options.
func (p *optionParser) parseLayout(o *Options) {
	o.Bucket = p.int(BucketDynamic, OptBucket)
	o.BucketFunctionType = BucketFunctionType(p.enum(string(BucketFunctionDefault), OptBucketFunctionType,
		string(BucketFunctionDefault), string(BucketFunctionMod), string(BucketFunctionHive)))
	o.PrimaryKeyNullable = p.bool(false, OptPrimaryKeyNullable)
	o.FileFormat = strings.ToLower(p.str("parquet", OptFileFormat))
	o.FileCompression = strings.ToLower(p.str("zstd", OptFileCompression))
	o.FileSuffixIncludeCompression = p.bool(false, OptFileSuffixIncludeCompression)
	o.DataFilePrefix = p.str("data-", OptDataFilePrefix)
	o.ChangelogFilePrefix = p.str("changelog-", OptChangelogFilePrefix)
	o.PartitionDefaultName = p.str("__DEFAULT_PARTITION__", OptPartitionDefaultName)
	o.PartitionLegacyName = p.bool(true, OptPartitionLegacyName)
	o.MetadataStatsMode = p.str("truncate(16)", OptMetadataStatsMode)
	o.ParquetEnableDictionary = strings.EqualFold(p.str("", OptParquetEnableDictionary), "true")
	o.RowTrackingEnabled = p.bool(false, OptRowTrackingEnabled)
	o.DynamicBucketTargetRowNum = p.long(2_000_000, OptDynamicBucketTargetRowNum)
	o.DynamicBucketMaxBuckets = p.int(-1, OptDynamicBucketMaxBuckets)
	if v, ok := p.m[OptBucketKey]; ok && strings.TrimSpace(v) != "" {
		o.BucketKey = strings.Split(v, ",")
	}
}

// parseMerge reads the merge engine, changelog and deletion-vector options.
func (p *optionParser) parseMerge(o *Options) {
	o.MergeEngine = MergeEngine(p.enum(string(MergeEngineDeduplicate), OptMergeEngine,
		string(MergeEngineDeduplicate), string(MergeEnginePartialUpdate), string(MergeEngineAggregation), string(MergeEngineFirstRow)))
	o.ChangelogProducer = ChangelogProducer(p.enum(string(ChangelogProducerNone), OptChangelogProducer,
		string(ChangelogProducerNone), string(ChangelogProducerInput), string(ChangelogProducerFullCompaction), string(ChangelogProducerLookup)))
	o.ChangelogRowDeduplicate = p.bool(false, OptChangelogRowDeduplicate)
	o.SequenceFieldSortOrder = SortOrder(p.enum(string(SortOrderAscending), OptSequenceFieldSortOrder,
		string(SortOrderAscending), string(SortOrderDescending)))
	o.IgnoreDelete = p.bool(false, OptIgnoreDelete, "first-row.ignore-delete", "deduplicate.ignore-delete", "partial-update.ignore-delete")
	o.IgnoreUpdateBefore = p.bool(false, OptIgnoreUpdateBefore)
	o.RowKindField = p.optStr(OptRowKindField)
	o.DeletionVectorsEnabled = p.bool(false, OptDeletionVectorsEnabled)
	o.DeletionVectorsBitmap64 = p.bool(false, OptDeletionVectorsBitmap64)
	o.DeletionVectorsMergeOnRead = p.bool(false, OptDeletionVectorsMergeOnRead)
	o.LookupWait = p.bool(true, OptLookupWait, "changelog-producer.lookup-wait")
	o.AggregationRemoveRecordOnDelete = p.bool(false, OptAggregationRemoveOnDelete)
	o.PartialUpdateRemoveRecordOnDelete = p.bool(false, OptPartialUpdateRemoveOnDelete)
	o.PartialUpdateRemoveRecordOnGroup = p.optStr(OptPartialUpdateRemoveOnGroup)
	o.FieldsDefaultAggFunction = p.optStr(OptFieldsDefaultAggFunction)
	o.SequenceField = trimmedList(p.m, OptSequenceField)
	if p.m[OptChangelogRowDedupIgnore] != "" {
		o.ChangelogRowDedupIgnoreFields = trimmedList(p.m, OptChangelogRowDedupIgnore)
	}
}

// parseCommit reads the commit, snapshot and manifest options.
func (p *optionParser) parseCommit(o *Options) {
	o.CommitUserPrefix = p.optStr(OptCommitUserPrefix)
	o.CommitMaxRetries = p.int(10, OptCommitMaxRetries)
	o.SnapshotNumRetainedMin = p.int(10, OptSnapshotNumRetainedMin)
	o.SnapshotNumRetainedMax = p.int(math.MaxInt32, OptSnapshotNumRetainedMax)
	o.SnapshotTimeRetained = p.duration(time.Hour, OptSnapshotTimeRetained)
	o.SnapshotExpireLimit = p.int(50, OptSnapshotExpireLimit)
	o.ChangelogNumRetainedMin = p.int(o.SnapshotNumRetainedMin, OptChangelogNumRetainedMin)
	o.ChangelogNumRetainedMax = p.int(o.SnapshotNumRetainedMax, OptChangelogNumRetainedMax)
	o.ChangelogTimeRetained = p.duration(o.SnapshotTimeRetained, OptChangelogTimeRetained)
	o.ManifestCompression = strings.ToLower(p.str("zstd", OptManifestCompression))
	o.ManifestTargetFileSize = p.size(8*MiB, OptManifestTargetFileSize)
	o.ManifestMergeMinCount = p.int(30, OptManifestMergeMinCount)
	o.ManifestFullCompactionSize = p.size(16*MiB, OptManifestFullCompactionSize)
}

// parseLSM reads the write-buffer and compaction options, resolving the
// derived defaults (stop trigger, number of levels) as CoreOptions does.
func (p *optionParser) parseLSM(o *Options) {
	o.WriteOnly = p.bool(false, OptWriteOnly, "write.compaction-skip")
	o.TargetFileSize = p.optSize(OptTargetFileSize)
	o.WriteBufferSize = p.size(256*MiB, OptWriteBufferSize)
	o.LookupCacheMaxDiskSize = p.size(math.MaxInt64, OptLookupCacheMaxDiskSize)
	o.LookupCacheMaxMemorySize = p.size(256*MiB, OptLookupCacheMaxMemorySize)
	o.WriteBufferSpillable = p.bool(true, OptWriteBufferSpillable)
	o.WriteBufferSpillMaxDiskSize = p.size(0, OptWriteBufferSpillMaxDiskSize)
	o.FullCompactionDeltaCommits = p.optInt(OptFullCompactionDeltaCommits)
	o.NumSortedRunCompactTrigger = p.int(5, OptNumSortedRunCompactTrigger)
	o.CompactionMaxSizeAmpPercent = p.int(200, OptCompactionMaxSizeAmpPercent)
	o.CompactionSizeRatio = p.int(1, OptCompactionSizeRatio)
	o.CompactionForceUpLevel0 = p.bool(false, OptCompactionForceUpLevel0)
	trigger := o.NumSortedRunCompactTrigger
	o.NumSortedRunStopTrigger = max(trigger, p.int(addClamped(trigger, 3), OptNumSortedRunStopTrigger))
	o.NumLevels = p.int(addClamped(trigger, 1), OptNumLevels)
}

// trimmedList splits a comma-separated option into trimmed names; nil when
// the option is unset.
func trimmedList(m map[string]string, key string) []string {
	v, ok := m[key]
	if !ok {
		return nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

// addClamped adds like Paimon's MathUtils.addSafely: saturating at the int32
// limits instead of overflowing.
func addClamped(a, b int) int {
	s := int64(a) + int64(b)
	return int(min(max(s, math.MinInt32), math.MaxInt32))
}

// memoryUnits are MemorySize's unit spellings (matched after lower-casing).
var memoryUnits = []struct {
	names      []string
	multiplier int64
}{
	{[]string{"b", "bytes"}, 1},
	{[]string{"k", "kb", "kibibytes"}, KiB},
	{[]string{"m", "mb", "mebibytes"}, MiB},
	{[]string{"g", "gb", "gibibytes"}, GiB},
	{[]string{"t", "tb", "tebibytes"}, TiB},
}

// numberAndUnit splits an option value such as "128 mb" or "7d" into its
// leading non-negative whole number and its unit label, trimmed and lower
// case ("" when there is none); what names the kind of value in errors.
func numberAndUnit(text, what string) (int64, string, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return 0, "", fmt.Errorf("empty %s", what)
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("%s %q does not start with a number", what, text)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%s %q: number beyond 64 bits", what, text)
	}
	return n, strings.ToLower(strings.TrimSpace(s[i:])), nil
}

// ParseMemorySize parses a size the way Paimon's MemorySize.parse does:
// digits, optional spaces, and an optional case-insensitive unit among b,
// bytes, k, kb, kibibytes, m, mb, mebibytes, g, gb, gibibytes, t, tb,
// tebibytes (all powers of 1024); no unit means bytes. Examples: "128 mb",
// "1gb", "512kb", "4096".
func ParseMemorySize(s string) (int64, error) {
	n, unit, err := numberAndUnit(s, "memory size")
	if err != nil {
		return 0, err
	}
	mult := int64(1)
	if unit != "" {
		found := false
		for _, u := range memoryUnits {
			for _, name := range u.names {
				if name == unit {
					mult, found = u.multiplier, true
				}
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown memory size unit %q (want b, k[b], m[b], g[b] or t[b])", unit)
		}
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("memory size %q overflows 64 bits", s)
	}
	return n * mult, nil
}
