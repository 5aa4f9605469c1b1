package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// invalidOption is an OptionError refusing a schema (it wraps
// ErrInvalidSchema): the option, its value and what is allowed instead.
func invalidOption(key, value, format string, args ...any) error {
	return &OptionError{Key: key, Value: value, Reason: fmt.Sprintf(format, args...), InSchema: true}
}

// rawOption returns an option's value as written, "" when unset.
func (s *TableSchema) rawOption(key string) string {
	v, _ := s.Options.Get(key)
	return v
}

// validateOptions applies the option rules of Paimon's
// SchemaValidation.validateTableSchema that need no merge function:
// fields.* keys name columns, sequence.field, rowkind.field, the changelog
// producer and deletion-vector combinations, and snapshot retention. The
// merge-function rules (sequence groups, aggregate functions) are checked
// by lsm's factories, as Java checks them by creating its factory.
func (s *TableSchema) validateOptions(opts Options) error {
	if err := s.validateFieldOptionColumns(); err != nil {
		return err
	}
	if err := s.validateSequenceField(opts); err != nil {
		return err
	}
	if opts.RowKindField != nil && s.FieldIndex(*opts.RowKindField) < 0 {
		return invalidOption(OptRowKindField, *opts.RowKindField, "column %q does not exist; want one of %v",
			*opts.RowKindField, s.FieldNames())
	}
	producer := string(opts.ChangelogProducer)
	if opts.FullCompactionDeltaCommits != nil && opts.ChangelogProducer == ChangelogProducerLookup {
		return invalidOption(OptChangelogProducer, producer, "%q is incompatible with changelog-producer lookup; "+
			"use changelog-producer full-compaction for periodic full compaction with changelog, or remove %q",
			OptFullCompactionDeltaCommits, OptFullCompactionDeltaCommits)
	}
	if opts.MergeEngine == MergeEngineFirstRow && opts.ChangelogProducer != ChangelogProducerNone &&
		opts.ChangelogProducer != ChangelogProducerLookup {
		return invalidOption(OptChangelogProducer, producer, "merge-engine first-row supports only none and lookup")
	}
	if opts.DeletionVectorsEnabled {
		if opts.ChangelogProducer == ChangelogProducerFullCompaction {
			return invalidOption(OptChangelogProducer, producer,
				"deletion-vectors.enabled=true supports only none, input and lookup (Paimon rejects full-compaction)")
		}
		if opts.MergeEngine == MergeEngineFirstRow {
			return invalidOption(OptDeletionVectorsEnabled, s.rawOption(OptDeletionVectorsEnabled),
				"want false with merge-engine first-row: first-row never deletes old rows, so Paimon rejects deletion vectors for it")
		}
	}
	if opts.SnapshotNumRetainedMin < 1 {
		return invalidOption(OptSnapshotNumRetainedMin, s.rawOption(OptSnapshotNumRetainedMin), "want an integer >= 1")
	}
	if opts.SnapshotExpireLimit < 1 {
		return invalidOption(OptSnapshotExpireLimit, s.rawOption(OptSnapshotExpireLimit), "want an integer >= 1")
	}
	if opts.SnapshotNumRetainedMin > opts.SnapshotNumRetainedMax {
		if _, set := s.Options.Get(OptSnapshotNumRetainedMin); !set {
			return invalidOption(OptSnapshotNumRetainedMax, s.rawOption(OptSnapshotNumRetainedMax),
				"want at least %s = %d (its default)", OptSnapshotNumRetainedMin, opts.SnapshotNumRetainedMin)
		}
		return invalidOption(OptSnapshotNumRetainedMin, s.rawOption(OptSnapshotNumRetainedMin),
			"want at most %s = %d", OptSnapshotNumRetainedMax, opts.SnapshotNumRetainedMax)
	}
	if opts.ChangelogNumRetainedMin < 1 {
		return invalidOption(OptChangelogNumRetainedMin, s.rawOption(OptChangelogNumRetainedMin), "want an integer >= 1")
	}
	if opts.ChangelogNumRetainedMin > opts.ChangelogNumRetainedMax {
		return invalidOption(OptChangelogNumRetainedMax, s.rawOption(OptChangelogNumRetainedMax),
			"want at least %s = %d", OptChangelogNumRetainedMin, opts.ChangelogNumRetainedMin)
	}
	return nil
}

// validateFieldOptionColumns is Paimon's validateFieldsPrefix: every column
// named in a fields.<a,b>.<suffix> key exists, and no key reaches into a
// ROW column's members.
func (s *TableSchema) validateFieldOptionColumns() error {
	names := s.FieldNames()
	for _, k := range s.Options.Keys() {
		if !strings.HasPrefix(k, "fields.") {
			continue
		}
		segments := strings.Split(k, ".")
		columns := javaSplitComma(segments[1])
		for _, c := range columns {
			if c != "default-aggregate-function" && !slices.Contains(names, c) {
				return invalidOption(k, s.rawOption(k), "column %q does not exist; want one of %v", c, names)
			}
		}
		if len(segments) > 3 && len(columns) == 1 {
			if f, ok := s.Field(columns[0]); ok && f.Type.Root == TypeRow {
				return invalidOption(k, s.rawOption(k), "nested-field paths into ROW column %q are not supported", columns[0])
			}
		}
	}
	return nil
}

// javaSplitComma splits like Java's s.split(","): trailing empty strings
// are dropped.
func javaSplitComma(s string) []string {
	parts := strings.Split(s, ",")
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// validateSequenceField is Paimon's validateSequenceField.
func (s *TableSchema) validateSequenceField(opts Options) error {
	if len(opts.SequenceField) == 0 {
		return nil
	}
	raw := s.rawOption(OptSequenceField)
	if d := duplicateNames(opts.SequenceField); len(d) > 0 {
		return invalidOption(OptSequenceField, raw, "sequence field %q is defined repeatedly", d[0])
	}
	for _, f := range opts.SequenceField {
		if s.FieldIndex(f) < 0 {
			return invalidOption(OptSequenceField, raw, "sequence field %q is not a column; want columns of %v", f, s.FieldNames())
		}
	}
	if opts.MergeEngine == MergeEngineFirstRow {
		return invalidOption(OptSequenceField, raw, "merge-engine first-row does not support a sequence field")
	}
	if s.CrossPartitionUpdate() {
		return invalidOption(OptSequenceField, raw, "a sequence field is not allowed when the primary key %v lacks partition columns %v (cross-partition update)",
			s.PrimaryKeys, s.PartitionKeys)
	}
	return nil
}

// ValidateCreate checks a new table's schema strictly, before anything is
// written: Paimon's rules (Validate), every option Strata reads parsed into
// its typed form and within range, only values Strata can honour (Parquet,
// the codecs it writes, default bucket function, no postpone buckets, ...),
// and the combinations Strata cannot write (fixed buckets with a
// cross-partition primary key, deletion vectors on append tables). Errors
// wrap ErrInvalidSchema and name the option, the bad value and what is
// allowed. The merge-engine rules that need the merge function (sequence
// groups, aggregate functions and their column types) are checked by lsm's
// factories; table.Create builds them before it writes.
//
// The warnings name unknown option keys and the nearest known key. They are
// returned even with an error. Opening an existing table applies none of
// this: unknown keys and values Strata does not use are left alone there.
func (s *TableSchema) ValidateCreate() (warnings []string, err error) {
	warnings = UnknownOptionWarnings(s.Options.Keys())
	if err := s.Validate(); err != nil {
		return warnings, err
	}
	opts, err := s.CoreOptions()
	if err != nil {
		return warnings, schemaError(err)
	}
	for _, check := range []func(Options) error{s.checkNumbers, s.checkSupported, s.checkWritable, s.checkFieldOptions} {
		if err := check(opts); err != nil {
			return warnings, err
		}
	}
	return warnings, nil
}

// numberRule bounds a numeric option Strata reads.
type numberRule struct {
	key  string
	size bool // a memory size such as "128 mb", else an integer
	min  int64
}

// numberRules are the lower bounds of the numeric options Strata reads (0 or
// 1 for sizes). The upper bounds are the types' (32-bit for integers, as in
// Java).
var numberRules = []numberRule{
	{OptWriteBufferSize, true, 1},
	{OptLookupCacheMaxDiskSize, true, 1},
	{OptLookupCacheMaxMemorySize, true, 1},
	{OptTargetFileSize, true, 1},
	{OptWriteBufferSpillMaxDiskSize, true, 1},
	{OptManifestTargetFileSize, true, 1},
	{OptManifestFullCompactionSize, true, 0},
	{OptNumSortedRunCompactTrigger, false, 1},
	{OptNumSortedRunStopTrigger, false, 1},
	{OptNumLevels, false, 2},
	{OptCompactionMaxSizeAmpPercent, false, 0},
	{OptCompactionSizeRatio, false, 0},
	{OptFullCompactionDeltaCommits, false, 1},
	{OptManifestMergeMinCount, false, 1},
	{OptDynamicBucketTargetRowNum, false, 1},
	{OptCommitMaxRetries, false, 0},
	{OptSnapshotNumRetainedMax, false, 1},
}

// checkNumbers applies numberRules; ParseOptions has already checked that
// the values parse.
func (s *TableSchema) checkNumbers(opts Options) error {
	for _, r := range numberRules {
		v, ok := s.Options.Get(r.key)
		if !ok {
			continue
		}
		var n int64
		var err error
		if r.size {
			n, err = ParseMemorySize(v)
		} else {
			n, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return invalidOption(r.key, v, "%v", err)
		}
		if n < r.min {
			if r.size {
				return invalidOption(r.key, v, "want a memory size above 0, such as \"64 mb\"")
			}
			return invalidOption(r.key, v, "want an integer >= %d", r.min)
		}
	}
	if n := opts.DynamicBucketMaxBuckets; n == 0 || n < -1 {
		return invalidOption(OptDynamicBucketMaxBuckets, s.rawOption(OptDynamicBucketMaxBuckets),
			"want -1 (no limit) or an integer >= 1")
	}
	return nil
}

// Codecs Strata writes, as file.compression and manifest.compression
// accept them (lower case).
var (
	dataFileCodecs = []string{"zstd", "snappy", "none", "uncompressed"}
	manifestCodecs = []string{"zstd", "snappy", "deflate", "none", "null"}
)

// unhonouredFlags are boolean options whose true value asks for a feature
// Strata does not implement.
var unhonouredFlags = []struct{ key, why string }{
	{OptFileSuffixIncludeCompression, "Strata names data files <prefix><uuid>-<n>.parquet"},
	{OptRowTrackingEnabled, "Strata does not implement row tracking"},
	{OptDataEvolutionEnabled, "Strata does not implement data evolution"},
	{OptForceLookup, "Strata does not implement forced lookup compaction"},
	{OptSequenceSnapshotOrdering, "Strata orders records by sequence number and sequence.field only"},
}

// checkSupported refuses values Paimon allows but Strata cannot honour.
func (s *TableSchema) checkSupported(opts Options) error {
	switch {
	case opts.FileFormat != "parquet":
		return invalidOption(OptFileFormat, s.rawOption(OptFileFormat), "want parquet (Strata writes Parquet data files only)")
	case !slices.Contains(dataFileCodecs, opts.FileCompression):
		return invalidOption(OptFileCompression, s.rawOption(OptFileCompression), "want one of %s", strings.Join(dataFileCodecs, ", "))
	case !slices.Contains(manifestCodecs, opts.ManifestCompression):
		return invalidOption(OptManifestCompression, s.rawOption(OptManifestCompression), "want one of %s", strings.Join(manifestCodecs, ", "))
	case opts.BucketFunctionType != BucketFunctionDefault:
		return invalidOption(OptBucketFunctionType, s.rawOption(OptBucketFunctionType),
			"want default (Strata routes rows with Paimon's default bucket function only)")
	case opts.Bucket == BucketPostpone:
		return invalidOption(OptBucket, s.rawOption(OptBucket),
			"postpone buckets are not supported; want -1 (dynamic buckets) or a bucket count >= 1")
	}
	for _, k := range []string{OptDataFilePrefix, OptChangelogFilePrefix, OptPartitionDefaultName} {
		if v, ok := s.Options.Get(k); ok && !safePathPart(v, k != OptPartitionDefaultName) {
			return invalidOption(k, v, "want a file name part without '/' or '\\' (and not empty, . or ..)")
		}
	}
	if _, err := ParseStatsMode(opts.MetadataStatsMode); err != nil {
		return invalidOption(OptMetadataStatsMode, opts.MetadataStatsMode, "want none, counts, full or truncate(N)")
	}
	if v, ok := s.Options.Get(OptParquetEnableDictionary); ok {
		if _, err := parseBoolOption(OptParquetEnableDictionary, v); err != nil {
			return invalidOption(OptParquetEnableDictionary, v, "want true or false")
		}
	}
	for _, f := range unhonouredFlags {
		v, ok := s.Options.Get(f.key)
		if !ok {
			continue
		}
		on, err := parseBoolOption(f.key, v)
		if err != nil {
			return invalidOption(f.key, v, "want true or false")
		}
		if on {
			return invalidOption(f.key, v, "want false: %s", f.why)
		}
	}
	return nil
}

// safePathPart reports whether v can be part of one path element: no
// separators, and (unless it is a prefix to which more is appended) not
// empty, "." or "..".
func safePathPart(v string, prefix bool) bool {
	if strings.ContainsAny(v, "/\\") {
		return false
	}
	return prefix || (v != "" && v != "." && v != "..")
}

// checkWritable refuses combinations Paimon allows but Strata cannot
// write.
func (s *TableSchema) checkWritable(opts Options) error {
	if len(s.PrimaryKeys) == 0 {
		if opts.DeletionVectorsEnabled {
			return invalidOption(OptDeletionVectorsEnabled, s.rawOption(OptDeletionVectorsEnabled),
				"want false for a table without primary key (Strata does not write deletion vectors for append tables)")
		}
		return nil
	}
	if opts.Bucket >= 1 && s.CrossPartitionUpdate() {
		return invalidOption(OptBucket, s.rawOption(OptBucket),
			"want -1: the primary key %v lacks partition columns %v, and Strata writes such cross-partition keys with dynamic buckets only",
			s.PrimaryKeys, s.PartitionKeys)
	}
	return nil
}

// checkFieldOptions checks the values of the per-field options Strata
// reads (fields.<f>.stats-mode, .ignore-retract and .distinct) and, as
// Paimon's validateSequenceField does, that no sequence field has an
// aggregate function.
func (s *TableSchema) checkFieldOptions(opts Options) error {
	for _, k := range s.Options.Keys() {
		column, suffix, ok := splitFieldOption(k)
		if !ok {
			continue
		}
		v := s.rawOption(k)
		switch suffix {
		case "aggregate-function":
			if slices.Contains(opts.SequenceField, column) {
				return invalidOption(k, v, "want no aggregate function on sequence field %q", column)
			}
		case "stats-mode":
			if _, err := ParseStatsMode(v); err != nil {
				return invalidOption(k, v, "want none, counts, full or truncate(N)")
			}
		case "ignore-retract", "distinct":
			if _, err := parseBoolOption(k, v); err != nil {
				return invalidOption(k, v, "want true or false")
			}
		}
	}
	return nil
}
