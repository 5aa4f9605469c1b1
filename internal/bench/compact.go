package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The compaction scenario: the write scenario's upsert stream written in
// Runs commits into a write-only table (its writers never compact, so each
// bucket holds Runs sorted runs), then fully compacted by the dedicated
// compaction job (table.Compact, as `strata compact --full` runs it). The
// baseline is pebble holding the same stream in Runs level-0 flushes with
// its automatic compactions off, compacted by a manual compaction of the
// whole key range (DB.Compact), its other options the defaults. Both
// engines' write buffers (Strata's write-buffer-size, pebble's memtable)
// are loadBuffer, so that a run is one flush up to a few million rows.
const loadBuffer = 1 << 30

// CompactConfig is the compaction scenario.
type CompactConfig struct {
	Rows     int       `json:"rows"`
	KeySpace int64     `json:"key_space"`
	Buckets  int       `json:"buckets"`
	Runs     int       `json:"runs"`
	Seed     uint64    `json:"seed"`
	Dir      string    `json:"-"` // scratch directory (default: a temporary one)
	Progress io.Writer `json:"-"`
}

// Validate reports the first setting that cannot run.
func (c CompactConfig) Validate() error {
	if c.Rows <= 0 || c.KeySpace <= 0 || c.Buckets <= 0 || c.Runs <= 0 || c.Runs > c.Rows {
		return fmt.Errorf("compact: rows, keys, buckets and runs must be positive, and runs at most rows")
	}
	return nil
}

// writeConfig is the load's stream: a commit (pebble: a flush) at the end
// of every run.
func (c CompactConfig) writeConfig(dir string) WriteConfig {
	return WriteConfig{Rows: c.Rows, KeySpace: c.KeySpace, Buckets: c.Buckets, CommitEvery: (c.Rows + c.Runs - 1) / c.Runs,
		Seed: c.Seed, Dir: dir, Progress: c.Progress}
}

// CompactReport is the compaction scenario's figures.
type CompactReport struct {
	Config CompactConfig `json:"config"`
	Strata CompactFigure `json:"strata"`
	Pebble CompactFigure `json:"pebble"`
}

// CompactFigure is one engine's compaction.
type CompactFigure struct {
	Engine      string  `json:"engine"`
	LoadSeconds float64 `json:"load_seconds"`
	// RunsBefore is the most sorted runs of a bucket (pebble: level-0
	// sublevels) before the compaction.
	RunsBefore  int `json:"runs_before"`
	FilesBefore int `json:"files_before"`
	FilesAfter  int `json:"files_after"`
	// Seconds is the compaction's time; RowsPerSec the row versions it
	// merged per second.
	Seconds      float64 `json:"seconds"`
	RowsPerSec   float64 `json:"rows_per_sec"`
	BytesWritten int64   `json:"bytes_written"`
}

// RunCompact loads and compacts Strata's table, then pebble.
func RunCompact(ctx context.Context, cfg CompactConfig) (*CompactReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "strata-bench-compact-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	say := progressFunc(cfg.Progress)
	rep := &CompactReport{Config: cfg}
	say(fmt.Sprintf("strata: %s upserts in %d commits into a write-only table, then a full compaction", count(int64(cfg.Rows)), cfg.Runs))
	if rep.Strata, err = compactStrata(ctx, cfg.writeConfig(dir)); err != nil {
		return nil, fmt.Errorf("strata: %w", err)
	}
	say(fmt.Sprintf("strata: compacted in %.2f s", rep.Strata.Seconds))
	say(fmt.Sprintf("pebble: the same upserts in %d flushes, then a manual compaction", cfg.Runs))
	if rep.Pebble, err = compactPebble(ctx, cfg.writeConfig(dir)); err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	say(fmt.Sprintf("pebble: compacted in %.2f s", rep.Pebble.Seconds))
	return rep, nil
}

// compactStrata writes wc's stream into a write-only table and compacts it
// fully.
func compactStrata(ctx context.Context, wc WriteConfig) (CompactFigure, error) {
	fig := CompactFigure{Engine: "strata"}
	raw, err := storage.NewLocal(filepath.Join(wc.Dir, "strata-compact"))
	if err != nil {
		return fig, err
	}
	fs := storage.NewCounting(raw)
	tb, err := loadRuns(ctx, fs, wc, &fig)
	if err != nil {
		return fig, err
	}
	before := fs.BytesWritten.Load()
	start := time.Now()
	res, err := tb.Compact(ctx, true, "bench-compact", nil)
	if err != nil {
		return fig, fmt.Errorf("compact: %w", err)
	}
	fig.Seconds = time.Since(start).Seconds()
	fig.RowsPerSec = perSec(wc.Rows, fig.Seconds)
	fig.BytesWritten = fs.BytesWritten.Load() - before
	fig.FilesAfter = res.FilesAfter
	return fig, nil
}

// loadRuns writes wc's stream into a new write-only table in fs, a commit
// every wc.CommitEvery rows, and records the load in fig.
func loadRuns(ctx context.Context, fs storage.Storage, wc WriteConfig, fig *CompactFigure) (*table.Table, error) {
	tb, err := createBenchTable(ctx, fs, wc.Buckets, "write-only", "true", "write-buffer-size", fmt.Sprintf("%d b", loadBuffer))
	if err != nil {
		return nil, err
	}
	w, err := tb.NewWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	sink := &strataSink{tb: tb, w: w}
	if sink.batches, err = newUpsertBatches(tb.Schema().Fields, DefaultBatchRows); err != nil {
		return nil, err
	}
	defer sink.batches.release()
	times, err := drive(ctx, wc, "strata load", sink)
	if err != nil {
		return nil, err
	}
	fig.LoadSeconds = times.total.Seconds()
	runs, err := sortedRuns(ctx, tb, wc.Buckets)
	if err != nil {
		return nil, err
	}
	fig.RunsBefore = slices.Max(runs)
	_, files, err := tb.LiveFiles(ctx)
	if err != nil {
		return nil, err
	}
	fig.FilesBefore = len(files)
	return tb, nil
}

// compactPebble writes wc's stream into pebble, flushing its memtable at
// every commit, and compacts the whole key range.
func compactPebble(ctx context.Context, wc WriteConfig) (CompactFigure, error) {
	fig := CompactFigure{Engine: "pebble"}
	db, err := pebble.Open(filepath.Join(wc.Dir, "pebble-compact"), &pebble.Options{Logger: quietLogger{},
		DisableAutomaticCompactions: true, MemTableSize: loadBuffer, L0StopWritesThreshold: 1 << 20})
	if err != nil {
		return fig, err
	}
	defer db.Close()
	times, err := drive(ctx, wc, "pebble load", &pebbleFlushSink{pebbleSink{db: db, b: db.NewBatch()}})
	if err != nil {
		return fig, err
	}
	fig.LoadSeconds = times.total.Seconds()
	m := db.Metrics()
	fig.RunsBefore, fig.FilesBefore = int(m.Levels[0].Sublevels), int(m.Levels[0].TablesCount)
	before := compactedBytes(m)
	start := time.Now()
	if err := db.Compact(ctx, []byte{0}, bytes.Repeat([]byte{0xff}, 9), true); err != nil {
		return fig, fmt.Errorf("manual compaction: %w", err)
	}
	fig.Seconds = time.Since(start).Seconds()
	fig.RowsPerSec = perSec(wc.Rows, fig.Seconds)
	m = db.Metrics()
	fig.BytesWritten = compactedBytes(m) - before
	for _, l := range m.Levels {
		fig.FilesAfter += int(l.TablesCount)
	}
	return fig, nil
}

// compactedBytes is what pebble's compactions wrote, over all levels.
func compactedBytes(m *pebble.Metrics) int64 {
	var n int64
	for _, l := range m.Levels {
		n += int64(l.TableBytesCompacted)
	}
	return n
}

// pebbleFlushSink is pebbleSink flushing the memtable at every commit: one
// level-0 table (sublevel) per commit interval.
type pebbleFlushSink struct{ pebbleSink }

func (s *pebbleFlushSink) commit(ctx context.Context, id int64) error {
	if err := s.pebbleSink.commit(ctx, id); err != nil {
		return err
	}
	return s.db.Flush()
}
