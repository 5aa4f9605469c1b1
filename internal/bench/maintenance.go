package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The maintenance scenario: a write-only table that Snapshots small
// commits left with as many sorted runs per bucket, and Orphans files a
// crashed writer left behind, maintained as `strata maintain` does it, one
// step after the other: a full compaction (table.Compact), snapshot
// expiration keeping only the latest snapshot (table.ExpireSnapshots), and
// orphan cleaning (table.CleanOrphans). Baselines, each measured in the
// same run: pebble's manual compaction of the same stream in Snapshots
// level-0 flushes (the compaction scenario's baseline), and for expiration
// and orphan cleaning the floor of their I/O on a copy of the table:
// deleting the very files the step deleted, and listing the table's files
// and deleting the orphans.

// MaintainConfig is the maintenance scenario.
type MaintainConfig struct {
	Snapshots     int   `json:"snapshots"`
	RowsPerCommit int   `json:"rows_per_commit"`
	Buckets       int   `json:"buckets"`
	KeySpace      int64 `json:"key_space"`
	Orphans       int   `json:"orphans"`
	// Rounds repeats the scenario on fresh copies of the same table (0:
	// once) and reports each time's median: a step of a few milliseconds
	// measured once moves by a third from run to run.
	Rounds   int       `json:"rounds,omitempty"`
	Seed     uint64    `json:"seed"`
	Dir      string    `json:"-"` // scratch directory (default: a temporary one)
	Progress io.Writer `json:"-"`
}

// Validate reports the first setting that cannot run.
func (c MaintainConfig) Validate() error {
	if c.Snapshots < 2 || c.RowsPerCommit <= 0 || c.Buckets <= 0 || c.KeySpace <= 0 || c.Orphans < 0 || c.Rounds < 0 {
		return fmt.Errorf("maintain: snapshots (≥ 2), rows per commit, buckets and keys must be positive, orphans and rounds not negative")
	}
	return nil
}

// MaintainReport is the maintenance scenario's figures.
type MaintainReport struct {
	Config      MaintainConfig `json:"config"`
	LoadSeconds float64        `json:"load_seconds"`
	// FilesBefore counts the table's files before the job.
	FilesBefore int          `json:"files_before"`
	Compact     MaintainStep `json:"compact"`
	Expire      MaintainStep `json:"expire"`
	Orphans     MaintainStep `json:"orphans"`
}

// MaintainStep is one step of the job next to its baseline.
type MaintainStep struct {
	Seconds float64 `json:"seconds"`
	// Files counts what the step replaced (compaction) or deleted.
	Files           int     `json:"files"`
	Baseline        string  `json:"baseline"`
	BaselineSeconds float64 `json:"baseline_seconds"`
}

// Total is the job's time and the baselines' together.
func (r *MaintainReport) Total() (strata, baseline float64) {
	for _, s := range []MaintainStep{r.Compact, r.Expire, r.Orphans} {
		strata, baseline = strata+s.Seconds, baseline+s.BaselineSeconds
	}
	return strata, baseline
}

// RunMaintain loads the table and runs the job's steps, each followed by
// its baseline, cfg.Rounds times; each time is the median of the rounds'.
func RunMaintain(ctx context.Context, cfg MaintainConfig) (*MaintainReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var reps []*MaintainReport
	for round := range max(cfg.Rounds, 1) {
		if cfg.Rounds > 1 {
			progressFunc(cfg.Progress)(fmt.Sprintf("round %d of %d", round+1, cfg.Rounds))
		}
		rc := cfg
		if cfg.Dir != "" && cfg.Rounds > 1 {
			rc.Dir = filepath.Join(cfg.Dir, fmt.Sprintf("round-%d", round+1))
		}
		rep, err := runMaintainOnce(ctx, rc)
		if err != nil {
			return nil, err
		}
		reps = append(reps, rep)
	}
	return medianReport(reps), nil
}

// medianReport is the first of reps with each time the median of reps'.
func medianReport(reps []*MaintainReport) *MaintainReport {
	rep := reps[0]
	median := func(f func(*MaintainReport) *float64) {
		vs := make([]float64, len(reps))
		for i, r := range reps {
			vs[i] = *f(r)
		}
		slices.Sort(vs)
		m := len(vs) / 2
		if len(vs)%2 == 0 {
			*f(rep) = (vs[m-1] + vs[m]) / 2
		} else {
			*f(rep) = vs[m]
		}
	}
	median(func(r *MaintainReport) *float64 { return &r.LoadSeconds })
	for _, st := range []func(*MaintainReport) *MaintainStep{
		func(r *MaintainReport) *MaintainStep { return &r.Compact },
		func(r *MaintainReport) *MaintainStep { return &r.Expire },
		func(r *MaintainReport) *MaintainStep { return &r.Orphans },
	} {
		median(func(r *MaintainReport) *float64 { return &st(r).Seconds })
		median(func(r *MaintainReport) *float64 { return &st(r).BaselineSeconds })
	}
	return rep
}

// runMaintainOnce is one round of RunMaintain, on a table of its own.
func runMaintainOnce(ctx context.Context, cfg MaintainConfig) (*MaintainReport, error) {
	dir, cleanup, err := scratchDir(cfg.Dir, "strata-bench-maintain-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	say := progressFunc(cfg.Progress)
	rep := &MaintainReport{Config: cfg}
	wc := WriteConfig{Rows: cfg.Snapshots * cfg.RowsPerCommit, KeySpace: cfg.KeySpace, Buckets: cfg.Buckets,
		CommitEvery: cfg.RowsPerCommit, Seed: cfg.Seed, Dir: dir, Progress: cfg.Progress}
	say(fmt.Sprintf("%d commits of %s rows into a write-only table, %d orphan files", cfg.Snapshots, count(int64(cfg.RowsPerCommit)), cfg.Orphans))
	root := filepath.Join(dir, "strata-maintain")
	fs, err := storage.NewLocal(root)
	if err != nil {
		return nil, err
	}
	var load CompactFigure
	tb, err := loadRuns(ctx, fs, wc, &load)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	rep.LoadSeconds = load.LoadSeconds
	if err := putOrphans(ctx, fs, cfg.Orphans, cfg.Buckets); err != nil {
		return nil, err
	}
	if rep.FilesBefore, err = countFiles(ctx, fs); err != nil {
		return nil, err
	}
	if err := maintainSteps(ctx, tb, fs, root, filepath.Join(dir, "copy"), rep, say); err != nil {
		return nil, err
	}
	say(fmt.Sprintf("pebble: the same stream in %d flushes, then a manual compaction", cfg.Snapshots))
	pf, err := compactPebble(ctx, wc)
	if err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	rep.Compact.Baseline, rep.Compact.BaselineSeconds = fmt.Sprintf("pebble: manual compaction of %d level-0 flushes", pf.RunsBefore), pf.Seconds
	return rep, nil
}

// maintainSteps runs the job's steps on tb (in fs, rooted at root), each
// followed by its baseline on a copy of the table made in copyDir after
// the compaction.
func maintainSteps(ctx context.Context, tb *table.Table, fs storage.Storage, root, copyDir string, rep *MaintainReport, say func(string)) error {
	say("full compaction")
	start := time.Now()
	res, err := tb.Compact(ctx, true, "bench-maintain", nil)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	rep.Compact.Seconds, rep.Compact.Files = time.Since(start).Seconds(), res.FilesBefore
	if err := copyTree(root, copyDir, false); err != nil {
		return fmt.Errorf("copy the table: %w", err)
	}
	cp, err := storage.NewLocal(copyDir)
	if err != nil {
		return err
	}
	say("expiring every snapshot but the latest")
	before, err := listPaths(ctx, fs)
	if err != nil {
		return err
	}
	start = time.Now()
	if _, err := tb.ExpireSnapshots(ctx, table.WithRetainMin(1), table.WithRetainMax(1), table.WithExpireLimit(rep.Config.Snapshots+10)); err != nil {
		return fmt.Errorf("expire: %w", err)
	}
	rep.Expire.Seconds = time.Since(start).Seconds()
	deleted, err := deletedSince(ctx, fs, before)
	if err != nil {
		return err
	}
	rep.Expire.Files, rep.Expire.Baseline = len(deleted), fmt.Sprintf("deleting the same %d files", len(deleted))
	if rep.Expire.BaselineSeconds, err = timeDeletes(ctx, cp, deleted, false); err != nil {
		return err
	}
	say("cleaning orphan files")
	if before, err = listPaths(ctx, fs); err != nil {
		return err
	}
	start = time.Now()
	orph, err := tb.CleanOrphans(ctx, table.WithOrphanAge(0))
	if err != nil {
		return fmt.Errorf("orphans: %w", err)
	}
	rep.Orphans.Seconds, rep.Orphans.Files = time.Since(start).Seconds(), len(orph.Orphans)
	rep.Orphans.Baseline = fmt.Sprintf("listing the table and deleting the %d orphans", len(orph.Orphans))
	rep.Orphans.BaselineSeconds, err = timeDeletes(ctx, cp, orph.Orphans, true)
	return err
}

// putOrphans writes n files into the table's bucket directories that no
// snapshot references, as a writer that died before committing leaves.
func putOrphans(ctx context.Context, fs storage.Storage, n, buckets int) error {
	data := make([]byte, 4096)
	for i := range n {
		p := fmt.Sprintf("%s/bucket-%d/data-orphan-%05d.parquet", benchTablePath, i%buckets, i)
		if err := fs.Put(ctx, p, data); err != nil {
			return fmt.Errorf("orphan file: %w", err)
		}
	}
	return nil
}

// listPaths is the set of the table's files.
func listPaths(ctx context.Context, fs storage.Storage) (map[string]bool, error) {
	infos, err := fs.List(ctx, benchTablePath+"/", true)
	if err != nil {
		return nil, fmt.Errorf("list the table: %w", err)
	}
	paths := make(map[string]bool, len(infos))
	for _, fi := range infos {
		paths[fi.Path] = true
	}
	return paths, nil
}

func countFiles(ctx context.Context, fs storage.Storage) (int, error) {
	paths, err := listPaths(ctx, fs)
	return len(paths), err
}

// deletedSince are the files of before that are gone.
func deletedSince(ctx context.Context, fs storage.Storage, before map[string]bool) ([]string, error) {
	after, err := listPaths(ctx, fs)
	if err != nil {
		return nil, err
	}
	var gone []string
	for p := range before {
		if !after[p] {
			gone = append(gone, p)
		}
	}
	return gone, nil
}

// timeDeletes times deleting paths from fs, after listing the table's
// files when list is set.
func timeDeletes(ctx context.Context, fs storage.Storage, paths []string, list bool) (float64, error) {
	start := time.Now()
	if list {
		if _, err := listPaths(ctx, fs); err != nil {
			return 0, err
		}
	}
	for _, p := range paths {
		if err := fs.Delete(ctx, p); err != nil {
			return 0, fmt.Errorf("baseline delete: %w", err)
		}
	}
	return time.Since(start).Seconds(), nil
}
