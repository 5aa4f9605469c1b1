package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/miniotest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

func s3Storage(t *testing.T) (storage.Storage, *miniotest.Server, string) {
	t.Helper()
	srv := miniotest.Shared(t)
	bucket := miniotest.BucketName(t)
	srv.NewBucket(t, bucket)
	fs, err := storage.NewS3(context.Background(), bucket, "warehouse",
		storage.WithEndpoint(srv.Endpoint), storage.WithRegion(miniotest.Region),
		storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""))
	if err != nil {
		t.Fatal(err)
	}
	return fs, srv, bucket
}

// backendStorage is a fresh warehouse on "local" disk or on "s3" (MinIO).
func backendStorage(t *testing.T, backend string) storage.Storage {
	t.Helper()
	if backend == "s3" {
		fs, _, _ := s3Storage(t)
		return fs
	}
	l, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newTable(t *testing.T, fs storage.Storage, name string, options ...string) *table.Table {
	t.Helper()
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(append([]string{"bucket", "2"}, options...)...), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).CreateTable(context.Background(), catalog.Identifier{Database: "db", Table: name}, sc)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// Concurrent committers on one table: every commit lands exactly once and
// snapshot ids stay contiguous, on local disk and on S3 (conditional PUT).
func TestConcurrentCommitters(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			fs := backendStorage(t, backend)
			// Concurrent writers of the same buckets must not compact: a
			// dedicated job does (their compactions would conflict).
			tb := newTable(t, fs, "contended", "write-only", "true")
			const writers, commits = 4, 5
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for c := 0; c < commits; c++ {
						wr, err := tb.NewWrite(ctx)
						if err != nil {
							errs <- err
							return
						}
						// Disjoint keys per writer and commit.
						id := int64(w*1000 + c)
						if err := wr.WriteRow(ctx, spec.RowKindInsert, spec.Row{id, fmt.Sprint(id)}); err != nil {
							errs <- err
							return
						}
						msgs, err := wr.PrepareCommit(ctx)
						if err != nil {
							errs <- err
							return
						}
						if _, err := tb.NewCommit(fmt.Sprintf("writer-%d", w)).Commit(ctx, int64(c), msgs); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			ids, err := tb.Snapshots().IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != writers*commits || ids[0] != 1 || ids[len(ids)-1] != writers*commits {
				t.Fatalf("snapshot ids %v", ids)
			}
			var got []int64
			for row, err := range tb.NewScan().Rows(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, row[0].(int64))
			}
			slices.Sort(got)
			if len(got) != writers*commits {
				t.Fatalf("%d rows, want %d: %v", len(got), writers*commits, got)
			}
		})
	}
}

// The strata binary against MinIO through s3:// and STRATA_S3_ENDPOINT.
func TestCLIOnS3(t *testing.T) {
	_, srv, bucket := s3Storage(t)
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := append(os.Environ(),
		"STRATA_S3_ENDPOINT="+srv.Endpoint, "AWS_ACCESS_KEY_ID="+srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+srv.SecretKey, "AWS_REGION="+miniotest.Region,
		"STRATA_WAREHOUSE=s3://"+bucket+"/wh")
	strata := func(stdin string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("strata %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	strata("", "create", "db.t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=3")
	strata("{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n", "write", "db.t")
	strata("{\"id\":1,\"_kind\":\"-D\"}\n{\"id\":3,\"v\":\"c\"}\n", "write", "db.t")
	if got := strata("", "scan", "db.t", "--format", "csv"); got != "id,v\n2,b\n3,c\n" && got != "id,v\n3,c\n2,b\n" {
		t.Fatalf("scan: %q", got)
	}
	if got := strata("", "demo", "--duration", "2s", "--users", "200", "--rate", "500", "--maintain-every", "500ms"); !strings.Contains(got, "checks:") ||
		!strings.Contains(got, "passed: scan, lookups and changelog equal the model") || !strings.Contains(got, "--warehouse s3://") {
		t.Fatalf("demo on S3:\n%s", got)
	}
}

// Four independent committers append to four partitions of one table at
// once, compacting their own partitions: every commit lands exactly once and
// snapshot ids stay contiguous, locally and on MinIO.
func TestPartitionCommitters(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			fs := backendStorage(t, backend)
			fields, _ := spec.ParseColumns("p INT NOT NULL, id BIGINT NOT NULL, v STRING")
			sc, _ := spec.NewSchema(fields, []string{"p"}, []string{"p", "id"},
				spec.NewStringMap("bucket", "2", "num-sorted-run.compaction-trigger", "2"), nil)
			tb, err := catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "parts"}, sc)
			if err != nil {
				t.Fatal(err)
			}
			const committers, commits = 4, 6
			var wg sync.WaitGroup
			errs := make(chan error, committers)
			snapshots := make([][]int64, committers)
			for c := 0; c < committers; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					commit := tb.NewCommit(fmt.Sprint("committer-", c))
					for i := 0; i < commits; i++ {
						w, err := tb.NewWrite(ctx)
						if err != nil {
							errs <- err
							return
						}
						for k := int64(0); k < 20; k++ {
							if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int32(c), k, fmt.Sprint(i)}); err != nil {
								errs <- err
								return
							}
						}
						msgs, err := w.PrepareCommit(ctx)
						w.Close()
						if err != nil {
							errs <- err
							return
						}
						id, err := commit.Commit(ctx, int64(i), msgs)
						if err != nil {
							errs <- err
							return
						}
						snapshots[c] = append(snapshots[c], id)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			ids, _ := tb.Snapshots().IDs(ctx)
			for i, id := range ids {
				if id != int64(i+1) {
					t.Fatalf("snapshot ids not contiguous: %v", ids)
				}
			}
			// Each committer's commits are in the table once each.
			perUser := map[string]map[int64]int{}
			for _, id := range ids {
				s, err := tb.Snapshots().Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if s.CommitKind != spec.CommitKindAppend {
					continue
				}
				if perUser[s.CommitUser] == nil {
					perUser[s.CommitUser] = map[int64]int{}
				}
				perUser[s.CommitUser][s.CommitIdentifier]++
			}
			for u, m := range perUser {
				if len(m) != commits {
					t.Fatalf("%s: %d identifiers committed, want %d", u, len(m), commits)
				}
				for ident, n := range m {
					if n != 1 {
						t.Fatalf("%s identifier %d committed %d times", u, ident, n)
					}
				}
			}
			var n int
			for row, err := range tb.NewScan().Rows(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if row[2] != fmt.Sprint(commits-1) {
					t.Fatalf("row %v is not from the last commit", row)
				}
				n++
			}
			if n != committers*20 {
				t.Fatalf("%d rows", n)
			}
		})
	}
}
