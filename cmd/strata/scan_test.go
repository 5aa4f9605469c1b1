package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

const scanTypesSchema = "id BIGINT NOT NULL, name STRING, amount DECIMAL(10, 2), day DATE, ts TIMESTAMP(3), ltz TIMESTAMP_LTZ(6), " +
	"tags ARRAY<STRING>, attrs MAP<STRING, INT>, ok BOOLEAN, score DOUBLE, raw BYTES, n INT"

// scanTypesTable creates shop.t in 2 buckets with rows of every kind of
// column, nulls included, over two commits (an update in the second).
func scanTypesTable(c cli) {
	c.ok("", "create", "shop.t", "--schema", scanTypesSchema, "--primary-key", "id", "-o", "bucket=2")
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, `{"id": %d, "name": "n%d", "amount": "%d.25", "day": "2024-01-%02d", "ts": "2024-01-31T12:00:00.%03d", `+
			`"ltz": "2024-01-31T12:00:00.000%03dZ", "tags": ["a", "b%d"], "attrs": {"k": %d}, "ok": %v, "score": %d.5, "raw": "AAE=", "n": %d}`+"\n",
			i, i, i, 1+i%28, i, i, i, i, i%2 == 0, i, i)
	}
	b.WriteString(`{"id": 1000}` + "\n") // nulls
	c.ok(b.String(), "write", "shop.t")
	c.ok(`{"id": 3, "name": "updated", "tags": [], "attrs": {}}`+"\n", "write", "shop.t")
}

// jsonLines renders record batches as scan's jsonl lines, through the
// Arrow-to-row conversion, sorted.
func jsonLines(t *testing.T, fields []spec.DataField, recs []arrow.RecordBatch) []string {
	t.Helper()
	var buf bytes.Buffer
	enc := textrow.NewJSONEncoder(&buf, fields)
	for _, rec := range recs {
		for i := range int(rec.NumRows()) {
			row := make(spec.Row, len(fields))
			for j, f := range fields {
				v, err := arrowconv.Value(rec.Column(j), i, f.Type)
				if err != nil {
					t.Fatalf("column %s row %d: %v", f.Name, i, err)
				}
				row[j] = v
			}
			if err := enc.Write(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sortedLines(buf.String())
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func readParquet(t *testing.T, path string) []arrow.RecordBatch {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 7}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return collect(t, rr)
}

func collect(t *testing.T, rr array.RecordReader) []arrow.RecordBatch {
	t.Helper()
	defer rr.Release()
	var out []arrow.RecordBatch
	for rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scan --format parquet and arrow write the rows jsonl prints, every type
// surviving the trip through Arrow and Parquet; --limit and --select apply.
func TestCLIScanParquetAndArrow(t *testing.T) {
	c := cli{t, t.TempDir()}
	scanTypesTable(c)
	want := sortedLines(c.ok("", "scan", "shop.t", "--format", "jsonl"))
	if len(want) != 51 || !strings.Contains(strings.Join(want, "\n"), `"name":"updated"`) {
		t.Fatalf("jsonl: %d lines\n%s", len(want), strings.Join(want, "\n"))
	}
	fields, err := spec.ParseColumns(scanTypesSchema)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pq := filepath.Join(dir, "t.parquet")
	if out := c.ok("", "scan", "shop.t", "--format", "parquet", "--output", pq); out != "" {
		t.Errorf("parquet to a file printed %q", out)
	}
	if got := jsonLines(t, fields, readParquet(t, pq)); !slices.Equal(got, want) {
		t.Errorf("parquet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stream := c.ok("", "scan", "shop.t", "--format", "arrow")
	ar, err := ipc.NewReader(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonLines(t, fields, collect(t, ar)); !slices.Equal(got, want) {
		t.Errorf("arrow:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// --limit and --select: 5 rows of 2 columns, each one of the full scan's.
	wantSel := sortedLines(c.ok("", "scan", "shop.t", "--format", "jsonl", "--select", "name,id"))
	c.ok("", "scan", "shop.t", "--format", "parquet", "-o", pq, "--limit", "5", "--select", "name,id")
	got := jsonLines(t, []spec.DataField{fields[1], fields[0]}, readParquet(t, pq))
	if len(got) != 5 {
		t.Fatalf("--limit 5: %d rows", len(got))
	}
	for _, l := range got {
		if !slices.Contains(wantSel, l) {
			t.Errorf("--limit row %s is not in the scan", l)
		}
	}
	if n := len(sortedLines(c.ok("", "scan", "shop.t", "--format", "jsonl", "--limit", "3"))); n != 3 {
		t.Errorf("jsonl --limit 3: %d rows", n)
	}
	// Text formats go to --output too.
	js := filepath.Join(dir, "t.jsonl")
	c.ok("", "scan", "shop.t", "--format", "jsonl", "--output", js)
	if b, err := os.ReadFile(js); err != nil || !slices.Equal(sortedLines(string(b)), want) {
		t.Errorf("jsonl --output: %v\n%s", err, b)
	}
}

func TestCLIScanOutputErrors(t *testing.T) {
	c := cli{t, t.TempDir()}
	scanTypesTable(c)
	if e := c.fails(2, "", "scan", "shop.t", "--format", "parquet"); !strings.Contains(e, "--output") {
		t.Errorf("parquet to stdout: %s", e)
	}
	c.fails(2, "", "scan", "shop.t", "--format", "orc", "-o", filepath.Join(t.TempDir(), "x"))
	c.fails(2, "", "scan", "shop.t", "--limit", "-1")
	dir := t.TempDir()
	c.fails(1, "", "scan", "shop.t", "--format", "parquet", "-o", filepath.Join(dir, "missing", "t.parquet"))
	// A scan that fails while writing leaves no file, not even a
	// temporary one, and keeps an earlier file of the name.
	out := filepath.Join(dir, "t.parquet")
	c.ok("", "scan", "shop.t", "--format", "parquet", "-o", out)
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(c.wh, "shop.db", "t", "bucket-*", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("data files: %v %v", files, err)
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"parquet", "arrow", "jsonl"} {
		c.fails(1, "", "scan", "shop.t", "--format", format, "-o", out)
		if es, _ := os.ReadDir(dir); len(es) != 1 {
			t.Errorf("%s: left behind: %v", format, es)
		}
		if after, err := os.ReadFile(out); err != nil || !bytes.Equal(after, before) {
			t.Errorf("%s: the earlier file changed: %v", format, err)
		}
	}
}

// --limit stops the read: a limited scan of a 4-bucket table reads a
// small share of its rows.
func TestScanLimitStopsReading(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "4"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := table.Create(ctx, storage.NewMemory(), "db.db/t", sc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 40_000
	for i := range rows {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(i), "value"}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("t").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, format := range []string{"arrow", "parquet"} {
		s := tb.NewScan(table.WithBatchRows(10))
		var buf bytes.Buffer
		n, err := writeBatches(ctx, s, format, &buf, 25, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); n != 25 || st.RowsRead > rows/10 {
			t.Errorf("%s: wrote %d rows, read %d of %d", format, n, st.RowsRead, rows)
		}
	}
}

// The progress line counts rows and bytes and ends with a newline.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := startProgress(&buf, time.Hour)
	w := p.counting(io.Discard)
	p.add(1234567)
	w.Write(make([]byte, 3<<20))
	p.finish()
	if s := buf.String(); !strings.HasPrefix(s, "\r1,234,567 rows  3.0 MiB written  ") || !strings.HasSuffix(s, "\n") {
		t.Errorf("progress %q", s)
	}
	var none *progressBar // no progress: every call is a no-op
	none.add(1)
	none.finish()
	if none.counting(&buf) != io.Writer(&buf) {
		t.Error("a nil progress bar wraps the output")
	}
}
