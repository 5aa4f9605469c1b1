package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// Lookups on MinIO: hits and misses equal a scan of the same snapshot, with
// deletion vectors and compaction, and a lookup following the table sees
// a new commit.
func TestLookupOnMinIO(t *testing.T) {
	ctx := context.Background()
	fs, _, _ := s3Storage(t)
	tb := newTable(t, fs, "lk", "deletion-vectors.enabled", "true")
	commit := func(kind spec.RowKind, from, to int64, tag string) {
		t.Helper()
		w, err := tb.NewWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for id := from; id <= to; id++ {
			if err := w.WriteRow(ctx, kind, spec.Row{id, fmt.Sprint(tag, id)}); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.NewCommit("w").Commit(ctx, table.BatchCommitIdentifier, msgs); err != nil {
			t.Fatal(err)
		}
	}
	commit(spec.RowKindInsert, 1, 200, "a")
	commit(spec.RowKindInsert, 100, 150, "b")
	commit(spec.RowKindDelete, 140, 160, "")
	l, err := tb.NewLookup(ctx, table.WithRefreshInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := map[int64]string{}
	for r, err := range tb.NewScan(table.WithSnapshot(l.Snapshot())).Rows(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		want[r[0].(int64)] = r[1].(string)
	}
	var keys []spec.Row
	for id := int64(0); id <= 210; id++ {
		keys = append(keys, spec.Row{id})
	}
	res, err := l.GetBatch(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		w, ok := want[k[0].(int64)]
		got := res.Rows[i]
		if ok != (got != nil) || (ok && got[1] != w) {
			t.Fatalf("key %v: lookup %v, scan %q (present %v)", k, got, w, ok)
		}
	}
	commit(spec.RowKindInsert, 7, 7, "c")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := l.Get(ctx, spec.Row{int64(7)})
		if err != nil {
			t.Fatal(err)
		}
		if r != nil && r[1] == "c7" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new value of key 7 was not served 10 s after its commit (got %v)", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
