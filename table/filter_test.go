package table

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// filtered scans tb with the filter text and returns its rows and stats.
func filtered(t *testing.T, tb *Table, where string, opts ...ScanOption) ([]spec.Row, ScanStats) {
	t.Helper()
	p, err := predicate.Parse(where, tb.Schema().Fields)
	if err != nil {
		t.Fatal(err)
	}
	s := tb.NewScan(append(opts, WithFilter(p))...)
	var rows []spec.Row
	for r, err := range s.Rows(context.Background()) {
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		rows = append(rows, r)
	}
	return rows, s.Stats()
}

// Selective filters skip manifests, entries, buckets and files, and the
// counters say so.
func TestFilterSkipsFiles(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("dt STRING NOT NULL, id BIGINT NOT NULL, score DOUBLE")
	sc, _ := spec.NewSchema(fields, []string{"dt"}, []string{"dt", "id"}, spec.NewStringMap("bucket", "4", "write-only", "true"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/skip", sc)
	if err != nil {
		t.Fatal(err)
	}
	// One commit, so one manifest, per partition; ids in four disjoint
	// ranges, one commit each, so a bucket holds files with disjoint keys.
	ident := int64(0)
	for _, dt := range []string{"2024-01-01", "2024-01-02", "2024-01-03"} {
		for lo := int64(0); lo < 100; lo += 25 {
			var rows []spec.Row
			for id := lo; id < lo+25; id++ {
				rows = append(rows, spec.Row{dt, id, float64(id)})
			}
			commitRows(t, tb, "w", ident, rows...)
			ident++
		}
	}
	total := 3 * 4 * 4 // partitions × commits × buckets (25 keys fill all 4)

	rows, st := filtered(t, tb, "dt = '2024-01-02'")
	if len(rows) != 100 || st.ManifestsSkipped != 8 || st.FilesPlanned != int64(total/3) {
		t.Errorf("partition filter: %d rows, stats %+v", len(rows), st)
	}
	rows, st = filtered(t, tb, "dt = '2024-01-02' AND id IN (7, 8)")
	if len(rows) != 2 || st.FilesSkippedBucket == 0 || st.FilesSkippedKeyStats == 0 || st.FilesPlanned > 2 {
		t.Errorf("key equality: %d rows, stats %+v", len(rows), st)
	}
	rows, st = filtered(t, tb, "id < 10")
	if len(rows) != 30 || st.FilesSkippedKeyStats != int64(3*3*4) || st.FilesPlanned != 12 {
		t.Errorf("key range: %d rows, stats %+v", len(rows), st)
	}
	rows, st = filtered(t, tb, "id = 2.5") // never true for a BIGINT
	if len(rows) != 0 || st.ManifestsRead != 0 || st.ManifestsSkipped == 0 {
		t.Errorf("always false: %d rows, stats %+v", len(rows), st)
	}
	// Level-0 files of a merge-on-read bucket overlap: the value filter
	// only skips a bucket when no file may match.
	rows, st = filtered(t, tb, "score >= 90")
	if len(rows) != 30 || st.FilesSkippedValueStats != 0 || st.RowsReturned != 30 || st.RowsRead != 300 {
		t.Errorf("value filter on level 0: %d rows, stats %+v", len(rows), st)
	}
	rows, st = filtered(t, tb, "score > 1000")
	if len(rows) != 0 || st.FilesSkippedValueStats != int64(total) || st.FilesRead != 0 {
		t.Errorf("value filter no file matches: %d rows, stats %+v", len(rows), st)
	}

	// After a full compaction each bucket is one sorted run: files are
	// skipped one by one.
	if _, err := tb.Compact(ctx, true, "compactor", nil); err != nil {
		t.Fatal(err)
	}
	rows, st = filtered(t, tb, "score < 0 OR dt = '2024-01-01'")
	if len(rows) != 100 || st.FilesSkippedValueStats != 8 || st.FilesPlanned != 4 {
		t.Errorf("value filter after compaction: %d rows, stats %+v", len(rows), st)
	}
}

// An append table's files are read as they are: value statistics skip
// each file that cannot match.
func TestFilterSkipsAppendFiles(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT, name STRING, score DOUBLE")
	sc, _ := spec.NewSchema(fields, nil, nil, spec.NewStringMap("bucket", "-1"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/app", sc)
	if err != nil {
		t.Fatal(err)
	}
	for c := int64(0); c < 5; c++ {
		var rows []spec.Row
		for i := c * 10; i < c*10+10; i++ {
			rows = append(rows, spec.Row{i, fmt.Sprintf("name-%02d", i), float64(i)})
		}
		commitRows(t, tb, "w", c, rows...)
	}
	rows, st := filtered(t, tb, "score >= 12.5 AND score < 15 OR name LIKE 'name-4%'")
	if len(rows) != 12 || st.FilesSkippedValueStats != 3 || st.FilesPlanned != 2 || st.RowsRead != 20 {
		t.Errorf("%d rows, stats %+v", len(rows), st)
	}
}

// A value filter must not skip the newer version of a key in a
// merge-on-read bucket: the older version, in range, would come back.
func TestFilterDoesNotResurrectOldVersions(t *testing.T) {
	tb := newTestTable(t, storage.NewMemory(), 1, "write-only", "true")
	commitRows(t, tb, "w", 1, spec.Row{int64(1), "old", 10.0})
	commitRows(t, tb, "w", 2, spec.Row{int64(1), "new", 100.0})
	if rows, st := filtered(t, tb, "score < 50"); len(rows) != 0 {
		t.Fatalf("score < 50 returned %v (stats %+v): the old version came back", rows, st)
	}
	if rows, _ := filtered(t, tb, "score > 50"); len(rows) != 1 || rows[0][1] != "new" {
		t.Fatalf("score > 50 returned %v", rows)
	}
	// A delete in a newer file: the old version in range must stay deleted.
	msgs := writeAll(t, tb, []change{{spec.RowKindDelete, spec.Row{int64(1), nil, nil}}}, false)
	if _, err := tb.NewCommit("w").Commit(context.Background(), 3, msgs); err != nil {
		t.Fatal(err)
	}
	if rows, _ := filtered(t, tb, "score > 50 OR name = 'old'"); len(rows) != 0 {
		t.Fatalf("deleted key returned %v", rows)
	}
}

// With partial-update a merged row can match although no file's row does:
// value statistics must not skip the bucket.
func TestFilterPartialUpdateMergedRow(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id INT NOT NULL, a INT, b INT")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "1", "merge-engine", "partial-update", "write-only", "true"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/pu", sc)
	if err != nil {
		t.Fatal(err)
	}
	commitRows(t, tb, "w", 1, spec.Row{int32(1), int32(5), nil})
	commitRows(t, tb, "w", 2, spec.Row{int32(1), nil, int32(7)})
	rows, st := filtered(t, tb, "a = 5 AND b = 7")
	if len(rows) != 1 || fmt.Sprint(rows[0]) != "[1 5 7]" {
		t.Fatalf("merged row not returned: %v (stats %+v)", rows, st)
	}
}

// WithPartition is equality on partition columns, nil meaning IS NULL; a
// column that is not a partition column is refused.
func TestFilterWithPartitionSugar(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("p STRING, id BIGINT NOT NULL")
	sc, _ := spec.NewSchema(fields, []string{"p"}, nil, spec.NewStringMap("bucket", "-1"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/ps", sc)
	if err != nil {
		t.Fatal(err)
	}
	commitRows(t, tb, "w", 1, spec.Row{"a", int64(1)}, spec.Row{nil, int64(2)}, spec.Row{"b", int64(3)})
	if rows := scanAll(t, tb, WithPartition(map[string]any{"p": nil})); fmt.Sprint(rows) != "[[<nil> 2]]" {
		t.Errorf("p IS NULL: %v", rows)
	}
	if rows := scanAll(t, tb, WithPartition(map[string]any{"p": "b"}), WithFilter(predicate.GreaterThan("id", 0))); fmt.Sprint(rows) != "[[b 3]]" {
		t.Errorf("p = b: %v", rows)
	}
	if _, err := tb.NewScan(WithPartition(map[string]any{"id": int64(1)})).Plan(ctx); err == nil {
		t.Error("WithPartition on a non-partition column accepted")
	}
	if _, err := tb.NewScan(WithFilter(predicate.Equal("nope", 1))).Plan(ctx); err == nil {
		t.Error("a filter on a missing column accepted")
	}
}
