package table

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratalake/strata/manifest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// planTable builds a table whose latest snapshot lists files live data
// files over 100 partitions × 16 buckets (manifests only; no data files are
// needed for planning).
func planTable(b *testing.B, files int) *Table {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("p INT NOT NULL, id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, []string{"p"}, []string{"p", "id"}, spec.NewStringMap("bucket", "16"), nil)
	tb, err := Create(ctx, fs, "db.db/plan", sc)
	if err != nil {
		b.Fatal(err)
	}
	keyTypes := tb.layout.KeyTypes()
	empty := spec.EmptyStats()
	entries := make([]spec.ManifestEntry, files)
	for i := range entries {
		part, _ := tb.partitionOf(spec.Row{int32(i % 100), int64(0), nil})
		k, _ := spec.EncodeBinaryRow(keyTypes, spec.Row{int64(i)}, spec.RowKindInsert)
		key := spec.SerializeBinaryRow(1, k)
		del := int64(0)
		entries[i] = spec.ManifestEntry{Kind: spec.FileKindAdd, Partition: part, Bucket: int32(i / 100 % 16), TotalBuckets: 16,
			File: spec.DataFileMeta{FileName: fmt.Sprintf("data-%08d.parquet", i), FileSize: 1 << 20, RowCount: 1000,
				MinKey: key, MaxKey: key, KeyStats: empty, ValueStats: empty, Level: int32(1 + i%5),
				ExtraFiles: []string{}, DeleteRowCount: &del}}
	}
	metas, err := tb.manifests.WriteManifests(ctx, entries, manifest.MergeOptions{TargetSize: 8 << 20, PartTypes: tb.partitionTypes()})
	if err != nil {
		b.Fatal(err)
	}
	base, baseSize, _ := tb.manifests.WriteManifestList(ctx, metas)
	delta, deltaSize, _ := tb.manifests.WriteManifestList(ctx, nil)
	next := int64(0)
	snap := &spec.Snapshot{Version: 3, ID: 1, BaseManifestList: base, BaseManifestListSize: &baseSize,
		DeltaManifestList: delta, DeltaManifestListSize: &deltaSize, CommitUser: "bench",
		CommitIdentifier: BatchCommitIdentifier, CommitKind: spec.CommitKindAppend, TimeMillis: time.Now().UnixMilli(),
		TotalRecordCount: int64(files) * 1000, DeltaRecordCount: int64(files) * 1000, NextRowID: &next}
	if ok, err := tb.snapshots.publish(ctx, snap); err != nil || !ok {
		b.Fatal(ok, err)
	}
	return tb
}

// BenchmarkPlan1M plans a scan of a snapshot with 1M live files, whole table
// and one partition (manifests pruned by partition stats), each time
// decoding every manifest (no manifest cache), and the whole table again
// with the manifests cached. The baseline is decoding the same manifests,
// the floor any planner without a cache pays.
func BenchmarkPlan1M(b *testing.B) {
	tb := planTable(b, 1_000_000)
	ctx := context.Background()
	cached := tb.manifests
	tb.manifests = manifest.NewStore(tb.fs, tb.path, tb.opts.ManifestCompression, manifest.WithCacheBytes(0))
	b.Run("decode-manifests-baseline", func(b *testing.B) {
		snap, _ := tb.snapshots.Latest(ctx)
		for i := 0; i < b.N; i++ {
			es, err := tb.manifests.ReadEntries(ctx, snap.BaseManifestList, snap.DeltaManifestList)
			if err != nil || len(es) != 1_000_000 {
				b.Fatal(len(es), err)
			}
		}
	})
	plan := func(b *testing.B, want int, opts ...ScanOption) {
		for i := 0; i < b.N; i++ {
			p, err := tb.NewScan(opts...).Plan(ctx)
			if err != nil || len(p.Splits) != want {
				b.Fatal(len(p.Splits), err)
			}
		}
	}
	b.Run("plan-all", func(b *testing.B) { plan(b, 1600) })
	b.Run("plan-one-partition", func(b *testing.B) { plan(b, 16, WithPartition(map[string]any{"p": int32(7)})) })
	// Re-planning with every manifest in a cache large enough for them.
	tb.manifests = manifest.NewStore(tb.fs, tb.path, tb.opts.ManifestCompression, manifest.WithCacheBytes(2<<30))
	plan(b, 1600)
	b.Run("replan-all-cached", func(b *testing.B) { plan(b, 1600) })
	tb.manifests = cached
}
