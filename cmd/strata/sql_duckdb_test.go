//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// sqlScore is a row of fs.scores in the test's model.
type sqlScore struct {
	region string
	id     int64
	name   string
	score  *int32
	cents  int64 // amount DECIMAL(10, 2), unscaled
	day    spec.Date
	ts     spec.Timestamp
	ratio  float64
}

func (r sqlScore) row() spec.Row {
	var score any
	if r.score != nil {
		score = *r.score
	}
	return spec.Row{r.region, r.id, r.name, score, spec.NewDecimal(r.cents, 2), r.day, r.ts, r.ratio}
}

// sqlFixture is a warehouse with fs.scores (partitioned by region, two
// buckets, written in two commits: inserts, then updates and deletes, so
// scans merge) and fs.customers, and the model of both.
type sqlFixture struct {
	c         cli
	scores    map[int64]sqlScore // live rows by id
	first     int                // rows after the first commit
	customers map[int64]string   // id -> segment
}

func newSQLFixture(t *testing.T) *sqlFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	fs, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(fs)
	create := func(name, columns string, part, pk []string) *table.Table {
		fields, err := spec.ParseColumns(columns)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := spec.NewSchema(fields, part, pk, spec.NewStringMap("bucket", "2"), nil)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := catalog.ParseIdentifier(name)
		tb, err := cat.CreateTable(ctx, id, sc)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	commit := func(tb *table.Table, rows []spec.Row, kinds []spec.RowKind) {
		w, err := tb.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i, r := range rows {
			if err := w.WriteRow(ctx, kinds[i], r); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.NewCommit("test").Commit(ctx, table.BatchCommitIdentifier, msgs); err != nil {
			t.Fatal(err)
		}
	}
	f := &sqlFixture{c: cli{t, dir}, scores: map[int64]sqlScore{}, customers: map[int64]string{}}
	scores := create("fs.scores", "region STRING NOT NULL, id BIGINT NOT NULL, name STRING, score INT, amount DECIMAL(10, 2), day DATE, ts TIMESTAMP(3), ratio DOUBLE",
		[]string{"region"}, []string{"region", "id"})
	var rows []spec.Row
	var kinds []spec.RowKind
	for i := range int64(400) {
		r := sqlScore{region: []string{"eu", "us", "ap"}[i%3], id: i, name: fmt.Sprintf("n%d", i), cents: i * 125 % 10000,
			day: spec.Date(19700 + i%40), ts: spec.Timestamp{Millis: 1706700000000 + i*1500}, ratio: float64(i%7) / 7}
		if i%11 != 0 {
			s := int32(i * 37 % 100)
			r.score = &s
		}
		f.scores[i] = r
		rows, kinds = append(rows, r.row()), append(kinds, spec.RowKindInsert)
	}
	commit(scores, rows, kinds)
	f.first = len(f.scores)
	rows, kinds = nil, nil
	for i := range int64(400) {
		r := f.scores[i]
		switch {
		case i%13 == 0:
			delete(f.scores, i)
			rows, kinds = append(rows, r.row()), append(kinds, spec.RowKindDelete)
		case i%5 == 0:
			s := int32(99)
			r.score, r.name = &s, fmt.Sprintf("u%d", i)
			f.scores[i] = r
			rows, kinds = append(rows, r.row()), append(kinds, spec.RowKindInsert)
		}
	}
	commit(scores, rows, kinds)
	customers := create("fs.customers", "id BIGINT NOT NULL, segment STRING", nil, []string{"id"})
	rows, kinds = nil, nil
	for i := int64(0); i < 500; i += 3 {
		f.customers[i] = []string{"gold", "silver", "bronze", "lead"}[i%4]
		rows, kinds = append(rows, spec.Row{i, f.customers[i]}), append(kinds, spec.RowKindInsert)
	}
	commit(customers, rows, kinds)
	return f
}

// sortedScores returns the live rows that keep, by id.
func (f *sqlFixture) sortedScores(keep func(sqlScore) bool) []sqlScore {
	var out []sqlScore
	for _, id := range slices.Sorted(maps.Keys(f.scores)) {
		if r := f.scores[id]; keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func (f *sqlFixture) sql(query string, flags ...string) string {
	f.c.t.Helper()
	return f.c.ok("", append([]string{"sql", query, "--format", "jsonl"}, flags...)...)
}

func decimalText(cents int64) string { return spec.NewDecimal(cents, 2).String() }

func dateText(d spec.Date) string {
	return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02")
}

func TestSQLQueries(t *testing.T) {
	f := newSQLFixture(t)
	lines := func(rows []string) string {
		if len(rows) == 0 {
			return ""
		}
		return strings.Join(rows, "\n") + "\n"
	}
	cases := []struct {
		name, query string
		want        func() []string
	}{
		{"projection and key filter", `SELECT id, name FROM fs.scores WHERE region = 'eu' AND id < 60 ORDER BY id`, func() []string {
			var out []string
			for _, r := range f.sortedScores(func(r sqlScore) bool { return r.region == "eu" && r.id < 60 }) {
				out = append(out, fmt.Sprintf(`{"id":%d,"name":%q}`, r.id, r.name))
			}
			return out
		}},
		{"value filter", `SELECT id, score, day FROM fs.scores WHERE score >= 90 AND name LIKE 'n1%' AND day BETWEEN '2023-12-10' AND DATE '2024-01-01' ORDER BY id`, func() []string {
			var out []string
			lo, hi := spec.Date(19701), spec.Date(19723)
			for _, r := range f.sortedScores(func(r sqlScore) bool {
				return r.score != nil && *r.score >= 90 && strings.HasPrefix(r.name, "n1") && r.day >= lo && r.day <= hi
			}) {
				out = append(out, fmt.Sprintf(`{"id":%d,"score":%d,"day":%q}`, r.id, *r.score, dateText(r.day)))
			}
			return out
		}},
		{"group by", `SELECT region, count(*) AS n, count(score) AS scored, sum(amount) AS total, min(day) AS first FROM fs.scores GROUP BY region ORDER BY region`, func() []string {
			type agg struct {
				n, scored, cents int64
				first            spec.Date
			}
			by := map[string]*agg{}
			for _, r := range f.scores {
				a := by[r.region]
				if a == nil {
					a = &agg{first: r.day}
					by[r.region] = a
				}
				a.n++
				a.cents += r.cents
				a.first = min(a.first, r.day)
				if r.score != nil {
					a.scored++
				}
			}
			var out []string
			for _, region := range slices.Sorted(maps.Keys(by)) {
				a := by[region]
				out = append(out, fmt.Sprintf(`{"region":%q,"n":%d,"scored":%d,"total":%q,"first":%q}`, region, a.n, a.scored, decimalText(a.cents), dateText(a.first)))
			}
			return out
		}},
		{"join", `SELECT c.segment, count(*) AS n, max(s.id) AS top FROM fs.scores s JOIN fs.customers c ON s.id = c.id WHERE s.score < 50 AND c.segment <> 'lead' GROUP BY c.segment ORDER BY c.segment`, func() []string {
			n, top := map[string]int64{}, map[string]int64{}
			for _, r := range f.scores {
				seg, ok := f.customers[r.id]
				if ok && r.score != nil && *r.score < 50 && seg != "lead" {
					n[seg]++
					top[seg] = max(top[seg], r.id)
				}
			}
			var out []string
			for _, seg := range slices.Sorted(maps.Keys(n)) {
				out = append(out, fmt.Sprintf(`{"segment":%q,"n":%d,"top":%d}`, seg, n[seg], top[seg]))
			}
			return out
		}},
		{"order by limit", `SELECT id, amount FROM fs.scores WHERE region IN ('us', 'ap') ORDER BY amount DESC, id LIMIT 5`, func() []string {
			rows := f.sortedScores(func(r sqlScore) bool { return r.region != "eu" })
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].cents > rows[j].cents })
			var out []string
			for _, r := range rows[:5] {
				out = append(out, fmt.Sprintf(`{"id":%d,"amount":%q}`, r.id, decimalText(r.cents)))
			}
			return out
		}},
		{"self join, read into a table", `SELECT count(*) AS n FROM fs.scores a JOIN fs.scores b ON a.id = b.id + 1 WHERE a.region = 'eu'`, func() []string {
			n := 0
			for _, r := range f.scores {
				if _, ok := f.scores[r.id-1]; ok && r.region == "eu" {
					n++
				}
			}
			return []string{fmt.Sprintf(`{"n":%d}`, n)}
		}},
		{"anti join keeps outer-join semantics", `SELECT count(*) AS n FROM fs.customers c LEFT JOIN fs.scores s ON c.id = s.id WHERE s.score IS NULL`, func() []string {
			n := 0
			for id := range f.customers {
				if r, ok := f.scores[id]; !ok || r.score == nil {
					n++
				}
			}
			return []string{fmt.Sprintf(`{"n":%d}`, n)}
		}},
		{"recursive CTE rescans its input", `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < (SELECT count(*) FROM fs.customers)) SELECT count(*) AS n FROM r`, func() []string {
			return []string{fmt.Sprintf(`{"n":%d}`, len(f.customers))}
		}},
		{"timestamps", `SELECT id, ts FROM fs.scores WHERE id IN (1, 2, 3) ORDER BY id`, func() []string {
			var out []string
			for _, id := range []int64{1, 2, 3} {
				r := f.scores[id]
				out = append(out, fmt.Sprintf(`{"id":%d,"ts":%q}`, id, time.UnixMilli(r.ts.Millis).UTC().Format("2006-01-02T15:04:05.999")))
			}
			return out
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.c.t = t
			got, want := f.sql(tc.query), lines(tc.want())
			if want == "" {
				t.Fatal("the expected result is empty: the case tests nothing")
			}
			if got != want {
				t.Fatalf("%s\ngot:\n%s\nwant:\n%s", tc.query, got, want)
			}
		})
	}
}

// sqlStatsRe reads --stats' counters for one table.
var sqlStatsRe = regexp.MustCompile(`(\S+): files (\d+) planned, (\d+) read \(skipped: (\d+) by partition.*rows (\d+) read, (\d+) returned, (\d+) to DuckDB`)

type sqlStats struct{ planned, skippedPartition, rowsRead, toDuckDB int }

func (f *sqlFixture) stats(query string) (string, map[string]sqlStats) {
	f.c.t.Helper()
	out, errs, code := f.c.run("", "sql", query, "--format", "jsonl", "--stats")
	if code != 0 {
		f.c.t.Fatalf("%s: exit %d: %s", query, code, errs)
	}
	st := map[string]sqlStats{}
	for _, m := range sqlStatsRe.FindAllStringSubmatch(errs, -1) {
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		st[m[1]] = sqlStats{planned: n(2), skippedPartition: n(4), rowsRead: n(5), toDuckDB: n(7)}
	}
	return out, st
}

// The scan gets the query's columns and filters: selective queries hand
// DuckDB only the matching rows and skip partitions, while a condition
// that cannot be pushed reads everything and still gives the same rows.
func TestSQLPushdown(t *testing.T) {
	f := newSQLFixture(t)
	explain := f.c.ok("", "sql", `SELECT s.id, c.segment FROM fs.scores s JOIN fs.customers c USING (id)
		WHERE s.region = 'us' AND (s.score < 10 OR s.score IS NULL) AND s.ratio > 0.5 AND c.segment LIKE 'go%' AND s.id + c.id > 3`, "--explain")
	for _, want := range []string{
		"fs.scores (fs.scores in DuckDB): streamed\n  columns: region, id, score, ratio (4 of 8)\n  filter:  region = 'us' AND (score < 10 OR score IS NULL)\n",
		"fs.customers (fs.customers in DuckDB): streamed\n  columns: id, segment (2 of 2)\n  filter:  segment LIKE 'go%'\n",
	} {
		if !strings.Contains(explain, want) {
			t.Errorf("explain lacks %q:\n%s", want, explain)
		}
	}

	match := f.sortedScores(func(r sqlScore) bool { return r.region == "us" && r.id >= 100 && r.id < 110 })
	out, st := f.stats(`SELECT id FROM fs.scores WHERE region = 'us' AND id >= 100 AND id < 110 ORDER BY id`)
	if got := strings.Count(out, "\n"); got != len(match) || len(match) == 0 {
		t.Fatalf("%d rows, want %d:\n%s", got, len(match), out)
	}
	s := st["fs.scores"]
	if s.toDuckDB != len(match) || s.skippedPartition == 0 {
		t.Fatalf("pushed filter: %+v, want %d rows to DuckDB and partitions skipped", s, len(match))
	}

	// The same rows through a condition DuckDB alone evaluates.
	out2, st := f.stats(`SELECT id FROM fs.scores WHERE region || '' = 'us' AND id + 0 >= 100 AND id + 0 < 110 ORDER BY id`)
	if out2 != out {
		t.Fatalf("unpushed query: %q, want %q", out2, out)
	}
	if s := st["fs.scores"]; s.toDuckDB != len(f.scores) || s.skippedPartition != 0 {
		t.Fatalf("nothing pushable: %+v, want all %d rows to DuckDB", s, len(f.scores))
	}
}

func TestSQLTravelAndErrors(t *testing.T) {
	f := newSQLFixture(t)
	if got, want := f.sql(`SELECT count(*) AS n FROM fs.scores`, "--snapshot", "1"), fmt.Sprintf("{\"n\":%d}\n", f.first); got != want {
		t.Fatalf("--snapshot 1: %q, want %q", got, want)
	}
	if got := f.c.ok("", "sql", "SELECT 1 AS one, 'x' AS s"); !strings.Contains(got, "one") || !strings.Contains(got, " x") {
		t.Fatalf("query without tables: %q", got)
	}
	// A bare name is database "default"'s table, as elsewhere in the CLI.
	f.c.ok("", "create", "t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id")
	f.c.ok("{\"id\":3,\"v\":\"a\"}\n{\"id\":4,\"v\":\"b\"}\n", "write", "t")
	if got, want := f.sql(`SELECT t FROM t WHERE id = 4`), "{\"t\":{\"id\":4,\"v\":\"b\"}}\n"; got != want {
		t.Fatalf("bare name: %q, want %q", got, want)
	}
	if got, want := f.sql(`SELECT count(*) AS n FROM "default".t JOIN fs.customers USING (id)`), "{\"n\":1}\n"; got != want {
		t.Fatalf("\"default\".t: %q, want %q", got, want)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sql", "DELETE FROM fs.scores"}, 2, "one SELECT"},
		{[]string{"sql", "SELEKT 1"}, 2, "syntax error"},
		{[]string{"sql", "SELECT 1; SELECT 2"}, 2, "2 statements"},
		{[]string{"sql", "SELECT * FROM fs.nope"}, 1, "tables in fs: customers, scores"},
		{[]string{"sql", "SELECT * FROM fs.scores JOIN fs.customers USING (id)", "--snapshot", "1"}, 2, "--as-of"},
		{[]string{"sql", "SELECT nope FROM fs.scores"}, 1, "nope"},
		{[]string{"sql", "SELECT 1", "--format", "xml"}, 2, "--format"},
	}
	for _, tc := range cases {
		if errs := f.c.fails(tc.code, "", tc.args...); !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errs, tc.msg)
		}
	}
}
