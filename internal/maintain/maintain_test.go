package maintain

import (
	"bytes"
	"context"
	"log/slog"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// newTable creates db.NAME (id BIGINT key, v STRING) with options.
func newTable(t *testing.T, cat *catalog.Catalog, name string, options ...string) *table.Table {
	t.Helper()
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(append([]string{"bucket", "2"}, options...)...), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := cat.CreateTable(context.Background(), catalog.Identifier{Database: "db", Table: name}, sc)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// commits writes n commits of a few rows each.
func commits(t *testing.T, tb *table.Table, n int) {
	t.Helper()
	ctx := context.Background()
	for c := range n {
		w, err := tb.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(c*3 + i), "v"}); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if _, err := tb.NewCommit("w", table.WithoutExpire()).Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
	}
}

// One round over every table compacts (fully when due), expires by each
// table's options and cleans orphans, logging and counting each step.
func TestRound(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	cat := catalog.New(fs)
	a := newTable(t, cat, "a", "write-only", "true", "snapshot.num-retained.min", "1", "snapshot.time-retained", "0 s")
	b := newTable(t, cat, "b", "write-only", "true", "snapshot.num-retained.min", "2", "snapshot.num-retained.max", "2")
	commits(t, a, 6)
	commits(t, b, 4)
	orphan := path.Join(a.Path(), "bucket-0", "data-orphan.parquet")
	if err := fs.Put(ctx, orphan, []byte("x")); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	reg := prometheus.NewRegistry()
	job, err := New(cat, WithLogger(slog.New(slog.NewTextHandler(&log, nil))), WithRegistry(reg),
		WithFullCompactionEvery(time.Hour), WithOrphanCleaning(0))
	if err != nil {
		t.Fatal(err)
	}
	reps, err := job.Round(ctx)
	if err != nil || len(reps) != 2 {
		t.Fatalf("round: %v, %d reports", err, len(reps))
	}
	for _, r := range reps {
		if r.Err != nil || !r.Full || r.Compaction.Snapshot == 0 {
			t.Fatalf("%s: %+v", r.Table, r)
		}
	}
	for tb, want := range map[*table.Table]int{a: 1, b: 2} {
		ids, err := tb.Snapshots().IDs(ctx)
		if err != nil || len(ids) != want {
			t.Fatalf("%s keeps snapshots %v (%v), want %d", tb.Path(), ids, err, want)
		}
	}
	if _, err := fs.Stat(ctx, orphan); err == nil {
		t.Fatal("the orphan survived")
	}
	if got := reps[0].Orphans.Orphans; len(got) != 1 || got[0] != orphan {
		t.Fatalf("orphans deleted: %v", got)
	}
	if n := testutil.ToFloat64(job.m.steps.WithLabelValues("db.a", "compact", "ok")); n != 1 {
		t.Fatalf("compact steps counted: %v", n)
	}
	if n := testutil.ToFloat64(job.m.expired.WithLabelValues("db.a")); n < 5 {
		t.Fatalf("expired snapshots counted: %v", n)
	}
	if !strings.Contains(log.String(), "msg=maintained table=db.b") {
		t.Fatalf("log: %s", log.String())
	}
	// The next round: the full compaction is not due again, nothing to do.
	reps, err = job.Round(ctx)
	if err != nil || reps[0].Full || reps[0].Compaction.Snapshot != 0 || reps[0].Err != nil {
		t.Fatalf("second round: %+v, %v", reps, err)
	}
	// A cancelled round stops and says so.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := job.Round(cctx); err == nil {
		t.Fatal("a cancelled round reported success")
	}
}
