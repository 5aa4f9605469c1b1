// Package storagetest is the acceptance suite every storage.Storage backend
// must pass, so that table code behaves the same on disk, in memory and on
// S3.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/stratalake/strata/storage"
)

// Run runs the suite as subtests of t. newStorage must return an empty
// storage each time it is called; it is called once per subtest.
func Run(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"EmptyObject", testEmptyObject},
		{"NestedPaths", testNestedPaths},
		{"CopiesBytes", testCopiesBytes},
		{"NotFound", testNotFound},
		{"PutIfAbsent", testPutIfAbsent},
		{"PutIfAbsentRace", testPutIfAbsentRace},
		{"ConcurrentPutGet", testConcurrentPutGet},
		{"GetRange", testGetRange},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"ListRecursive", testListRecursive},
		{"ListNonRecursive", testListNonRecursive},
		{"ListEmpty", testListEmpty},
		{"ListAfterDelete", testListAfterDelete},
		{"InvalidPaths", testInvalidPaths},
		{"CanceledContext", testCanceledContext},
		{"String", testString},
		{"Create", testCreate},
		{"CreateReplaces", testCreateReplaces},
		{"CreateAbort", testCreateAbort},
		{"CreateCloseError", testCreateCloseError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStorage(t)) })
	}
}

func put(t *testing.T, s storage.Storage, p, data string) {
	t.Helper()
	if err := s.Put(context.Background(), p, []byte(data)); err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
}

func wantContent(t *testing.T, s storage.Storage, p, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), p)
	if err != nil {
		t.Fatalf("Get(%q): %v", p, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", p, got, want)
	}
}

func testPutGet(t *testing.T, s storage.Storage) {
	put(t, s, "a", "hello")
	wantContent(t, s, "a", "hello")
	// Binary content, larger than a typical buffer.
	big := make([]byte, 1<<20+7)
	for i := range big {
		big[i] = byte(i * 31)
	}
	if err := s.Put(context.Background(), "big.bin", big); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("Get(big.bin): content differs (len %d, want %d)", len(got), len(big))
	}
}

func testOverwrite(t *testing.T, s storage.Storage) {
	put(t, s, "x/snapshot/LATEST", "1")
	put(t, s, "x/snapshot/LATEST", "22")
	wantContent(t, s, "x/snapshot/LATEST", "22")
	put(t, s, "x/snapshot/LATEST", "")
	wantContent(t, s, "x/snapshot/LATEST", "")
}

func testEmptyObject(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	if err := s.Put(ctx, "e", nil); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s, "e", "")
	fi, err := s.Stat(ctx, "e")
	if err != nil || fi.Size != 0 {
		t.Fatalf("Stat(e) = %+v, %v; want size 0", fi, err)
	}
	if err := s.PutIfAbsent(ctx, "e2", []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "e2", []byte{}); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("second PutIfAbsent(e2) = %v, want ErrExist", err)
	}
	got, err := s.GetRange(ctx, "e", 0, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("GetRange(e, 0, 0) = %q, %v", got, err)
	}
	infos := list(t, s, "", true)
	if !slices.Equal(paths(infos), []string{"e", "e2"}) {
		t.Fatalf("List = %v", infos)
	}
}

func testNestedPaths(t *testing.T, s storage.Storage) {
	p := "db.db/t/bucket-0/data-3b1c-0.parquet"
	put(t, s, p, "deep")
	wantContent(t, s, p, "deep")
	put(t, s, "db.db/t/snapshot/snapshot-1", "s1")
	if err := s.PutIfAbsent(context.Background(), "db.db/t/manifest/new/dir/m-1", []byte("m")); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s, "db.db/t/manifest/new/dir/m-1", "m")
	// Names with dots, dashes, spaces and non-ASCII are ordinary.
	for _, p := range []string{".hidden", "a b/c=d", "日本/ü", "x.tmp", ".tmp", "a..b"} {
		put(t, s, p, p)
		wantContent(t, s, p, p)
	}
}

func testCopiesBytes(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	buf := []byte("abc")
	if err := s.Put(ctx, "c", buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	got, err := s.Get(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	got[1] = 'Y'
	wantContent(t, s, "c", "abc")
	r, err := s.GetRange(ctx, "c", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	r[0] = 'Z'
	wantContent(t, s, "c", "abc")
}

func testNotFound(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "dir/file", "x")
	for _, p := range []string{"missing", "dir/missing", "dir", "dir/file/below", "nodir/x"} {
		if _, err := s.Get(ctx, p); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", p, err)
		}
		if _, err := s.GetRange(ctx, p, 0, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetRange(%q) = %v, want ErrNotFound", p, err)
		}
		if _, err := s.Stat(ctx, p); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", p, err)
		}
	}
	_, err := s.Get(ctx, "dir/missing")
	if want := "dir/missing"; err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("Get error %q does not mention the path %q", err, want)
	}
}

func testPutIfAbsent(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	if err := s.PutIfAbsent(ctx, "snapshot/snapshot-1", []byte("first")); err != nil {
		t.Fatal(err)
	}
	err := s.PutIfAbsent(ctx, "snapshot/snapshot-1", []byte("second"))
	if !errors.Is(err, storage.ErrExist) {
		t.Fatalf("PutIfAbsent on existing = %v, want ErrExist", err)
	}
	if errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutIfAbsent error %v also matches ErrNotFound", err)
	}
	wantContent(t, s, "snapshot/snapshot-1", "first")
	// An object written by Put counts too.
	put(t, s, "snapshot/snapshot-2", "put")
	if err := s.PutIfAbsent(ctx, "snapshot/snapshot-2", []byte("x")); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("PutIfAbsent over Put = %v, want ErrExist", err)
	}
	wantContent(t, s, "snapshot/snapshot-2", "put")
	// After Delete the path is free again.
	if err := s.Delete(ctx, "snapshot/snapshot-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "snapshot/snapshot-1", []byte("third")); err != nil {
		t.Fatalf("PutIfAbsent after Delete: %v", err)
	}
	wantContent(t, s, "snapshot/snapshot-1", "third")
	// No leftovers (such as temporary files) show in listings.
	if got := paths(list(t, s, "", true)); !slices.Equal(got, []string{"snapshot/snapshot-1", "snapshot/snapshot-2"}) {
		t.Fatalf("List = %v", got)
	}
}

func testPutIfAbsentRace(t *testing.T, s storage.Storage) {
	const n = 16
	for round := range 3 {
		p := fmt.Sprintf("race/snapshot-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.PutIfAbsent(context.Background(), p, fmt.Appendf(nil, "writer-%d", i))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("%s: writers %d and %d both won", p, winner, i)
				}
				winner = i
			case !errors.Is(err, storage.ErrExist):
				t.Fatalf("%s: writer %d: %v, want nil or ErrExist", p, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no writer won", p)
		}
		wantContent(t, s, p, fmt.Sprintf("writer-%d", winner))
	}
	if got := len(list(t, s, "race", true)); got != 3 {
		t.Fatalf("List(race) has %d entries, want 3", got)
	}
}

// testConcurrentPutGet checks that readers never see a partial object while
// it is being replaced.
func testConcurrentPutGet(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	const size = 64 << 10
	versions := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	if err := s.Put(ctx, "hot", versions[0]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range 20 {
			if err := s.Put(ctx, "hot", versions[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.Get(ctx, "hot")
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
					t.Errorf("Get saw a partial object (len %d)", len(got))
					return
				}
			}
		})
	}
	wg.Wait()
}

func testGetRange(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "r", "0123456789")
	for _, tc := range []struct {
		off, n int64
		want   string
	}{
		{0, 10, "0123456789"},
		{0, 1, "0"},
		{3, 4, "3456"},
		{9, 1, "9"},
		{5, 0, ""},
		{10, 0, ""},
	} {
		got, err := s.GetRange(ctx, "r", tc.off, tc.n)
		if err != nil {
			t.Fatalf("GetRange(%d, %d): %v", tc.off, tc.n, err)
		}
		if string(got) != tc.want {
			t.Fatalf("GetRange(%d, %d) = %q, want %q", tc.off, tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct{ off, n int64 }{{8, 3}, {0, 11}, {10, 1}, {11, 0}, {100, 5}} {
		got, err := s.GetRange(ctx, "r", tc.off, tc.n)
		if err == nil {
			t.Fatalf("GetRange(%d, %d) past end = %q, want error", tc.off, tc.n, got)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("GetRange(%d, %d) past end = %v, want io.ErrUnexpectedEOF", tc.off, tc.n, err)
		}
	}
	for _, tc := range []struct{ off, n int64 }{{-1, 1}, {0, -1}} {
		if _, err := s.GetRange(ctx, "r", tc.off, tc.n); err == nil {
			t.Fatalf("GetRange(%d, %d) succeeded, want error", tc.off, tc.n)
		}
	}

	// The ReaderAt helper clips to the size and reports io.EOF.
	ra, err := storage.OpenReaderAt(ctx, s, "r")
	if err != nil {
		t.Fatal(err)
	}
	if ra.Size() != 10 {
		t.Fatalf("ReaderAt.Size = %d", ra.Size())
	}
	buf := make([]byte, 4)
	if n, err := ra.ReadAt(buf, 2); n != 4 || err != nil || string(buf) != "2345" {
		t.Fatalf("ReadAt(2) = %d, %v, %q", n, err, buf)
	}
	if n, err := ra.ReadAt(buf, 8); n != 2 || err != io.EOF || string(buf[:n]) != "89" {
		t.Fatalf("ReadAt(8) = %d, %v, %q", n, err, buf[:n])
	}
	if n, err := ra.ReadAt(buf, 10); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt(10) = %d, %v", n, err)
	}
	sr := io.NewSectionReader(ra, 0, ra.Size())
	all, err := io.ReadAll(sr)
	if err != nil || string(all) != "0123456789" {
		t.Fatalf("ReadAll(SectionReader) = %q, %v", all, err)
	}
	if _, err := storage.OpenReaderAt(ctx, s, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("OpenReaderAt(missing) = %v, want ErrNotFound", err)
	}
}

func testStat(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "d/f", "12345")
	fi, err := s.Stat(ctx, "d/f")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Path != "d/f" || fi.Size != 5 || fi.IsDir || fi.ModTime.IsZero() {
		t.Fatalf("Stat(d/f) = %+v", fi)
	}
	infos := list(t, s, "d", false)
	if len(infos) != 1 || infos[0].Size != 5 || infos[0].ModTime.IsZero() {
		t.Fatalf("List(d) = %+v", infos)
	}
}

func testDelete(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "d/a", "a")
	put(t, s, "d/b", "b")
	for range 2 { // idempotent
		if err := s.Delete(ctx, "d/a"); err != nil {
			t.Fatalf("Delete(d/a): %v", err)
		}
	}
	if _, err := s.Get(ctx, "d/a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	wantContent(t, s, "d/b", "b")
	for _, p := range []string{"never", "no/such/dir/x", "d"} {
		if err := s.Delete(ctx, p); err != nil {
			t.Fatalf("Delete(%q): %v", p, err)
		}
	}
	// Deleting a "directory" path deletes nothing below it.
	wantContent(t, s, "d/b", "b")
}

func testListRecursive(t *testing.T, s storage.Storage) {
	// Whole-path byte order: '-' < '.' < '/' < '0', so a flat name can sort
	// between a directory's name and its children.
	for _, p := range []string{"b", "a/c/d", "a/b", "a.b", "a-c", "a/b0", "z/y/x/w"} {
		put(t, s, p, p)
	}
	want := []string{"a-c", "a.b", "a/b", "a/b0", "a/c/d", "b", "z/y/x/w"}
	infos := list(t, s, "", true)
	if got := paths(infos); !slices.Equal(got, want) {
		t.Fatalf("List(\"\", recursive) = %v, want %v", got, want)
	}
	for _, fi := range infos {
		if fi.IsDir || fi.Size != int64(len(fi.Path)) {
			t.Fatalf("List entry %+v: want a file of size %d", fi, len(fi.Path))
		}
	}
	for prefix, want := range map[string][]string{
		"a":     {"a/b", "a/b0", "a/c/d"},
		"a/":    {"a/b", "a/b0", "a/c/d"},
		"a/c":   {"a/c/d"},
		"z/y":   {"z/y/x/w"},
		"b":     nil, // an object, not a directory
		"a/b":   nil,
		"nodir": nil,
	} {
		if got := paths(list(t, s, prefix, true)); !slices.Equal(got, want) {
			t.Errorf("List(%q, recursive) = %v, want %v", prefix, got, want)
		}
	}
}

func testListNonRecursive(t *testing.T, s storage.Storage) {
	for _, p := range []string{"b", "a/c/d", "a/b", "a.b", "a-c", "z/y/x/w"} {
		put(t, s, p, p)
	}
	type entry struct {
		path  string
		isDir bool
	}
	entries := func(prefix string) []entry {
		var es []entry
		for _, fi := range list(t, s, prefix, false) {
			es = append(es, entry{fi.Path, fi.IsDir})
			if !fi.IsDir && fi.Size != int64(len(fi.Path)) {
				t.Errorf("List(%q) entry %+v: want size %d", prefix, fi, len(fi.Path))
			}
		}
		return es
	}
	for prefix, want := range map[string][]entry{
		"":      {{"a", true}, {"a-c", false}, {"a.b", false}, {"b", false}, {"z", true}},
		"a":     {{"a/b", false}, {"a/c", true}},
		"a/c/":  {{"a/c/d", false}},
		"z":     {{"z/y", true}},
		"b":     nil,
		"nodir": nil,
	} {
		if got := entries(prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", prefix, got, want)
		}
	}
}

func testListEmpty(t *testing.T, s storage.Storage) {
	if got := list(t, s, "", true); len(got) != 0 {
		t.Fatalf("List of empty storage = %v", got)
	}
	if got := list(t, s, "", false); len(got) != 0 {
		t.Fatalf("List of empty storage = %v", got)
	}
}

// testListAfterDelete checks that a directory disappears from listings once
// its last object is deleted, as it does on S3.
func testListAfterDelete(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	put(t, s, "t/a/b/c", "x")
	put(t, s, "t/keep", "x")
	if err := s.Delete(ctx, "t/a/b/c"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, "t", false); len(got) != 1 || got[0].Path != "t/keep" {
		t.Fatalf("List(t) after Delete = %+v, want only t/keep", got)
	}
	// The emptied directories can be written again.
	put(t, s, "t/a/b/c", "y")
	wantContent(t, s, "t/a/b/c", "y")
}

func testInvalidPaths(t *testing.T, s storage.Storage) {
	ctx := context.Background()
	bad := []string{"", "/abs", "a//b", "a/", "./a", "a/./b", "..", "a/../b", "../escape", "a/.b.x1y2.tmp"}
	for _, p := range bad {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, storage.ErrInvalidPath) {
				t.Errorf("%s(%q) = %v, want ErrInvalidPath", op, p, err)
			}
		}
		_, err := s.Get(ctx, p)
		check("Get", err)
		_, err = s.GetRange(ctx, p, 0, 1)
		check("GetRange", err)
		check("Put", s.Put(ctx, p, []byte("x")))
		check("PutIfAbsent", s.PutIfAbsent(ctx, p, []byte("x")))
		check("Delete", s.Delete(ctx, p))
		_, err = s.Stat(ctx, p)
		check("Stat", err)
		_, err = s.Create(ctx, p)
		check("Create", err)
	}
	for _, prefix := range []string{"/", "/a", "a//b", "..", "a/../b", "./a"} {
		if _, err := s.List(ctx, prefix, true); !errors.Is(err, storage.ErrInvalidPath) {
			t.Errorf("List(%q) = %v, want ErrInvalidPath", prefix, err)
		}
	}
	if got := list(t, s, "", true); len(got) != 0 {
		t.Fatalf("invalid writes left objects: %v", got)
	}
}

func testCanceledContext(t *testing.T, s storage.Storage) {
	put(t, s, "c", "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Get(ctx, "c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with canceled context = %v, want context.Canceled", err)
	}
	if err := s.Put(ctx, "d", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx, "", true); !errors.Is(err, context.Canceled) {
		t.Errorf("List with canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Stat(context.Background(), "d"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Put with canceled context wrote the object: Stat = %v", err)
	}
}

func testString(t *testing.T, s storage.Storage) {
	if s.String() == "" {
		t.Fatal("String() is empty")
	}
}

func list(t *testing.T, s storage.Storage, prefix string, recursive bool) []storage.FileInfo {
	t.Helper()
	infos, err := s.List(context.Background(), prefix, recursive)
	if err != nil {
		t.Fatalf("List(%q, %v): %v", prefix, recursive, err)
	}
	return infos
}

func paths(infos []storage.FileInfo) []string {
	var ps []string
	for _, fi := range infos {
		ps = append(ps, fi.Path)
	}
	return ps
}
