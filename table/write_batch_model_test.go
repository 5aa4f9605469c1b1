package table

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var batchSeed = flag.Uint64("batch.seed", 0, "TestWriteBatchModel: replay this seed (default: drawn)")

var allRowKinds = []spec.RowKind{spec.RowKindInsert, spec.RowKindUpdateBefore, spec.RowKindUpdateAfter, spec.RowKindDelete}

// batchCase is one table of TestWriteBatchModel.
type batchCase struct {
	name        string
	partitioned bool // dt is the partition column, and part of the key
	multiKey    bool // k2 is part of the key
	seqField    bool // sq is the sequence.field
	// spill makes the write buffer spill to disk rather than flush, so that
	// level-0 files are written only by commits and compactions. Tables
	// whose merge result or changelog depends on how records were grouped
	// into files need it: flushes in the middle of a commit start
	// background compactions whose timing would make the two tables differ
	// for reasons that have nothing to do with the write path.
	spill bool
	opts  []string
	// kinds are the row kinds the stream writes (nil: +I and +U).
	kinds []spec.RowKind
	// refuses: the merge engine refuses -U and -D.
	refuses bool
	// small: numbers stay small, as aggregation sums them.
	small bool
}

var batchCases = []batchCase{
	{name: "deduplicate/bucket-1", kinds: allRowKinds, opts: []string{"bucket", "1"}},
	{name: "deduplicate/bucket-4/partitioned/multi-key", partitioned: true, multiKey: true, kinds: allRowKinds,
		opts: []string{"bucket", "4"}},
	{name: "deduplicate/bucket-4/sequence-field", seqField: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "4", "sequence.field", "sq"}},
	{name: "deduplicate/partitioned/deletion-vectors", partitioned: true, kinds: allRowKinds,
		opts: []string{"bucket", "2", "deletion-vectors.enabled", "true"}},
	{name: "deduplicate/dynamic-bucket", partitioned: true, kinds: allRowKinds,
		opts: []string{"bucket", "-1", "dynamic-bucket.target-row-num", "16"}},
	{name: "deduplicate/dynamic-bucket/ignore-delete", kinds: allRowKinds,
		opts: []string{"bucket", "-1", "dynamic-bucket.target-row-num", "16", "ignore-delete", "true"}},
	{name: "deduplicate/multi-key/changelog-input", multiKey: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "2", "changelog-producer", "input"}},
	{name: "deduplicate/changelog-lookup", spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "2", "changelog-producer", "lookup"}},
	{name: "deduplicate/changelog-full-compaction", partitioned: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "2", "changelog-producer", "full-compaction"}},
	{name: "partial-update", refuses: true, opts: []string{"bucket", "2", "merge-engine", "partial-update"}},
	{name: "partial-update/ignore-delete/sequence-field/changelog-lookup", seqField: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "2", "merge-engine", "partial-update", "ignore-delete", "true", "sequence.field", "sq",
			"changelog-producer", "lookup"}},
	{name: "partial-update/remove-record-on-delete", multiKey: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "4", "merge-engine", "partial-update", "partial-update.remove-record-on-delete", "true"}},
	{name: "aggregation", partitioned: true, refuses: true, small: true,
		opts: []string{"bucket", "2", "merge-engine", "aggregation",
			"fields.nn.aggregate-function", "sum", "fields.i.aggregate-function", "sum", "fields.bi.aggregate-function", "max",
			"fields.s.aggregate-function", "listagg", "fields.d.aggregate-function", "first_non_null_value",
			"fields.b.aggregate-function", "bool_or", "fields.day.aggregate-function", "min",
			"fields.ts.aggregate-function", "max", "fields.dec.aggregate-function", "sum",
			"fields.arr.aggregate-function", "collect", "fields.m.aggregate-function", "merge_map"}},
	{name: "aggregation/retract/changelog-input", spill: true, small: true, kinds: allRowKinds,
		opts: []string{"bucket", "1", "merge-engine", "aggregation", "changelog-producer", "input",
			"fields.default-aggregate-function", "last_value",
			"fields.nn.aggregate-function", "sum", "fields.i.aggregate-function", "sum", "fields.bi.aggregate-function", "sum",
			"fields.dec.aggregate-function", "sum",
			"fields.s.aggregate-function", "last_non_null_value", "fields.s.ignore-retract", "true"}},
	{name: "first-row", refuses: true, opts: []string{"bucket", "2", "merge-engine", "first-row"}},
	{name: "first-row/ignore-delete/multi-key/changelog-lookup", multiKey: true, spill: true, kinds: allRowKinds,
		opts: []string{"bucket", "3", "merge-engine", "first-row", "ignore-delete", "true", "changelog-producer", "lookup"}},
}

// TestWriteBatchModel is the acceptance test of the batch write path: for
// every merge engine and a range of table shapes, one random stream of
// operations goes into two tables made alike, row by row with WriteRow
// into one and as Arrow record batches with Write into the other (batches
// of 0 to a few hundred rows, columns in any order, with or without
// _VALUE_KIND, commits, full compactions and new writers at random
// points). After every commit both tables must read back the same merged
// records (partition, bucket, key, order of sequence numbers, kind, value)
// and, with a changelog producer, the same changelog per commit; at the
// end, the same rows from a scan. File counts and levels may differ.
// Invalid batches (unknown, missing, duplicate or mistyped columns, nulls
// in NOT NULL columns, bad _VALUE_KIND, a retraction the engine refuses)
// must fail with spec.ErrSchemaMismatch and leave nothing behind: the
// row-path table never sees them, so a leftover shows at the next commit.
func TestWriteBatchModel(t *testing.T) {
	seed := *batchSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./table -run TestWriteBatchModel -batch.seed=%d)", seed, seed)
	ops := 150
	if testing.Short() {
		ops = 25
	}
	for i, c := range batchCases {
		t.Run(c.name, func(t *testing.T) {
			m := newBatchModel(t, seed, c, rand.New(rand.NewPCG(seed, uint64(i))))
			m.run(ops)
		})
	}
}

// batchSide is one of the two tables and its writer.
type batchSide struct {
	name   string
	tb     *Table
	w      *Write
	stream *Stream
	// commitOf maps each snapshot to the commit (1, 2...) that made it;
	// compactions may make the two tables differ in snapshot count.
	commitOf map[int64]int
	// changes are the changelog's changes by commit, rendered.
	changes map[int][]string
}

// batchModel runs one batchCase.
type batchModel struct {
	t        *testing.T
	seed     uint64
	c        batchCase
	rng      *rand.Rand
	fields   []spec.DataField
	keyCols  []int // partition and primary key columns, for sorting changes
	mem      *memory.CheckedAllocator
	spillDir string
	rows     *batchSide // written with WriteRow
	batches  *batchSide // written with Write
	commits  int
	changed  int      // commits whose changelog was compared
	recent   []string // the last operations, for failure messages
}

const batchColumns = "i INT, k BIGINT NOT NULL, s STRING, nn INT NOT NULL, d DOUBLE, b BOOLEAN, day DATE, " +
	"ts TIMESTAMP(3), ts6 TIMESTAMP(6), dec DECIMAL(12, 2), bin BYTES, bi BIGINT, arr ARRAY<INT>, m MAP<STRING, INT>"

func newBatchModel(t *testing.T, seed uint64, c batchCase, rng *rand.Rand) *batchModel {
	ctx := context.Background()
	cols, pk := batchColumns, []string{"k"}
	var partition []string
	if c.partitioned {
		cols, pk, partition = cols+", dt STRING NOT NULL", append(pk, "dt"), []string{"dt"}
	}
	if c.multiKey {
		cols, pk = cols+", k2 INT NOT NULL", append(pk, "k2")
	}
	if c.seqField {
		cols += ", sq BIGINT"
	}
	fields, err := spec.ParseColumns(cols)
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]string{"write-buffer-size", "32kb", "target-file-size", "16kb",
		"num-sorted-run.compaction-trigger", "3", "write-buffer-spillable", strconv.FormatBool(c.spill)}, c.opts...)
	sc, err := spec.NewSchema(fields, partition, pk, spec.NewStringMap(opts...), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &batchModel{t: t, seed: seed, c: c, rng: rng, fields: fields, spillDir: t.TempDir(),
		mem: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	for _, name := range append(partition, pk...) {
		m.keyCols = append(m.keyCols, sc.FieldIndex(name))
	}
	side := func(name, at string) *batchSide {
		tb, err := Create(ctx, storage.NewMemory(), at, sc)
		if err != nil {
			t.Fatal(err)
		}
		s := &batchSide{name: name, tb: tb, commitOf: map[int64]int{}, changes: map[int][]string{}}
		if s.w, err = tb.NewWrite(ctx, WithSpillDir(m.spillDir)); err != nil {
			t.Fatal(err)
		}
		if tb.Options().ChangelogProducer != spec.ChangelogProducerNone {
			if s.stream, err = tb.NewStream(WithStart(FromEarliest())); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	m.rows, m.batches = side("WriteRow", "db.db/rows"), side("Write", "db.db/batches")
	t.Cleanup(func() {
		m.rows.w.Close()
		m.batches.w.Close()
		// Write must not keep (or free) what the caller owns.
		m.mem.AssertSize(t, 0)
	})
	return m
}

func (m *batchModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d, %s: %s\nlast operations:\n  %s\n(replay: go test ./table -run 'TestWriteBatchModel/%s' -batch.seed=%d)",
		m.seed, m.c.name, fmt.Sprintf(format, args...), strings.Join(m.recent, "\n  "), m.c.name, m.seed)
}

func (m *batchModel) note(format string, args ...any) {
	m.recent = append(m.recent, fmt.Sprintf(format, args...))
	if len(m.recent) > 12 {
		m.recent = m.recent[1:]
	}
}

func (m *batchModel) run(ops int) {
	for range ops {
		switch r := m.rng.IntN(100); {
		case r < 68:
			m.writeBatch()
		case r < 82:
			m.commit()
		case r < 85:
			m.compact()
		case r < 97:
			m.invalidBatch()
		default:
			m.reopen()
		}
	}
	m.commit()
	// The scan's rows are the records' values; a full scan (the row and
	// the columnar one) says so once.
	render := func(s *batchSide) []string {
		rows := scanAll(m.t, s.tb)
		slices.SortFunc(rows, spec.CompareRows)
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = renderRow(r)
		}
		return out
	}
	m.compareLines("scan", render(m.rows), render(m.batches))
	if m.rows.stream != nil && len(m.rows.changes) == 0 {
		m.fatalf("no changelog to compare")
	}
}

// batchSize draws a batch size: often 1, sometimes 0, now and then
// hundreds.
func (m *batchModel) batchSize() int {
	switch r := m.rng.IntN(100); {
	case r < 5:
		return 0
	case r < 25:
		return 1
	case r < 65:
		return 2 + m.rng.IntN(15)
	case r < 95:
		return 17 + m.rng.IntN(100)
	}
	return 120 + m.rng.IntN(400)
}

func (m *batchModel) kind() spec.RowKind {
	kinds := m.c.kinds
	if kinds == nil {
		kinds = []spec.RowKind{spec.RowKindInsert, spec.RowKindUpdateAfter}
	}
	// Mostly inserts, so that the tables fill up.
	if m.rng.IntN(3) > 0 {
		return spec.RowKindInsert
	}
	return kinds[m.rng.IntN(len(kinds))]
}

func (m *batchModel) changes(n int) ([]spec.Row, []spec.RowKind) {
	rows, kinds := make([]spec.Row, n), make([]spec.RowKind, n)
	for i := range rows {
		rows[i], kinds[i] = m.row(), m.kind()
	}
	return rows, kinds
}

func (m *batchModel) writeBatch() {
	ctx := context.Background()
	rows, kinds := m.changes(m.batchSize())
	inserts := !slices.ContainsFunc(kinds, func(k spec.RowKind) bool { return k != spec.RowKindInsert })
	cols := m.columns(rows, kinds, !inserts || m.rng.IntN(2) == 0)
	if m.rng.IntN(3) > 0 {
		m.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	}
	rec := m.assemble(cols, len(rows))
	defer rec.Release()
	m.note("batch of %d rows, kinds %v..., columns %s", len(rows), kinds[:min(len(kinds), 8)], batchColumnNames(rec))
	for i, row := range rows {
		if err := m.rows.w.WriteRow(ctx, kinds[i], row); err != nil {
			m.fatalf("WriteRow(%s %v): %v", kinds[i], row, err)
		}
	}
	if err := m.batches.w.Write(ctx, rec); err != nil {
		m.fatalf("Write(%d rows): %v", len(rows), err)
	}
}

func batchColumnNames(rec arrow.RecordBatch) string {
	var names []string
	for _, f := range rec.Schema().Fields() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

// batchCol is one column of a batch being made.
type batchCol struct {
	f arrow.Field
	a arrow.Array
}

// columns builds the table columns of rows (each with a reference the
// caller releases), optionally with the kinds as RowKindColumn last. Some
// fields lose their metadata and NOT NULL flag: Write matches columns by
// name and type only.
func (m *batchModel) columns(rows []spec.Row, kinds []spec.RowKind, withKind bool) []batchCol {
	b, err := arrowconv.NewBuilder(m.mem, m.fields)
	if err != nil {
		m.fatalf("%v", err)
	}
	defer b.Release()
	for _, r := range rows {
		if err := b.Append(r); err != nil {
			m.fatalf("building a batch: %v", err)
		}
	}
	rec := b.NewBatch()
	defer rec.Release()
	var cols []batchCol
	for i, f := range rec.Schema().Fields() {
		if m.rng.IntN(2) == 0 {
			f.Metadata, f.Nullable = arrow.Metadata{}, true
		}
		a := rec.Column(i)
		a.Retain()
		cols = append(cols, batchCol{f, a})
	}
	if withKind {
		kb := array.NewInt8Builder(m.mem)
		defer kb.Release()
		for _, k := range kinds {
			kb.Append(int8(k))
		}
		cols = append(cols, batchCol{arrow.Field{Name: RowKindColumn, Type: arrow.PrimitiveTypes.Int8}, kb.NewArray()})
	}
	return cols
}

// assemble makes a batch of cols and releases them.
func (m *batchModel) assemble(cols []batchCol, n int) arrow.RecordBatch {
	fs := make([]arrow.Field, len(cols))
	as := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fs[i], as[i] = c.f, c.a
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fs, nil), as, int64(n))
	for _, a := range as {
		a.Release()
	}
	return rec
}

// commit commits both writers and compares the tables.
func (m *batchModel) commit() {
	ctx := context.Background()
	m.commits++
	m.note("commit %d", m.commits)
	for _, s := range []*batchSide{m.rows, m.batches} {
		msgs, err := s.w.PrepareCommit(ctx)
		if err != nil {
			m.fatalf("%s: PrepareCommit: %v", s.name, err)
		}
		before, err := s.tb.Snapshots().LatestID(ctx)
		if err != nil {
			m.fatalf("%v", err)
		}
		last, err := s.tb.NewCommit("model").Commit(ctx, int64(m.commits), msgs)
		if err != nil {
			m.fatalf("%s: Commit: %v", s.name, err)
		}
		for id := before + 1; id <= last; id++ {
			s.commitOf[id] = m.commits
		}
	}
	m.compare()
}

func (m *batchModel) compact() {
	m.note("full compaction")
	for _, s := range []*batchSide{m.rows, m.batches} {
		if err := s.w.Compact(context.Background(), true, nil); err != nil {
			m.fatalf("%s: Compact: %v", s.name, err)
		}
	}
}

// reopen commits and goes on with new writers, which restore the buckets
// from the table.
func (m *batchModel) reopen() {
	m.commit()
	m.note("new writers")
	for _, s := range []*batchSide{m.rows, m.batches} {
		s.w.Close()
		w, err := s.tb.NewWrite(context.Background(), WithSpillDir(m.spillDir))
		if err != nil {
			m.fatalf("%s: NewWrite: %v", s.name, err)
		}
		s.w = w
	}
}

// compare checks that both tables read back the same rows, records and
// changelog.
func (m *batchModel) compare() {
	m.compareLines("records", m.records(m.rows), m.records(m.batches))
	if m.rows.stream == nil {
		return
	}
	m.readChanges(m.rows)
	m.readChanges(m.batches)
	for ; m.changed < m.commits; m.changed++ {
		c := m.changed + 1
		m.compareLines(fmt.Sprintf("changelog of commit %d", c), m.rows.changes[c], m.batches.changes[c])
	}
}

// records returns the table's merged records, as a batch scan reads them
// before projecting their values: partition, bucket, key, sequence number,
// kind and value. A sequence number is given as its rank among the
// bucket's records: a new writer continues from the highest sequence
// number in the bucket's files, which depends on what compactions dropped
// and so on where buffers were flushed, which the two paths may choose
// differently (by their own measure of a buffer's bytes); the order of
// the records is what must not change.
func (m *batchModel) records(s *batchSide) []string {
	ctx := context.Background()
	plan, err := s.tb.NewScan().Plan(ctx)
	if err != nil {
		m.fatalf("%s: Plan: %v", s.name, err)
	}
	var out []string
	for _, sp := range plan.Splits {
		var kvs []*spec.KeyValue
		for kv, err := range s.tb.readSplit(ctx, sp) {
			if err != nil {
				m.fatalf("%s: reading bucket %d: %v", s.name, sp.Bucket, err)
			}
			kvs = append(kvs, kv)
		}
		seqs := make([]int64, len(kvs))
		for i, kv := range kvs {
			seqs[i] = kv.Seq
		}
		slices.Sort(seqs)
		for _, kv := range kvs {
			rank, _ := slices.BinarySearch(seqs, kv.Seq)
			out = append(out, fmt.Sprintf("partition %x bucket %d key %s seq #%d %s %s",
				sp.Partition, sp.Bucket, renderRow(kv.Key), rank, kv.Kind, renderRow(kv.Value)))
		}
	}
	slices.Sort(out)
	return out
}

// readChanges reads the changelog committed since the last call. A
// commit's changes are ordered by key, keeping the order of each key's
// changes: how they are cut into files and buckets may differ.
func (m *batchModel) readChanges(s *batchSide) {
	type change struct{ key, line string }
	byCommit := map[int][]change{}
	for ch, err := range s.stream.Changes(context.Background()) {
		if err != nil {
			m.fatalf("%s: stream: %v", s.name, err)
		}
		c, ok := s.commitOf[ch.Snapshot]
		if !ok {
			m.fatalf("%s: change in snapshot %d, which no commit made", s.name, ch.Snapshot)
		}
		key := make(spec.Row, len(m.keyCols))
		for i, j := range m.keyCols {
			key[i] = ch.Row[j]
		}
		byCommit[c] = append(byCommit[c], change{renderRow(key), ch.Kind.String() + " " + renderRow(ch.Row)})
	}
	for c, chs := range byCommit {
		slices.SortStableFunc(chs, func(a, b change) int { return strings.Compare(a.key, b.key) })
		for _, ch := range chs {
			s.changes[c] = append(s.changes[c], ch.line)
		}
	}
}

func (m *batchModel) compareLines(what string, rows, batches []string) {
	m.t.Helper()
	for i := range max(len(rows), len(batches)) {
		var r, b string
		if i < len(rows) {
			r = rows[i]
		}
		if i < len(batches) {
			b = batches[i]
		}
		if r != b {
			m.fatalf("%s differs at line %d of %d (WriteRow) / %d (Write):\nWriteRow: %s\nWrite:    %s",
				what, i, len(rows), len(batches), r, b)
		}
	}
}

// invalidBatch gives the batch writer a batch it must refuse whole; the
// row writer gets nothing, or the offending row, which it must refuse too.
func (m *batchModel) invalidBatch() {
	ctx := context.Background()
	variants := []string{"unknown column", "missing column", "duplicate column", "wrong type",
		"null in NOT NULL", "bad kind", "kind not TINYINT", "null kind"}
	if m.c.refuses {
		variants = append(variants, "refused kind", "refused kind")
	}
	v := variants[m.rng.IntN(len(variants))]
	n := m.rng.IntN(20)
	if v == "null in NOT NULL" || v == "refused kind" || v == "bad kind" || v == "null kind" {
		n++
	}
	rows, kinds := m.changes(n)
	bad := -1 // the row that makes the batch invalid, if one does
	switch v {
	case "null in NOT NULL":
		var notNull []int
		for j, f := range m.fields {
			if !f.Type.Nullable {
				notNull = append(notNull, j)
			}
		}
		bad = m.rng.IntN(n)
		j := notNull[m.rng.IntN(len(notNull))]
		rows[bad] = slices.Clone(rows[bad])
		rows[bad][j] = nil
	case "refused kind":
		bad = m.rng.IntN(n)
		kinds[bad] = []spec.RowKind{spec.RowKindUpdateBefore, spec.RowKindDelete}[m.rng.IntN(2)]
	}
	cols := m.spoil(v, m.columns(rows, kinds, true), kinds)
	m.rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	rec := m.assemble(cols, n)
	defer rec.Release()
	m.note("invalid batch (%s) of %d rows, row %d", v, n, bad)
	err := m.batches.w.Write(ctx, rec)
	if !errors.Is(err, spec.ErrSchemaMismatch) {
		m.fatalf("Write of a batch with %s (row %d of %d): %v, want spec.ErrSchemaMismatch", v, bad, n, err)
	}
	if bad >= 0 {
		if err := m.rows.w.WriteRow(ctx, kinds[bad], rows[bad]); !errors.Is(err, spec.ErrSchemaMismatch) {
			m.fatalf("WriteRow of the row of a %s: %v, want spec.ErrSchemaMismatch", v, err)
		}
	}
}

// spoil makes the columns of a batch (the table's, then RowKindColumn)
// invalid as variant v of invalidBatch says.
func (m *batchModel) spoil(v string, cols []batchCol, kinds []spec.RowKind) []batchCol {
	n := len(kinds)
	kindCol := len(cols) - 1
	replaceKinds := func(a arrow.Array) {
		cols[kindCol].a.Release()
		cols[kindCol].a = a
	}
	switch v {
	case "unknown column":
		cols = append(cols, batchCol{arrow.Field{Name: "zz", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, m.nulls(arrow.PrimitiveTypes.Int32, n)})
	case "missing column":
		j := m.rng.IntN(kindCol)
		cols[j].a.Release()
		cols = slices.Delete(cols, j, j+1)
	case "duplicate column":
		c := cols[m.rng.IntN(kindCol)]
		c.a.Retain()
		cols = append(cols, c)
	case "wrong type":
		j := m.rng.IntN(kindCol)
		t := nearType(cols[j].f.Type)
		if m.rng.IntN(3) == 0 {
			if t = arrow.BinaryTypes.String; arrow.TypeEqual(cols[j].f.Type, t) {
				t = arrow.PrimitiveTypes.Int64
			}
		}
		cols[j].a.Release()
		cols[j].f.Type, cols[j].a = t, m.nulls(t, n)
	case "bad kind":
		kb := array.NewInt8Builder(m.mem)
		for i, k := range kinds {
			if i == n-1 {
				kb.Append([]int8{4, -1, 127}[m.rng.IntN(3)])
			} else {
				kb.Append(int8(k))
			}
		}
		replaceKinds(kb.NewArray())
		kb.Release()
	case "kind not TINYINT":
		kb := array.NewInt32Builder(m.mem)
		for _, k := range kinds {
			kb.Append(int32(k))
		}
		cols[kindCol].f.Type = arrow.PrimitiveTypes.Int32
		replaceKinds(kb.NewArray())
		kb.Release()
	case "null kind":
		kb := array.NewInt8Builder(m.mem)
		for i, k := range kinds {
			if i == n/2 {
				kb.AppendNull()
			} else {
				kb.Append(int8(k))
			}
		}
		replaceKinds(kb.NewArray())
		kb.Release()
	}
	return cols
}

// nearType is a type close to t that Write must still refuse: another
// width, unit, precision or element type.
func nearType(t arrow.DataType) arrow.DataType {
	switch x := t.(type) {
	case *arrow.TimestampType:
		if x.Unit == arrow.Millisecond {
			return &arrow.TimestampType{Unit: arrow.Microsecond}
		}
		return &arrow.TimestampType{Unit: x.Unit, TimeZone: "UTC"}
	case *arrow.Decimal128Type:
		return &arrow.Decimal128Type{Precision: x.Precision + 1, Scale: x.Scale}
	case *arrow.ListType:
		return arrow.ListOf(nearType(x.Elem()))
	case *arrow.MapType:
		return arrow.MapOf(x.KeyType(), nearType(x.ItemType()))
	}
	switch t.ID() {
	case arrow.INT32:
		return arrow.PrimitiveTypes.Int64
	case arrow.INT64:
		return arrow.PrimitiveTypes.Int32
	case arrow.FLOAT64:
		return arrow.PrimitiveTypes.Float32
	case arrow.STRING:
		return arrow.BinaryTypes.LargeString
	case arrow.BINARY:
		return arrow.BinaryTypes.String
	case arrow.BOOL:
		return arrow.PrimitiveTypes.Int8
	case arrow.DATE32:
		return arrow.FixedWidthTypes.Date64
	}
	return arrow.BinaryTypes.String
}

// nulls is an array of n nulls of type t.
func (m *batchModel) nulls(t arrow.DataType, n int) arrow.Array {
	b := array.NewBuilder(m.mem, t)
	defer b.Release()
	b.AppendNulls(n)
	return b.NewArray()
}

var batchStrings = []string{"", "a", "ab", "é", "a,b", "\U0010ffff", "null", strings.Repeat("long ", 60)}

// row draws a row: keys from a small set so that they repeat, nulls in
// nullable columns.
func (m *batchModel) row() spec.Row {
	row := make(spec.Row, len(m.fields))
	for i, f := range m.fields {
		row[i] = m.value(f)
	}
	return row
}

func (m *batchModel) value(f spec.DataField) any {
	r := m.rng
	switch f.Name {
	case "k":
		k := int64(r.IntN(60) - 20)
		if k%7 == 0 {
			k *= 1e15 // far apart keys, negative ones too
		}
		return k
	case "k2":
		return int32(r.IntN(3) - 1)
	case "dt":
		return []string{"2024-01-01", "2024-01-02", "x"}[r.IntN(3)]
	case "nn":
		return int32(r.IntN(200) - 100)
	case "sq":
		if r.IntN(10) == 0 {
			return nil
		}
		return int64(r.IntN(30))
	}
	if f.Type.Nullable && r.IntN(4) == 0 {
		return nil
	}
	switch f.Type.Root {
	case spec.TypeInt:
		return int32(r.IntN(2001) - 1000)
	case spec.TypeBigInt:
		if !m.c.small && r.IntN(4) == 0 {
			return []int64{math.MinInt64, -1, 0, math.MaxInt64}[r.IntN(4)]
		}
		return r.Int64N(1<<40) - 1<<39
	case spec.TypeVarChar:
		return batchStrings[r.IntN(len(batchStrings))]
	case spec.TypeDouble:
		if r.IntN(4) == 0 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}[r.IntN(5)]
		}
		return r.NormFloat64() * 1e6
	case spec.TypeBoolean:
		return r.IntN(2) == 0
	case spec.TypeDate:
		return spec.Date(r.IntN(40000) - 10000)
	case spec.TypeTimestamp:
		ts := spec.Timestamp{Millis: r.Int64N(4e12) - 1e12}
		if f.Type.Precision > 3 {
			ts.NanoOfMilli = int32(r.IntN(1000)) * 1000
		}
		return ts
	case spec.TypeDecimal:
		if m.c.small {
			return spec.NewDecimal(r.Int64N(2e6)-1e6, f.Type.Scale)
		}
		return spec.NewDecimal(r.Int64N(2e12-1)-(1e12-1), f.Type.Scale)
	case spec.TypeVarBinary:
		b := make([]byte, r.IntN(9))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case spec.TypeArray:
		a := make([]any, r.IntN(4))
		for i := range a {
			if r.IntN(4) > 0 {
				a[i] = int32(r.IntN(10))
			}
		}
		return a
	case spec.TypeMap:
		var mp spec.Map
		for _, k := range []string{"a", "b", "c", "d"} {
			if r.IntN(3) > 0 {
				continue
			}
			mp.Keys = append(mp.Keys, k)
			if r.IntN(4) > 0 {
				mp.Values = append(mp.Values, int32(r.IntN(100)))
			} else {
				mp.Values = append(mp.Values, nil)
			}
		}
		return mp
	}
	panic(f.Type.String())
}

// renderRow renders a row with each value's Go type, distinguishing null
// from empty, -0 from 0 and a decimal's scale.
func renderRow(r spec.Row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = renderValue(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("x'%x'", x)
	case float64:
		return "f64 " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "array" + renderRow(x)
	case spec.Map:
		return "map" + renderRow(x.Keys) + renderRow(x.Values)
	case spec.Row:
		return "row" + renderRow(x)
	}
	return fmt.Sprintf("%T %v", v, v)
}

// TestWriteBatchRefusedRowKeepsNothing: a batch holding a retraction its
// table's merge engine refuses fails whole, with spec.ErrSchemaMismatch as
// WriteRow does, even when the refused row is not its first one: the rows
// before it are not kept either.
func TestWriteBatchRefusedRowKeepsNothing(t *testing.T) {
	for _, opts := range [][]string{
		{"merge-engine", "first-row"},
		{"merge-engine", "partial-update"},
		{"merge-engine", "aggregation", "fields.score.aggregate-function", "max"},
	} {
		t.Run(opts[1], func(t *testing.T) {
			ctx := context.Background()
			tb := newTestTable(t, storage.NewMemory(), 1, opts...)
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			m := &batchModel{t: t, rng: rand.New(rand.NewPCG(1, 1)), fields: tb.Schema().Fields, mem: memory.NewCheckedAllocator(memory.NewGoAllocator())}
			rows := []spec.Row{{int64(1), "a", 1.5}, {int64(2), "b", 2.5}, {int64(1), "a", 1.5}}
			kinds := []spec.RowKind{spec.RowKindInsert, spec.RowKindInsert, spec.RowKindDelete}
			rec := m.assemble(m.columns(rows, kinds, true), len(rows))
			defer rec.Release()
			if err := w.Write(ctx, rec); !errors.Is(err, spec.ErrSchemaMismatch) {
				t.Fatalf("Write: %v, want spec.ErrSchemaMismatch", err)
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("u").Commit(ctx, 1, msgs); err != nil {
				t.Fatal(err)
			}
			if got := scanAll(t, tb); len(got) != 0 {
				t.Fatalf("the refused batch left %v", got)
			}
		})
	}
}
