package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Every option Strata reads is a known key, so it never draws a warning.
func TestHonouredOptionsAreKnown(t *testing.T) {
	for _, k := range []string{
		OptBucket, OptBucketKey, OptBucketFunctionType, OptPath, OptPrimaryKey, OptPartition, OptPrimaryKeyNullable,
		OptFileFormat, OptFileCompression, OptFileSuffixIncludeCompression, OptDataFilePrefix, OptChangelogFilePrefix,
		OptMergeEngine, OptChangelogProducer, OptChangelogRowDeduplicate, OptSequenceField, OptSequenceFieldSortOrder,
		OptIgnoreDelete, OptWriteOnly, OptDeletionVectorsEnabled, OptDeletionVectorsBitmap64, OptTargetFileSize,
		OptWriteBufferSize, OptNumSortedRunCompactTrigger, OptNumSortedRunStopTrigger, OptNumLevels,
		OptCompactionMaxSizeAmpPercent, OptCompactionSizeRatio, OptCompactionForceUpLevel0, OptFullCompactionDeltaCommits,
		OptLookupWait, OptManifestTargetFileSize, OptManifestMergeMinCount, OptManifestFullCompactionSize,
		OptManifestCompression, OptMetadataStatsMode, OptPartitionDefaultName, OptPartitionLegacyName,
		OptDynamicBucketTargetRowNum, OptDynamicBucketMaxBuckets, OptCommitUserPrefix, OptCommitMaxRetries,
		OptSnapshotNumRetainedMin, OptSnapshotNumRetainedMax, OptRowTrackingEnabled, OptRowKindField,
		OptIgnoreUpdateBefore, OptWriteBufferSpillable, OptWriteBufferSpillMaxDiskSize, OptDeletionVectorsMergeOnRead,
		OptParquetEnableDictionary, OptChangelogRowDedupIgnore, OptFieldsDefaultAggFunction,
		OptAggregationRemoveOnDelete, OptPartialUpdateRemoveOnDelete, OptPartialUpdateRemoveOnGroup, OptForceLookup,
		OptSequenceSnapshotOrdering, OptDataEvolutionEnabled, OptTagDefaultTimeRetained,
		OptSnapshotTimeRetained, OptSnapshotExpireLimit, OptChangelogNumRetainedMin, OptChangelogNumRetainedMax,
		OptChangelogTimeRetained, OptConsumerExpirationTime,
		"first-row.ignore-delete", "deduplicate.ignore-delete", "partial-update.ignore-delete",
		"write.compaction-skip", "changelog-producer.lookup-wait",
		"fields.v.aggregate-function", "fields.a,b.sequence-group", "fields.v.ignore-retract", "fields.v.distinct",
		"fields.v.list-agg-delimiter", "fields.v.stats-mode",
	} {
		if !KnownOptionKey(k) {
			t.Errorf("%q is read by Strata but not a known key", k)
		}
	}
}

func TestNearestOptionKey(t *testing.T) {
	for key, want := range map[string]string{
		"merge_engine":               "merge-engine",
		"MERGE-ENGINE":               "merge-engine",
		"buckets":                    "bucket",
		"changelog_producer":         "changelog-producer",
		"deletion-vector.enabled":    "deletion-vectors.enabled",
		"write-buffer-sise":          "write-buffer-size",
		"fields.v.agregate-function": "fields.v.aggregate-function",
		"owner":                      "",
		"x":                          "",
		"fields.v.zzz":               "",
	} {
		if got := NearestOptionKey(key); got != want {
			t.Errorf("NearestOptionKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestUnknownOptionWarnings(t *testing.T) {
	got := UnknownOptionWarnings([]string{"zz", OptBucket, "merge_engine", "sink.parallelism", "parquet.page.size"})
	want := []string{
		`unknown option "merge_engine" is stored but ignored; did you mean "merge-engine"?`,
		`unknown option "zz" is stored but ignored`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// ValidateCreate returns warnings with and without an error, and its option
// errors match both sentinels and name the key, the value and what is
// allowed.
func TestValidateCreate(t *testing.T) {
	fields, err := ParseColumns("id INT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema(fields, nil, []string{"id"}, NewStringMap("merge_engine", "first-row"), nil)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := s.ValidateCreate()
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], `"merge-engine"`) {
		t.Fatalf("warnings %q, err %v", warnings, err)
	}
	s, err = NewSchema(fields, nil, []string{"id"}, NewStringMap("merge_engine", "x", OptFileFormat, "orc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err = s.ValidateCreate()
	var oe *OptionError
	if len(warnings) != 1 || !errors.Is(err, ErrInvalidSchema) || !errors.Is(err, ErrInvalidOption) ||
		!errors.As(err, &oe) || oe.Key != OptFileFormat || oe.Value != "orc" || !strings.Contains(oe.Reason, "parquet") {
		t.Fatalf("warnings %q, err %v", warnings, err)
	}
	// Validate, which also checks schemas read from files, stays lenient
	// about values Strata cannot honour.
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// The lifecycle options are checked when a table is created, not when a
// commit first expires.
func TestValidateLifecycleOptions(t *testing.T) {
	fields, err := ParseColumns("id INT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{
		{OptSnapshotTimeRetained, "soon"}, {OptSnapshotExpireLimit, "0"}, {OptChangelogNumRetainedMin, "0"},
		{OptChangelogNumRetainedMax, "5"}, {OptChangelogTimeRetained, "1 fortnight"}, {OptConsumerExpirationTime, "zz"},
		{OptTagDefaultTimeRetained, "-1 h"},
	} {
		s, err := NewSchema(fields, nil, []string{"id"}, NewStringMap(kv[0], kv[1]), nil)
		if err == nil {
			_, err = s.ValidateCreate()
		}
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != kv[0] {
			t.Errorf("%s=%s: %v, want an OptionError naming it", kv[0], kv[1], err)
		}
	}
	s, err := NewSchema(fields, nil, []string{"id"}, NewStringMap(OptSnapshotTimeRetained, "30 min",
		OptChangelogNumRetainedMax, "100", OptConsumerExpirationTime, "7d"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ValidateCreate(); err != nil {
		t.Errorf("good lifecycle options refused: %v", err)
	}
}
