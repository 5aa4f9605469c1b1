package table

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// readLog records the paths a storage reads.
type readLog struct {
	storage.Storage
	mu    sync.Mutex
	reads []string
	puts  int
}

func (r *readLog) log(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, p)
}

func (r *readLog) Get(ctx context.Context, p string) ([]byte, error) {
	r.log(p)
	return r.Storage.Get(ctx, p)
}

func (r *readLog) GetRange(ctx context.Context, p string, off, n int64) ([]byte, error) {
	r.log(p)
	return r.Storage.GetRange(ctx, p, off, n)
}

func (r *readLog) Put(ctx context.Context, p string, data []byte) error {
	r.mu.Lock()
	r.puts++
	r.mu.Unlock()
	return r.Storage.Put(ctx, p, data)
}

func (r *readLog) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	r.mu.Lock()
	r.puts++
	r.mu.Unlock()
	return r.Storage.PutIfAbsent(ctx, p, data)
}

func (r *readLog) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	r.mu.Lock()
	r.puts++
	r.mu.Unlock()
	return r.Storage.Create(ctx, p)
}

func sortedRows(rows []spec.Row) []spec.Row {
	slices.SortFunc(rows, spec.CompareRows)
	return rows
}

// newPartitionedTable creates db.db/t partitioned by p, with n partitions
// of one row each (ids 0..n-1), except partition 7 which has 500 more
// rows, committed.
func newPartitionedTable(t *testing.T, fs storage.Storage, n int, opts ...string) *Table {
	t.Helper()
	ctx := context.Background()
	fields := []spec.DataField{
		{ID: 0, Name: "p", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 2, Name: "v", Type: spec.StringType},
	}
	sc, err := spec.NewSchema(fields, []string{"p"}, []string{"p", "id"}, spec.NewStringMap(opts...), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, fs, "db.db/t", sc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < n; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int32(i), int64(i), "a"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1000; i < 1500 && n > 7; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int32(7), int64(i), "a"}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("w").Commit(ctx, 1, msgs); err != nil {
		t.Fatal(err)
	}
	return tb
}

// A full compaction of a table that is already fully compacted plans from
// the snapshot's manifests alone: no data or index file is read, nothing is
// written, and however many partitions there are, the reads stay few.
func TestCompactFullNothingToDo(t *testing.T) {
	ctx := context.Background()
	const parts = 300
	for _, opts := range [][]string{
		{"bucket", "-1"}, // dynamic buckets: each bucket has a HASH index file
		{"bucket", "1", "deletion-vectors.enabled", "true"},
		{"bucket", "2", "merge-engine", "partial-update"},
	} {
		t.Run(strings.Join(opts, "="), func(t *testing.T) {
			mem := storage.NewMemory()
			tb := newPartitionedTable(t, mem, parts, opts...)
			// (Deletion-vector tables compact level 0 at each commit: this
			// one may find nothing left to do.)
			if res, err := tb.Compact(ctx, true, "c", nil); err != nil || res.Compacted == 0 && res.Snapshot != 0 {
				t.Fatalf("first full compaction: %+v, %v", res, err)
			}
			want := sortedRows(scanAll(t, tb))

			log := &readLog{Storage: mem}
			tb2, err := Open(ctx, log, "db.db/t")
			if err != nil {
				t.Fatal(err)
			}
			log.reads = nil
			res, err := tb2.Compact(ctx, true, "c", nil)
			if err != nil || res.Snapshot != 0 || res.Compacted != 0 || res.Buckets < parts {
				t.Fatalf("second full compaction: %+v, %v", res, err)
			}
			for _, p := range log.reads {
				if strings.Contains(p, "/bucket-") || strings.Contains(p, "/index/") {
					t.Fatalf("read %s", p)
				}
			}
			if len(log.reads) > 20 || log.puts != 0 {
				t.Fatalf("%d reads, %d writes for nothing to do: %v", len(log.reads), log.puts, log.reads)
			}
			checkEqual(t, "after", sortedRows(scanAll(t, tb2)), want)
		})
	}
}

// Only the buckets that need it are compacted: here the one partition that
// got a second sorted run (with deletion vectors, one above the max level
// and a deletion vector on the max level's file).
func TestCompactFullOnlyWhatNeedsIt(t *testing.T) {
	ctx := context.Background()
	for _, opts := range [][]string{
		{"bucket", "1"},
		{"bucket", "1", "deletion-vectors.enabled", "true"},
	} {
		t.Run(strings.Join(opts, "="), func(t *testing.T) {
			tb := newPartitionedTable(t, storage.NewMemory(), 30, opts...)
			if _, err := tb.Compact(ctx, true, "c", nil); err != nil {
				t.Fatal(err)
			}
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int32(7), int64(7), "b"}); err != nil {
				t.Fatal(err)
			}
			msgs, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tb.NewCommit("w").Commit(ctx, 2, msgs); err != nil {
				t.Fatal(err)
			}
			var calls []string
			res, err := tb.Compact(ctx, true, "c", func(done, total int) { calls = append(calls, fmt.Sprint(done, "/", total)) })
			if err != nil || res.Snapshot == 0 || res.Compacted != 1 || res.Buckets != 30 {
				t.Fatalf("compaction: %+v, %v", res, err)
			}
			if fmt.Sprint(calls) != "[1/1]" {
				t.Fatalf("progress %v", calls)
			}
			rows := sortedRows(scanAll(t, tb))
			if len(rows) != 530 || fmt.Sprint(rows[7]) != "[7 7 b]" {
				t.Fatalf("%d rows, row 7 %v", len(rows), rows[7])
			}
			if res, err := tb.Compact(ctx, true, "c", nil); err != nil || res.Snapshot != 0 {
				t.Fatalf("third compaction: %+v, %v", res, err)
			}
		})
	}
}
