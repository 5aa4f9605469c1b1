package faulty_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/storage/faulty"
	"github.com/stratalake/strata/storage/storagetest"
)

// backends returns a constructor of empty storages per backend: memory,
// local disk and MinIO.
func backends(t *testing.T) map[string]func(t *testing.T) storage.Storage {
	srv := miniotest.Shared(t)
	bucket := miniotest.BucketName(t)
	srv.NewBucket(t, bucket)
	var n atomic.Int64
	return map[string]func(t *testing.T) storage.Storage{
		"memory": func(t *testing.T) storage.Storage { return storage.NewMemory() },
		"local": func(t *testing.T) storage.Storage {
			l, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		"s3": func(t *testing.T) storage.Storage {
			s, err := storage.NewS3(context.Background(), bucket, fmt.Sprintf("p%d", n.Add(1)),
				storage.WithEndpoint(srv.Endpoint), storage.WithRegion(miniotest.Region),
				storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// A wrapper with rules that never fire is the storage it wraps: it passes
// the acceptance suite on every backend.
func TestAcceptanceWithoutFaults(t *testing.T) {
	for name, newStorage := range backends(t) {
		t.Run(name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Storage {
				return faulty.New(newStorage(t), 1, faulty.Rule{Path: "no/such/path", Kind: faulty.Fail})
			})
		})
	}
}

func TestFaultKinds(t *testing.T) {
	for name, newStorage := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("Fail", func(t *testing.T) { testFail(t, newStorage(t)) })
			t.Run("LoseAnswer", func(t *testing.T) { testLoseAnswer(t, newStorage(t)) })
			t.Run("Truncate", func(t *testing.T) { testTruncate(t, newStorage(t)) })
			t.Run("Slow", func(t *testing.T) { testSlow(t, newStorage(t)) })
			t.Run("Nth", func(t *testing.T) { testNth(t, newStorage(t)) })
			t.Run("DiskFull", func(t *testing.T) { testDiskFull(t, newStorage(t)) })
		})
	}
}

var ctx = context.Background()

func wantInjected(t *testing.T, err error, kind faulty.Kind) {
	t.Helper()
	var fe *faulty.Error
	if !errors.As(err, &fe) || fe.Kind != kind {
		t.Fatalf("got %v, want an injected %s", err, kind)
	}
}

// A failed call has no effect.
func testFail(t *testing.T, inner storage.Storage) {
	s := faulty.New(inner, 1, faulty.Rule{Ops: faulty.OpWrites, Path: faulty.PatternSnapshot, Kind: faulty.Fail})
	p := "db.db/t/snapshot/snapshot-1"
	wantInjected(t, s.PutIfAbsent(ctx, p, []byte("x")), faulty.Fail)
	wantInjected(t, s.Put(ctx, p, []byte("x")), faulty.Fail)
	w, err := s.Create(ctx, p)
	wantInjected(t, err, faulty.Fail)
	if w != nil {
		t.Fatal("a failed Create returned a writer")
	}
	if _, err := inner.Stat(ctx, p); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("failed writes left %s behind: %v", p, err)
	}
	// Other paths and reads pass.
	if err := s.Put(ctx, "db.db/t/manifest/m", []byte("m")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, p); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat: %v", err)
	}
	if got := s.Count(faulty.Fail); got != 3 {
		t.Fatalf("counted %d failures, want 3", got)
	}
	// Heal turns every rule off.
	s.Heal()
	if err := s.PutIfAbsent(ctx, p, []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// A lost answer takes effect: the object is there although the caller got
// an error; for Create, the writer's Close publishes it.
func testLoseAnswer(t *testing.T, inner storage.Storage) {
	s := faulty.New(inner, 1,
		faulty.Rule{Ops: faulty.OpPutIfAbsent | faulty.OpClose | faulty.OpDelete, Kind: faulty.LoseAnswer})
	wantInjected(t, s.PutIfAbsent(ctx, "a", []byte("A")), faulty.LoseAnswer)
	wantContent(t, inner, "a", "A")
	// The retry a caller makes sees its own write as someone else's.
	if err := s.PutIfAbsent(ctx, "a", []byte("A")); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("second PutIfAbsent: %v, want ErrExist", err)
	}
	w, err := s.Create(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("streamed")); err != nil {
		t.Fatal(err)
	}
	wantInjected(t, w.Close(), faulty.LoseAnswer)
	wantContent(t, inner, "big", "streamed")
	wantInjected(t, s.Delete(ctx, "big"), faulty.LoseAnswer)
	if _, err := inner.Stat(ctx, "big"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a delete whose answer was lost did not delete: %v", err)
	}
	if got := s.Counts(); got[faulty.LoseAnswer] != 4 || len(got) != 1 {
		t.Fatalf("counts %v", faulty.FormatCounts(got))
	}
}

// A truncated read returns a strict prefix without error; a truncated
// write of a streamed object reports the short count, and the aborted
// object leaves nothing.
func testTruncate(t *testing.T, inner storage.Storage) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	if err := inner.Put(ctx, "f", data); err != nil {
		t.Fatal(err)
	}
	s := faulty.New(inner, 7, faulty.Rule{Ops: faulty.OpGet | faulty.OpGetRange | faulty.OpWrite, Kind: faulty.Truncate})
	got, err := s.Get(ctx, "f")
	if err != nil || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("truncated Get: %d bytes, %v", len(got), err)
	}
	got, err = s.GetRange(ctx, "f", 10, 500)
	if err != nil || len(got) >= 500 || !bytes.Equal(got, data[10:10+len(got)]) {
		t.Fatalf("truncated GetRange: %d bytes, %v", len(got), err)
	}
	w, err := s.Create(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Write(data)
	wantInjected(t, err, faulty.Truncate)
	if n >= len(data) {
		t.Fatalf("truncated Write wrote %d of %d bytes", n, len(data))
	}
	w.Abort()
	if _, err := inner.Stat(ctx, "g"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("aborted torn write left an object: %v", err)
	}
	// Put and PutIfAbsent store a prefix and fail: a torn write.
	s.SetRules(faulty.Rule{Ops: faulty.OpPut, Kind: faulty.Truncate})
	wantInjected(t, s.Put(ctx, "h", data), faulty.Truncate)
	if fi, err := inner.Stat(ctx, "h"); err != nil || fi.Size >= int64(len(data)) {
		t.Fatalf("torn Put: %+v, %v", fi, err)
	}
}

// A slow call waits its delay, or fails with its context.
func testSlow(t *testing.T, inner storage.Storage) {
	s := faulty.New(inner, 1, faulty.Rule{Ops: faulty.OpPut, Kind: faulty.Slow, Delay: 100 * time.Millisecond})
	start := time.Now()
	if err := s.Put(ctx, "a", []byte("A")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("slow Put took %v", d)
	}
	s.SetRules(faulty.Rule{Ops: faulty.OpPut, Kind: faulty.Slow, Delay: time.Hour})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.Put(cctx, "b", []byte("B")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow Put past its deadline: %v", err)
	}
	if _, err := inner.Stat(ctx, "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a Put that timed out before it started wrote: %v", err)
	}
}

// Nth and Limit pick calls by their place among the matching ones.
func testNth(t *testing.T, inner storage.Storage) {
	s := faulty.New(inner, 1, faulty.Rule{Ops: faulty.OpPut, Path: "x/*", Nth: 3, Kind: faulty.Fail})
	for i := 1; i <= 5; i++ {
		err := s.Put(ctx, fmt.Sprintf("x/%d", i), nil)
		if (i == 3) != (err != nil) {
			t.Fatalf("put %d: %v", i, err)
		}
		if err := s.Put(ctx, fmt.Sprintf("y/%d", i), nil); err != nil {
			t.Fatalf("y/%d: %v", i, err)
		}
	}
	s.SetRules(faulty.Rule{Ops: faulty.OpStat, Limit: 2, Kind: faulty.Fail})
	var failed int
	for range 5 {
		if _, err := s.Stat(ctx, "x/1"); err != nil {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("%d of 5 stats failed, want the limit of 2", failed)
	}
}

// A full disk, injected, is an error that errors.Is recognises as ENOSPC,
// and the storage works again once it is healed.
func testDiskFull(t *testing.T, inner storage.Storage) {
	enospc := &fs.PathError{Op: "write", Path: "data", Err: syscall.ENOSPC}
	s := faulty.New(inner, 1, faulty.Rule{Ops: faulty.OpWrites, Kind: faulty.Fail, Err: enospc})
	err := s.Put(ctx, "a", []byte("A"))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk: %v", err)
	}
	s.Heal()
	if err := s.Put(ctx, "a", []byte("A")); err != nil {
		t.Fatal(err)
	}
}

func wantContent(t *testing.T, s storage.Storage, p, want string) {
	t.Helper()
	got, err := s.Get(ctx, p)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", p, got, err, want)
	}
}

// The same seed injects the same faults into the same calls.
func TestSeedReplays(t *testing.T) {
	run := func(seed uint64) []bool {
		s := faulty.New(storage.NewMemory(), seed, faulty.Rule{Prob: 0.3, Kind: faulty.Fail})
		var out []bool
		for i := range 200 {
			out = append(out, s.Put(ctx, fmt.Sprint(i), nil) != nil)
		}
		return out
	}
	a, b, c := run(42), run(42), run(43)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("the same seed injected different faults")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("different seeds injected the same faults")
	}
	var n int
	for _, f := range a {
		if f {
			n++
		}
	}
	if n < 30 || n > 90 {
		t.Fatalf("%d of 200 calls failed at probability 0.3", n)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{faulty.PatternSnapshot, "db.db/t/snapshot/snapshot-12", true},
		{faulty.PatternSnapshot, "snapshot/snapshot-1", true},
		{faulty.PatternSnapshot, "db.db/t/snapshot/LATEST", false},
		{faulty.PatternLatest, "db.db/t/snapshot/LATEST", true},
		{faulty.PatternData, "db.db/t/dt=1/bucket-0/data-1.parquet", true},
		{faulty.PatternData, "db.db/t/manifest/manifest-1", false},
		{faulty.PatternManifest, "t/manifest/manifest-list-1", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "", true},
		{"", "a", false},
	} {
		if got := faulty.Match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
}

// The wrapper's real counterpart: a read-only directory refuses writes
// with EACCES, which the wrapper injects on any backend. Root ignores
// permissions, so this only runs as another user.
func TestLocalPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions are not enforced (the injected EACCES tests cover this)")
	}
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if err := l.Put(ctx, "a/b", []byte("x")); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Put into a read-only directory: %v", err)
	}
}
