package spec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixtureDB = "../../shared/fixtures/paimon-java/default.db"

func fixtureFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDB, "*", "manifest", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures for %s (err %v); ../shared must sit beside the repo", pattern, err)
	}
	return files
}

// avroSchemaOf returns the writer schema JSON stored in an OCF header.
func avroSchemaOf(t testing.TB, data []byte) string {
	t.Helper()
	i := bytes.IndexByte(data, '{')
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return string(data[i : j+1])
			}
		}
	}
	t.Fatal("no schema in header")
	return ""
}

func TestManifestSchemasMatchJava(t *testing.T) {
	for pattern, want := range map[string]string{
		"manifest-list-*":  ManifestFileMetaSchema,
		"index-manifest-*": IndexManifestEntrySchema,
	} {
		for _, f := range fixtureFiles(t, pattern) {
			data, _ := os.ReadFile(f)
			if got := avroSchemaOf(t, data); got != want {
				t.Errorf("%s: schema differs\n got %s\nwant %s", f, got, want)
			}
		}
	}
	for _, f := range fixtureFiles(t, "manifest-*") {
		if strings.Contains(filepath.Base(f), "list") {
			continue
		}
		data, _ := os.ReadFile(f)
		if got := avroSchemaOf(t, data); got != ManifestEntrySchema {
			t.Errorf("%s: schema differs\n got %s\nwant %s", f, got, ManifestEntrySchema)
		}
	}
	// And what we write carries exactly the same schema text.
	for _, enc := range []func() ([]byte, error){
		func() ([]byte, error) { return EncodeManifestEntries(nil, "zstd") },
		func() ([]byte, error) { return EncodeManifestList(nil, "zstd") },
		func() ([]byte, error) { return EncodeIndexManifest(nil, "zstd") },
	} {
		data, err := enc()
		if err != nil {
			t.Fatal(err)
		}
		s := avroSchemaOf(t, data)
		if s != ManifestEntrySchema && s != ManifestFileMetaSchema && s != IndexManifestEntrySchema {
			t.Errorf("written schema %s", s)
		}
		if !bytes.Contains(data, []byte("zstandard")) {
			t.Error("codec is not zstandard")
		}
	}
}

func TestManifestFixtureRoundTrip(t *testing.T) {
	for _, f := range fixtureFiles(t, "*") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		switch {
		case strings.HasPrefix(name, "manifest-list-"):
			got, err := DecodeManifestList(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, err := EncodeManifestList(got, "zstd")
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeManifestList(again)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("%s: round trip differs: %v\n%+v\n%+v", name, err, got, back)
			}
		case strings.HasPrefix(name, "index-manifest-"):
			got, err := DecodeIndexManifest(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, err := EncodeIndexManifest(got, "zstd")
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeIndexManifest(again)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("%s: round trip differs: %v\n%+v\n%+v", name, err, got, back)
			}
		default:
			got, err := DecodeManifestEntries(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(got) == 0 {
				t.Fatalf("%s: no entries", name)
			}
			again, err := EncodeManifestEntries(got, "zstd")
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeManifestEntries(again)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("%s: round trip differs: %v\n%+v\n%+v", name, err, got, back)
			}
		}
	}
}

// The first manifest of the global-index fixture holds the ADD of the file
// with ids 1..2, as the notes describe it.
func TestManifestFixtureContent(t *testing.T) {
	var seen bool
	for _, f := range fixtureFiles(t, "manifest-*-0") {
		if strings.Contains(f, "list") || !strings.Contains(f, "global_index") {
			continue
		}
		data, _ := os.ReadFile(f)
		es, err := DecodeManifestEntries(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if !bytes.Equal(e.Partition, SerializedEmptyRow()) {
				t.Errorf("partition %x", e.Partition)
			}
			if e.TotalBuckets != 1 || e.File.ValueStatsCols != nil || len(e.File.ExtraFiles) != 0 {
				t.Errorf("entry %+v", e)
			}
			arity, key, err := DeserializeBinaryRow(e.File.MinKey)
			if err != nil || arity != 1 {
				t.Fatal(err, arity)
			}
			k, _, err := DecodeBinaryRow([]DataType{IntType.NotNull()}, key)
			if err != nil {
				t.Fatal(err)
			}
			if k[0].(int32) < 1 || k[0].(int32) > 6 {
				t.Errorf("min key %v", k)
			}
			seen = true
		}
	}
	if !seen {
		t.Fatal("no entries checked")
	}
}

func FuzzDecodeManifest(f *testing.F) {
	for _, p := range []string{"manifest-*", "index-manifest-*"} {
		files, _ := filepath.Glob(filepath.Join(fixtureDB, "*", "manifest", p))
		for _, file := range files {
			data, _ := os.ReadFile(file)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range []func([]byte) error{
			func(b []byte) error { _, err := DecodeManifestEntries(b); return err },
			func(b []byte) error { _, err := DecodeManifestList(b); return err },
			func(b []byte) error { _, err := DecodeIndexManifest(b); return err },
		} {
			if err := dec(data); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
		}
	})
}
