package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonflink"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// TestFlink runs Apache Flink (on a MiniCluster in the Flink driver's JVM,
// integration/flink) with Paimon's Flink connector over Strata warehouses:
// a batch query with a filter and aggregates over a Strata-written table,
// a streaming read of a Strata-written lookup-changelog table while Strata
// keeps writing, and INSERTs into a Strata table that Strata then reads
// and writes on.
//
// STRATA_FLINK_PROFILES picks the Flink and connector versions
// (integration/flink's Maven profiles: default, flink-1.20), each run as a
// subtest.
func TestFlink(t *testing.T) {
	for _, profile := range paimonflink.Profiles() {
		name := profile
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			d := paimonflink.ForTest(t, profile)
			v, err := d.Version(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("flink driver: %s", v)
			t.Run("BatchQuery", func(t *testing.T) { testFlinkBatchQuery(t, d, nil) })
			t.Run("BatchQueryDV", func(t *testing.T) {
				testFlinkBatchQuery(t, d, map[string]string{"deletion-vectors.enabled": "true"})
			})
			t.Run("StreamChangelog", func(t *testing.T) { testFlinkStreamChangelog(t, d) })
			t.Run("Insert", func(t *testing.T) { testFlinkInsert(t, d) })
		})
	}
}

// flinkTable is a Strata table in a warehouse Flink reads too.
type flinkTable struct {
	t      *testing.T
	ctx    context.Context
	wh     string
	cat    *catalog.Catalog
	id     catalog.Identifier
	schema *spec.TableSchema
}

// newFlinkTable creates db.name with Strata in wh (a new warehouse if "").
func newFlinkTable(t *testing.T, wh, name string, c *javaCell) *flinkTable {
	t.Helper()
	ctx := context.Background()
	if wh == "" {
		wh = t.TempDir()
	}
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	ft := &flinkTable{t: t, ctx: ctx, wh: wh, cat: catalog.New(fs), id: catalog.Identifier{Database: "db", Table: name}}
	if ft.schema, err = c.schema(); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.cat.CreateTable(ctx, ft.id, ft.schema); err != nil {
		t.Fatalf("strata create: %v", err)
	}
	return ft
}

func (ft *flinkTable) table() *table.Table {
	ft.t.Helper()
	tb, err := ft.cat.GetTable(ft.ctx, ft.id)
	if err != nil {
		ft.t.Fatalf("strata open: %v", err)
	}
	return tb
}

// write commits changes with Strata as one APPEND (and its compaction).
func (ft *flinkTable) write(commitID int64, changes []change) {
	ft.t.Helper()
	tb := ft.table()
	w, err := tb.NewWrite(ft.ctx, table.WithWaitCompaction(true))
	if err != nil {
		ft.t.Fatalf("strata write: %v", err)
	}
	defer w.Close()
	for _, ch := range changes {
		if err := w.WriteRow(ft.ctx, ch.kind, ch.row); err != nil {
			ft.t.Fatalf("strata write: %v", err)
		}
	}
	msgs, err := w.PrepareCommit(ft.ctx)
	if err != nil {
		ft.t.Fatalf("strata prepare commit: %v", err)
	}
	if _, err := tb.NewCommit("strata").Commit(ft.ctx, commitID, msgs); err != nil {
		ft.t.Fatalf("strata commit %d: %v", commitID, err)
	}
}

// scan reads the latest snapshot with Strata.
func (ft *flinkTable) scan() []spec.Row {
	ft.t.Helper()
	var rows []spec.Row
	for row, err := range ft.table().NewScan().Rows(ft.ctx) {
		if err != nil {
			ft.t.Fatalf("strata scan: %v", err)
		}
		rows = append(rows, row)
	}
	return rows
}

// lines renders rows of the table as sorted JSON Lines.
func (ft *flinkTable) lines(rows []spec.Row) []string {
	ft.t.Helper()
	out, err := encodeLines(ft.schema.Fields, rows)
	if err != nil {
		ft.t.Fatal(err)
	}
	return out
}

// flinkCompare decodes Flink's rows as the given columns, encodes them
// with Strata's codec and compares them, sorted, with want.
func flinkCompare(t *testing.T, what, columns string, want, flink []string) {
	t.Helper()
	fields, err := spec.ParseColumns(columns)
	if err != nil {
		t.Fatal(err)
	}
	got, err := canonical(fields, flink, strings.Contains(firstLine(strings.Join(flink, "\n")), `"_kind"`))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	sort.Strings(want)
	if d := diffLines(want, got); d != "" {
		t.Errorf("%s: Flink (+) differs from Strata (-):\n%s", what, d)
	}
}

const orderColumns = "region STRING NOT NULL, id BIGINT NOT NULL, customer STRING, qty INT, price DECIMAL(10, 2), odate DATE"

// orderChanges draws n upserts and deletes of orders.
func orderChanges(rng *rand.Rand, n int) []change {
	regions := []string{"eu", "us", "ap"}
	customers := []any{"ann", "bob", "cy", "dee", "o'neil", nil}
	out := make([]change, 0, n)
	for range n {
		row := spec.Row{regions[rng.IntN(len(regions))], int64(rng.IntN(100)), nil, nil, nil, nil}
		if rng.IntN(10) == 0 {
			out = append(out, change{spec.RowKindDelete, row})
			continue
		}
		row[2] = customers[rng.IntN(len(customers))]
		if rng.IntN(8) != 0 {
			row[3] = int32(rng.IntN(10))
		}
		row[4] = spec.NewDecimal(int64(rng.IntN(10000)), 2)
		row[5] = spec.Date(19723 + rng.IntN(31)) // January 2024
		out = append(out, change{spec.RowKindInsert, row})
	}
	return out
}

// testFlinkBatchQuery: Flink's batch SELECTs over a Strata-written,
// partitioned table (merged on read: level-0 files over a full
// compaction; with deletion vectors, level > 0 files and their vectors)
// equal the same filter and aggregates over Strata's scan; then (without
// opts) Flink copies the table into an aggregation table.
func testFlinkBatchQuery(t *testing.T, d *paimonflink.Driver, opts map[string]string) {
	options := map[string]string{"bucket": "2"}
	for k, v := range opts {
		options[k] = v
	}
	ft := newFlinkTable(t, "", "orders", &javaCell{Columns: orderColumns, PK: "region,id", Partition: "region",
		Options: options})
	rng := rand.New(rand.NewPCG(9, 1))
	ft.write(1, orderChanges(rng, 150))
	ft.write(2, orderChanges(rng, 150))
	if _, err := ft.table().Compact(ft.ctx, true, "strata-compact", nil); err != nil {
		t.Fatalf("strata compact: %v", err)
	}
	ft.write(3, orderChanges(rng, 150))
	rows := ft.scan()

	var want []spec.Row
	for _, r := range rows {
		if r[3] != nil && r[3].(int32) >= 5 && r[0] != "ap" {
			want = append(want, r)
		}
	}
	got, err := d.Query(ft.ctx, ft.wh, "SELECT * FROM db.orders WHERE qty >= 5 AND region <> 'ap'")
	if err != nil {
		t.Fatalf("flink query: %v", err)
	}
	flinkCompare(t, "the filtered rows", orderColumns, ft.lines(want), got)
	t.Logf("flink's filter kept %d of %d rows", len(got), len(rows))

	aggColumns := "customer STRING, n BIGINT, qty INT, total DECIMAL(38, 2), first_day DATE"
	got, err = d.Query(ft.ctx, ft.wh, `SELECT customer, COUNT(*) AS n, SUM(qty) AS qty, SUM(price) AS total,
		MIN(odate) AS first_day FROM db.orders WHERE price > 10 GROUP BY customer`)
	if err != nil {
		t.Fatalf("flink query: %v", err)
	}
	flinkCompare(t, "the aggregates", aggColumns, orderAggregates(t, rows, aggColumns), got)
	if opts == nil {
		testFlinkInsertAggregation(t, d, ft, rows)
	}
}

// testFlinkInsertAggregation: Flink INSERTs the orders, twice, into a
// Strata-created aggregation table (sum, sum, max), and Strata adds one
// more order; Strata's scan of the table is the aggregate of it all.
func testFlinkInsertAggregation(t *testing.T, d *paimonflink.Driver, orders *flinkTable, rows []spec.Row) {
	const columns = "customer STRING NOT NULL, n BIGINT, total DECIMAL(20, 2), last_day DATE"
	ft := newFlinkTable(t, orders.wh, "totals", &javaCell{Columns: columns, PK: "customer", Options: map[string]string{
		"bucket": "1", "merge-engine": "aggregation", "fields.n.aggregate-function": "sum",
		"fields.total.aggregate-function": "sum", "fields.last_day.aggregate-function": "max"}})
	insert := "INSERT INTO db.totals SELECT COALESCE(customer, '-'), CAST(1 AS BIGINT), CAST(price AS DECIMAL(20, 2)), odate FROM db.orders;\n"
	if err := d.Exec(ft.ctx, ft.wh, insert+insert); err != nil {
		t.Fatalf("flink insert: %v", err)
	}
	extra := spec.Row{"ann", int64(1), spec.NewDecimal(1, 2), spec.Date(20000)}
	ft.write(1, []change{{spec.RowKindInsert, extra}})

	type agg struct {
		n, cents int64
		last     spec.Date
	}
	want := map[string]*agg{}
	add := func(customer string, n, cents int64, day spec.Date) {
		a := want[customer]
		if a == nil {
			a = &agg{last: day}
			want[customer] = a
		}
		a.n, a.cents, a.last = a.n+n, a.cents+cents, max(a.last, day)
	}
	for _, r := range rows {
		customer, _ := r[2].(string)
		if r[2] == nil {
			customer = "-"
		}
		add(customer, 2, 2*r[4].(spec.Decimal).Unscaled.Int64(), r[5].(spec.Date))
	}
	add("ann", 1, 1, spec.Date(20000))
	var wantRows []spec.Row
	for c, a := range want {
		wantRows = append(wantRows, spec.Row{c, a.n, spec.NewDecimal(a.cents, 2), a.last})
	}
	if diff := diffLines(ft.lines(wantRows), ft.lines(ft.scan())); diff != "" {
		t.Errorf("the aggregation table Flink and Strata wrote: strata scan (+) differs from the model (-):\n%s", diff)
	}
}

// orderAggregates computes the aggregate query of testFlinkBatchQuery.
func orderAggregates(t *testing.T, rows []spec.Row, columns string) []string {
	t.Helper()
	type agg struct {
		n     int64
		qty   any
		total int64
		first spec.Date
	}
	groups := map[any]*agg{}
	ten := spec.NewDecimal(1000, 2)
	for _, r := range rows {
		if r[4] == nil || r[4].(spec.Decimal).Cmp(ten) <= 0 {
			continue
		}
		g := groups[r[2]]
		if g == nil {
			g = &agg{first: r[5].(spec.Date)}
			groups[r[2]] = g
		}
		g.n++
		if r[3] != nil {
			q, _ := g.qty.(int32)
			g.qty = q + r[3].(int32)
		}
		g.total += r[4].(spec.Decimal).Unscaled.Int64()
		g.first = min(g.first, r[5].(spec.Date))
	}
	fields, err := spec.ParseColumns(columns)
	if err != nil {
		t.Fatal(err)
	}
	var out []spec.Row
	for customer, g := range groups {
		out = append(out, spec.Row{customer, g.n, g.qty, spec.NewDecimal(g.total, 2), g.first})
	}
	lines, err := encodeLines(fields, out)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// testFlinkStreamChangelog: Flink's streaming read of a Strata-written
// lookup-changelog table, started after two commits and running while
// Strata commits two more, returns Strata's changelog: the same changes,
// kinds included, in the same order for each key, and nothing more.
func testFlinkStreamChangelog(t *testing.T, d *paimonflink.Driver) {
	const columns = "id INT NOT NULL, v STRING, n BIGINT"
	ft := newFlinkTable(t, "", "events", &javaCell{Columns: columns, PK: "id",
		Options: map[string]string{"bucket": "2", "changelog-producer": "lookup"}})
	rng := rand.New(rand.NewPCG(9, 2))
	draw := func() []change {
		var out []change
		for range 20 {
			row := spec.Row{int32(rng.IntN(15)), nil, nil}
			if rng.IntN(6) == 0 {
				out = append(out, change{spec.RowKindDelete, row})
				continue
			}
			row[1], row[2] = fmt.Sprintf("v%d", rng.IntN(1000)), int64(rng.IntN(1000))
			out = append(out, change{spec.RowKindInsert, row})
		}
		return out
	}
	ft.write(1, draw())
	ft.write(2, draw())
	s, err := d.StartStream(ft.ctx, ft.wh, `SELECT * FROM db.events /*+ OPTIONS('scan.mode' = 'from-snapshot',
		'scan.snapshot-id' = '1', 'continuous.discovery-interval' = '100ms') */`)
	if err != nil {
		t.Fatalf("flink stream: %v", err)
	}
	defer s.Stop(ft.ctx, 0)
	// The changes of the first commits, then those of two more made while
	// the stream runs.
	want := ft.changelog(0)
	got, err := s.Take(ft.ctx, len(want), 90*time.Second)
	if err != nil {
		t.Fatalf("flink stream: %v", err)
	}
	before := len(want)
	ft.write(3, draw())
	ft.write(4, draw())
	want = ft.changelog(0)
	more, err := s.Take(ft.ctx, len(want)-before, 90*time.Second)
	if err != nil {
		t.Fatalf("flink stream, after Strata's later commits: %v", err)
	}
	got = append(got, more...)
	extra, err := s.Stop(ft.ctx, time.Second)
	if err != nil {
		t.Fatalf("stopping the flink stream: %v", err)
	}
	if len(extra) > 0 {
		t.Errorf("flink streamed %d changes more than strata's changelog has: %v", len(extra), extra)
	}
	compareChanges(t, ft.schema.Fields, want, got)
	t.Logf("flink streamed %d changes (%d before Strata's last two commits)", len(got), before)
	if len(want) < 40 || !slices.ContainsFunc(want, func(l string) bool { return strings.HasPrefix(l, "-U ") }) ||
		!slices.ContainsFunc(want, func(l string) bool { return strings.HasPrefix(l, "-D ") }) {
		t.Errorf("strata's changelog is too thin to test the stream: %v", want)
	}
}

// compareChanges compares Flink's streamed rows (JSON Lines with _kind)
// with Strata's changelog lines ("KIND {row}"), key by key in order.
func compareChanges(t *testing.T, fields []spec.DataField, want, got []string) {
	t.Helper()
	var flink []string
	for _, l := range got {
		c, err := canonical(fields, []string{l}, true)
		if err != nil {
			t.Fatalf("flink stream: %v", err)
		}
		flink = append(flink, c...)
	}
	w, g := byKey(want), byKey(flink)
	if maps2Equal(w, g) {
		return
	}
	for k := range w {
		if !slices.Equal(w[k], g[k]) {
			t.Errorf("key %s: flink's changes %v, strata's changelog %v", k, g[k], w[k])
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("key %s: flink's changes %v, none in strata's changelog", k, g[k])
		}
	}
}

// changelog is Strata's changelog of every snapshot from from on (0: all),
// in snapshot order, as "KIND {row}" lines.
func (ft *flinkTable) changelog(from int64) []string {
	ft.t.Helper()
	tb := ft.table()
	ids, err := tb.Snapshots().IDs(ft.ctx)
	if err != nil {
		ft.t.Fatal(err)
	}
	enc := textrow.NewJSONEncoder(nil, ft.schema.Fields)
	var out []string
	for _, id := range ids {
		if id < from {
			continue
		}
		for kv, err := range tb.Changelog(ft.ctx, id) {
			if err != nil {
				ft.t.Fatalf("strata changelog of snapshot %d: %v", id, err)
			}
			b, err := enc.AppendRow([]byte(kv.Kind.String()+" "), kv.Value)
			if err != nil {
				ft.t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

// byKey groups "KIND {row}" lines by their id column, in order.
func byKey(lines []string) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines {
		i := strings.Index(l, `"id":`)
		j := strings.IndexAny(l[i:], ",}")
		k := l[i+5 : i+j]
		out[k] = append(out[k], l)
	}
	return out
}

func maps2Equal(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
