package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
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

// NearestOptionKey measures only the candidates whose length could make
// them nearer, and those only until they cannot be: for keys one edit or more from every known key (and from
// none) it answers as measuring all of them, and a long key costs no edit
// distance at all (a 128 KB key took 2.7 s, 1 KB 20 ms; the fuzzer's keys
// made FuzzParseOptions run at 750 executions a second).
func TestNearestOptionKeySkipsFarLengths(t *testing.T) {
	all := func(key string) string { // nearest without the length bound
		norm := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
		best, bestDist := "", min(3, max(1, len(norm)/3))+1
		for _, c := range sortedOptionKeys {
			if d := editDistance(norm, c, len(norm)+len(c)+1); d < bestDist {
				best, bestDist = c, d
			}
		}
		return best
	}
	n := 0
	for j := 0; j < len(sortedOptionKeys); j += 17 {
		k := sortedOptionKeys[j]
		for i := 0; i <= len(k); i += 3 {
			for _, key := range []string{k[:i] + "x" + k[i:], k[:i] + "xyz" + k[i:], k[:max(0, i-2)] + k[i:], k[:i] + "Q"} {
				if got, want := NearestOptionKey(key), all(key); got != want {
					t.Fatalf("NearestOptionKey(%q) = %q, measuring every candidate %q", key, got, want)
				}
				n++
			}
		}
	}
	long := strings.Repeat("x", 1<<20)
	start := time.Now()
	if got := NearestOptionKey(long); got != "" {
		t.Fatalf("a 1 MB key is near %q", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("NearestOptionKey of a 1 MB key took %v", d)
	}
	t.Logf("%d keys agree", n)
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
