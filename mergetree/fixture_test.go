package mergetree

import (
	"context"
	"testing"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// fixture is one bucket of a table (id BIGINT NOT NULL primary key, name
// STRING, score DOUBLE) with the given options, as package table sets up
// its writers.
type fixture struct {
	fs       storage.Storage
	dir      string
	schema   *spec.TableSchema
	opts     spec.Options
	layout   *lsm.FileLayout
	mergeFn  lsm.MergeFunctionFactory
	ordering *lsm.Ordering
	indexes  []spec.IndexManifestEntry // written by WriteDVIndex
}

func newFixture(t testing.TB, kv ...string) *fixture {
	t.Helper()
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 1, Name: "name", Type: spec.StringType},
		{ID: 2, Name: "score", Type: spec.DoubleType},
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(append([]string{"bucket", "1"}, kv...)...), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{fs: storage.NewMemory(), dir: "t/bucket-0", schema: sc}
	if f.opts, err = sc.CoreOptions(); err != nil {
		t.Fatal(err)
	}
	if f.layout, err = lsm.NewFileLayout(sc, f.opts); err != nil {
		t.Fatal(err)
	}
	if f.mergeFn, err = lsm.NewMergeFunctionFactory(sc, f.opts); err != nil {
		t.Fatal(err)
	}
	if f.ordering, err = lsm.NewOrdering(sc, f.opts); err != nil {
		t.Fatal(err)
	}
	return f
}

// options are the writer options package table would give this bucket.
func (f *fixture) options(restored []spec.DataFileMeta) Options {
	o := f.opts
	needLookup := o.ChangelogProducer == spec.ChangelogProducerLookup || o.DeletionVectorsEnabled ||
		o.MergeEngine == spec.MergeEngineFirstRow
	var strategy compaction.Strategy = compaction.Universal{MaxSizeAmp: o.CompactionMaxSizeAmpPercent,
		SizeRatio: o.CompactionSizeRatio, Trigger: o.NumSortedRunCompactTrigger}
	if needLookup {
		strategy = &compaction.ForceUpLevel0{Universal: strategy.(compaction.Universal)}
	}
	mt := Options{
		FS: f.fs, Dir: f.dir, Layout: f.layout, Files: f, Restored: restored,
		DataFilePrefix: o.DataFilePrefix, ChangelogFilePrefix: o.ChangelogFilePrefix,
		TargetFileSize: o.TargetFileSizeBytes(true), NumLevels: o.NumLevels,
		NewMerge: func() (lsm.MergeFunction, error) { return lsm.NewReducer(f.mergeFn.Create()), nil },
		Ordering: f.ordering,
		Strategy: strategy, StopTrigger: o.NumSortedRunStopTrigger,
		ChangelogProducer: o.ChangelogProducer, RowDedup: o.ChangelogRowDeduplicate,
		FirstRow:              o.MergeEngine == spec.MergeEngineFirstRow,
		UpgradeWithoutRewrite: o.MergeEngine == spec.MergeEngineDeduplicate && len(o.SequenceField) == 0,
		NeedLookup:            needLookup,
		WriteDVIndex: func(_ context.Context, entries []spec.DVIndexEntry) (spec.IndexManifestEntry, error) {
			e := spec.IndexManifestEntry{IndexType: spec.DVIndexType, RowCount: int64(len(entries))}
			f.indexes = append(f.indexes, e)
			return e, nil
		},
	}
	if o.DeletionVectorsEnabled {
		mt.DeletionVectors = spec.DVBitmap32
	}
	return mt
}

// Records and Batches make the fixture the writer's FileReader: every file
// is in the fixture's one schema.
func (f *fixture) Records(ctx context.Context, meta spec.DataFileMeta, dv *spec.DeletionVector) lsm.PositionedRun {
	return reader.ReadPositioned(ctx, f.fs, reader.Request{Dir: f.dir, File: &meta, FileSchema: f.schema,
		ReadFields: f.schema.Fields, KeyIndex: f.layout.KeyIndex, DV: dv})
}

func (f *fixture) Batches(ctx context.Context, meta spec.DataFileMeta) lsm.BatchRun {
	return reader.ReadBatches(ctx, f.fs, reader.BatchRequest{Request: reader.Request{Dir: f.dir, File: &meta,
		FileSchema: f.schema, ReadFields: f.schema.Fields}, System: true})
}
