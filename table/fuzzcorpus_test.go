package table

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/lookupfile"
	"github.com/stratalake/strata/spec"
)

var writeFuzzCorpus = flag.Bool("fuzz.corpus", false, "TestWriteFuzzCorpus: write the fuzzers' seed corpora (testdata/fuzz/<Fuzzer>/ of each package) from a real table's files")

// TestWriteFuzzCorpus writes the seed corpora of the fuzzers of file
// decoders from the files of a real table (the one TestCorruptFiles
// damages): the smallest file of each kind, as Go's corpus files under
// <package>/testdata/fuzz/<Fuzzer>/. go test runs every fuzzer over its
// corpus; `go test -fuzz` starts from it. Run it after a format change:
//
//	go test ./table -run TestWriteFuzzCorpus -fuzz.corpus
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeFuzzCorpus {
		t.Skip("writes testdata: run with -fuzz.corpus")
	}
	dir := t.TempDir()
	buildCorruptFixture(t, dir, rand.New(rand.NewPCG(1, 1)))
	byKind := classifyFiles(t, dir)
	read := func(f tableFile) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f.rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	smallest := func(kind string) tableFile {
		fs := byKind[kind]
		return slices.MinFunc(fs, func(a, b tableFile) int { return int(a.size - b.size) })
	}
	w := func(pkg, fuzzer, name string, args ...any) { writeCorpusFile(t, pkg, fuzzer, name, args...) }

	w("internal/parquetio", "FuzzOpen", "data-file", read(smallest("data")))
	w("internal/parquetio", "FuzzOpen", "changelog-file", read(smallest("changelog")))
	for _, kind := range []string{"manifest", "manifest-list", "index-manifest"} {
		w("spec", "FuzzDecodeManifest", kind, read(smallest(kind)))
	}
	w("spec", "FuzzPlannedManifestDecoder", "manifest", read(smallest("manifest")))
	snaps := byKind["snapshot"]
	w("spec", "FuzzDecodeSnapshot", "snapshot-first", read(snaps[0]))
	w("spec", "FuzzDecodeSnapshot", "snapshot-last", read(snaps[len(snaps)-1]))
	w("spec", "FuzzDecodeSchema", "schema", read(smallest("schema")))
	w("spec", "FuzzDecodeTag", "tag", read(smallest("tag")))
	w("spec", "FuzzDecodeConsumer", "consumer", read(smallest("consumer")))

	index := indexEntries(t, dir)
	dvs := slices.Clone(byKind["dv-index"])
	slices.SortFunc(dvs, func(a, b tableFile) int { return int(a.size - b.size) })
	dvs = slices.DeleteFunc(dvs, func(f tableFile) bool { return len(index[path.Base(f.rel)].DVRanges) == 0 })
	if len(dvs) == 0 {
		t.Fatal("no deletion-vector index file with vectors")
	}
	dvFile := read(dvs[0])
	m := index[path.Base(dvs[0].rel)].DVRanges[0]
	card := int64(-1)
	if m.Cardinality != nil {
		card = *m.Cardinality
	}
	w("spec", "FuzzReadDVIndexFile", "dv-index", dvFile, m.Offset, m.Length, card)
	size := int(uint32(dvFile[m.Offset])<<24 | uint32(dvFile[m.Offset+1])<<16 | uint32(dvFile[m.Offset+2])<<8 | uint32(dvFile[m.Offset+3]))
	w("spec", "FuzzDecodeDeletionVector", "dv", dvFile[m.Offset+4:int(m.Offset)+4+size])
	hf := smallest("hash-index")
	w("table", "FuzzDecodeHashIndex", "hash-index", read(hf), index[path.Base(hf.rel)].RowCount)
	for name, e := range dataEntries(t, dir) {
		if strings.HasPrefix(name, "data-") && len(e.Partition) > 0 {
			w("spec", "FuzzDecodeBinaryRow", "partition", e.Partition)
			w("spec", "FuzzDecodeBinaryRow", "min-key", e.File.MinKey)
			break
		}
	}

	// A commit message, a lookup file and a lookup value of the table.
	ctx := context.Background()
	tb, err := Open(ctx, memWarehouse(t, readTree(t, dir), "", nil), corruptTable)
	if err != nil {
		t.Fatal(err)
	}
	msgs := writeAll(t, tb, corruptChanges(rand.New(rand.NewPCG(2, 2)), 3, 1, 9), false)
	b, err := EncodeCommitMessages(7, msgs)
	if err != nil {
		t.Fatal(err)
	}
	w("table", "FuzzDecodeCommitMessages", "messages", b)
	cache := t.TempDir()
	l, err := tb.NewLookup(ctx, WithRefreshInterval(0), WithLookupCacheDir(cache))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := spec.Row{"a", int64(1)}
	if _, err := l.Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	ssts, _ := filepath.Glob(filepath.Join(cache, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("the lookup built no local file")
	}
	sst, err := os.ReadFile(ssts[0])
	if err != nil {
		t.Fatal(err)
	}
	w("lookupfile", "FuzzOpenFile", "lookup-file", sst)
	lf, err := lookupfile.Open(ssts[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	enc, err := lookupfile.EncodeKey(nil, tb.layout.KeyTypes(), key[1:]) // the key without its partition
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := lf.Get(enc); err != nil || !ok {
		t.Fatalf("lookup file misses its key: %v", err)
	} else {
		w("lsm", "FuzzDecodeLookupValue", "lookup-value", v)
	}
	w("server", "FuzzLookupRequest", "request", []byte(`{"keys":[{"dt":"a","id":1},{"dt":"b","id":70}]}`))

	// Text inputs the table's users give: a row of its JSON and CSV input,
	// a key, a filter, its options.
	w("internal/textrow", "FuzzJSONDecoder", "rows", []byte(`{"dt":"a","id":1,"v":"x","n":2}`+"\n"+`{"id":2,"v":null}`+"\n"))
	w("internal/textrow", "FuzzJSONBatchDecoder", "rows", []byte(`{"dt":"a","id":1,"v":"x","n":2}`+"\n"+`{"id":2,"v":null}`+"\n"))
	w("internal/textrow", "FuzzCSVBatchDecoder", "rows", []byte("1,true,-1,300,7,1.5,-0.0,12.34,abcd,\"a,b\",AAE=,,2024-02-29,23:59:59.999,2024-01-31 12:00:00,,,,,,,\n"))
	w("internal/textrow", "FuzzKeyParser", "key", `{"dt":"a","id":1}`)
	w("predicate", "FuzzParse", "filter", `dt = 'a' AND (id < 10 OR v IS NULL) AND n IN (1, 2) AND NOT v LIKE 'v1%'`)
	for i, k := range tb.schema.Options.Keys() {
		v, _ := tb.schema.Options.Get(k)
		w("spec", "FuzzParseOptions", fmt.Sprintf("option-%d", i), k, v)
	}
}

// writeCorpusFile writes one input of a fuzzer's seed corpus in Go's
// format ("go test fuzz v1", then one typed literal per argument).
func writeCorpusFile(t *testing.T, pkg, fuzzer, name string, args ...any) {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case int32:
			fmt.Fprintf(&b, "int32(%d)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		default:
			t.Fatalf("corpus argument of type %T", a)
		}
	}
	d := filepath.Join("..", filepath.FromSlash(pkg), "testdata", "fuzz", fuzzer)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
