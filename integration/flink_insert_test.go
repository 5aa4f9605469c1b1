package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/integration/paimonflink"
	"github.com/stratalake/strata/spec"
)

// testFlinkInsert: Flink INSERTs (VALUES, and a SELECT over the table
// itself) and a DELETE into a Strata-written table; Strata reads the
// result, writes on over Flink's files (its sequence numbers continue above
// Flink's), and compacts it; every read (Strata's and Flink's) equals the
// model.
func testFlinkInsert(t *testing.T, d *paimonflink.Driver) {
	const columns = "id BIGINT NOT NULL, name STRING, total DECIMAL(12, 2), ts TIMESTAMP(3)"
	ft := newFlinkTable(t, "", "sink", &javaCell{Columns: columns, PK: "id",
		Options: map[string]string{"bucket": "2"}})
	model := map[int64]spec.Row{}
	base := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	row := func(id int64, name string, cents int64) spec.Row {
		at := base.Add(time.Duration(id)*time.Second + time.Duration(cents%1000)*time.Millisecond)
		return spec.Row{id, name, spec.NewDecimal(cents, 2), spec.TimestampFromTime(at)}
	}
	strataWrite := func(commit int64, ids []int64, prefix string) {
		var ch []change
		for _, id := range ids {
			r := row(id, fmt.Sprintf("%s%d", prefix, id), id*100+commit)
			ch = append(ch, change{spec.RowKindInsert, r})
			model[id] = r
		}
		ft.write(commit, ch)
	}
	check := func(when string) {
		t.Helper()
		var want []spec.Row
		for _, r := range model {
			want = append(want, r)
		}
		if d := diffLines(ft.lines(want), ft.lines(ft.scan())); d != "" {
			t.Fatalf("%s: strata scan (+) differs from the model (-):\n%s", when, d)
		}
	}
	strataWrite(1, seq(1, 20), "s")

	// Flink updates keys 15..20 and adds 21..24.
	var values []string
	for _, id := range seq(15, 24) {
		r := row(id, fmt.Sprintf("f'%d", id), id*100+7)
		model[id] = r
		values = append(values, fmt.Sprintf("(%d, '%s', %s, TIMESTAMP '%s')", id,
			strings.ReplaceAll(r[1].(string), "'", "''"), r[2].(spec.Decimal),
			r[3].(spec.Timestamp).Time().Format("2006-01-02 15:04:05.000")))
	}
	sql := "INSERT INTO db.sink VALUES " + strings.Join(values, ", ") + ";\n" +
		"INSERT INTO db.sink SELECT id + 100, UPPER(name), CAST(total * 2 AS DECIMAL(12, 2)), ts FROM db.sink WHERE id < 5;\n" +
		"DELETE FROM db.sink WHERE id = 3;\n"
	if err := d.Exec(ft.ctx, ft.wh, sql); err != nil {
		t.Fatalf("flink: %v", err)
	}
	for _, id := range seq(1, 4) {
		r := model[id]
		model[id+100] = spec.Row{id + 100, strings.ToUpper(r[1].(string)),
			spec.NewDecimal(r[2].(spec.Decimal).Unscaled.Int64()*2, 2), r[3]}
	}
	delete(model, 3)
	check("after Flink's inserts")

	// Strata writes over Flink's keys, then compacts.
	strataWrite(2, append(seq(18, 22), 101, 102), "t")
	check("after Strata's write over Flink's")
	if _, err := ft.table().Compact(ft.ctx, true, "strata-compact", nil); err != nil {
		t.Fatalf("strata compact: %v", err)
	}
	check("after Strata's full compaction")
	got, err := d.Query(ft.ctx, ft.wh, "SELECT * FROM db.sink")
	if err != nil {
		t.Fatalf("flink query: %v", err)
	}
	var want []spec.Row
	for _, r := range model {
		want = append(want, r)
	}
	flinkCompare(t, "Flink's read of the result", columns, ft.lines(want), got)
}

// seq is from, from+1, ..., to.
func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
