package spec

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseOptionsDefaults(t *testing.T) {
	o, err := ParseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"bucket", o.Bucket, -1},
		{"bucket-key", o.BucketKey == nil, true},
		{"bucket-function.type", o.BucketFunctionType, BucketFunctionDefault},
		{"file.format", o.FileFormat, "parquet"},
		{"file.compression", o.FileCompression, "zstd"},
		{"data-file.prefix", o.DataFilePrefix, "data-"},
		{"changelog-file.prefix", o.ChangelogFilePrefix, "changelog-"},
		{"merge-engine", o.MergeEngine, MergeEngineDeduplicate},
		{"changelog-producer", o.ChangelogProducer, ChangelogProducerNone},
		{"sequence.field", o.SequenceField == nil, true},
		{"sequence.field.sort-order", o.SequenceFieldSortOrder, SortOrderAscending},
		{"deletion-vectors.enabled", o.DeletionVectorsEnabled, false},
		{"lookup-wait", o.LookupWait, true},
		{"full-compaction.delta-commits", o.FullCompactionDeltaCommits == nil, true},
		{"dynamic-bucket.target-row-num", o.DynamicBucketTargetRowNum, int64(2_000_000)},
		{"dynamic-bucket.max-buckets", o.DynamicBucketMaxBuckets, -1},
		{"commit.user-prefix", o.CommitUserPrefix == nil, true},
		{"commit.max-retries", o.CommitMaxRetries, 10},
		{"snapshot.num-retained.min", o.SnapshotNumRetainedMin, 10},
		{"snapshot.num-retained.max", o.SnapshotNumRetainedMax, math.MaxInt32},
		{"partition.default-name", o.PartitionDefaultName, "__DEFAULT_PARTITION__"},
		{"partition.legacy-name", o.PartitionLegacyName, true},
		{"metadata.stats-mode", o.MetadataStatsMode, "truncate(16)"},
		{"manifest.compression", o.ManifestCompression, "zstd"},
		{"manifest.target-file-size", o.ManifestTargetFileSize, 8 * MiB},
		{"manifest.merge-min-count", o.ManifestMergeMinCount, 30},
		{"manifest.full-compaction-threshold-size", o.ManifestFullCompactionSize, 16 * MiB},
		{"target-file-size", o.TargetFileSize == nil, true},
		{"write-buffer-size", o.WriteBufferSize, 256 * MiB},
		{"num-sorted-run.compaction-trigger", o.NumSortedRunCompactTrigger, 5},
		{"num-sorted-run.stop-trigger", o.NumSortedRunStopTrigger, 8},
		{"num-levels", o.NumLevels, 6},
		{"compaction.max-size-amplification-percent", o.CompactionMaxSizeAmpPercent, 200},
		{"compaction.size-ratio", o.CompactionSizeRatio, 1},
		{"pk target size", o.TargetFileSizeBytes(true), 128 * MiB},
		{"append target size", o.TargetFileSizeBytes(false), 256 * MiB},
		{"commit user", o.CommitUser("id"), "id"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseOptionsValues(t *testing.T) {
	m := map[string]string{
		OptBucket:                     "4",
		OptBucketKey:                  "a,b",
		OptFileFormat:                 "ORC",
		OptMergeEngine:                "Partial-Update",
		OptChangelogProducer:          "FULL-COMPACTION",
		OptSequenceField:              " x , y",
		OptSequenceFieldSortOrder:     "descending",
		OptDeletionVectorsEnabled:     "TRUE",
		OptDeletionVectorsBitmap64:    "true",
		OptTargetFileSize:             "512kb",
		OptWriteBufferSize:            "1gb",
		OptManifestTargetFileSize:     "128",
		OptNumSortedRunCompactTrigger: "2",
		OptFullCompactionDeltaCommits: "3",
		OptCommitUserPrefix:           "job",
		"first-row.ignore-delete":     "true",
		"write.compaction-skip":       "true",
		OptPartitionLegacyName:        "false",
		"unrelated":                   "kept",
	}
	o, err := ParseOptions(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.Bucket != 4 || !slices.Equal(o.BucketKey, []string{"a", "b"}) || o.FileFormat != "orc" ||
		o.MergeEngine != MergeEnginePartialUpdate || o.ChangelogProducer != ChangelogProducerFullCompaction ||
		!slices.Equal(o.SequenceField, []string{"x", "y"}) || o.SequenceFieldSortOrder != SortOrderDescending ||
		!o.DeletionVectorsEnabled || !o.DeletionVectorsBitmap64 || o.WriteBufferSize != GiB ||
		o.ManifestTargetFileSize != 128 || *o.FullCompactionDeltaCommits != 3 || o.PartitionLegacyName {
		t.Errorf("%+v", o)
	}
	if o.TargetFileSizeBytes(true) != 512*KiB || o.TargetFileSizeBytes(false) != 512*KiB {
		t.Errorf("target-file-size %d", o.TargetFileSizeBytes(true))
	}
	// Derived defaults follow the trigger.
	if o.NumSortedRunStopTrigger != 5 || o.NumLevels != 3 {
		t.Errorf("stop trigger %d, levels %d", o.NumSortedRunStopTrigger, o.NumLevels)
	}
	// Fallback keys.
	if !o.IgnoreDelete || !o.WriteOnly {
		t.Errorf("fallback keys ignored: %v %v", o.IgnoreDelete, o.WriteOnly)
	}
	if o.CommitUser("abc") != "job_abc" || o.Raw["unrelated"] != "kept" {
		t.Errorf("commit user %q raw %v", o.CommitUser("abc"), o.Raw)
	}
	m["unrelated"] = "changed"
	if o.Raw["unrelated"] != "kept" {
		t.Errorf("Raw aliases the input map")
	}
	// The stop trigger never goes below the compaction trigger.
	o, err = ParseOptions(map[string]string{OptNumSortedRunCompactTrigger: "10", OptNumSortedRunStopTrigger: "4", OptNumLevels: "2"})
	if err != nil || o.NumSortedRunStopTrigger != 10 || o.NumLevels != 2 {
		t.Errorf("%v %d %d", err, o.NumSortedRunStopTrigger, o.NumLevels)
	}
	// The primary key wins over fallback keys.
	o, _ = ParseOptions(map[string]string{OptIgnoreDelete: "false", "partial-update.ignore-delete": "true"})
	if o.IgnoreDelete {
		t.Errorf("fallback overrode the primary key")
	}
	o, _ = ParseOptions(map[string]string{OptNumSortedRunCompactTrigger: "2147483647"})
	if o.NumSortedRunStopTrigger != math.MaxInt32 || o.NumLevels != math.MaxInt32 {
		t.Errorf("saturation: %d %d", o.NumSortedRunStopTrigger, o.NumLevels)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for k, v := range map[string]string{
		OptBucket:                     "four",
		OptMergeEngine:                "partial_update",
		OptChangelogProducer:          "always",
		OptDeletionVectorsEnabled:     "yes",
		OptTargetFileSize:             "12 parsecs",
		OptWriteBufferSize:            "mb",
		OptManifestMergeMinCount:      "99999999999",
		OptDynamicBucketTargetRowNum:  "1.5",
		OptNumSortedRunStopTrigger:    " 3",
		OptFullCompactionDeltaCommits: "",
		"write.compaction-skip":       "maybe",
		OptBucketFunctionType:         "crc",
	} {
		_, err := ParseOptions(map[string]string{k: v})
		if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), `"`+k+`"`) {
			t.Errorf("%s=%q: got %v, want ErrInvalidOption naming the option", k, v, err)
		}
	}
}

func TestParseMemorySize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"128", 128}, {"128 b", 128}, {"1bytes", 1}, {"2k", 2 * KiB}, {"512kb", 512 * KiB},
		{"3 kibibytes", 3 * KiB}, {"128 mb", 128 * MiB}, {"128 MB", 128 * MiB}, {"8m", 8 * MiB},
		{"1gb", GiB}, {" 2 G ", 2 * GiB}, {"1 gibibytes", GiB}, {"4tb", 4 * TiB}, {"1 tebibytes", TiB},
		{"8388607 tb", 8388607 * TiB},
	}
	for _, c := range cases {
		got, err := ParseMemorySize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "  ", "mb", "-1", "1.5mb", "1 pb", "9223372036854775808", "8388608 tb", "1 m b"} {
		if _, err := ParseMemorySize(in); err == nil {
			t.Errorf("ParseMemorySize(%q): no error", in)
		}
	}
}
