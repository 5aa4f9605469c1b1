package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stratalake/strata/storage"
)

// bigSize spans several parts of an S3 multipart upload at the default part
// size, and ends in a short last part.
const bigSize = 2*storage.DefaultPartSize + 12345

// pattern returns n bytes that differ from one part to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i>>13) ^ seed
	}
	return b
}

// writeChunks writes data through w in pieces of uneven size, as an encoder
// would.
func writeChunks(t *testing.T, w storage.ObjectWriter, data []byte) {
	t.Helper()
	sizes := []int{1, 100, 4096, 1 << 20, 3<<20 + 17, 0, 65536}
	for i := 0; len(data) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(data))
		if got, err := w.Write(data[:n]); err != nil || got != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, got, err)
		}
		data = data[n:]
	}
}

func create(t *testing.T, ctx context.Context, s storage.Storage, p string) storage.ObjectWriter {
	t.Helper()
	w, err := s.Create(ctx, p)
	if err != nil {
		t.Fatalf("Create(%q): %v", p, err)
	}
	return w
}

func wantAbsent(t *testing.T, s storage.Storage, p string) {
	t.Helper()
	if _, err := s.Stat(context.Background(), p); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%q) = %v, want ErrNotFound", p, err)
	}
}

// testCreate streams objects of several sizes, none visible before Close.
func testCreate(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	for _, tc := range []struct {
		path string
		size int
	}{
		{"empty", 0},
		{"small/x", 10},
		{"part/exact", storage.DefaultPartSize},
		{"db.db/t/bucket-0/data-1.parquet", bigSize},
	} {
		data := pattern(tc.size, byte(tc.size))
		w := create(t, ctx, s, tc.path)
		writeChunks(t, w, data)
		wantAbsent(t, s, tc.path)
		if got := list(t, s, "", true); slices0(paths(got), tc.path) {
			t.Fatalf("%s listed before Close: %v", tc.path, paths(got))
		}
		if err := w.Close(); err != nil {
			t.Fatalf("Close(%s): %v", tc.path, err)
		}
		got, err := s.Get(ctx, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("Get(%s): %d bytes, want the %d written", tc.path, len(got), len(data))
		}
		if fi, err := s.Stat(ctx, tc.path); err != nil || fi.Size != int64(tc.size) {
			t.Fatalf("Stat(%s) = %+v, %v", tc.path, fi, err)
		}
		// The writer is finished: more writes fail, Abort keeps the object.
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatalf("Write after Close succeeded")
		}
		if err := w.Close(); err == nil {
			t.Fatalf("second Close succeeded")
		}
		w.Abort()
		wantContent(t, s, tc.path, string(data))
	}
	if got := paths(list(t, s, "", true)); len(got) != 4 {
		t.Fatalf("List = %v, want the 4 objects and nothing else", got)
	}
}

func slices0(ps []string, p string) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// testCreateReplaces: the old object stays readable until Close replaces it.
func testCreateReplaces(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "o", "old")
	w := create(t, ctx, s, "o")
	writeChunks(t, w, []byte("new content"))
	wantContent(t, s, "o", "old")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s, "o", "new content")
}

// testCreateAbort: an aborted object, small or multipart, leaves nothing,
// and an aborted replacement leaves the old object.
func testCreateAbort(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "keep", "old")
	for _, tc := range []struct {
		path string
		size int
	}{{"a/small", 100}, {"a/big", storage.DefaultPartSize + 1000}, {"keep", bigSize}} {
		w := create(t, ctx, s, tc.path)
		writeChunks(t, w, pattern(tc.size, 1))
		w.Abort()
		w.Abort()
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatal("Write after Abort succeeded")
		}
		if err := w.Close(); err == nil {
			t.Fatal("Close after Abort succeeded")
		}
	}
	wantAbsent(t, s, "a/small")
	wantAbsent(t, s, "a/big")
	wantContent(t, s, "keep", "old")
	if got := paths(list(t, s, "", true)); len(got) != 1 || got[0] != "keep" {
		t.Fatalf("List after Abort = %v, want only keep", got)
	}
	if got := list(t, s, "", false); len(got) != 1 {
		t.Fatalf("non-recursive List after Abort = %+v, want only keep", got)
	}
}

// testCreateCloseError: a Close that cannot publish (its context is
// canceled) reports the error and publishes nothing.
func testCreateCloseError(t *testing.T, s storage.Storage) {
	for _, size := range []int{10, storage.DefaultPartSize + 1} {
		ctx, cancel := context.WithCancel(context.Background())
		w := create(t, ctx, s, "c/x")
		writeChunks(t, w, pattern(size, 2))
		cancel()
		if err := w.Close(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Close with canceled context (%d bytes) = %v, want context.Canceled", size, err)
		}
		w.Abort()
		wantAbsent(t, s, "c/x")
	}
	if got := list(t, s, "", true); len(got) != 0 {
		t.Fatalf("failed Close left objects: %v", paths(got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Create(ctx, "c/y"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with canceled context = %v, want context.Canceled", err)
	}
}
