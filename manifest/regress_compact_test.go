package manifest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

func realisticEntry(rng *rand.Rand, i int) spec.ManifestEntry {
	keyT := []spec.DataType{spec.BigIntType}
	valT := []spec.DataType{spec.BigIntType, spec.StringType, spec.DoubleType}
	lo := rng.Int64N(1 << 40)
	hi := lo + rng.Int64N(1<<20)
	mk := func(v int64) []byte {
		b, _ := spec.EncodeBinaryRow(keyT, spec.Row{v}, spec.RowKindInsert)
		return spec.SerializeBinaryRow(1, b)
	}
	kc := spec.NewStatsCollector(keyT, []spec.StatsMode{spec.KeyStatsMode})
	kc.Add(spec.Row{lo})
	kc.Add(spec.Row{hi})
	ks, _, _ := kc.Result([]string{"k"})
	vc := spec.NewStatsCollector(valT, []spec.StatsMode{spec.DefaultStatsMode, spec.DefaultStatsMode, spec.DefaultStatsMode})
	vc.Add(spec.Row{lo, fmt.Sprint("name-", lo), rng.Float64()})
	vc.Add(spec.Row{hi, fmt.Sprint("name-", hi), rng.Float64()})
	vs, _, _ := vc.Result([]string{"a", "b", "c"})
	ct := rng.Int64N(1 << 41)
	src := spec.FileSourceAppend
	return spec.ManifestEntry{Kind: spec.FileKindAdd, Partition: spec.SerializedEmptyRow(), Bucket: int32(i % 16), TotalBuckets: 16,
		File: spec.DataFileMeta{FileName: "data-" + uuid.NewString() + "-0.parquet", FileSize: rng.Int64N(1 << 27), RowCount: rng.Int64N(1 << 20),
			MinKey: mk(lo), MaxKey: mk(hi), KeyStats: ks, ValueStats: vs, MinSequenceNumber: rng.Int64N(1 << 30), MaxSequenceNumber: rng.Int64N(1 << 31),
			Level: 5, ExtraFiles: []string{}, CreationTime: &ct, FileSource: &src}}
}

// After a full compaction, are the written manifests near the target size,
// or so small that the next commit full-compacts again?
func TestFullCompactionDoesNotRepeat(t *testing.T) {
	ctx := context.Background()
	s := NewStore(storage.NewMemory(), "db.db/t", "zstd")
	o := MergeOptions{TargetSize: 8 << 20, MinCount: 30, FullThreshold: 16 << 20}
	rng := rand.New(rand.NewPCG(1, 2))
	var es []spec.ManifestEntry
	for i := 0; i < 300_000; i++ {
		es = append(es, realisticEntry(rng, i))
	}
	metas, err := s.WriteManifests(ctx, es, o)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, m := range metas {
		total += m.FileSize
	}
	t.Logf("%d entries -> %d manifests, avg %d bytes (%d B/entry), target %d", len(es), len(metas), total/int64(len(metas)), total/int64(len(es)), o.TargetSize)
	// One more commit: a small delta manifest.
	d, _ := s.WriteManifest(ctx, []spec.ManifestEntry{realisticEntry(rng, 0)}, 0, nil)
	counter := s.counter.Load()
	out, err := s.Compact(ctx, append(metas, d), o)
	if err != nil {
		t.Fatal(err)
	}
	written := s.counter.Load() - counter
	t.Logf("next commit's merge wrote %d manifest files (of %d)", written, len(out))
	if written >= int64(len(metas)) {
		t.Errorf("every commit rewrites the whole manifest set")
	}
}
