package spec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/avro/ocf"
)

var manifestSeed = flag.Uint64("manifest-seed", 0, "seed for the random manifest-entry tests (0: time-based)")

// javaManifests lists Java-written manifest files: the shared golden tables,
// and the fixtures Java generated for the table and integration tests when
// they are at hand (integration/java/.fixtures, or $STRATA_FIXTURE_CACHE).
func javaManifests(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, root := range []string{filepath.Join(fixtureDB, "*"), "../integration/java/.fixtures/*/*/*", os.Getenv("STRATA_FIXTURE_CACHE") + "/*/*/*"} {
		files, _ := filepath.Glob(filepath.Join(root, "manifest", "manifest-*"))
		for _, f := range files {
			if !strings.HasPrefix(filepath.Base(f), "manifest-list-") {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Java manifests; ../shared must sit beside the repo")
	}
	return out
}

// samePlannedAndGeneric decodes data both ways and fails unless they agree.
func samePlannedAndGeneric(t *testing.T, name string, data []byte) []ManifestEntry {
	t.Helper()
	got, ok, err := decodeEntriesPlanned(nil, data)
	if !ok || err != nil {
		t.Fatalf("%s: planned decoder: handled %v, %v", name, ok, err)
	}
	want, err := decodeManifestEntriesGeneric(data)
	if err != nil {
		t.Fatalf("%s: generic decoder: %v", name, err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%s: entry %d differs\nplanned %+v\ngeneric %+v", name, i, got[i], want[i])
			}
		}
		t.Fatalf("%s: %d entries planned, %d generic", name, len(got), len(want))
	}
	return got
}

func TestPlannedDecoderOnJavaManifests(t *testing.T) {
	files := javaManifests(t)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		samePlannedAndGeneric(t, f, data)
	}
	t.Logf("%d Java manifests", len(files))
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, r.IntN(n+1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randomOpt[T any](r *rand.Rand, v T) *T {
	if r.IntN(2) == 0 {
		return nil
	}
	return &v
}

func randomStrings(r *rand.Rand) []string {
	out := make([]string, r.IntN(4))
	for i := range out {
		out[i] = fmt.Sprintf("s-%d-%x", i, r.Uint64()>>r.IntN(64))
	}
	return out
}

func randomStats(r *rand.Rand) SimpleStats {
	s := SimpleStats{MinValues: randomBytes(r, 40), MaxValues: randomBytes(r, 40)}
	if r.IntN(3) > 0 {
		s.NullCounts = make([]*int64, r.IntN(5))
		for i := range s.NullCounts {
			s.NullCounts[i] = randomOpt(r, r.Int64N(1000))
		}
	}
	return s
}

func randomEntry(r *rand.Rand) ManifestEntry {
	f := DataFileMeta{
		FileName: fmt.Sprintf("data-%x.parquet", r.Uint64()), FileSize: r.Int64(), RowCount: r.Int64N(1<<40) - 5,
		MinKey: randomBytes(r, 30), MaxKey: randomBytes(r, 30), KeyStats: randomStats(r), ValueStats: randomStats(r),
		MinSequenceNumber: r.Int64() - r.Int64(), MaxSequenceNumber: r.Int64(), SchemaID: r.Int64N(10),
		Level: int32(r.IntN(6)) - 1, ExtraFiles: randomStrings(r), CreationTime: randomOpt(r, r.Int64()),
		DeleteRowCount: randomOpt(r, r.Int64N(100)), FileSource: randomOpt(r, FileSource(r.IntN(2))),
		ValueStatsCols: randomOpt(r, randomStrings(r)), ExternalPath: randomOpt(r, fmt.Sprintf("s3://b/%d", r.IntN(9))),
		FirstRowID: randomOpt(r, r.Int64()), WriteCols: randomOpt(r, randomStrings(r)),
	}
	if r.IntN(2) == 0 {
		f.EmbeddedIndex = randomBytes(r, 20)
	}
	return ManifestEntry{Kind: FileKind(r.IntN(2)), Partition: randomBytes(r, 24), Bucket: r.Int32() - r.Int32(),
		TotalBuckets: int32(r.IntN(64)) - 2, File: f}
}

func seeded(t *testing.T) *rand.Rand {
	seed := *manifestSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -manifest-seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

func TestPlannedDecoderOnRandomEntries(t *testing.T) {
	r := seeded(t)
	for round := range 40 {
		entries := make([]ManifestEntry, r.IntN(300))
		for i := range entries {
			entries[i] = randomEntry(r)
		}
		comp := []string{"zstd", "snappy", "deflate", "none"}[round%4]
		data, err := EncodeManifestEntries(entries, comp)
		if err != nil {
			t.Fatal(err)
		}
		got := samePlannedAndGeneric(t, comp, data)
		if len(got) != len(entries) {
			t.Fatalf("%d entries, want %d", len(got), len(entries))
		}
	}
}

// Java has added fields to DataFileMeta release by release: a manifest may
// lack the newest ones or (from a newer Java) carry ones this version does
// not know. Both decoders must still agree.
func TestPlannedDecoderOnOtherWriterSchemas(t *testing.T) {
	r := seeded(t)
	entries := make([]ManifestEntry, 50)
	for i := range entries {
		entries[i] = randomEntry(r)
	}
	own, err := EncodeManifestEntries(entries, "none")
	if err != nil {
		t.Fatal(err)
	}
	rows := decodeRows(t, own)
	older := strings.Replace(ManifestEntrySchema,
		`,{"name":"_EXTERNAL_PATH","type":["null","string"],"default":null},{"name":"_FIRST_ROW_ID","type":["null","long"],"default":null},`+
			`{"name":"_WRITE_COLS","type":["null",{"type":"array","items":"string"}],"default":null}`, "", 1)
	newer := strings.Replace(ManifestEntrySchema, `{"name":"_LEVEL","type":"int"},`,
		`{"name":"_LEVEL","type":"int"},{"name":"_NEW","type":["null",{"type":"map","values":{"type":"array","items":"double"}},`+
			`{"type":"record","name":"r_new","fields":[{"name":"a","type":"boolean"},{"name":"b","type":{"type":"fixed","name":"f3","size":3}},{"name":"c","type":"float"}]}],"default":null},`, 1)
	newer = strings.Replace(newer, `{"name":"_VERSION","type":"int"},`, `{"name":"_VERSION","type":"int"},{"name":"_TOP","type":{"type":"enum","name":"e","symbols":["A","B"]}},`, 1)
	changed := strings.Replace(ManifestEntrySchema, `{"name":"_LEVEL","type":"int"}`, `{"name":"_LEVEL","type":"long"}`, 1)
	for _, tc := range []struct {
		name, schema string
		planned      bool
	}{{"older", older, true}, {"newer", newer, true}, {"changed", changed, false}} {
		s, err := avro.Parse(tc.schema)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		var buf bytes.Buffer
		w, err := ocf.NewWriter(&buf, s, ocf.WithCodec(ocf.SnappyCodec()))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			row = withExtraFields(r, row)
			if err := w.Encode(row); err != nil {
				t.Fatal(tc.name, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := entryPlanFor(tc.schema); ok != tc.planned {
			t.Fatalf("%s: planned %v, want %v", tc.name, ok, tc.planned)
		}
		if !tc.planned {
			continue
		}
		got := samePlannedAndGeneric(t, tc.name, buf.Bytes())
		if tc.name == "older" && (got[0].File.ExternalPath != nil || got[0].File.WriteCols != nil) {
			t.Fatalf("fields missing from the writer schema read as %+v", got[0].File)
		}
	}
}

// decodeRows decodes a manifest into generic Avro values.
func decodeRows(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	rd, err := ocf.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for {
		var m map[string]any
		if err := rd.Decode(&m); err != nil {
			if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "EOF") {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

// withExtraFields adds values for the fields the "newer" schema invents.
func withExtraFields(r *rand.Rand, row map[string]any) map[string]any {
	row["_TOP"] = []string{"A", "B"}[r.IntN(2)]
	file := row["_FILE"].(map[string]any)
	switch r.IntN(3) {
	case 0:
		file["_NEW"] = nil
	case 1:
		file["_NEW"] = map[string]any{"x": []any{1.5, 2.5}, "y": []any{}}
	default:
		file["_NEW"] = map[string]any{"a": true, "b": []byte{1, 2, 3}, "c": float32(0.5)}
	}
	return row
}

// FuzzPlannedManifestDecoder checks the planned decoder never panics, that
// its errors wrap ErrCorrupt, and that whatever both decoders accept they
// decode alike.
func FuzzPlannedManifestDecoder(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDB, "*", "manifest", "manifest-*"))
	for _, file := range files {
		if !strings.Contains(file, "list") {
			data, _ := os.ReadFile(file)
			f.Add(data)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, comp := range []string{"none", "snappy"} {
		data, _ := EncodeManifestEntries([]ManifestEntry{randomEntry(r), randomEntry(r)}, comp)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeManifestEntries(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if want, err := decodeManifestEntriesGeneric(data); err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decoders differ\nplanned %+v\ngeneric %+v", got, want)
		}
	})
}

func TestAppendManifestEntriesInPlace(t *testing.T) {
	r := seeded(t)
	first, second := []ManifestEntry{randomEntry(r)}, []ManifestEntry{randomEntry(r), randomEntry(r)}
	data, err := EncodeManifestEntries(second, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeManifestEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	dst := append(make([]ManifestEntry, 0, 3), first...)
	dst[:3][2].Bucket = 99 // stale content past the length is overwritten
	got, err := AppendManifestEntries(dst, data)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &dst[0] || !reflect.DeepEqual(got[0], first[0]) || !reflect.DeepEqual(got[1:], want) {
		t.Fatalf("appended %+v", got)
	}
}

// Byte-level mutations of real and random manifests (the fuzzer's job, in
// every test run): the planned decoder never panics, fails with ErrCorrupt,
// and agrees with the generic decoder on what both accept.
func TestPlannedDecoderOnMutatedManifests(t *testing.T) {
	r := seeded(t)
	var seeds [][]byte
	for _, f := range javaManifests(t)[:min(8, len(javaManifests(t)))] {
		data, _ := os.ReadFile(f)
		seeds = append(seeds, data)
	}
	for _, comp := range []string{"none", "snappy", "deflate"} {
		data, _ := EncodeManifestEntries([]ManifestEntry{randomEntry(r), randomEntry(r), randomEntry(r)}, comp)
		seeds = append(seeds, data)
	}
	accepted := 0
	for range 3000 {
		data := bytes.Clone(seeds[r.IntN(len(seeds))])
		for range 1 + r.IntN(4) {
			switch i := r.IntN(len(data)); r.IntN(3) {
			case 0:
				data[i] = byte(r.Uint32())
			case 1:
				data = append(data[:i], data[i+1:]...)
			default:
				data = slices.Insert(data, i, byte(r.Uint32()))
			}
		}
		got, err := DecodeManifestEntries(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			continue
		}
		accepted++
		if want, err := decodeManifestEntriesGeneric(data); err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decoders differ on %x\nplanned %+v\ngeneric %+v", data, got, want)
		}
	}
	t.Logf("%d of 3000 mutations decoded", accepted)
}

// A header block whose item count, times the two bytes an item takes at
// least, overflows 64 bits is corrupt at once: the overflowed bound let a
// count of 2^62 through, and parsing looped on it (found by
// FuzzPlannedManifestDecoder, its input in testdata/fuzz).
func TestOCFHeaderHugeBlockCount(t *testing.T) {
	data := binary.AppendUvarint([]byte("Obj\x01"), 1<<63) // zigzag of 2^62 items
	data = append(data, make([]byte, 64)...)
	done := make(chan error, 1)
	go func() {
		_, err := DecodeManifestEntries(data)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v, want ErrCorrupt", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still parsing the header after 10 s")
	}
}
