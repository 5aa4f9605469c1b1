package spec

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// paimonOptionKeys are the table option keys Apache Paimon defines
// (CoreOptions and Flink's FlinkConnectorOptions at commit 5dacde516bf6,
// with their fallback keys). Strata honours the ones spec.Options types and
// the per-field options in fieldOptionSuffixes; it stores the others in the
// schema unchanged and ignores them, as Paimon ignores what it does not use.
const paimonOptionKeys = `
	add-column-before-partition aggregation.remove-record-on-delete
	alter-column-null-to-not-null.disabled async-file-write auto-create batch-scan-mode
	blob-as-descriptor blob-compaction.enabled blob-descriptor-field blob-field blob-view-field
	blob-view.resolve.enabled blob-write-null-on-fetch-failure blob-write-null-on-missing-file
	blob.copy-buffer-size blob.split-by-file-size blob.stored-descriptor-fields blob.target-file-size
	branch bucket bucket-append-ordered bucket-function.type bucket-key cache-page-size
	chain-table.chain-partition-keys chain-table.enabled chain-table.split.key-range-enabled
	chain-table.streaming.merge-snapshot changelog-file.compression changelog-file.format
	changelog-file.prefix changelog-file.stats-mode changelog-producer
	changelog-producer.compaction-interval changelog-producer.lookup-wait
	changelog-producer.row-deduplicate changelog-producer.row-deduplicate-ignore-fields
	changelog.num-retained.max changelog.num-retained.min changelog.precommit-compact.buffer-size
	changelog.precommit-compact.thread-num changelog.time-retained clustering.columns
	clustering.history-partition.idle-to-full-sort clustering.history-partition.limit
	clustering.incremental clustering.incremental.mode clustering.incremental.optimize-write
	clustering.strategy commit.callbacks commit.custom-listeners commit.discard-duplicate-files
	commit.force-compact commit.force-create-snapshot commit.max-retries commit.max-retry-wait
	commit.min-retry-wait commit.strict-mode.last-safe-snapshot commit.timeout commit.user-prefix
	compaction.bucket-distribution-strategy compaction.delete-ratio-threshold
	compaction.file-num-limit compaction.force-rewrite-all-files compaction.force-up-level-0
	compaction.incremental-size-threshold compaction.max-size-amplification-percent
	compaction.min.file-num compaction.offpeak-ratio compaction.offpeak.end.hour
	compaction.offpeak.start.hour compaction.optimization-interval compaction.size-ratio
	compaction.skip-expired-partitions compaction.small-file-ratio compaction.total-size-threshold
	consumer-id consumer.changelog-only consumer.expiration-time consumer.ignore-progress
	consumer.mode continuous.discovery-interval cross-partition-upsert.bootstrap-parallelism
	cross-partition-upsert.index-ttl data-evolution.compaction.rewrite-row-ids data-evolution.enabled
	data-evolution.merge-into.file-pruning data-evolution.merge-into.source-persist
	data-evolution.reassign.skip-contiguous-row-count data-evolution.row-id-conflict-rewrite.max-size
	data-evolution.row-sidecar.enabled data-evolution.row-sidecar.max-selected-rows
	data-evolution.row-sidecar.max-selection-ratio data-file.external-paths
	data-file.external-paths.specific-fs data-file.external-paths.strategy
	data-file.external-paths.weights data-file.path-directory data-file.prefix data-file.thin-mode
	deduplicate.ignore-delete delete-file.thread-num delete.force-produce-changelog
	deletion-vector.index-file.target-size deletion-vectors.bitmap64 deletion-vectors.enabled
	deletion-vectors.merge-on-read deletion-vectors.modifiable disable-explicit-type-casting
	dynamic-bucket.assigner-parallelism dynamic-bucket.initial-buckets dynamic-bucket.max-buckets
	dynamic-bucket.target-row-num dynamic-partition-overwrite end-input.check-partition-expire
	end-input.watermark fields.default-aggregate-function file-index.in-manifest-threshold
	file-index.read.enabled file-operation.thread-num file-reader-async-threshold file.block-size
	file.compression file.compression.per.level file.compression.zstd-level file.format
	file.format.per.level file.suffix.include.compression filesystem.job-level-settings.enabled
	first-row.ignore-delete force-lookup format-table.commit-hive-sync-url
	format-table.file.compression format-table.implementation format-table.partition-path-only-value
	format-table.scan.list-parallelism full-compaction.delta-commits full-text-index.search-mode
	global-index.build.max-parallelism global-index.build.max-shard global-index.column-update-action
	global-index.enabled global-index.external-path global-index.row-count-per-shard
	global-index.search-mode global-index.thread-num ignore-delete ignore-update-before
	incremental-between incremental-between-scan-mode incremental-between-tag-to-snapshot
	incremental-between-timestamp incremental-to-auto-tag index-file-in-data-file-dir
	key-value.sequence_number.enabled local-kv-db.block-size local-merge-buffer-size
	local-sort.max-num-file-handles log.scan log.scan.timestamp-millis lookup-compact
	lookup-compact.max-interval lookup-wait lookup.async lookup.async-thread-number
	lookup.blob-as-descriptor lookup.bootstrap-parallelism lookup.cache lookup.cache-file-retention
	lookup.cache-max-disk-size lookup.cache-max-memory-size lookup.cache-rows
	lookup.cache-spill-compression lookup.cache.bloom.filter.enabled lookup.cache.bloom.filter.fpp
	lookup.cache.high-priority-pool-ratio lookup.continuous.discovery-interval
	lookup.dynamic-partition.refresh-interval lookup.dynamic-partition.refresh.async
	lookup.hash-load-factor lookup.merge-buffer-size lookup.merge-records-threshold
	lookup.refresh.async lookup.refresh.async.pending-snapshot-count
	lookup.refresh.full-load-threshold lookup.refresh.time-periods-blacklist
	lookup.remote-file.enabled lookup.remote-file.level-threshold manifest-sort.enabled
	manifest-sort.max-rewrite-size manifest-sort.partition-field manifest.compression
	manifest.delete-file-drop-stats manifest.full-compaction-threshold-size manifest.merge-min-count
	manifest.merge-optimize.enabled manifest.target-file-size materialized-table.definition-query
	materialized-table.interval-freshness materialized-table.interval-freshness.time-unit
	materialized-table.logical-refresh-mode materialized-table.refresh-handler-bytes
	materialized-table.refresh-handler-description materialized-table.refresh-mode
	materialized-table.refresh-status merge-engine metadata.stats-dense-store
	metadata.stats-keep-first-n-columns metadata.stats-mode metadata.stats-mode.per.level
	metastore.partitioned-table metastore.tag-to-partition metastore.tag-to-partition.preview
	num-levels num-sorted-run.compaction-trigger num-sorted-run.stop-trigger orc.write.batch-size
	overwrite-upgrade page-size parquet.enable.dictionary parquet.variant.shreddingSchema
	partial-update.ignore-delete partial-update.remove-record-on-delete
	partial-update.remove-record-on-sequence-group partition partition.default-name
	partition.end-input-to-done partition.expiration-batch-size partition.expiration-check-interval
	partition.expiration-max-num partition.expiration-strategy partition.expiration-time
	partition.idle-time-to-done partition.idle-time-to-report-statistic partition.legacy-name
	partition.mark-done-action partition.mark-done-action.custom.class
	partition.mark-done-action.http.params partition.mark-done-action.http.url
	partition.mark-done-action.mode partition.mark-done.recover-from-state partition.sink-strategy
	partition.time-interval partition.timestamp-format.strict partition.timestamp-formatter
	partition.timestamp-pattern path pk-bitmap.index.columns pk-btree.index.columns
	pk-clustering-override pk-full-text.index.columns pk-multivalue.index.columns
	pk-vector.index.columns postpone.batch-write-fixed-bucket
	postpone.batch-write-fixed-bucket.max-parallelism
	postpone.batch-write-fixed-bucket.rescale-load-factor postpone.default-bucket-num
	postpone.merge-on-read postpone.target-row-num-per-bucket postpone.target-size-per-bucket
	precommit-compact primary-key primary-key.nullable query-auth.enabled read.batch-size
	read.shuffle-bucket-with-partition record-level.expire-time record-level.time-field
	row-tracking.enabled row-tracking.partition-group-on-commit rowkind.field scalar-index.search-mode
	scan.bounded scan.bounded.watermark scan.bucket scan.creation-time-millis
	scan.dedicated-split-generation scan.fallback-branch scan.fallback-branch.read-fail-fast
	scan.fallback-delta-branch scan.fallback-snapshot-branch scan.file-creation-time-millis
	scan.ignore-corrupt-files scan.ignore-lost-files scan.infer-parallelism scan.infer-parallelism.max
	scan.manifest.parallelism scan.max-snapshot.count scan.max-splits-per-task scan.mode
	scan.parallelism scan.partitions scan.plan-auto-tag-for-read.time-retained
	scan.plan-sort-partition scan.primary-branch scan.remove-normalize scan.snapshot-id
	scan.split-enumerator.batch-size scan.split-enumerator.mode scan.tag-name scan.timestamp
	scan.timestamp-millis scan.version scan.watermark scan.watermark.alignment.group
	scan.watermark.alignment.max-drift scan.watermark.alignment.update-interval
	scan.watermark.emit.strategy scan.watermark.idle-timeout sequence.field sequence.field.sort-order
	sequence.snapshot-ordering sink.clustering.by-columns sink.clustering.sample-factor
	sink.clustering.sort-in-cluster sink.clustering.strategy sink.committer-cpu sink.committer-memory
	sink.committer-operator-chaining sink.coordinator-commit.enabled
	sink.cross-partition.managed-memory sink.key-only-deletes.enabled
	sink.managed.writer-buffer-memory sink.operator-uid.suffix sink.parallelism sink.process-time-zone
	sink.savepoint.auto-tag sink.use-managed-memory-allocator sink.watermark-time-zone
	sink.writer-coordinator.cache-expire-after-access sink.writer-coordinator.cache-memory
	sink.writer-coordinator.cache-soft-values sink.writer-coordinator.enabled
	sink.writer-coordinator.page-size sink.writer-coordinator.prefetch-manifests sink.writer-cpu
	sink.writer-memory sink.writer-refresh-detectors snapshot.clean-empty-directories
	snapshot.expire.clean-empty-directories snapshot.expire.execution-mode snapshot.expire.limit
	snapshot.ignore-empty-commit snapshot.num-retained.max snapshot.num-retained.min
	snapshot.time-retained snapshot.watermark-idle-timeout sort-compaction.local-sample.magnification
	sort-compaction.range-strategy sort-engine sort-spill-buffer-size sort-spill-threshold
	source.checkpoint-align.enabled source.checkpoint-align.timeout source.operator-uid.suffix
	source.split.open-file-cost source.split.target-size spill-compression
	spill-compression.zstd-level stream-scan-mode streaming-read-append-overwrite
	streaming-read-overwrite streaming.read.snapshot.delay table-read.sequence-number.enabled
	tag.automatic-completion tag.automatic-creation tag.batch.customized-name tag.callbacks
	tag.create-success-file tag.creation-delay tag.creation-period tag.creation-period-duration
	tag.default-time-retained tag.num-retained-max tag.period-formatter tag.time-expire-enabled
	target-file-row-num target-file-size type unaware-bucket.compaction.parallelism
	unaware-bucket.no-shuffle variant.inferShreddingSchema
	variant.shredding.adaptive.maxInferBufferRow variant.shredding.adaptive.retentionRatio
	variant.shredding.inferenceMode variant.shredding.maxInferBufferRow
	variant.shredding.maxSchemaDepth variant.shredding.maxSchemaWidth
	variant.shredding.minFieldCardinalityRatio variant.shreddingSchema vector-field
	vector-index.search-mode vector-search.distribute.enabled vector-search.lateral-join.batch-size
	vector.file.format vector.target-file-size visibility-callback.check-interval
	visibility-callback.enabled visibility-callback.timeout write-buffer-for-append write-buffer-size
	write-buffer-spill.max-disk-size write-buffer-spillable write-max-writers-to-spill write-only
	write.batch-memory write.batch-size write.compaction-skip write.sequence-number-init-mode
	zorder.var-length-contribution
`

// optionKeyPrefixes start keys that Paimon passes on to a file format, file
// system or callback (parquet.*, fs.*, commit.callback.#.param, ...): known
// without being listed.
var optionKeyPrefixes = []string{
	"parquet.", "orc.", "avro.", "csv.", "json.", "file-index.", "fs.", "s3.", "oss.", "hadoop.",
	"commit.callback.", "tag.callback.", "blob-descriptor.",
}

// fieldOptionSuffixes are the known <suffix>es of fields.<columns>.<suffix>
// keys. Strata honours aggregate-function, ignore-retract, distinct,
// list-agg-delimiter, sequence-group and stats-mode.
var fieldOptionSuffixes = []string{
	"aggregate-function", "ignore-retract", "distinct", "list-agg-delimiter", "sequence-group", "stats-mode",
	"nested-key", "nested-key-null-strategy", "nested-sequence-field", "count-limit", "ts-field",
	"map.storage-layout", "pk-vector.index.type", "pk-vector.index.options", "pk-full-text.index.options",
	"default-value",
}

var knownOptionKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(paimonOptionKeys) {
		m[k] = true
	}
	return m
}()

// KnownOptionKey reports whether key is a Paimon table option key: listed,
// under a pass-through prefix, or a fields.<columns>.<suffix> key with a
// known suffix.
func KnownOptionKey(key string) bool {
	if knownOptionKeys[key] {
		return true
	}
	for _, p := range optionKeyPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	if _, suffix, ok := splitFieldOption(key); ok {
		for _, s := range fieldOptionSuffixes {
			if suffix == s {
				return true
			}
		}
	}
	return false
}

// splitFieldOption splits fields.<columns>.<suffix> into its column list
// and suffix. fields.default-aggregate-function is not a per-field key.
func splitFieldOption(key string) (columns, suffix string, ok bool) {
	rest, found := strings.CutPrefix(key, "fields.")
	if !found || key == OptFieldsDefaultAggFunction {
		return "", "", false
	}
	columns, suffix, ok = strings.Cut(rest, ".")
	return columns, suffix, ok && columns != "" && suffix != ""
}

// UnknownOptionWarnings returns one warning per option key Paimon does not
// define, sorted by key, each naming the nearest known key when one is
// close (merge_engine: did you mean merge-engine?). Unknown keys are not an
// error: tables written by other engines carry their own keys.
func UnknownOptionWarnings(keys []string) []string {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	var out []string
	for _, k := range sorted {
		if KnownOptionKey(k) {
			continue
		}
		w := fmt.Sprintf("unknown option %q is stored but ignored", k)
		if near := NearestOptionKey(k); near != "" {
			w += fmt.Sprintf("; did you mean %q?", near)
		}
		out = append(out, w)
	}
	return out
}

// NearestOptionKey returns the known key closest to key by edit distance
// (after treating '_' as '-' and ignoring case), or "" when none is close:
// within a third of the key's length, and at most 3 edits. For
// fields.<columns>.<suffix> keys only the suffix is matched.
func NearestOptionKey(key string) string {
	if cols, suffix, ok := splitFieldOption(key); ok {
		if s := nearest(suffix, fieldOptionSuffixes); s != "" {
			return "fields." + cols + "." + s
		}
		return ""
	}
	return nearest(key, sortedOptionKeys)
}

// sortedOptionKeys are the keys of knownOptionKeys in order: NearestOptionKey's
// candidates, the first of equally near ones winning.
var sortedOptionKeys = slices.Sorted(maps.Keys(knownOptionKeys))

func nearest(key string, candidates []string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	best, bestDist := "", min(3, max(1, len(norm)/3))+1
	for _, c := range candidates {
		// The distance is at least the difference in length: a candidate that
		// cannot be nearer is not measured (a long key took ~20 ms a KB).
		if max(len(norm)-len(c), len(c)-len(norm)) >= bestDist {
			continue
		}
		if d := editDistance(norm, c, bestDist); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes, or
// bound when that is bound or more: a row of the table whose least entry
// reaches bound ends the measure (entries never fall from row to row).
func editDistance(a, b string, bound int) int {
	var buf [128]int // two rows for the known keys, without allocating
	rows := buf[:]
	if 2*(len(b)+1) > len(rows) {
		rows = make([]int, 2*(len(b)+1))
	}
	prev, cur := rows[:len(b)+1], rows[len(b)+1:2*(len(b)+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		least := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			least = min(least, cur[j])
		}
		if least >= bound {
			return bound
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], bound)
}
