package table

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratalake/strata/spec"
)

// Cross-partition upserts (bucket = -1 with a primary key that lacks some
// partition column): a key lives in exactly one partition, so the writer
// keeps a global index from the full primary key to its (partition,
// bucket), bootstrapped by reading the keys of every live file, as Paimon's
// GlobalIndexAssigner does. A key arriving in a new partition is moved
// (deduplicate), kept where it was (partial-update, aggregation) or dropped
// (first-row).

type keyLocation struct {
	partition string
	bucket    int32
}

type globalIndex struct {
	t      *Table
	pkIdx  []int // full primary key positions in the row
	keys   map[string]keyLocation
	counts map[string]map[int32]int64 // partition → bucket → keys
}

func (t *Table) crossPartition() bool {
	return t.dynamicBuckets() && t.schema.CrossPartitionUpdate()
}

// newGlobalIndex bootstraps the index from a snapshot's live files.
func (t *Table) newGlobalIndex(ctx context.Context, snap *spec.Snapshot) (*globalIndex, error) {
	g := &globalIndex{t: t, keys: map[string]keyLocation{}, counts: map[string]map[int32]int64{}}
	for _, name := range t.schema.PrimaryKeys {
		g.pkIdx = append(g.pkIdx, t.schema.FieldIndex(name))
	}
	if snap == nil {
		return g, nil
	}
	files, err := t.liveFiles(ctx, snap)
	if err != nil {
		return nil, err
	}
	// Merge-read each bucket, level 0 included (a deletion-vector table's
	// batch scan would hide it), so that only live keys count.
	splits := map[string]*Split{}
	var order []string
	for _, e := range files {
		k := splitKey(e.Partition, e.Bucket)
		if splits[k] == nil {
			splits[k] = &Split{Partition: e.Partition, Bucket: e.Bucket, allLevels: true}
			order = append(order, k)
		}
		splits[k].Files = append(splits[k].Files, e.File)
	}
	slices.Sort(order)
	if t.opts.DeletionVectorsEnabled && snap.IndexManifest != nil {
		dvs, err := t.readDVs(ctx, *snap.IndexManifest)
		if err != nil {
			return nil, err
		}
		for k, sp := range splits {
			sp.DVs = dvs[k]
		}
	}
	for _, k := range order {
		sp := splits[k]
		for kv, err := range t.readSplit(ctx, *sp) {
			if err != nil {
				return nil, err
			}
			g.put(g.keyOf(kv.Value), keyLocation{string(sp.Partition), sp.Bucket})
		}
	}
	return g, nil
}

func (g *globalIndex) keyOf(row spec.Row) string {
	vals := make(spec.Row, len(g.pkIdx))
	for i, j := range g.pkIdx {
		vals[i] = row[j]
	}
	types := make([]spec.DataType, len(g.pkIdx))
	for i, j := range g.pkIdx {
		types[i] = g.t.schema.Fields[j].Type
	}
	b, err := spec.EncodeBinaryRow(types, vals, spec.RowKindInsert)
	if err != nil {
		return fmt.Sprint(vals) // checkRow has validated the row; unreachable in practice
	}
	return string(b)
}

func (g *globalIndex) put(key string, loc keyLocation) {
	if old, ok := g.keys[key]; ok {
		g.counts[old.partition][old.bucket]--
	}
	g.keys[key] = loc
	if g.counts[loc.partition] == nil {
		g.counts[loc.partition] = map[int32]int64{}
	}
	g.counts[loc.partition][loc.bucket]++
}

// newBucket picks a bucket for a new key: the lowest with room, else the
// lowest unused.
func (g *globalIndex) newBucket(partition string) int32 {
	counts := g.counts[partition]
	target := g.t.opts.DynamicBucketTargetRowNum
	var used []int32
	for b := range counts {
		used = append(used, b)
	}
	slices.Sort(used)
	for _, b := range used {
		if counts[b] < target {
			return b
		}
	}
	for b := int32(0); ; b++ {
		if _, ok := counts[b]; !ok {
			return b
		}
	}
}

// route decides where a record goes. It returns up to two records with
// their partition and bucket: the delete of the key's old version when it
// moves, and the record itself (possibly rewritten into the old partition,
// or dropped).
func (w *Write) routeCrossPartition(kind spec.RowKind, row spec.Row, partition []byte) ([]routed, error) {
	g := w.global
	key := g.keyOf(row)
	old, exists := g.keys[key]
	if kind.IsRetract() {
		if !exists {
			return nil, nil // nothing to retract
		}
		// The key keeps its place in the index, as in Paimon's
		// GlobalIndexAssigner: a later record of it goes to the same bucket,
		// where the merge function sees the retraction before it (with
		// remove-record-on-delete, an aggregation folds onto the removed
		// row, not onto a fresh one).
		oldRow, err := w.withPartition(row, []byte(old.partition))
		if err != nil {
			return nil, err
		}
		return []routed{{kind, oldRow, []byte(old.partition), old.bucket}}, nil
	}
	if exists && old.partition == string(partition) {
		return []routed{{kind, row, partition, old.bucket}}, nil
	}
	if exists {
		switch w.t.opts.MergeEngine {
		case spec.MergeEngineFirstRow:
			return nil, nil
		case spec.MergeEnginePartialUpdate, spec.MergeEngineAggregation:
			oldRow, err := w.withPartition(row, []byte(old.partition))
			if err != nil {
				return nil, err
			}
			return []routed{{kind, oldRow, []byte(old.partition), old.bucket}}, nil
		}
		// Deduplicate: the key moves; its old version is deleted.
		oldRow, err := w.withPartition(row, []byte(old.partition))
		if err != nil {
			return nil, err
		}
		out := []routed{{spec.RowKindDelete, oldRow, []byte(old.partition), old.bucket}}
		b := g.newBucket(string(partition))
		g.put(key, keyLocation{string(partition), b})
		return append(out, routed{kind, row, partition, b}), nil
	}
	b := g.newBucket(string(partition))
	g.put(key, keyLocation{string(partition), b})
	return []routed{{kind, row, partition, b}}, nil
}

type routed struct {
	kind      spec.RowKind
	row       spec.Row
	partition []byte
	bucket    int32
}

// withPartition returns a copy of row with its partition columns set from a
// serialized partition.
func (w *Write) withPartition(row spec.Row, partition []byte) (spec.Row, error) {
	vals, err := w.t.partitionValues(partition)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(row)
	for i, f := range w.t.schema.PartitionFields() {
		out[w.t.schema.FieldIndex(f.Name)] = vals[i]
	}
	return out, nil
}
