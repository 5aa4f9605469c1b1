package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/internal/minioserver"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// writeSink is an engine's side of the write scenario.
type writeSink interface {
	// add takes the next row; u is reused for the next.
	add(ctx context.Context, u *upsert) error
	// flush hands the engine the rows added but not yet handed.
	flush(ctx context.Context) error
	commit(ctx context.Context, id int64) error
	// finish is the engine's work after the last commit that belongs to
	// the timed run.
	finish(ctx context.Context) error
}

// drive generates cfg's stream into s and times it: the whole run and each
// tenth of the rows, rows [k*Rows/10, (k+1)*Rows/10), each commit counted
// in the tenth of the row it follows (the final commit and finish in the
// last). Rows are flushed at every commit and at the tenths' boundaries, so
// each tenth's time is that of its own rows.
func drive(ctx context.Context, cfg WriteConfig, engine string, s writeSink) (writeTimes, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	var u upsert
	start := time.Now()
	marks := []time.Time{start} // marks[k]: when row k*Rows/10 was reached
	for i := range cfg.Rows {
		id := rng.Int64N(cfg.KeySpace)
		u.fill(rng, id)
		if err := s.add(ctx, &u); err != nil {
			return writeTimes{}, err
		}
		n := i + 1
		commit := n%cfg.CommitEvery == 0
		boundary := len(marks) < 10 && n >= len(marks)*cfg.Rows/10
		if commit || boundary {
			if err := s.flush(ctx); err != nil {
				return writeTimes{}, err
			}
		}
		if commit {
			if err := ctx.Err(); err != nil {
				return writeTimes{}, err
			}
			if err := s.commit(ctx, int64(n)); err != nil {
				return writeTimes{}, err
			}
			progress(cfg.Progress, engine, n, cfg.Rows, start)
		}
		if boundary {
			for now := time.Now(); len(marks) < 10 && n >= len(marks)*cfg.Rows/10; {
				marks = append(marks, now)
			}
		}
	}
	if cfg.Rows%cfg.CommitEvery != 0 {
		if err := s.flush(ctx); err != nil {
			return writeTimes{}, err
		}
		if err := s.commit(ctx, int64(cfg.Rows)); err != nil {
			return writeTimes{}, err
		}
		progress(cfg.Progress, engine, cfg.Rows, cfg.Rows, start)
	}
	if err := s.finish(ctx); err != nil {
		return writeTimes{}, err
	}
	return newWriteTimes(append(marks, time.Now())), nil
}

// RunWriteStrata runs the scenario on a Strata table: a streaming writer
// (compaction in the background across commits) with the table's default
// options but the bucket count and cfg.Options.
func RunWriteStrata(ctx context.Context, cfg WriteConfig) (res WriteResult, err error) {
	if cfg, err = cfg.normalized(); err != nil {
		return res, err
	}
	raw, where, stop, err := strataStorage(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := stop(); err == nil {
			err = serr
		}
	}()
	fs := storage.NewCounting(raw)
	tb, err := createBenchTable(ctx, fs, cfg.Buckets, cfg.Options...)
	if err != nil {
		return res, err
	}
	w, err := tb.NewWrite(ctx, table.WithWaitCompaction(false))
	if err != nil {
		return res, err
	}
	defer w.Close()
	sink := &strataSink{tb: tb, w: w}
	if cfg.API == APIArrow {
		if sink.batches, err = newUpsertBatches(tb.Schema().Fields, cfg.BatchRows); err != nil {
			return res, err
		}
		defer sink.batches.release()
	}
	usage := startPhase()
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	times, err := drive(ctx, cfg, "strata", sink)
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	res = result("strata", cfg.Rows, times, fs.BytesWritten.Load())
	usage.end(&res)
	res.API, res.Storage = string(cfg.API), where
	res.SortedRuns, err = sortedRuns(ctx, tb, cfg.Buckets)
	return res, err
}

// benchTablePath is the write scenario's table in its warehouse.
const benchTablePath = "bench.db/upserts"

// createBenchTable creates bench.db/upserts in fs: benchColumns keyed by id,
// with buckets buckets and the options opts (key, value, ...).
func createBenchTable(ctx context.Context, fs storage.Storage, buckets int, opts ...string) (*table.Table, error) {
	sc, err := benchSchema(buckets, opts...)
	if err != nil {
		return nil, err
	}
	return table.Create(ctx, fs, benchTablePath, sc)
}

// benchSchema is the schema of createBenchTable's table.
func benchSchema(buckets int, opts ...string) (*spec.TableSchema, error) {
	fields, err := spec.ParseColumns(benchColumns)
	if err != nil {
		return nil, err
	}
	if len(opts)%2 != 0 {
		return nil, fmt.Errorf("options come in key, value pairs: %q", opts)
	}
	for i := 0; i < len(opts); i += 2 {
		if opts[i] == spec.OptBucket {
			return nil, fmt.Errorf("the bucket count is the scenario's own (--buckets)")
		}
		if w := spec.UnknownOptionWarnings(opts[i : i+1]); len(w) > 0 {
			return nil, errors.New(w[0])
		}
	}
	return spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(append([]string{"bucket", fmt.Sprint(buckets)}, opts...)...), nil)
}

// strataStorage is the storage Strata's table goes to, described, and the
// function that releases it: the scratch directory's strata/, or a bucket
// of a MinIO server started on loopback with its data in minio/.
func strataStorage(ctx context.Context, cfg WriteConfig) (storage.Storage, string, func() error, error) {
	none := func() error { return nil }
	if cfg.Storage == StorageLocal {
		fs, err := storage.NewLocal(filepath.Join(cfg.Dir, "strata"))
		return fs, "local disk", none, err
	}
	bin, err := findMinio(cfg.Minio)
	if err != nil {
		return nil, "", none, fmt.Errorf("%s (%w)", minioserver.InstallHint, err)
	}
	dir := filepath.Join(cfg.Dir, "minio")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", none, fmt.Errorf("minio directory: %w", err)
	}
	srv, err := minioserver.Start(bin, dir)
	if err != nil {
		return nil, "", none, err
	}
	fs, err := newBenchBucket(ctx, srv)
	if err != nil {
		srv.Stop()
		return nil, "", none, err
	}
	return fs, "MinIO (loopback)", srv.Stop, nil
}

// sortedRuns counts each bucket's sorted runs in the table's last
// snapshot: every level-0 file, and each other level holding files.
func sortedRuns(ctx context.Context, tb *table.Table, buckets int) ([]int, error) {
	_, files, err := tb.LiveFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("sorted runs: %w", err)
	}
	runs := make([]int, buckets)
	levels := make([]map[int32]bool, buckets)
	for _, e := range files {
		b := int(e.Bucket)
		if b < 0 || b >= buckets {
			return nil, fmt.Errorf("sorted runs: a file of bucket %d in a table of %d", b, buckets)
		}
		if e.File.Level == 0 {
			runs[b]++
			continue
		}
		if levels[b] == nil {
			levels[b] = map[int32]bool{}
		}
		if !levels[b][e.File.Level] {
			levels[b][e.File.Level] = true
			runs[b]++
		}
	}
	return runs, nil
}

// strataSink writes into a Strata table through the Arrow API (batches
// set) or the rows API.
type strataSink struct {
	tb      *table.Table
	w       *table.Write
	batches *upsertBatches // nil: WriteRow
}

func (s *strataSink) add(ctx context.Context, u *upsert) error {
	if s.batches == nil {
		return s.w.WriteRow(ctx, spec.RowKindInsert, u.row())
	}
	s.batches.add(u)
	if s.batches.full() {
		return s.flush(ctx)
	}
	return nil
}

func (s *strataSink) flush(ctx context.Context) error {
	if s.batches == nil || s.batches.len() == 0 {
		return nil
	}
	rec := s.batches.batch()
	defer rec.Release()
	return s.w.Write(ctx, rec)
}

func (s *strataSink) commit(ctx context.Context, id int64) error {
	msgs, err := s.w.PrepareCommit(ctx)
	if err != nil {
		return err
	}
	_, err = s.tb.NewCommit("bench").Commit(ctx, id, msgs)
	return err
}

func (s *strataSink) finish(context.Context) error { return nil }

// RunWritePebble runs the same key/value stream into pebble on local disk
// (WAL on, one synced batch per commit interval, its memtable flushed at
// the end): the baseline LSM. Values are encodeRow's form.
func RunWritePebble(ctx context.Context, cfg WriteConfig) (res WriteResult, err error) {
	if cfg, err = cfg.normalized(); err != nil {
		return res, err
	}
	db, err := pebble.Open(filepath.Join(cfg.Dir, "pebble"), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return res, err
	}
	defer db.Close()
	usage := startPhase()
	times, err := drive(ctx, cfg, "pebble", &pebbleSink{db: db, b: db.NewBatch()})
	if err != nil {
		return res, err
	}
	m := db.Metrics()
	written := int64(m.WAL.BytesWritten)
	for _, l := range m.Levels {
		written += int64(l.TableBytesFlushed + l.TableBytesCompacted)
	}
	res = result("pebble", cfg.Rows, times, written)
	usage.end(&res)
	res.Storage = "local disk"
	return res, nil
}

// pebbleSink writes into pebble, a batch per commit interval.
type pebbleSink struct {
	db  *pebble.DB
	b   *pebble.Batch
	key [8]byte
	val []byte
}

func (s *pebbleSink) add(_ context.Context, u *upsert) error {
	binary.BigEndian.PutUint64(s.key[:], uint64(u.id))
	s.val = u.appendValue(s.val[:0])
	return s.b.Set(s.key[:], s.val, nil)
}

func (s *pebbleSink) flush(context.Context) error { return nil }

func (s *pebbleSink) commit(context.Context, int64) error {
	if err := s.b.Commit(pebble.Sync); err != nil {
		return err
	}
	if err := s.b.Close(); err != nil {
		return err
	}
	s.b = s.db.NewBatch()
	return nil
}

func (s *pebbleSink) finish(context.Context) error {
	if err := s.b.Close(); err != nil {
		return err
	}
	return s.db.Flush()
}
