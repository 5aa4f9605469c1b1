// Package bench runs Strata's benchmark scenarios against baselines measured
// in the same run, for `strata bench` and BENCHMARKS.md.
package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// WriteConfig is the upsert scenario: RowBytes-sized rows with random keys
// from a KeySpace-key space, committed every CommitEvery rows.
type WriteConfig struct {
	Rows        int
	KeySpace    int64
	Buckets     int
	CommitEvery int
	Dir         string // scratch directory for both engines
	Seed        uint64
	Progress    io.Writer // nil: quiet
}

// WriteResult is one engine's figures.
type WriteResult struct {
	Engine       string
	Rows         int
	Seconds      float64
	RowsPerSec   float64
	RowsPerCore  float64
	BytesIn      int64 // logical bytes of the rows ingested
	BytesWritten int64 // bytes the engine wrote to storage
	WriteAmp     float64
}

// String renders the result as one aligned line.
func (r WriteResult) String() string {
	return fmt.Sprintf("%-8s %9d rows  %7.2fs  %9.0f rows/s  %9.0f rows/s/core  write-amp %.2f",
		r.Engine, r.Rows, r.Seconds, r.RowsPerSec, r.RowsPerCore, r.WriteAmp)
}

const rowBytes = 150

var benchColumns = "id BIGINT NOT NULL, account STRING, amount DOUBLE, currency STRING, merchant STRING, risk_score DOUBLE, note STRING"

// genRow makes a row of about rowBytes logical bytes (8+12+8+3+12+8+99).
func genRow(rng *rand.Rand, id int64, note string) spec.Row {
	return spec.Row{id, fmt.Sprintf("acct-%07d", id%10_000_000), float64(rng.IntN(1_000_000)) / 100, "EUR",
		fmt.Sprintf("merchant-%03d", rng.IntN(1000)), rng.Float64(), note}
}

// note is 99 random letters and digits: random enough that neither engine
// gets it for free from compression or dictionaries.
func note(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [99]byte
	for i := 0; i < len(b); i += 8 {
		x := rng.Uint64()
		for j := i; j < i+8 && j < len(b); j++ {
			b[j] = letters[x&63]
			x >>= 6
		}
	}
	return string(b[:])
}

// RunWriteStrata runs the scenario on a Strata table on local disk.
func RunWriteStrata(ctx context.Context, cfg WriteConfig) (WriteResult, error) {
	dir := filepath.Join(cfg.Dir, "strata")
	local, err := storage.NewLocal(dir)
	if err != nil {
		return WriteResult{}, err
	}
	fs := storage.NewCounting(local)
	fields, err := spec.ParseColumns(benchColumns)
	if err != nil {
		return WriteResult{}, err
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", fmt.Sprint(cfg.Buckets)), nil)
	if err != nil {
		return WriteResult{}, err
	}
	tb, err := table.Create(ctx, fs, "bench.db/upserts", sc)
	if err != nil {
		return WriteResult{}, err
	}
	// A streaming writer: compaction runs in the background across commits.
	w, err := tb.NewWrite(ctx, table.WithWaitCompaction(false))
	if err != nil {
		return WriteResult{}, err
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	commit := func(id int64) error {
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			return err
		}
		_, err = tb.NewCommit("bench").Commit(ctx, id, msgs)
		return err
	}
	start := time.Now()
	for i := 0; i < cfg.Rows; i++ {
		id := rng.Int64N(cfg.KeySpace)
		if err := w.WriteRow(ctx, spec.RowKindInsert, genRow(rng, id, note(rng))); err != nil {
			return WriteResult{}, err
		}
		if (i+1)%cfg.CommitEvery == 0 {
			if err := commit(int64(i)); err != nil {
				return WriteResult{}, err
			}
			progress(cfg.Progress, "strata", i+1, cfg.Rows, start)
		}
	}
	if err := commit(int64(cfg.Rows)); err != nil {
		return WriteResult{}, err
	}
	return result("strata", cfg.Rows, time.Since(start), fs.BytesWritten.Load()), nil
}

// RunWritePebble runs the same key/value stream into pebble (WAL on, one
// batch per commit interval): the baseline LSM.
func RunWritePebble(ctx context.Context, cfg WriteConfig) (WriteResult, error) {
	dir := filepath.Join(cfg.Dir, "pebble")
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		return WriteResult{}, err
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	start := time.Now()
	b := db.NewBatch()
	key := make([]byte, 8)
	for i := 0; i < cfg.Rows; i++ {
		id := rng.Int64N(cfg.KeySpace)
		row := genRow(rng, id, note(rng))
		binary.BigEndian.PutUint64(key, uint64(id))
		if err := b.Set(key, encodeRow(row), nil); err != nil {
			return WriteResult{}, err
		}
		if (i+1)%cfg.CommitEvery == 0 {
			if err := b.Commit(pebble.Sync); err != nil {
				return WriteResult{}, err
			}
			b = db.NewBatch()
			progress(cfg.Progress, "pebble", i+1, cfg.Rows, start)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return WriteResult{}, err
	}
	if err := db.Flush(); err != nil {
		return WriteResult{}, err
	}
	elapsed := time.Since(start)
	m := db.Metrics()
	written := int64(m.WAL.BytesWritten)
	for _, l := range m.Levels {
		written += int64(l.TableBytesFlushed + l.TableBytesCompacted)
	}
	return result("pebble", cfg.Rows, elapsed, written), nil
}

// encodeRow is a compact binary form of a bench row for the key-value
// baseline (what an application would store as the value).
func encodeRow(r spec.Row) []byte {
	b := make([]byte, 0, rowBytes+32)
	b = binary.AppendVarint(b, r[0].(int64))
	for _, i := range []int{1, 3, 4, 6} {
		s := r[i].(string)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, i := range []int{2, 5} {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(math.Round(r[i].(float64)*1e6))))
	}
	return b
}

// decodeRow reverses encodeRow: a row of the benchmark's columns from its
// value bytes (pebble's and Redis's).
func decodeRow(b []byte) (spec.Row, error) {
	bad := fmt.Errorf("bench: a stored value of %d bytes does not decode", len(b))
	row := make(spec.Row, 7)
	id, n := binary.Varint(b)
	if n <= 0 {
		return nil, bad
	}
	row[0], b = id, b[n:]
	for _, i := range []int{1, 3, 4, 6} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return nil, bad
		}
		row[i], b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	for _, i := range []int{2, 5} {
		if len(b) < 8 {
			return nil, bad
		}
		row[i], b = float64(int64(binary.LittleEndian.Uint64(b)))/1e6, b[8:]
	}
	return row, nil
}

func result(engine string, rows int, d time.Duration, written int64) WriteResult {
	secs := d.Seconds()
	in := int64(rows) * rowBytes
	return WriteResult{Engine: engine, Rows: rows, Seconds: secs, RowsPerSec: float64(rows) / secs,
		RowsPerCore: float64(rows) / secs / float64(runtime.GOMAXPROCS(0)), BytesIn: in,
		BytesWritten: written, WriteAmp: float64(written) / float64(in)}
}

func progress(w io.Writer, engine string, done, total int, start time.Time) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "\r%s: %d/%d rows (%.0f rows/s)   ", engine, done, total, float64(done)/time.Since(start).Seconds())
	if done == total {
		fmt.Fprintln(w)
	}
}

// RunWrite runs both engines on fresh scratch directories and returns
// Strata's and pebble's results.
func RunWrite(ctx context.Context, cfg WriteConfig) (strata, baseline WriteResult, err error) {
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "strata-bench-"); err != nil {
			return
		}
		defer os.RemoveAll(cfg.Dir)
	}
	if strata, err = RunWriteStrata(ctx, cfg); err != nil {
		return
	}
	baseline, err = RunWritePebble(ctx, cfg)
	return
}

// Report renders both results and their ratio.
func Report(s, p WriteResult) string {
	var b strings.Builder
	fmt.Fprintln(&b, s)
	fmt.Fprintln(&b, p)
	fmt.Fprintf(&b, "strata/pebble: throughput %.2fx, write amplification %.2fx\n", s.RowsPerSec/p.RowsPerSec, s.WriteAmp/p.WriteAmp)
	return b.String()
}
