package parquetio

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/stratalake/strata/spec"
)

// fixtureDB holds the Java-written tables; ../shared sits beside the repo.
const fixtureDB = "../../../shared/fixtures/paimon-java/default.db"

func fixtureFiles(t testing.TB, table string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDB, table, "bucket-0", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no parquet fixtures for %s (err %v); ../shared must sit beside the repo", table, err)
	}
	slices.Sort(files)
	return files
}

// Schemas of the fixture tables (their schema-0 files).
var (
	globalIndexKey   = []spec.DataField{{ID: 0, Name: "id", Type: spec.IntType.NotNull()}}
	globalIndexValue = []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "name", Type: spec.StringType},
		{ID: 2, Name: "category", Type: spec.StringType},
	}
	vectorValue = []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "embedding", Type: spec.DataType{Root: spec.TypeVector, Nullable: true, Length: 4, Elem: &spec.FloatType}},
	}
)

func openFile(t testing.TB, path string) *File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return f
}

func readAll(t testing.TB, f *File, fields []spec.DataField) []spec.Row {
	t.Helper()
	var rows []spec.Row
	for row, err := range f.ReadRows(fields) {
		if err != nil {
			t.Fatalf("ReadRows: %v", err)
		}
		rows = append(rows, row)
	}
	return rows
}

func TestFixtureGlobalIndexRows(t *testing.T) {
	fields := KVFields(globalIndexKey, globalIndexValue)
	// Each file holds consecutive ids with sequence numbers from 0 (L0) or
	// as compacted; every row is an insert.
	want := map[string][]int{
		"data-1204a156-ccd1-48bf-96e6-31ac2028e91a-0.parquet": {1, 2, 3, 4},
		"data-247786b6-227a-4ded-acd5-85708fc3327a-0.parquet": {5, 6},
		"data-70baee15-65ce-4e4c-a961-faf94f0388cd-0.parquet": {1, 2},
		"data-aea3eab0-ac3e-4bcb-87a6-d1dd92df3d60-0.parquet": {3, 4},
	}
	for _, path := range fixtureFiles(t, "test_pk_global_index_golden") {
		ids, ok := want[filepath.Base(path)]
		if !ok {
			t.Fatalf("unexpected fixture %s", path)
		}
		f := openFile(t, path)
		if got, want := f.Columns(), []string{"_KEY_id", "_SEQUENCE_NUMBER", "_VALUE_KIND", "id", "name", "category"}; !slices.Equal(got, want) {
			t.Errorf("%s: columns %v, want %v", path, got, want)
		}
		if f.NumRows() != int64(len(ids)) {
			t.Errorf("%s: NumRows %d, want %d", path, f.NumRows(), len(ids))
		}
		var wantRows []spec.Row
		for _, id := range ids {
			cat := "even"
			if id%2 == 1 {
				cat = "odd"
			}
			wantRows = append(wantRows, spec.Row{int32(id), int64(id - 1), int8(0), int32(id), fmt.Sprintf("name-%d", id), cat})
		}
		if got := readAll(t, f, fields); !reflect.DeepEqual(got, wantRows) {
			t.Errorf("%s:\n got %v\nwant %v", path, got, wantRows)
		}
	}
}

func TestFixtureVectorRows(t *testing.T) {
	fields := KVFields(globalIndexKey, vectorValue)
	vec := func(x ...float32) []any {
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = v
		}
		return out
	}
	want := []spec.Row{
		{int32(1), int64(0), int8(0), int32(1), vec(1, 0, 0, 0)},
		{int32(2), int64(1), int8(0), int32(2), vec(0.9, 0.1, 0, 0)},
		{int32(3), int64(2), int8(0), int32(3), vec(0, 1, 0, 0)},
		{int32(4), int64(3), int8(0), int32(4), vec(0, 0, 1, 0)},
	}
	for _, path := range fixtureFiles(t, "test_pk_vector_golden") {
		f := openFile(t, path)
		if got := readAll(t, f, fields); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", path, got, want)
		}
	}
}

// TestFixtureSchema checks that SchemaString renders the schema Java wrote
// into the fixture files.
func TestFixtureSchema(t *testing.T) {
	for _, tc := range []struct {
		table string
		value []spec.DataField
	}{
		{"test_pk_global_index_golden", globalIndexValue},
		{"test_pk_vector_golden", vectorValue},
	} {
		fields := KVFields(globalIndexKey, tc.value)
		want, err := SchemaString(fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range fixtureFiles(t, tc.table) {
			f := openFile(t, path)
			if got := f.SchemaString(); got != want {
				t.Errorf("%s: schema\n%s\nwant\n%s", path, got, want)
			}
		}
	}
}

func TestFixtureProjection(t *testing.T) {
	path := fixtureFiles(t, "test_pk_global_index_golden")[0]
	f := openFile(t, path)
	rows := readAll(t, f, []spec.DataField{
		{ID: 2, Name: "category", Type: spec.StringType},
		{ID: 9, Name: "missing", Type: spec.IntType},
		{ID: 0, Name: "id", Type: spec.BigIntType}, // widened on read
	})
	want := []spec.Row{{"odd", nil, int64(1)}, {"even", nil, int64(2)}, {"odd", nil, int64(3)}, {"even", nil, int64(4)}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("got %v, want %v", rows, want)
	}
	for _, err := range f.ReadRows([]spec.DataField{{Name: "name", Type: spec.IntType}}) {
		if err == nil {
			t.Fatal("reading a STRING column as INT succeeded")
		}
		break
	}
}

// TestFixtureFields derives Paimon fields from a Java file the way Java's
// convertToPaimonRowType does; VECTOR comes back as ARRAY.
func TestFixtureFields(t *testing.T) {
	f := openFile(t, fixtureFiles(t, "test_pk_vector_golden")[0])
	got, err := f.Fields()
	if err != nil {
		t.Fatal(err)
	}
	want := KVFields(globalIndexKey, []spec.DataField{
		{ID: 0, Name: "id", Type: spec.IntType.NotNull()},
		{ID: 1, Name: "embedding", Type: arrayOf(spec.FloatType)},
	})
	if len(got) != len(want) {
		t.Fatalf("got %d fields, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Name != want[i].Name || !got[i].Type.Equal(want[i].Type) {
			t.Errorf("field %d: got %d %s %s, want %d %s %s", i, got[i].ID, got[i].Name, got[i].Type, want[i].ID, want[i].Name, want[i].Type)
		}
	}
}

func TestOpenRejectsGarbage(t *testing.T) {
	good, err := os.ReadFile(fixtureFiles(t, "test_pk_global_index_golden")[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":       nil,
		"short":       []byte("PAR1"),
		"text":        []byte("this is not a parquet file at all"),
		"no footer":   []byte("PAR1\x00\x00\x00\x00PAR1"),
		"truncated":   good[:len(good)-1],
		"head cut":    good[4:],
		"huge footer": append(append([]byte{}, good[:len(good)-8]...), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'),
	} {
		if _, err := Open(bytes.NewReader(data), int64(len(data))); !errors.Is(err, spec.ErrCorrupt) {
			t.Errorf("%s: Open returned %v, want ErrCorrupt", name, err)
		}
	}
}
