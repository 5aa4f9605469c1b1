package table

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/reader"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// corruptTable is the fixture table's path in its warehouse.
const corruptTable = "db.db/t"

// corruptKeys is the key range of the fixture: ids 0..corruptIDs-1 in
// partitions a and b (ids past it are looked up as misses).
const corruptIDs = 60

// buildCorruptFixture writes a table holding every kind of file Strata
// writes for a primary-key table: several snapshots (APPEND and COMPACT),
// data and changelog files (changelog-producer=lookup), deletion vectors,
// dynamic-bucket HASH index files, manifests, manifest lists and index
// manifests, a schema, a tag and a consumer. opts are added to the
// table's options.
func buildCorruptFixture(t *testing.T, dir string, rng *rand.Rand, opts ...string) {
	t.Helper()
	ctx := context.Background()
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := spec.ParseColumns("dt STRING NOT NULL, id BIGINT NOT NULL, v STRING, n INT")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, []string{"dt"}, []string{"dt", "id"}, spec.NewStringMap(append([]string{
		"bucket", "-1", "dynamic-bucket.target-row-num", "25",
		"deletion-vectors.enabled", "true", "changelog-producer", "lookup",
	}, opts...)...), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, st, corruptTable, sc)
	if err != nil {
		t.Fatal(err)
	}
	ident := int64(0)
	commit := func(cs []change) {
		t.Helper()
		ident++
		if _, err := tb.NewCommit("fixture").Commit(ctx, ident, writeAll(t, tb, cs, false)); err != nil {
			t.Fatal(err)
		}
	}
	commit(corruptChanges(rng, corruptIDs, 0, 0))
	commit(corruptChanges(rng, 30, 10, 1))
	if _, err := tb.CreateTag(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	commit(corruptChanges(rng, 30, 0, 2))
	s, err := tb.NewStream(WithConsumer("c1"), WithStart(FromEarliest()))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.Changes(ctx) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.Compact(ctx, true, "fixture", nil); err != nil {
		t.Fatal(err)
	}
	commit(corruptChanges(rng, 15, 5, 3))
}

// corruptChanges makes upserts of n random keys (all keys, in order, when
// n is corruptIDs and round 0) and deletes of del random keys.
func corruptChanges(rng *rand.Rand, n, del, round int) []change {
	var out []change
	for i := range n {
		dt := []string{"a", "b"}[rng.IntN(2)]
		id := rng.Int64N(corruptIDs)
		if round == 0 {
			for _, dt := range []string{"a", "b"} {
				out = append(out, change{spec.RowKindInsert, spec.Row{dt, int64(i), fmt.Sprintf("v%d.%d", round, i), int32(i)}})
			}
			continue
		}
		out = append(out, change{spec.RowKindInsert, spec.Row{dt, id, fmt.Sprintf("v%d.%d", round, rng.IntN(1000)), int32(rng.IntN(1 << 20))}})
	}
	for range del {
		out = append(out, change{spec.RowKindDelete, spec.Row{[]string{"a", "b"}[rng.IntN(2)], rng.Int64N(corruptIDs), nil, nil}})
	}
	return out
}

// tableFile is one file of the fixture table.
type tableFile struct {
	kind string // see classifyFiles
	rel  string // path under the warehouse
	size int64
	mod  int64 // modification time, ns: the file's place in the fixture's history
}

// classifyFiles lists the table's files by kind. The order within a kind
// is the order they were written in, so a seed picks the same file of a
// rebuilt fixture (file names hold random UUIDs).
func classifyFiles(t *testing.T, dir string) map[string][]tableFile {
	t.Helper()
	hashIndex := map[string]bool{}
	metas := indexEntries(t, dir)
	for name, e := range metas {
		hashIndex[name] = e.IndexType == spec.IndexTypeHash
	}
	out := map[string][]tableFile{}
	root := filepath.Join(dir, filepath.FromSlash(corruptTable))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		name, parent := d.Name(), path.Base(path.Dir(rel))
		var kind string
		switch {
		case parent == "snapshot" && (name == "LATEST" || name == "EARLIEST"):
			kind = "hint"
		case parent == "snapshot":
			kind = "snapshot"
		case parent == "schema":
			kind = "schema"
		case parent == "tag":
			kind = "tag"
		case parent == "consumer":
			kind = "consumer"
		case parent == "manifest" && strings.HasPrefix(name, "manifest-list-"):
			kind = "manifest-list"
		case parent == "manifest" && strings.HasPrefix(name, "index-manifest-"):
			kind = "index-manifest"
		case parent == "manifest":
			kind = "manifest"
		case parent == "index" && hashIndex[name]:
			kind = "hash-index"
		case parent == "index":
			kind = "dv-index"
		case strings.HasPrefix(parent, "bucket-") && strings.HasPrefix(name, "changelog-"):
			kind = "changelog"
		case strings.HasPrefix(parent, "bucket-") && strings.HasPrefix(name, "data-"):
			kind = "data"
		default:
			t.Fatalf("fixture file %s of no known kind: teach classifyFiles about it", rel)
		}
		out[kind] = append(out[kind], tableFile{kind: kind, rel: rel, size: info.Size(), mod: info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, fs := range out {
		sort.SliceStable(fs, func(i, j int) bool {
			if fs[i].mod != fs[j].mod {
				return fs[i].mod < fs[j].mod
			}
			return fs[i].rel < fs[j].rel
		})
	}
	return out
}

// indexEntries reads every index manifest of the table: index file name to
// its entry.
func indexEntries(t *testing.T, dir string) map[string]spec.IndexManifestEntry {
	t.Helper()
	out := map[string]spec.IndexManifestEntry{}
	files, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(corruptTable), "manifest", "index-manifest-*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		es, err := spec.DecodeIndexManifest(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out[e.FileName] = e
		}
	}
	return out
}

// dataEntries reads every manifest of the table: data file name to its
// entry.
func dataEntries(t *testing.T, dir string) map[string]spec.ManifestEntry {
	t.Helper()
	out := map[string]spec.ManifestEntry{}
	files, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(corruptTable), "manifest", "manifest-*"))
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "manifest-list-") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		es, err := spec.DecodeManifestEntries(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out[e.File.FileName] = e
		}
	}
	return out
}

// fileContent decodes a table file on its own, as its format defines it:
// what "the same file" means when a damaged copy is compared with the
// original. Data files decode to their rows (text, in file order).
type fileContent struct {
	sc     *spec.TableSchema
	data   map[string]spec.ManifestEntry
	index  map[string]spec.IndexManifestEntry
	layout []int // key index of the fixture's rows
}

func (fc *fileContent) decode(f tableFile, b []byte) (any, error) {
	name := path.Base(f.rel)
	switch f.kind {
	case "hint":
		return strconv.ParseInt(string(b), 10, 64)
	case "snapshot":
		return spec.DecodeSnapshot(b)
	case "schema":
		return spec.DecodeSchema(b)
	case "tag":
		return spec.DecodeTag(b)
	case "consumer":
		return spec.DecodeConsumer(b)
	case "manifest":
		return spec.DecodeManifestEntries(b)
	case "manifest-list":
		return spec.DecodeManifestList(b)
	case "index-manifest":
		return spec.DecodeIndexManifest(b)
	case "dv-index":
		var metas []spec.DeletionVectorMeta
		for _, m := range fc.index[name].DVRanges {
			metas = append(metas, *m)
		}
		return spec.ReadDVIndexFile(b, metas)
	case "hash-index":
		return decodeHashIndex(b, fc.index[name].RowCount)
	case "data", "changelog":
		return fc.rows(f, b)
	}
	return nil, fmt.Errorf("no decoder for %s", f.kind)
}

// rows reads a data file's records through the reader, from a private
// copy of b: keys and rows as text. It returns the rows read before an
// error too.
func (fc *fileContent) rows(f tableFile, b []byte) ([]string, error) {
	ctx := context.Background()
	mem := storage.NewMemory()
	if err := mem.Put(ctx, f.rel, b); err != nil {
		return nil, err
	}
	meta := fc.data[path.Base(f.rel)].File
	meta.FileSize = int64(len(b))
	req := reader.Request{Dir: path.Dir(f.rel), File: &meta, FileSchema: fc.sc, ReadFields: fc.sc.Fields, KeyIndex: fc.layout}
	var out []string
	for p, err := range reader.ReadPositioned(ctx, mem, req) {
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("%s|%d|%v|%d", rowKey(p.KV.Value), p.KV.Seq, p.KV.Value, p.KV.Kind))
	}
	return out, nil
}

// rowKey is the text form of a fixture row's key (dt, id).
func rowKey(r spec.Row) string { return fmt.Sprintf("%v/%v", r[0], r[1]) }

// keysOf returns the keys of rows as fileContent.rows returns them.
func keysOf(rows []string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rows {
		k, _, _ := strings.Cut(r, "|")
		out[k] = true
	}
	return out
}

// batchRows reads a scan through its Arrow batches, rows as text by key.
func batchRows(ctx context.Context, s *Scan) (map[string]string, error) {
	fields, err := s.Fields()
	if err != nil {
		return nil, err
	}
	_, batches, err := s.ToArrowRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rec, err := range batches {
		if err != nil {
			return nil, err
		}
		for r := range int(rec.NumRows()) {
			row := make(spec.Row, len(fields))
			for c, f := range fields {
				if row[c], err = arrowconv.Value(rec.Column(c), r, f.Type); err != nil {
					rec.Release()
					return nil, err
				}
			}
			addRow(out, rowKey(row), fmt.Sprint(row))
		}
		rec.Release()
	}
	return out, nil
}

// addRow adds a row's text under its key; a key seen twice keeps both.
func addRow(m map[string]string, k, v string) {
	if old, ok := m[k]; ok {
		v = old + " & " + v
	}
	m[k] = v
}
