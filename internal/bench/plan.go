package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The planning scenario: a snapshot whose manifests list many live data
// files (no data file exists: planning reads manifests only), planned by a
// freshly opened table, which has decoded no manifest yet. The baseline is
// decoding the same manifests without planning (no manifest cache), the
// floor any planner without a cache pays. It is BenchmarkPlan1M of package
// table as a scenario of `strata bench`, built through the public API.

// planPartitions and planBuckets are the fixture table's partitions and
// buckets: every plan of the whole table has planPartitions*planBuckets
// splits once there are that many files.
const (
	planPartitions = 100
	planBuckets    = 16
)

// PlanConfig is the planning scenario: a table of Files live files over
// planPartitions partitions × planBuckets buckets, each plan timed Runs
// times after a warm-up.
type PlanConfig struct {
	Files    int       `json:"files"`
	Runs     int       `json:"runs"`
	Dir      string    `json:"-"` // scratch directory (default: a temporary one)
	Progress io.Writer `json:"-"`
}

// Validate reports the first setting that cannot run.
func (c PlanConfig) Validate() error {
	if c.Files < planPartitions*planBuckets || c.Runs <= 0 {
		return fmt.Errorf("plan: files must be at least %d and runs positive", planPartitions*planBuckets)
	}
	return nil
}

// PlanReport is the planning scenario's figures: seconds per run.
type PlanReport struct {
	Config        PlanConfig `json:"config"`
	Manifests     int        `json:"manifests"`
	ManifestBytes int64      `json:"manifest_bytes"`
	BuildSeconds  float64    `json:"build_seconds"`
	// Decode is the baseline: reading and decoding every manifest of the
	// snapshot into entries, without merging or planning.
	Decode PlanFigure `json:"decode_manifests"`
	// All plans the whole table; Partition one partition (whose manifests
	// cannot be pruned by their partition statistics here: every manifest
	// holds every partition).
	All       PlanFigure `json:"plan_all"`
	Partition PlanFigure `json:"plan_one_partition"`
}

// PlanFigure is one timed operation.
type PlanFigure struct {
	Seconds []float64 `json:"seconds"`
	Best    float64   `json:"best_seconds"`
	Median  float64   `json:"median_seconds"`
	// Count is the entries decoded (Decode) or the splits planned.
	Count int `json:"count"`
}

func newPlanFigure(secs []float64, count int) PlanFigure {
	s := slices.Sorted(slices.Values(secs))
	return PlanFigure{Seconds: secs, Best: s[0], Median: s[len(s)/2], Count: count}
}

// planTablePath is the fixture table's path in its warehouse.
const planTablePath = "bench.db/plan"

// RunPlan builds the fixture table on local disk and times the plans and
// the baseline, interleaved run by run.
func RunPlan(ctx context.Context, cfg PlanConfig) (*PlanReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "strata-bench-plan-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	say := progressFunc(cfg.Progress)
	fs, err := storage.NewLocal(filepath.Join(dir, "plan"))
	if err != nil {
		return nil, err
	}
	rep := &PlanReport{Config: cfg}
	say(fmt.Sprintf("committing a snapshot of %s live files", count(int64(cfg.Files))))
	start := time.Now()
	if err := buildPlanTable(ctx, fs, cfg.Files); err != nil {
		return nil, fmt.Errorf("plan fixture: %w", err)
	}
	rep.BuildSeconds = time.Since(start).Seconds()
	if rep.Manifests, rep.ManifestBytes, err = manifestFiles(ctx, fs); err != nil {
		return nil, err
	}
	say(fmt.Sprintf("%s, %s; planning %d times after a warm-up", plural(rep.Manifests, "manifest"), bytesStr(rep.ManifestBytes), cfg.Runs))
	return rep, timePlans(ctx, fs, cfg.Runs, rep)
}

// timePlans times the baseline and both plans, one after the other in each
// run, so that all see the same conditions.
func timePlans(ctx context.Context, fs storage.Storage, runs int, rep *PlanReport) error {
	ops := []struct {
		out *PlanFigure
		op  func() (int, error)
	}{
		{&rep.Decode, func() (int, error) { return decodeManifests(ctx, fs) }},
		{&rep.All, func() (int, error) { return planSplits(ctx, fs, nil) }},
		{&rep.Partition, func() (int, error) {
			return planSplits(ctx, fs, table.WithPartition(map[string]any{"p": int32(planPartitions / 2)}))
		}},
	}
	secs := make([][]float64, len(ops))
	counts := make([]int, len(ops))
	for run := range runs + 1 {
		for i, o := range ops {
			runtime.GC()
			start := time.Now()
			n, err := o.op()
			if err != nil {
				return err
			}
			if run > 0 {
				secs[i] = append(secs[i], time.Since(start).Seconds())
			}
			counts[i] = n
		}
	}
	for i, o := range ops {
		*o.out = newPlanFigure(secs[i], counts[i])
	}
	if want := planPartitions * planBuckets; rep.All.Count != want || rep.Partition.Count != planBuckets {
		return fmt.Errorf("plan: %d and %d splits, want %d and %d", rep.All.Count, rep.Partition.Count, want, planBuckets)
	}
	return nil
}

// decodeManifests reads every entry of the latest snapshot's manifests
// through a store without a cache.
func decodeManifests(ctx context.Context, fs storage.Storage) (int, error) {
	tb, err := table.Open(ctx, fs, planTablePath)
	if err != nil {
		return 0, err
	}
	snap, err := tb.Snapshots().Latest(ctx)
	if err != nil {
		return 0, err
	}
	store := manifest.NewStore(fs, planTablePath, tb.Options().ManifestCompression, manifest.WithCacheBytes(0))
	es, err := store.ReadEntries(ctx, snap.BaseManifestList, snap.DeltaManifestList)
	if err != nil {
		return 0, fmt.Errorf("decode manifests: %w", err)
	}
	return len(es), nil
}

// planSplits opens the table (no manifest decoded yet) and plans a scan.
func planSplits(ctx context.Context, fs storage.Storage, opt table.ScanOption) (int, error) {
	tb, err := table.Open(ctx, fs, planTablePath)
	if err != nil {
		return 0, err
	}
	var opts []table.ScanOption
	if opt != nil {
		opts = append(opts, opt)
	}
	p, err := tb.NewScan(opts...).Plan(ctx)
	if err != nil {
		return 0, fmt.Errorf("plan: %w", err)
	}
	return len(p.Splits), nil
}

// buildPlanTable creates the fixture table and publishes its first
// snapshot, whose manifests list files files: file i is in partition i%100
// and bucket i/100%16, at level 1+i%5, with key i (so no two files of a
// level overlap). The manifests are written as a commit writes them, with
// the table's target manifest size; the snapshot is published as a
// committer does (put-if-absent, then the LATEST hint).
func buildPlanTable(ctx context.Context, fs storage.Storage, files int) error {
	fields, err := spec.ParseColumns("p INT NOT NULL, id BIGINT NOT NULL, v STRING")
	if err != nil {
		return err
	}
	sc, err := spec.NewSchema(fields, []string{"p"}, []string{"p", "id"}, spec.NewStringMap("bucket", fmt.Sprint(planBuckets)), nil)
	if err != nil {
		return err
	}
	tb, err := table.Create(ctx, fs, planTablePath, sc)
	if err != nil {
		return err
	}
	partTypes := []spec.DataType{fields[0].Type}
	entries, err := planEntries(files, partTypes, fields[1].Type)
	if err != nil {
		return err
	}
	store := manifest.NewStore(fs, planTablePath, tb.Options().ManifestCompression)
	metas, err := store.WriteManifests(ctx, entries, manifest.MergeOptions{TargetSize: tb.Options().ManifestTargetFileSize, PartTypes: partTypes})
	if err != nil {
		return err
	}
	base, baseSize, err := store.WriteManifestList(ctx, metas)
	if err != nil {
		return err
	}
	delta, deltaSize, err := store.WriteManifestList(ctx, nil)
	if err != nil {
		return err
	}
	next := int64(0)
	snap := &spec.Snapshot{Version: 3, ID: 1, BaseManifestList: base, BaseManifestListSize: &baseSize,
		DeltaManifestList: delta, DeltaManifestListSize: &deltaSize, CommitUser: "bench",
		CommitIdentifier: table.BatchCommitIdentifier, CommitKind: spec.CommitKindAppend, TimeMillis: time.Now().UnixMilli(),
		TotalRecordCount: int64(files) * 1000, DeltaRecordCount: int64(files) * 1000, NextRowID: &next}
	if err := fs.PutIfAbsent(ctx, planTablePath+"/snapshot/snapshot-1", spec.EncodeSnapshot(snap)); err != nil {
		return err
	}
	return fs.Put(ctx, planTablePath+"/snapshot/LATEST", []byte("1"))
}

// planEntries are the fixture's manifest entries.
func planEntries(files int, partTypes []spec.DataType, keyType spec.DataType) ([]spec.ManifestEntry, error) {
	parts := make([][]byte, planPartitions)
	for p := range parts {
		b, err := spec.EncodeBinaryRow(partTypes, spec.Row{int32(p)}, spec.RowKindInsert)
		if err != nil {
			return nil, err
		}
		parts[p] = spec.SerializeBinaryRow(1, b)
	}
	empty := spec.EmptyStats()
	del := int64(0)
	entries := make([]spec.ManifestEntry, files)
	for i := range entries {
		k, err := spec.EncodeBinaryRow([]spec.DataType{keyType}, spec.Row{int64(i)}, spec.RowKindInsert)
		if err != nil {
			return nil, err
		}
		key := spec.SerializeBinaryRow(1, k)
		entries[i] = spec.ManifestEntry{Kind: spec.FileKindAdd, Partition: parts[i%planPartitions],
			Bucket: int32(i / planPartitions % planBuckets), TotalBuckets: planBuckets,
			File: spec.DataFileMeta{FileName: fmt.Sprintf("data-%08d.parquet", i), FileSize: 1 << 20, RowCount: 1000,
				MinKey: key, MaxKey: key, KeyStats: empty, ValueStats: empty, Level: int32(1 + i%5),
				ExtraFiles: []string{}, DeleteRowCount: &del}}
	}
	return entries, nil
}

// manifestFiles counts the manifest files (not the lists) and their bytes.
func manifestFiles(ctx context.Context, fs storage.Storage) (int, int64, error) {
	infos, err := fs.List(ctx, planTablePath+"/manifest/", false)
	if err != nil {
		return 0, 0, fmt.Errorf("list manifests: %w", err)
	}
	var files int
	var n int64
	for _, fi := range infos {
		if !strings.HasPrefix(path.Base(fi.Path), "manifest-list-") {
			files++
			n += fi.Size
		}
	}
	return files, n, nil
}

// scratchDir is dir, or a new temporary directory removed by cleanup.
func scratchDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, fmt.Errorf("scratch directory: %w", err)
	}
	return d, func() { os.RemoveAll(d) }, nil
}
