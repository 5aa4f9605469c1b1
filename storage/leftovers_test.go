package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A write that never finished (its process killed before the rename)
// leaves a hidden temporary file: List hides it, Leftovers lists it and
// DeleteLeftover removes it; objects are neither listed nor deletable
// through them.
func TestLocalLeftovers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l, err := NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, "t/bucket-0/data-1.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, "t", "bucket-0", ".data-2.parquet.123.tmp")
	if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	infos, err := l.List(ctx, "t", true)
	if err != nil || len(infos) != 1 {
		t.Fatalf("List: %v %v", infos, err)
	}
	left, err := l.Leftovers(ctx, "t")
	if err != nil || len(left) != 1 || left[0].Path != "t/bucket-0/.data-2.parquet.123.tmp" || left[0].Size != 4 {
		t.Fatalf("Leftovers: %+v %v", left, err)
	}
	if err := l.DeleteLeftover(ctx, "t/bucket-0/data-1.parquet"); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("DeleteLeftover of an object: %v", err)
	}
	if err := l.DeleteLeftover(ctx, "../x/.a.tmp"); !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("DeleteLeftover outside the root: %v", err)
	}
	if err := l.DeleteLeftover(ctx, left[0].Path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("leftover still there: %v", err)
	}
	if err := l.DeleteLeftover(ctx, left[0].Path); err != nil {
		t.Fatalf("DeleteLeftover of a missing file: %v", err)
	}
	if left, err := l.Leftovers(ctx, "missing"); err != nil || len(left) != 0 {
		t.Fatalf("Leftovers of a missing prefix: %v %v", left, err)
	}
}
