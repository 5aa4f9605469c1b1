package table

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Messages survive serialization and commit the same data from another
// "process" (a fresh Table on the same storage).
func TestCommitMessagesRoundTrip(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	tb := newTestTable(t, fs, 2, "deletion-vectors.enabled", "true", "changelog-producer", "lookup")
	w, _ := tb.NewWrite(ctx)
	defer w.Close()
	for i := int64(0); i < 100; i++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{i, "v", 1.0}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeCommitMessages(42, msgs)
	if err != nil {
		t.Fatal(err)
	}
	id, back, err := DecodeCommitMessages(data)
	if err != nil || id != 42 || !reflect.DeepEqual(back, msgs) {
		t.Fatalf("round trip: %v %d\n%+v\n%+v", err, id, back, msgs)
	}
	committer, err := Open(ctx, fs, tb.Path())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := committer.NewCommit("writer-1").Commit(ctx, id, back); err != nil {
		t.Fatal(err)
	}
	if rows := scanAll(t, committer); len(rows) != 100 {
		t.Fatalf("%d rows", len(rows))
	}
	if _, _, err := DecodeCommitMessages([]byte(`{"version":9}`)); !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("bad version: %v", err)
	}
}

func FuzzDecodeCommitMessages(f *testing.F) {
	f.Add([]byte(`{"version":1,"identifier":3,"messages":[{"Partition":"AAAAAAAAAAAAAAAA","Bucket":0,"TotalBuckets":1,"NewFiles":[{"FileName":"a","RowCount":1}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := DecodeCommitMessages(data)
		if err != nil && !errors.Is(err, spec.ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
	})
}
