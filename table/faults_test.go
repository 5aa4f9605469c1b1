package table

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stratalake/strata/internal/faultproxy"
	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/storage/faulty"
)

// faultBackends returns empty storages: memory, local disk and MinIO.
func faultBackends(t *testing.T) map[string]storage.Storage {
	l, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]storage.Storage{"memory": storage.NewMemory(), "local": l, "s3": minioStorage(t, "")}
}

// minioStorage is a fresh bucket on the shared MinIO, reached directly or,
// with endpoint, through a proxy.
func minioStorage(t *testing.T, endpoint string, opts ...storage.S3Option) *storage.S3 {
	srv := miniotest.Shared(t)
	bucket := miniotest.BucketName(t)
	srv.NewBucket(t, bucket)
	if endpoint == "" {
		endpoint = srv.Endpoint
	}
	opts = append([]storage.S3Option{storage.WithEndpoint(endpoint), storage.WithRegion(miniotest.Region),
		storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, "")}, opts...)
	s, err := storage.NewS3(context.Background(), bucket, "wh", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkpointMsgs writes rows id from..to-1 with a new Write.
func checkpointMsgs(t *testing.T, tb *Table, from, to int64) []CommitMessage {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for id := from; id < to; id++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, fmt.Sprint("v", id), float64(id)}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// wantTable checks, on healthy storage, the latest snapshot's id and that
// it holds exactly the rows 0..rows-1.
func wantTable(t *testing.T, s storage.Storage, snapshot int64, rows int) {
	t.Helper()
	ctx := context.Background()
	tb, err := Open(ctx, s, "db.db/t")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := tb.Snapshots().LatestID(ctx); err != nil || id != snapshot {
		t.Fatalf("latest snapshot %d (%v), want %d", id, err, snapshot)
	}
	got := scanAll(t, tb)
	slices.SortFunc(got, spec.CompareRows)
	if len(got) != rows {
		t.Fatalf("%d rows, want %d", len(got), rows)
	}
	for i, r := range got {
		if r[0].(int64) != int64(i) {
			t.Fatalf("row %d is %v", i, r)
		}
	}
}

// The write of snapshot-N lands but its answer is lost, on every backend:
// the committer reads the snapshot back, finds it is its own (same bytes:
// commit user, identifier and a random UUID) and reports the commit once.
// When the read-back fails too, it looks for its snapshot among those
// published since, before trying again, and never writes a second one.
func TestLostSnapshotAnswer(t *testing.T) {
	ctx := context.Background()
	for name, inner := range faultBackends(t) {
		for _, tc := range []struct {
			name  string
			rules []faulty.Rule
		}{
			{"read-back", []faulty.Rule{
				{Ops: faulty.OpPutIfAbsent, Path: faulty.PatternSnapshot, Nth: 1, Kind: faulty.LoseAnswer}}},
			{"read-back-fails", []faulty.Rule{
				{Ops: faulty.OpPutIfAbsent, Path: faulty.PatternSnapshot, Nth: 1, Kind: faulty.LoseAnswer},
				{Ops: faulty.OpGet, Path: faulty.PatternSnapshot, Nth: 1, Kind: faulty.Fail}}},
			{"lost-as-exists", []faulty.Rule{
				{Ops: faulty.OpPutIfAbsent, Path: faulty.PatternSnapshot, Nth: 1, Kind: faulty.LoseAnswer,
					Err: storage.ErrExist}}},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				sub := faulty.New(&prefixed{inner, tc.name + "/"}, 1)
				tb := newTestTable(t, sub, 1, "write-only", "true")
				msgs := checkpointMsgs(t, tb, 0, 10)
				sub.SetRules(tc.rules...)
				c := tb.NewCommit("job")
				id, err := c.Commit(ctx, 1, msgs)
				if err != nil || id != 1 {
					t.Fatalf("commit: snapshot %d, %v", id, err)
				}
				if sub.Count(faulty.LoseAnswer) != 1 {
					t.Fatalf("faults %v", faulty.FormatCounts(sub.Counts()))
				}
				// Committing the checkpoint again changes nothing.
				if again, err := tb.NewCommit("job").Commit(ctx, 1, msgs); err != nil || again != 1 {
					t.Fatalf("second commit: snapshot %d, %v", again, err)
				}
				sub.Heal()
				wantTable(t, sub, 1, 10)
			})
		}
	}
}

// When neither the snapshot's write nor any later look at the snapshots
// answers, the commit fails as uncertain; the job, restarted on healthy
// storage, finds the checkpoint committed and commits nothing twice.
func TestUncertainSnapshotResumes(t *testing.T) {
	ctx := context.Background()
	for name, inner := range faultBackends(t) {
		t.Run(name, func(t *testing.T) {
			s := &blackout{Storage: faulty.New(inner, 1), target: "db.db/t/snapshot/snapshot-2"}
			tb := newTestTable(t, s, 1, "write-only", "true")
			if _, err := tb.NewCommit("job").Commit(ctx, 1, checkpointMsgs(t, tb, 0, 10)); err != nil {
				t.Fatal(err)
			}
			msgs := checkpointMsgs(t, tb, 10, 20)
			_, err := tb.NewCommit("job").Commit(ctx, 2, msgs)
			if err == nil {
				t.Fatal("commit succeeded with no snapshot readable")
			}
			if !s.fired {
				t.Fatalf("the commit failed before publishing: %v", err)
			}
			s.Storage.Heal()
			c := tb.NewCommit("job")
			done, snap, err := c.AlreadyCommitted(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !done || snap != 2 {
				t.Fatalf("checkpoint 2 landed but the job sees it committed: %v, in snapshot %d", done, snap)
			}
			if again, err := c.Commit(ctx, 2, msgs); err != nil || again != snap {
				t.Fatalf("re-commit: snapshot %d, %v; want %d", again, err, snap)
			}
			wantTable(t, s, 2, 20)
		})
	}
}

// blackout publishes target, then loses the answer and fails every read
// of the snapshot directory from then on.
type blackout struct {
	*faulty.Storage
	target string
	fired  bool
}

func (b *blackout) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if err := b.Storage.PutIfAbsent(ctx, p, data); err != nil || p != b.target {
		return err
	}
	b.fired = true
	b.Storage.SetRules(faulty.Rule{Ops: faulty.OpReads, Path: "*snapshot/*", Kind: faulty.Fail})
	return errors.New("connection reset")
}

// On S3 the lost answer is a real one: the proxy lets MinIO store
// snapshot-1, then resets the connection; the SDK retries the conditional
// PUT, MinIO answers 412, and the committer reads the snapshot back.
func TestS3LostSnapshotAnswerThroughProxy(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Shared(t)
	p := faultproxy.Start(t, srv.Endpoint)
	s := minioStorage(t, p.URL)
	tb := newTestTable(t, s, 1, "write-only", "true")
	msgs := checkpointMsgs(t, tb, 0, 10)
	p.Add(faultproxy.Rule{Method: "PUT", Match: "/snapshot/snapshot-1", Actions: []faultproxy.Action{faultproxy.LoseAnswer}})
	id, err := tb.NewCommit("job").Commit(ctx, 1, msgs)
	if err != nil || id != 1 {
		t.Fatalf("commit: snapshot %d, %v", id, err)
	}
	if n := p.Injected()[faultproxy.LoseAnswer]; n != 1 {
		t.Fatalf("lost answers injected: %d", n)
	}
	wantTable(t, s, 1, 10)
}

// A full disk or a refused permission, at any step of a checkpoint (data
// file, manifest, snapshot), fails the checkpoint and leaves the last good
// snapshot readable; once the fault clears the writer resumes the same
// checkpoint and commits it exactly once.
func TestDiskFullAndPermissionDenied(t *testing.T) {
	ctx := context.Background()
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EACCES} {
		for _, where := range []string{faulty.PatternData, faulty.PatternManifest, faulty.PatternSnapshot, ""} {
			t.Run(fmt.Sprintf("%s/%q", errno, where), func(t *testing.T) {
				l, err := storage.NewLocal(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				s := faulty.New(l, 1)
				tb := newTestTable(t, s, 2, "commit.max-retries", "2")
				last, err := tb.NewCommit("job").Commit(ctx, 1, checkpointMsgs(t, tb, 0, 50))
				if err != nil {
					t.Fatal(err)
				}
				s.SetRules(faulty.Rule{Ops: faulty.OpWrites, Path: where, Kind: faulty.Fail,
					Err: &fs.PathError{Op: "write", Path: "warehouse", Err: errno}})
				err = writeCheckpoint(ctx, tb, 2, 50, 100)
				if !errors.Is(err, errno) {
					t.Fatalf("checkpoint 2 on a failing disk: %v, want %v", err, errno)
				}
				wantTable(t, l, last, 50)
				s.Heal()
				// The restarted job asks what landed, then writes checkpoint 2
				// again, and once only.
				for range 2 {
					if err := writeCheckpoint(ctx, tb, 2, 50, 100); err != nil {
						t.Fatal(err)
					}
				}
				tb2, err := Open(ctx, l, "db.db/t")
				if err != nil {
					t.Fatal(err)
				}
				if got := len(scanAll(t, tb2)); got != 100 {
					t.Fatalf("%d rows after resuming, want 100", got)
				}
			})
		}
	}
}

// writeCheckpoint is a job's checkpoint: skipped when its commit user has
// it already, else rows from..to-1 written and committed.
func writeCheckpoint(ctx context.Context, tb *Table, c, from, to int64) error {
	commit := tb.NewCommit("job")
	done, _, err := commit.AlreadyCommitted(ctx, c)
	if err != nil || done {
		return err
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	for id := from; id < to; id++ {
		if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, fmt.Sprint("v", id), float64(id)}); err != nil {
			return err
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		return err
	}
	_, err = commit.Commit(ctx, c, msgs)
	return err
}

// A real read-only warehouse (not injected): the commit fails with a
// permission error and the table stays at its last snapshot. Root ignores
// permissions, so this runs only as another user; the injected EACCES of
// TestDiskFullAndPermissionDenied covers root.
func TestReadOnlyWarehouse(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions are not enforced")
	}
	ctx := context.Background()
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTestTable(t, l, 1)
	if _, err := tb.NewCommit("job").Commit(ctx, 1, checkpointMsgs(t, tb, 0, 10)); err != nil {
		t.Fatal(err)
	}
	msgs := checkpointMsgs(t, tb, 10, 20)
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for _, d := range dirs {
		os.Chmod(d, 0o555)
	}
	defer func() {
		for _, d := range dirs {
			os.Chmod(d, 0o755)
		}
	}()
	if _, err := tb.NewCommit("job").Commit(ctx, 2, msgs); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("commit into a read-only warehouse: %v", err)
	}
	wantTable(t, l, 1, 10)
	for _, d := range dirs {
		os.Chmod(d, 0o755)
	}
	if _, err := tb.NewCommit("job").Commit(ctx, 2, msgs); err != nil {
		t.Fatal(err)
	}
	wantTable(t, l, 2, 20)
}

// prefixed puts a storage's paths under a prefix, so that subtests share
// one backend.
type prefixed struct {
	storage.Storage
	p string
}

func (s *prefixed) Get(ctx context.Context, p string) ([]byte, error) {
	return s.Storage.Get(ctx, s.p+p)
}
func (s *prefixed) GetRange(ctx context.Context, p string, off, n int64) ([]byte, error) {
	return s.Storage.GetRange(ctx, s.p+p, off, n)
}
func (s *prefixed) Put(ctx context.Context, p string, b []byte) error {
	return s.Storage.Put(ctx, s.p+p, b)
}
func (s *prefixed) PutIfAbsent(ctx context.Context, p string, b []byte) error {
	return s.Storage.PutIfAbsent(ctx, s.p+p, b)
}
func (s *prefixed) Create(ctx context.Context, p string) (storage.ObjectWriter, error) {
	return s.Storage.Create(ctx, s.p+p)
}
func (s *prefixed) Delete(ctx context.Context, p string) error { return s.Storage.Delete(ctx, s.p+p) }
func (s *prefixed) Stat(ctx context.Context, p string) (storage.FileInfo, error) {
	fi, err := s.Storage.Stat(ctx, s.p+p)
	fi.Path = p
	return fi, err
}
func (s *prefixed) List(ctx context.Context, prefix string, recursive bool) ([]storage.FileInfo, error) {
	infos, err := s.Storage.List(ctx, s.p+prefix, recursive)
	for i := range infos {
		infos[i].Path = infos[i].Path[len(s.p):]
	}
	return infos, err
}
