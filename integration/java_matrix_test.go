package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonflink"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
	"github.com/stratalake/strata/integration/paimonpy"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The Java matrix: each cell is a table kind, run in both directions.
// Strata writes and Java Paimon reads (through ReadBuilder at every
// snapshot, compared row for row with Strata's scan, and after every batch
// with the model), and Java writes and Strata reads, likewise. Each
// direction ends with a full compaction by the writer and one by the other
// side; cells with a changelog producer also compare the change stream
// Java reads with Strata's changelog, snapshot by snapshot. pypaimon and
// Flink then read every snapshot too (pythonReads, flinkReads).
//
// STRATA_JAVA_LONG=1 runs every cell with more batches and rows;
// STRATA_JAVA_CELLS=a,b runs the cells whose names contain a or b;
// STRATA_JAVA_KEEP=dir keeps each warehouse in dir/<cell>-<direction>.

// longJava reports whether the long run was asked for.
func longJava() bool { return os.Getenv("STRATA_JAVA_LONG") != "" }

// javaCell is one table kind of the matrix.
type javaCell struct {
	Name      string
	Columns   string // Strata's column syntax
	PK        string // comma-separated; empty for an append table
	Partition string
	Options   map[string]string
	// Values lists the values drawn for some columns (partition columns).
	Values map[string][]any
	Keys   int  // the id column's key space (default 12)
	Rows   int  // changes per batch (default 12; 40 in the long run)
	Small  bool // small numbers and word strings (aggregation)
	Long   bool // only in the long run
	// NoJavaWrite says why Java cannot write the table, if it cannot.
	NoJavaWrite string
	// NoStrataWrite says why Strata cannot write the table, if it cannot:
	// only Java writes it then (and Strata's compaction is left out).
	NoStrataWrite string
	// NoStrataCompact and NoJavaCompact say why a side cannot compact the
	// table, if it cannot; that compaction is then left out.
	NoStrataCompact, NoJavaCompact string
	// NoPython says why pypaimon cannot read the table, if it cannot.
	NoPython string
	// NoFlink says why Flink (Paimon's Flink connector) cannot read the
	// table, if it cannot.
	NoFlink string
	Stream  bool // compare the change stream
}

func (c *javaCell) engine() string {
	if c.PK == "" {
		return ""
	}
	if e := c.Options["merge-engine"]; e != "" {
		return e
	}
	return "deduplicate"
}

func (c *javaCell) keys() int {
	if c.Keys == 0 {
		return 12
	}
	return c.Keys
}

func (c *javaCell) small() bool { return c.Small }

func (c *javaCell) schema() (*spec.TableSchema, error) {
	fields, err := spec.ParseColumns(c.Columns)
	if err != nil {
		return nil, err
	}
	opts := spec.NewStringMap()
	for _, k := range slices.Sorted(mapKeys(c.Options)) {
		opts.Set(k, c.Options[k])
	}
	return spec.NewSchema(fields, splitNonEmpty(c.Partition), splitNonEmpty(c.PK), opts, nil)
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// matrixResult is one line of the matrix report.
type matrixResult struct {
	cell, direction, result, reason string
	took                            time.Duration
}

var matrixReport struct {
	sync.Mutex
	rows []matrixResult
}

func TestJavaMatrix(t *testing.T) {
	runMatrix(t, func(c *javaCell) bool { return !c.avro() })
}

// TestJavaAvroMatrix runs the cells of tables Java writes with
// file.format=avro (Strata reads Avro data files but writes only Parquet).
func TestJavaAvroMatrix(t *testing.T) {
	runMatrix(t, (*javaCell).avro)
}

func (c *javaCell) avro() bool { return c.Options["file.format"] == "avro" }

// runMatrix runs the cells keep selects.
func runMatrix(t *testing.T, keep func(*javaCell) bool) {
	d := javatest.ForTest(t)
	t.Cleanup(func() { logMatrix(t) })
	for _, c := range javaCells() {
		if c.Long && !longJava() || !keep(c) {
			continue
		}
		if !cellSelected(c.Name) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			for _, w := range []writers{strataWrites, javaWrites, bothWrite} {
				t.Run(w.String(), func(t *testing.T) {
					if w != strataWrites && c.NoJavaWrite != "" {
						record(c.Name, w.String(), "n/a", c.NoJavaWrite, 0)
						t.Skip(c.NoJavaWrite)
					}
					if w != javaWrites && c.NoStrataWrite != "" {
						record(c.Name, w.String(), "n/a", c.NoStrataWrite, 0)
						t.Skip(c.NoStrataWrite)
					}
					r := runCell(t, d, c, w)
					t.Run("pypaimon-reads", func(t *testing.T) { r.pythonReads(t) })
					t.Run("flink-reads", func(t *testing.T) { r.flinkReads(t) })
				})
			}
		})
	}
}

func cellSelected(name string) bool {
	pat := os.Getenv("STRATA_JAVA_CELLS")
	if pat == "" {
		return true
	}
	for _, p := range strings.Split(pat, ",") {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

func record(cell, dir, result, reason string, took time.Duration) {
	matrixReport.Lock()
	defer matrixReport.Unlock()
	matrixReport.rows = append(matrixReport.rows, matrixResult{cell, dir, result, reason, took})
}

func logMatrix(t *testing.T) {
	matrixReport.Lock()
	defer matrixReport.Unlock()
	var b strings.Builder
	b.WriteString("\n| cell | direction | result | took | reason |\n|---|---|---|---|---|\n")
	for _, r := range matrixReport.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %.1fs | %s |\n", r.cell, r.direction, r.result, r.took.Seconds(),
			strings.ReplaceAll(r.reason, "\n", " "))
	}
	t.Log(b.String())
	if p := os.Getenv("STRATA_JAVA_MATRIX_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Errorf("writing the matrix report: %v", err)
		}
	}
}

// javaRun is one direction of one cell.
type javaRun struct {
	t      *testing.T
	ctx    context.Context
	d      *paimonjava.Driver
	c      *javaCell
	wh     string
	cat    *catalog.Catalog
	id     catalog.Identifier
	schema *spec.TableSchema
	model  *jmodel
	dir    string   // the direction, for the report
	reason string   // the first failure
	notes  []string // what was left out
}

const javaTable = "db.t"

func (r *javaRun) fail(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if r.reason == "" {
		r.reason = firstLine(msg)
	}
	r.t.Error(msg)
}

func (r *javaRun) fatal(format string, args ...any) {
	r.t.Helper()
	r.fail(format, args...)
	r.t.FailNow()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// writers says who writes a table: Strata, Java, or both in turn.
type writers int

const (
	strataWrites writers = iota
	javaWrites
	bothWrite // odd batches by Strata, even ones by Java
)

func (w writers) String() string {
	return [...]string{"strata-writes", "java-writes", "both-write"}[w]
}

// byJava reports whether Java writes batch b (1-based).
func (w writers) byJava(b int) bool {
	return w == javaWrites || w == bothWrite && b%2 == 0
}

func runCell(t *testing.T, d *paimonjava.Driver, c *javaCell, w writers) *javaRun {
	ctx := context.Background()
	start := time.Now()
	dir := w.String()
	r := &javaRun{t: t, ctx: ctx, d: d, c: c, wh: t.TempDir(), id: catalog.Identifier{Database: "db", Table: "t"}, dir: dir}
	if keep := os.Getenv("STRATA_JAVA_KEEP"); keep != "" {
		// Keep the warehouse for a look afterwards.
		r.wh = filepath.Join(keep, c.Name+"-"+dir)
		if err := os.RemoveAll(r.wh); err != nil {
			r.fatal("%v", err)
		}
		if err := os.MkdirAll(r.wh, 0o755); err != nil {
			r.fatal("%v", err)
		}
	}
	defer func() {
		result, reason := "pass", strings.Join(r.notes, "; ")
		if t.Failed() {
			result, reason = "FAIL", r.reason
		}
		record(c.Name, dir, result, reason, time.Since(start))
	}()
	fs, err := storage.Open(ctx, r.wh)
	if err != nil {
		r.fatal("%v", err)
	}
	r.cat = catalog.New(fs)
	if r.schema, err = c.schema(); err != nil {
		r.fatal("schema: %v", err)
	}
	if r.model, err = newJModel(c, r.schema); err != nil {
		r.fatal("%v", err)
	}
	if w == javaWrites {
		if err := d.Create(ctx, r.wh, javaTable, spec.EncodeSchema(r.schema)); err != nil {
			r.fatal("java create: %v", err)
		}
	} else if _, err := r.cat.CreateTable(ctx, r.id, r.schema); err != nil {
		r.fatal("strata create: %v", err)
	}

	batches, rows := 3, 12
	if longJava() {
		batches, rows = 8, 40
	}
	if c.Rows > 0 {
		rows = c.Rows
	}
	rng := rand.New(rand.NewPCG(uint64(len(c.Name)), hashString(c.Name)))
	for b := 1; b <= batches; b++ {
		changes := r.model.draw(rng, rows)
		if w.byJava(b) {
			r.javaWrite(b, changes)
		} else {
			r.strataWrite(b, changes)
		}
		for _, ch := range changes {
			r.model.apply(ch)
		}
		r.checkLatest(fmt.Sprintf("after batch %d", b))
	}
	// The (last) writer's full compaction, then the other side's.
	last := w.byJava(batches)
	r.compact(last, "the writer's full compaction")
	r.compact(!last, "the other side's full compaction")
	r.checkLookups()
	r.checkAllSnapshots()
	if c.Stream {
		r.checkStreams()
	}
	if w != strataWrites && !t.Failed() {
		// Exactly once: Java's last batch replayed under its identifier
		// commits nothing, also after Strata's commits.
		lastJava := batches - batches%2
		if w == javaWrites {
			lastJava = batches
		}
		before := r.snapshotIDs()
		row := change{spec.RowKindInsert, r.model.freshRow(rng)}
		cm, err := d.Write(ctx, r.wh, javaTable, "java", int64(lastJava), r.encodeChanges([]change{row}))
		if err != nil || cm.Committed != 0 {
			r.fail("replaying commit %d: %+v, %v (want nothing committed)", lastJava, cm, err)
		}
		if after := r.snapshotIDs(); !slices.Equal(before, after) {
			r.fail("replaying commit %d: snapshots %v became %v", lastJava, before, after)
		}
	}
	return r
}

// pythonReads reads every snapshot of the run's table with pypaimon and
// compares it with Strata's scan (which the run compared with Java's read
// and the model).
func (r *javaRun) pythonReads(t *testing.T) {
	dir := r.dir + " / pypaimon reads"
	if r.t.Failed() {
		t.Skip("the run failed")
	}
	if r.c.NoPython != "" {
		record(r.c.Name, dir, "n/a", r.c.NoPython, 0)
		t.Skip(r.c.NoPython)
	}
	py := paimonpy.ForTest(t)
	start := time.Now()
	var reason string
	for _, id := range r.snapshotIDs() {
		s, err := r.strataLines(id)
		if err != nil {
			t.Fatalf("snapshot %d: strata scan: %v", id, err)
		}
		raw, err := py.Read(r.ctx, r.wh, javaTable, id)
		if err != nil {
			reason = firstLine(fmt.Sprintf("snapshot %d: pypaimon read: %v", id, err))
			t.Error(reason)
			break
		}
		got, err := canonical(r.schema.Fields, raw, false)
		if err != nil {
			reason = firstLine(fmt.Sprintf("snapshot %d: %v", id, err))
			t.Error(reason)
			break
		}
		if d := r.modelDiff(s, got); d != "" {
			msg := fmt.Sprintf("snapshot %d: pypaimon's read (+) differs from strata's scan (-):\n%s", id, d)
			if reason == "" {
				reason = firstLine(msg)
			}
			t.Error(msg)
		}
	}
	result := "pass"
	if t.Failed() {
		result = "FAIL"
	}
	record(r.c.Name, dir, result, reason, time.Since(start))
}

// flinkSnapshotPrefix is how the Flink driver begins a row of
// flinkReads's query: its _snapshot column, first.
var flinkSnapshotPrefix = regexp.MustCompile(`^\{"_snapshot":(\d+),?`)

// flinkReads reads every snapshot of the run's table with Flink (the test
// binary's one Flink driver, default profile, batch mode, time travel with
// scan.snapshot-id) and compares it with Strata's scan, as pythonReads
// does. The snapshots are read by one job: a UNION ALL of one scan per
// snapshot, each row tagged with its snapshot. Flink's own values go
// through the driver's conversion to Strata's value format
// (integration/flink/README.md).
func (r *javaRun) flinkReads(t *testing.T) {
	dir := r.dir + " / flink reads"
	if r.t.Failed() {
		t.Skip("the run failed")
	}
	if r.c.NoFlink != "" {
		record(r.c.Name, dir, "n/a", r.c.NoFlink, 0)
		t.Skip(r.c.NoFlink)
	}
	fl := paimonflink.ForTest(t, "")
	start := time.Now()
	ids := r.snapshotIDs()
	var q strings.Builder
	for i, id := range ids {
		if i > 0 {
			q.WriteString("\nUNION ALL\n")
		}
		fmt.Fprintf(&q, "SELECT CAST(%d AS BIGINT) AS _snapshot, * FROM %s /*+ OPTIONS('scan.snapshot-id' = '%d') */", id, javaTable, id)
	}
	var reason string
	fail := func(msg string) {
		if reason == "" {
			reason = firstLine(msg)
		}
		t.Error(msg)
	}
	raw, err := fl.Query(r.ctx, r.wh, q.String())
	if err != nil {
		fail(fmt.Sprintf("flink read: %v", err))
	}
	bySnapshot := map[int64][]string{}
	for _, l := range raw {
		m := flinkSnapshotPrefix.FindStringSubmatch(l)
		if m == nil {
			fail(fmt.Sprintf("flink read: a row without its _snapshot first: %s", l))
			break
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		bySnapshot[id] = append(bySnapshot[id], "{"+l[len(m[0]):])
	}
	for _, id := range ids {
		if reason != "" && len(bySnapshot) == 0 {
			break // nothing to compare: the query failed
		}
		s, err := r.strataLines(id)
		if err != nil {
			t.Fatalf("snapshot %d: strata scan: %v", id, err)
		}
		got, err := canonical(r.schema.Fields, bySnapshot[id], false)
		if err != nil {
			fail(fmt.Sprintf("snapshot %d: flink read: %v", id, err))
			break
		}
		// Flink hands MAP and MULTISET values over as Java HashMaps, so
		// their entries come in hash order: objects compare in key order.
		if d := diffLines(sortedObjects(s), sortedObjects(got)); d != "" {
			fail(fmt.Sprintf("snapshot %d: flink's read (+) differs from strata's scan (-):\n%s", id, d))
		}
	}
	result := "pass"
	if t.Failed() {
		result = "FAIL"
	}
	record(r.c.Name, dir, result, reason, time.Since(start))
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func (r *javaRun) table() *table.Table {
	r.t.Helper()
	tb, err := r.cat.GetTable(r.ctx, r.id)
	if err != nil {
		r.fatal("strata open: %v", err)
	}
	return tb
}

func (r *javaRun) strataWrite(batch int, changes []change) {
	r.t.Helper()
	tb := r.table()
	w, err := tb.NewWrite(r.ctx, table.WithWaitCompaction(true))
	if err != nil {
		r.fatal("strata write: %v", err)
	}
	defer w.Close()
	for _, ch := range changes {
		if err := w.WriteRow(r.ctx, ch.kind, ch.row); err != nil {
			r.fatal("strata write of batch %d: %v", batch, err)
		}
	}
	msgs, err := w.PrepareCommit(r.ctx)
	if err != nil {
		r.fatal("strata prepare commit of batch %d: %v", batch, err)
	}
	if _, err := tb.NewCommit("strata").Commit(r.ctx, int64(batch), msgs); err != nil {
		r.fatal("strata commit of batch %d: %v", batch, err)
	}
}

func (r *javaRun) javaWrite(batch int, changes []change) {
	r.t.Helper()
	if _, err := r.d.Write(r.ctx, r.wh, javaTable, "java", int64(batch), r.encodeChanges(changes)); err != nil {
		r.fatal("java write of batch %d: %v", batch, err)
	}
}

// encodeChanges renders changes as the JSON Lines strata write reads: the
// row, and _kind unless it is +I.
func (r *javaRun) encodeChanges(changes []change) string {
	r.t.Helper()
	enc := textrow.NewJSONEncoder(nil, r.schema.Fields)
	var b strings.Builder
	for _, ch := range changes {
		line, err := enc.AppendRow(nil, ch.row)
		if err != nil {
			r.fatal("encoding %v: %v", ch.row, err)
		}
		if ch.kind != spec.RowKindInsert {
			b.WriteString(`{"_kind":"` + ch.kind.String() + `",`)
			line = line[1:]
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// compact runs a full compaction by Java or Strata and checks the result.
func (r *javaRun) compact(byJava bool, what string) {
	r.t.Helper()
	if why := r.c.NoJavaCompact; byJava && why != "" {
		r.notes = append(r.notes, "no Java compaction: "+why)
		return
	}
	if why := r.c.NoStrataCompact; !byJava && why != "" {
		r.notes = append(r.notes, "no Strata compaction: "+why)
		return
	}
	if byJava {
		if _, err := r.d.Compact(r.ctx, r.wh, javaTable, true, "", 0); err != nil {
			r.fail("%s (java): %v", what, err)
			return
		}
	} else if _, err := r.table().Compact(r.ctx, true, "strata-compact", nil); err != nil {
		r.fail("%s (strata): %v", what, err)
		return
	}
	if r.model != nil { // (TestJavaSchemaEvolution checks without one)
		r.checkLatest("after " + what)
	}
}

// strataLines scans snapshot (0: the latest) with Strata.
func (r *javaRun) strataLines(snapshot int64) ([]string, error) {
	tb := r.table()
	var opts []table.ScanOption
	if snapshot > 0 {
		opts = append(opts, table.WithSnapshot(snapshot))
	}
	var rows []spec.Row
	for row, err := range tb.NewScan(opts...).Rows(r.ctx) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return encodeLines(r.schema.Fields, rows)
}

// javaLines reads snapshot (0: the latest) with Java, in Strata's
// canonical form (decoded and encoded again with Strata's codec, so float
// spellings do not matter but every value does).
func (r *javaRun) javaLines(snapshot int64) ([]string, error) {
	raw, err := r.d.Read(r.ctx, r.wh, javaTable, snapshot)
	if err != nil {
		return nil, err
	}
	return canonical(r.schema.Fields, raw, false)
}

// canonical decodes JSON Lines with Strata's decoder and encodes them
// again, sorted; withKind prefixes each with its row kind.
func canonical(fields []spec.DataField, lines []string, withKind bool) ([]string, error) {
	dec := textrow.NewJSONDecoder(strings.NewReader(strings.Join(lines, "\n")), fields)
	enc := textrow.NewJSONEncoder(nil, fields)
	var out []string
	for {
		row, kind, err := dec.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("decoding Java's output: %w", err)
		}
		b, err := enc.AppendRow(nil, row)
		if err != nil {
			return nil, err
		}
		if withKind {
			b = append([]byte(kind.String()+" "), b...)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out, nil
}

func (r *javaRun) checkLatest(when string) {
	r.t.Helper()
	want, err := r.model.lines()
	if err != nil {
		r.fatal("model: %v", err)
	}
	got, err := r.strataLines(0)
	if err != nil {
		r.fail("%s: strata scan: %v", when, err)
	} else if d := r.modelDiff(want, got); d != "" {
		r.fail("%s: strata scan differs from the model:\n%s", when, d)
	}
	got, err = r.javaLines(0)
	if err != nil {
		r.fail("%s: java read: %v", when, err)
	} else if d := r.modelDiff(want, got); d != "" {
		r.fail("%s: java read differs from the model:\n%s", when, d)
	}
}

// modelDiff is diffLines for a read against the model. Java's driver
// builds MAP values in a Java HashMap, so an Avro file holds their entries
// in hash order (Parquet cells keep the model's), and Java's Avro reader
// returns them in its own hash order; for Avro cells the entries are
// compared in key order, here and in checkAllSnapshots and the lookups.
func (r *javaRun) modelDiff(want, got []string) string {
	if r.c.avro() {
		want, got = sortedObjects(want), sortedObjects(got)
	}
	return diffLines(want, got)
}

// sortedObjects re-encodes JSON lines with every object's keys sorted.
func sortedObjects(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			out[i] = l
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			out[i] = l
			continue
		}
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

func (r *javaRun) snapshotIDs() []int64 {
	ids, err := r.table().Snapshots().IDs(r.ctx)
	if err != nil {
		r.fatal("snapshots: %v", err)
	}
	return ids
}

// checkAllSnapshots compares Strata's scan with Java's read at every
// snapshot.
func (r *javaRun) checkAllSnapshots() {
	r.t.Helper()
	for _, id := range r.snapshotIDs() {
		s, err := r.strataLines(id)
		if err != nil {
			r.fail("snapshot %d: strata scan: %v", id, err)
			continue
		}
		j, err := r.javaLines(id)
		if err != nil {
			r.fail("snapshot %d: java read: %v", id, err)
			continue
		}
		if d := r.modelDiff(s, j); d != "" {
			r.fail("snapshot %d: java read (+) differs from strata scan (-):\n%s", id, d)
		}
	}
}

// checkStreams compares, snapshot by snapshot, the changes Java's
// streaming read returns from snapshot 1 with Strata's (table.Stream from
// snapshot 1): the changelog, or with changelog-producer none the deltas
// of APPEND snapshots.
func (r *javaRun) checkStreams() {
	r.t.Helper()
	plans, err := r.d.Stream(r.ctx, r.wh, javaTable, 1)
	if err != nil {
		r.fail("java stream: %v", err)
		return
	}
	javaBy := map[int64][]string{}
	for _, p := range plans {
		got, err := canonical(r.schema.Fields, p.Rows, true)
		if err != nil {
			r.fail("java stream, snapshot %d: %v", p.Snapshot, err)
			return
		}
		javaBy[p.Snapshot] = append(javaBy[p.Snapshot], got...)
	}
	s, err := r.table().NewStream(table.WithStart(table.FromSnapshot(1)))
	if err != nil {
		r.fatal("%v", err)
	}
	enc := textrow.NewJSONEncoder(nil, r.schema.Fields)
	strataBy := map[int64][]string{}
	for c, err := range s.Changes(r.ctx) {
		if err != nil {
			r.fail("strata stream: %v", err)
			return
		}
		b, err := enc.AppendRow([]byte(c.Kind.String()+" "), c.Row)
		if err != nil {
			r.fatal("%v", err)
		}
		strataBy[c.Snapshot] = append(strataBy[c.Snapshot], string(b))
	}
	for _, id := range r.snapshotIDs() {
		want := strataBy[id]
		sort.Strings(want)
		got := javaBy[id]
		sort.Strings(got)
		if d := diffLines(want, got); d != "" {
			r.fail("snapshot %d: java's stream (+) differs from strata's (-):\n%s", id, d)
		}
	}
}

// diffLines describes how two sorted line lists differ ("" if they do
// not): lines only in want with -, only in got with +.
func diffLines(want, got []string) string {
	var b strings.Builder
	i, j, n := 0, 0, 0
	for (i < len(want) || j < len(got)) && n < 12 {
		switch {
		case j >= len(got) || i < len(want) && want[i] < got[j]:
			fmt.Fprintf(&b, "  - %s\n", want[i])
			i++
			n++
		case i >= len(want) || got[j] < want[i]:
			fmt.Fprintf(&b, "  + %s\n", got[j])
			j++
			n++
		default:
			i++
			j++
		}
	}
	if n == 12 {
		b.WriteString("  ...\n")
	}
	return b.String()
}
