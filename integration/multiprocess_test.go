package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The multi-process test re-runs this test binary in two roles, chosen by
// STRATA_ROLE: writer (owns a quarter of the buckets, writes checkpoint
// after checkpoint and hands serialized commit messages to a spool
// directory) and committer (commits checkpoint c once every writer's
// messages for c are there).
func TestMain(m *testing.M) {
	switch os.Getenv("STRATA_ROLE") {
	case "writer":
		os.Exit(runRole(writerMain))
	case "committer":
		os.Exit(runRole(committerMain))
	}
	os.Exit(m.Run())
}

func runRole(f func(ctx context.Context) error) int {
	if err := f(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "role failed:", err)
		return 1
	}
	return 0
}

const (
	mpWriters     = 4
	mpBuckets     = 8
	mpRowsPerCkpt = 40
	mpKeySpace    = 2000
)

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func openMPTable(ctx context.Context) (*table.Table, error) {
	fs, err := storage.Open(ctx, os.Getenv("STRATA_WAREHOUSE"))
	if err != nil {
		return nil, err
	}
	return catalog.New(fs).GetTable(ctx, catalog.Identifier{Database: "db", Table: "mp"})
}

// ckptRows are writer w's changes at checkpoint c: deterministic, so a
// restarted writer reproduces exactly what its previous life wrote.
func ckptRows(tb *table.Table, w *table.Write, writer, c int) ([]spec.Row, []spec.RowKind, error) {
	rng := rand.New(rand.NewPCG(uint64(writer), uint64(c)))
	var rows []spec.Row
	var kinds []spec.RowKind
	for len(rows) < mpRowsPerCkpt {
		id := rng.Int64N(mpKeySpace)
		row := spec.Row{id, fmt.Sprintf("w%d-c%d", writer, c)}
		b, err := w.BucketOf(row)
		if err != nil {
			return nil, nil, err
		}
		if int(b)%mpWriters != writer {
			continue
		}
		kind := spec.RowKindInsert
		if rng.IntN(5) == 0 {
			kind = spec.RowKindDelete
		}
		rows = append(rows, row)
		kinds = append(kinds, kind)
	}
	return rows, kinds, nil
}

func committedCheckpoint(ctx context.Context, tb *table.Table) (int, error) {
	ident, _, ok, err := tb.NewCommit("committer").LastCommitted(ctx)
	if err != nil || !ok {
		return -1, err
	}
	return int(ident), nil
}

func writerMain(ctx context.Context) error {
	writer, spool, total := envInt("STRATA_WRITER"), os.Getenv("STRATA_SPOOL"), envInt("STRATA_CHECKPOINTS")
	tb, err := openMPTable(ctx)
	if err != nil {
		return err
	}
	start, err := committedCheckpoint(ctx, tb)
	if err != nil {
		return err
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	for c := start + 1; c < total; c++ {
		// Stay at most two checkpoints ahead of the committer.
		for {
			done, err := committedCheckpoint(ctx, tb)
			if err != nil {
				return err
			}
			if done >= c-2 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		rows, kinds, err := ckptRows(tb, w, writer, c)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if err := w.WriteRow(ctx, kinds[i], r); err != nil {
				return err
			}
		}
		data, err := w.PrepareCommitBytes(ctx, int64(c))
		if err != nil {
			return err
		}
		name := filepath.Join(spool, fmt.Sprintf("ckpt-%06d-w%d", c, writer))
		if err := os.WriteFile(name+".tmp", data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(name+".tmp", name); err != nil {
			return err
		}
	}
	return nil
}

func committerMain(ctx context.Context) error {
	spool, total := os.Getenv("STRATA_SPOOL"), envInt("STRATA_CHECKPOINTS")
	tb, err := openMPTable(ctx)
	if err != nil {
		return err
	}
	committer := tb.NewCommit("committer")
	done, err := committedCheckpoint(ctx, tb)
	if err != nil {
		return err
	}
	// A restarted committer first commits its last checkpoint again: the
	// previous life may have died half way through it, and whatever landed
	// is found and skipped.
	c := max(done, 0)
	for {
		if c >= total {
			return nil
		}
		var all [][]byte
		ready := true
		for w := 0; w < mpWriters && ready; w++ {
			data, err := os.ReadFile(filepath.Join(spool, fmt.Sprintf("ckpt-%06d-w%d", c, w)))
			if errors.Is(err, os.ErrNotExist) {
				ready = false
				break
			}
			if err != nil {
				return err
			}
			all = append(all, data)
		}
		if !ready {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if _, err := committer.CommitBytes(ctx, all...); err != nil {
			return err
		}
		c++
	}
}

// TestMultiProcessWritersAndCommitter: 4 writer processes, each owning a
// quarter of the buckets of one table, and a committer process; processes
// are killed (SIGKILL) at random and restarted with the same arguments. In
// the end the table equals the model: nothing lost, nothing twice.
func TestMultiProcessWritersAndCommitter(t *testing.T) {
	duration := 30 * time.Second
	if testing.Short() {
		duration = 8 * time.Second
	}
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			var fs storage.Storage
			var location string
			env := os.Environ()
			if backend == "s3" {
				s3fs, server, bucket := s3Storage(t)
				fs = s3fs
				location = "s3://" + bucket + "/warehouse"
				env = append(env, "STRATA_S3_ENDPOINT="+server.Endpoint, "AWS_ACCESS_KEY_ID="+server.AccessKey,
					"AWS_SECRET_ACCESS_KEY="+server.SecretKey, "AWS_REGION=us-east-1")
			} else {
				location = t.TempDir()
				l, err := storage.NewLocal(location)
				if err != nil {
					t.Fatal(err)
				}
				fs = l
			}
			fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
			sc, _ := spec.NewSchema(fields, nil, []string{"id"},
				spec.NewStringMap("bucket", strconv.Itoa(mpBuckets), "write-only", "true"), nil)
			tb, err := catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "mp"}, sc)
			if err != nil {
				t.Fatal(err)
			}
			// About one checkpoint per 200 ms for the run's duration.
			total := int(duration / (200 * time.Millisecond))
			spool := t.TempDir()
			env = append(env, "STRATA_WAREHOUSE="+location, "STRATA_SPOOL="+spool, "STRATA_CHECKPOINTS="+strconv.Itoa(total))
			start := func(role string, writer int) *exec.Cmd {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(env, "STRATA_ROLE="+role, "STRATA_WRITER="+strconv.Itoa(writer))
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				return cmd
			}
			procs := make([]*exec.Cmd, mpWriters+1)
			for w := 0; w < mpWriters; w++ {
				procs[w] = start("writer", w)
			}
			procs[mpWriters] = start("committer", 0)
			exited := make([]chan error, len(procs))
			watch := func(i int) {
				ch := make(chan error, 1)
				exited[i] = ch
				go func(c *exec.Cmd) { ch <- c.Wait() }(procs[i])
			}
			for i := range procs {
				watch(i)
			}
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			deadline := time.Now().Add(max(4*duration, 2*time.Minute))
			kills := 0
			finished := make([]bool, len(procs))
			for time.Now().Before(deadline) {
				allDone := true
				for i := range procs {
					if finished[i] {
						continue
					}
					select {
					case err := <-exited[i]:
						if err != nil {
							t.Fatalf("process %d failed: %v", i, err)
						}
						finished[i] = true
					default:
						allDone = false
					}
				}
				if allDone {
					break
				}
				time.Sleep(100 * time.Millisecond)
				// Now and then kill a running process and start it again.
				if i := rng.IntN(len(procs)); !finished[i] && rng.IntN(15) == 0 && kills < 12 {
					_ = procs[i].Process.Signal(syscall.SIGKILL)
					<-exited[i]
					kills++
					role, w := "writer", i
					if i == mpWriters {
						role, w = "committer", 0
					}
					procs[i] = start(role, w)
					watch(i)
				}
			}
			for i := range procs {
				if !finished[i] {
					_ = procs[i].Process.Kill()
					t.Fatalf("process %d did not finish in time", i)
				}
			}
			t.Logf("%d checkpoints, %d kills", total, kills)
			// The model: every writer's checkpoints in order.
			w, err := tb.NewWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			model := map[int64]string{}
			for c := 0; c < total; c++ {
				for writer := 0; writer < mpWriters; writer++ {
					rows, kinds, err := ckptRows(tb, w, writer, c)
					if err != nil {
						t.Fatal(err)
					}
					for i, r := range rows {
						if kinds[i] == spec.RowKindDelete {
							delete(model, r[0].(int64))
						} else {
							model[r[0].(int64)] = r[1].(string)
						}
					}
				}
			}
			got := map[int64]string{}
			for row, err := range tb.NewScan().Rows(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if _, dup := got[row[0].(int64)]; dup {
					t.Fatalf("key %v twice", row[0])
				}
				got[row[0].(int64)] = row[1].(string)
			}
			if len(got) != len(model) {
				t.Fatalf("%d rows, model has %d", len(got), len(model))
			}
			for k, v := range model {
				if got[k] != v {
					t.Fatalf("key %d = %q, model %q", k, got[k], v)
				}
			}
			ids, _ := tb.Snapshots().IDs(ctx)
			seen := map[string]bool{}
			for _, id := range ids {
				s, err := tb.Snapshots().Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				k := fmt.Sprint(s.CommitUser, s.CommitIdentifier, s.CommitKind)
				if seen[k] {
					t.Fatalf("checkpoint %d (%s) committed twice", s.CommitIdentifier, s.CommitKind)
				}
				seen[k] = true
			}
			if len(ids) != total {
				t.Fatalf("%d snapshots for %d checkpoints", len(ids), total)
			}
		})
	}
}
