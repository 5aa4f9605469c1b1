package table

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
)

// WithFilter keeps only the rows for which p is true (SQL semantics: a
// comparison with null is not true). p is pushed down as far as it is
// safe: partition conjuncts prune manifests and entries, equality on every
// bucket-key column prunes buckets, key conjuncts skip files by their key
// statistics, and the whole filter skips files by their value statistics
// only where no merge could bring back a version the statistics hide.
// Then it is applied exactly to every row. Several WithFilter options
// combine with AND.
func WithFilter(p predicate.Predicate) ScanOption {
	return func(s *Scan) { s.filter = predicate.And(s.filter, p) }
}

// ScanStats count what a scan pruned and read. Plan resets them; reading
// the plan's rows adds to them. Files skipped by partition or bucket are
// counted as the manifest entries that added them (before merging entries
// into live files); the others are live files.
type ScanStats struct {
	ManifestsRead          int64 // manifest files read
	ManifestsSkipped       int64 // manifest files whose partition stats rule the filter out
	FilesSkippedPartition  int64 // entries whose partition fails the filter
	FilesSkippedBucket     int64 // entries in buckets the key equality rules out
	FilesSkippedKeyStats   int64 // live files whose key statistics rule the filter out
	FilesSkippedValueStats int64 // live files skipped by value statistics (where safe)
	FilesPlanned           int64 // files in the plan's splits
	FilesRead              int64 // files of the splits read so far
	RowGroupsRead          int64 // Parquet row groups read by the columnar path
	RowGroupsSkipped       int64 // row groups whose statistics rule the filter out
	PagesRead              int64 // pages of filtered row groups read (with a page index)
	PagesSkipped           int64 // pages the page index rules out
	RowsRead               int64 // rows out of the split readers (merged, before the filter)
	RowsReturned           int64 // rows the filter kept
}

// scanCounters are ScanStats updated concurrently.
type scanCounters struct {
	manifestsRead, manifestsSkipped                 atomic.Int64
	skippedPartition, skippedBucket                 atomic.Int64
	skippedKeyStats, skippedValueStats              atomic.Int64
	filesPlanned, filesRead, rowsRead, rowsReturned atomic.Int64
	pruned                                          reader.PruneStats
}

func (c *scanCounters) reset() {
	for _, a := range []*atomic.Int64{&c.manifestsRead, &c.manifestsSkipped, &c.skippedPartition, &c.skippedBucket,
		&c.skippedKeyStats, &c.skippedValueStats, &c.filesPlanned, &c.filesRead, &c.rowsRead, &c.rowsReturned,
		&c.pruned.RowGroupsRead, &c.pruned.RowGroupsSkipped, &c.pruned.PagesRead, &c.pruned.PagesSkipped} {
		a.Store(0)
	}
}

// Stats returns the scan's counters so far.
func (s *Scan) Stats() ScanStats {
	c := &s.counters
	return ScanStats{
		ManifestsRead: c.manifestsRead.Load(), ManifestsSkipped: c.manifestsSkipped.Load(),
		FilesSkippedPartition: c.skippedPartition.Load(), FilesSkippedBucket: c.skippedBucket.Load(),
		FilesSkippedKeyStats: c.skippedKeyStats.Load(), FilesSkippedValueStats: c.skippedValueStats.Load(),
		FilesPlanned: c.filesPlanned.Load(), FilesRead: c.filesRead.Load(),
		RowGroupsRead: c.pruned.RowGroupsRead.Load(), RowGroupsSkipped: c.pruned.RowGroupsSkipped.Load(),
		PagesRead: c.pruned.PagesRead.Load(), PagesSkipped: c.pruned.PagesSkipped.Load(),
		RowsRead: c.rowsRead.Load(), RowsReturned: c.rowsReturned.Load(),
	}
}

// scanFilter is a filter prepared for one table: the parts of the
// predicate each pruning step can use.
type scanFilter struct {
	t         *Table
	rows      *predicate.Bound // the whole filter over the table's fields; nil: none
	partition *predicate.Bound // partition conjuncts over the partition fields; nil: none
	key       *predicate.Bound // trimmed-key conjuncts over the trimmed key fields; nil: none
	hashes    []int32          // bucket-key hashes the filter allows; nil: every bucket
	counters  *scanCounters

	mu    sync.Mutex
	parts map[string]bool // partition → matches
}

// partitionPredicate turns WithPartition's values into equalities (IS NULL
// for nil), refusing columns that are not partition columns.
func (t *Table) partitionPredicate(values map[string]any) (predicate.Predicate, error) {
	names := make([]string, 0, len(values))
	for name := range values {
		if !slices.Contains(t.schema.PartitionKeys, name) {
			return predicate.Predicate{}, fmt.Errorf("%w: %q is not a partition column (partition columns: %v)", spec.ErrSchemaMismatch, name, t.schema.PartitionKeys)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var ps []predicate.Predicate
	for _, name := range names {
		if values[name] == nil {
			ps = append(ps, predicate.IsNull(name))
		} else {
			ps = append(ps, predicate.Equal(name, values[name]))
		}
	}
	return predicate.And(ps...), nil
}

// newScanFilter prepares p for pruning, counting into counters (may be
// nil). For TRUE it prunes nothing and only counts.
func (t *Table) newScanFilter(p predicate.Predicate, counters *scanCounters) (*scanFilter, error) {
	if counters == nil {
		counters = &scanCounters{}
	}
	rows, err := predicate.Bind(p, t.schema.Fields)
	if err != nil {
		return nil, err
	}
	f := &scanFilter{t: t, counters: counters, parts: map[string]bool{}}
	if rows.AlwaysTrue() {
		return f, nil // counts only
	}
	f.rows = rows
	// Split the normalised form, so literals are already typed.
	norm := rows.Predicate()
	among := func(names []string) func(string) bool {
		return func(c string) bool { return slices.Contains(names, c) }
	}
	if pf := t.schema.PartitionFields(); len(pf) > 0 {
		if part, _ := predicate.Split(norm, among(t.schema.PartitionKeys)); part.Op != predicate.OpTrue {
			if f.partition, err = predicate.Bind(part, pf); err != nil {
				return nil, err
			}
		}
	}
	if !t.appendOnly() {
		if key, _ := predicate.Split(norm, among(t.schema.TrimmedPrimaryKeys())); key.Op != predicate.OpTrue {
			if f.key, err = predicate.Bind(key, t.schema.TrimmedPrimaryKeyFields()); err != nil {
				return nil, err
			}
		}
	}
	f.hashes = t.bucketHashes(norm)
	return f, nil
}

// maxBucketCombinations bounds the bucket-key value combinations hashed
// for bucket pruning, as Java's BucketSelectConverter does.
const maxBucketCombinations = 1000

// bucketHashes returns the hashes of the bucket-key values p allows when
// its conjuncts fix every bucket-key column to = or IN values (an OR of
// those on one column counts), for fixed-bucket tables with the default
// bucket function; nil otherwise.
func (t *Table) bucketHashes(p predicate.Predicate) []int32 {
	if t.opts.Bucket <= 0 || t.opts.BucketFunctionType != spec.BucketFunctionDefault {
		return nil
	}
	keys := t.schema.BucketKeys()
	if len(keys) == 0 {
		return nil
	}
	values := make([][]any, len(keys))
	for _, c := range predicate.Conjuncts(p) {
		col, vals, ok := equalities(c)
		if !ok {
			continue
		}
		if i := slices.Index(keys, col); i >= 0 && values[i] == nil {
			values[i] = vals
		}
	}
	n := 1
	for _, vs := range values {
		if vs == nil {
			return nil
		}
		if n *= len(vs); n > maxBucketCombinations {
			return nil
		}
	}
	bk, err := t.newBucketKey()
	if err != nil {
		return nil
	}
	var hashes []int32
	row := make(spec.Row, len(t.schema.Fields))
	var walk func(i int) bool
	walk = func(i int) bool {
		if i == len(keys) {
			b, err := spec.EncodeBinaryRow(bk.types, project(nil, row, bk.idx), spec.RowKindInsert)
			if err != nil {
				return false
			}
			hashes = append(hashes, spec.HashBinaryRow(b))
			return true
		}
		for _, v := range values[i] {
			row[bk.idx[i]] = v
			if !walk(i + 1) {
				return false
			}
		}
		return true
	}
	if !walk(0) {
		return nil
	}
	return hashes
}

// equalities returns the column and values of a conjunct that is col = v,
// col IN (...) or an OR of those on one column.
func equalities(p predicate.Predicate) (string, []any, bool) {
	switch p.Op {
	case predicate.OpEq, predicate.OpIn:
		return p.Column, p.Values, true
	case predicate.OpOr:
		var col string
		var vals []any
		for _, k := range p.Children {
			c, vs, ok := equalities(k)
			if !ok || col != "" && c != col {
				return "", nil, false
			}
			col, vals = c, append(vals, vs...)
		}
		return col, vals, col != ""
	}
	return "", nil, false
}

// mayMatchManifest tests a manifest's partition stats.
func (f *scanFilter) mayMatchManifest(st spec.SimpleStats) bool {
	ok := true
	switch {
	case f == nil || f.rows == nil:
	case f.rows.AlwaysFalse():
		ok = false
	case f.partition != nil:
		ok = f.partition.MayMatch(decodeStats(st, f.t.partitionTypes(), -1))
	}
	if !ok {
		f.counters.manifestsSkipped.Add(1)
	}
	return ok
}

// prunesEntries reports whether matchesEntry may drop an entry.
func (f *scanFilter) prunesEntries() bool {
	return f != nil && (f.partition != nil || f.hashes != nil)
}

// matchesEntry tests a manifest entry's partition and bucket.
func (f *scanFilter) matchesEntry(e *spec.ManifestEntry) bool {
	if f == nil {
		return true
	}
	if f.partition != nil && !f.matchesPartition(e.Partition) {
		if e.Kind == spec.FileKindAdd {
			f.counters.skippedPartition.Add(1)
		}
		return false
	}
	if f.hashes != nil && !f.bucketAllowed(e.Bucket, e.TotalBuckets) {
		if e.Kind == spec.FileKindAdd {
			f.counters.skippedBucket.Add(1)
		}
		return false
	}
	return true
}

func (f *scanFilter) matchesPartition(partition []byte) bool {
	f.mu.Lock()
	ok, seen := f.parts[string(partition)]
	f.mu.Unlock()
	if seen {
		return ok
	}
	vals, err := f.t.partitionValues(partition)
	ok = err != nil || f.partition.Eval(vals) // a bad partition: let the read report it
	f.mu.Lock()
	f.parts[string(partition)] = ok
	f.mu.Unlock()
	return ok
}

// bucketAllowed reports whether a bucket of a partition with total buckets
// may hold rows the filter allows (the bucket count of a rescaled
// partition may differ from the table's).
func (f *scanFilter) bucketAllowed(bucket, total int32) bool {
	if total <= 0 {
		total = int32(f.t.opts.Bucket)
	}
	for _, h := range f.hashes {
		if int32(spec.Bucket(h, int(total))) == bucket {
			return true
		}
	}
	return false
}

// pruneFiles drops the files of one split that statistics show cannot
// hold a row the filter keeps. Key statistics are safe for every split: a
// key the key conjuncts allow is absent from a skipped file, so its merge
// is unchanged. Value statistics are safe only where no merge can bring a
// version back: raw splits (append tables; deletion-vector and first-row
// tables, read without merging) and buckets whose files do not overlap,
// file by file; otherwise, for engines whose merged row is one of its
// versions (deduplicate, first-row), only when no file of the bucket may
// match, the whole bucket (Paimon's KeyValueFileStoreScan).
func (f *scanFilter) pruneFiles(ctx context.Context, files []spec.DataFileMeta, raw bool) []spec.DataFileMeta {
	if f == nil || f.rows == nil {
		return files
	}
	t := f.t
	if f.key != nil {
		keyTypes := fieldTypes(t.schema.TrimmedPrimaryKeyFields())
		kept := files[:0:0]
		for _, fl := range files {
			if f.key.MayMatch(decodeStats(fl.KeyStats, keyTypes, fl.RowCount)) {
				kept = append(kept, fl)
			} else {
				f.counters.skippedKeyStats.Add(1)
			}
		}
		files = kept
	}
	if len(files) == 0 {
		return files
	}
	mayMatch := func(fl spec.DataFileMeta) bool { return f.rows.MayMatch(t.valueStats(ctx, fl, f.rows.Columns())) }
	if raw || noOverlap(files) {
		kept := files[:0:0]
		for _, fl := range files {
			if mayMatch(fl) {
				kept = append(kept, fl)
			} else {
				f.counters.skippedValueStats.Add(1)
			}
		}
		return kept
	}
	if t.opts.MergeEngine != spec.MergeEngineDeduplicate && t.opts.MergeEngine != spec.MergeEngineFirstRow {
		return files // a merged row may be no file's row
	}
	if slices.ContainsFunc(files, mayMatch) {
		return files
	}
	f.counters.skippedValueStats.Add(int64(len(files)))
	return nil
}

// noOverlap reports whether a bucket's files hold each key at most once:
// one file, or files all of one level above 0.
func noOverlap(files []spec.DataFileMeta) bool {
	if len(files) <= 1 {
		return true
	}
	for _, fl := range files {
		if fl.Level == 0 || fl.Level != files[0].Level {
			return false
		}
	}
	return true
}

// statsView adapts decoded SimpleStats to predicate.Stats.
type statsView struct {
	rows int64
	cols []predicate.ColumnStats // by bound field index
}

func (v statsView) RowCount() int64 { return v.rows }

func (v statsView) Column(i int) predicate.ColumnStats {
	if i < len(v.cols) {
		return v.cols[i]
	}
	return predicate.ColumnStats{}
}

// decodeStats reads dense SimpleStats over columns of the given types;
// unreadable stats know nothing.
func decodeStats(st spec.SimpleStats, types []spec.DataType, rows int64) statsView {
	v := statsView{rows: rows, cols: make([]predicate.ColumnStats, len(types))}
	mins, maxs := decodeStatsRow(st.MinValues, types), decodeStatsRow(st.MaxValues, types)
	for i, t := range types {
		cs := &v.cols[i]
		if mins != nil && maxs != nil {
			cs.Min, cs.Max, cs.Exact = mins[i], maxs[i], exactStats(t)
		}
		if i < len(st.NullCounts) && st.NullCounts[i] != nil {
			cs.Nulls, cs.NullsKnown = *st.NullCounts[i], true
		}
	}
	return v
}

// exactStats reports whether min/max of type t are values: strings and
// binaries may be truncated (truncate(N)).
func exactStats(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeChar, spec.TypeVarChar, spec.TypeBinary, spec.TypeVarBinary:
		return false
	}
	return true
}

func decodeStatsRow(b []byte, types []spec.DataType) spec.Row {
	arity, row, err := spec.DeserializeBinaryRow(b)
	if err != nil || arity != len(types) {
		return nil
	}
	nullable := make([]spec.DataType, len(types))
	for i, t := range types {
		nullable[i] = t.WithNullable(true)
	}
	vals, _, err := spec.DecodeBinaryRow(nullable, row)
	if err != nil {
		return nil
	}
	return vals
}

// valueStats returns a file's value statistics for the given columns of
// the table's schema. Stats are those of the file's own schema: dense over
// its fields, or over _VALUE_STATS_COLS (metadata.stats-mode none drops
// columns, counts keeps only null counts). A column the file's schema
// lacks (added later) is all null; one whose type changed since is
// unknown.
func (t *Table) valueStats(ctx context.Context, fl spec.DataFileMeta, cols []int) predicate.Stats {
	unknown := statsView{rows: fl.RowCount}
	fileSchema, err := t.schemas.Get(ctx, fl.SchemaID)
	if err != nil {
		return unknown
	}
	statsFields := fileSchema.Fields
	if fl.ValueStatsCols != nil {
		statsFields = statsFields[:0:0]
		for _, name := range *fl.ValueStatsCols {
			f, ok := fileSchema.Field(name)
			if !ok {
				return unknown
			}
			statsFields = append(statsFields, f)
		}
	}
	decoded := decodeStats(fl.ValueStats, fieldTypes(statsFields), fl.RowCount)
	out := statsView{rows: fl.RowCount, cols: make([]predicate.ColumnStats, len(t.schema.Fields))}
	for _, c := range cols {
		tf := t.schema.Fields[c]
		if _, ok := fileSchema.FieldByID(tf.ID); !ok {
			out.cols[c] = predicate.ColumnStats{Nulls: fl.RowCount, NullsKnown: true}
			continue
		}
		j := slices.IndexFunc(statsFields, func(f spec.DataField) bool { return f.ID == tf.ID })
		if j < 0 {
			continue
		}
		cs := decoded.cols[j]
		if !statsFields[j].Type.WithNullable(true).Equal(tf.Type.WithNullable(true)) {
			cs.Min, cs.Max, cs.Exact = nil, nil, false
		}
		out.cols[c] = cs
	}
	return out
}

// scanFilter prepares the scan's filter, WithPartition's equalities
// included.
func (s *Scan) scanFilter() (*scanFilter, error) {
	p := s.filter
	if s.partition != nil {
		pp, err := s.t.partitionPredicate(s.partition)
		if err != nil {
			return nil, err
		}
		p = predicate.And(p, pp)
	}
	return s.t.newScanFilter(p, &s.counters)
}

// rawSplits reports whether this scan reads each split's files without
// merging them: append tables, and deletion-vector and first-row tables
// that skip level 0.
func (s *Scan) rawSplits() bool { return s.t.appendOnly() || s.skipsLevel0() }
