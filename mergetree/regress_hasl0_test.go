package mergetree

import (
	"context"
	"testing"

	"github.com/stratalake/strata/compaction"
	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/lsm"
	"github.com/stratalake/strata/spec"
)

// A compaction whose only level-0 file is packed by IntervalPartition
// behind a level-3 file gets SortedRun.Level 3: rewrite() concludes the
// compaction has no level-0 input and skips lookups, so the superseded row
// in level 5 is never marked deleted and no changelog is produced.
func TestLevel0DetectedPerFile(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, "deletion-vectors.enabled", "true", "changelog-producer", "lookup")
	fw := lsm.NewFileWriter(fx.fs, fx.dir, "data-", fx.layout, 1<<30)
	mk := func(level int32, seq0 int64, ids ...int64) spec.DataFileMeta {
		var kvs []*lsm.KeyValue
		for i, id := range ids {
			row := spec.Row{id, "v", float64(seq0)}
			kvs = append(kvs, &lsm.KeyValue{Key: spec.Row{id}, Seq: seq0 + int64(i), Kind: spec.RowKindInsert, Value: row})
		}
		metas, err := fw.Write(ctx, kvs, level, spec.FileSourceCompact)
		if err != nil {
			t.Fatal(err)
		}
		return metas[0]
	}
	e := mk(5, 0, 7)      // old version of key 7
	a := mk(3, 10, 1, 5)  // L3 [1,5]
	d := mk(2, 20, 3, 10) // L2 [3,10]
	b := mk(0, 30, 6, 7)  // L0 [6,7]: new version of 7
	cache, err := lookupfile.NewCache(t.TempDir(), 1<<30, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	o := fx.options([]spec.DataFileMeta{e, a, d, b})
	o.LookupCache = cache
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var fb, fd, fa *lsm.File
	for _, f := range w.levels.AllFiles() {
		switch f.Meta.FileName {
		case a.FileName:
			fa = f
		case d.FileName:
			fd = f
		case b.FileName:
			fb = f
		}
	}
	task := &compaction.Task{Unit: &compaction.Unit{OutputLevel: 4, Files: []*lsm.File{fb, fd, fa}},
		MaxLevel: w.levels.MaxLevel(), DropDelete: true, SmallFileSize: 1}
	res, err := task.Run(ctx, w.rewriter())
	if err != nil {
		t.Fatal(err)
	}
	if !w.dv.IsDeleted(e.FileName, 0) {
		t.Errorf("key 7 in level-5 file not marked deleted: both versions stay live under deletion vectors")
	}
	if len(res.Changelog) == 0 {
		t.Errorf("lookup changelog producer emitted no changelog for keys 6 and 7 coming up from level 0")
	}
}
