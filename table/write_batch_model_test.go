package table

import (
	"context"
	"flag"
	"fmt"
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
