package avroio

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testdata/all-types-kv.avro is a data file Java Paimon 1.4.2 wrote for the
// avro-all-types cell of integration's TestJavaAvroMatrix (a zstd-compressed
// key-value file), with the table's schema in all-types.schema.json. To
// regenerate: STRATA_JAVA_KEEP=/tmp/k STRATA_REQUIRE_JAVA=1 go test
// ./integration -run 'TestJavaAvroMatrix/avro-all-types/java-writes$', copy
// a data file and schema-0 from /tmp/k, then go test ./internal/avroio
// -update. The golden rows were checked equal to Java's read of the table
// (the matrix compares Strata's scan with Java's at every snapshot).
func loadAllTypes(t testing.TB) (*File, []spec.DataField) {
	t.Helper()
	data, err := os.ReadFile("testdata/all-types-kv.avro")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("testdata/all-types.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := spec.DecodeSchema(js)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f, schema.Fields
}

func TestGoldenAllTypes(t *testing.T) {
	f, fields := loadAllTypes(t)
	cols := append([]spec.DataField{
		{Name: "_SEQUENCE_NUMBER", Type: spec.BigIntType.NotNull()},
		{Name: "_VALUE_KIND", Type: spec.TinyIntType.NotNull()},
	}, fields...)
	enc := textrow.NewJSONEncoder(nil, fields)
	var out strings.Builder
	for row, err := range f.ReadRows(cols) {
		if err != nil {
			t.Fatal(err)
		}
		b, err := enc.AppendRow(nil, row[2:])
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(strconv.FormatInt(row[0].(int64), 10) + " " + spec.RowKind(row[1].(int8)).String() + " " + string(b) + "\n")
	}
	const golden = "testdata/all-types-kv.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("decoded rows differ from %s:\n%s", golden, out.String())
	}
	if f.Codec() != "zstandard" || !strings.HasPrefix(strings.Join(f.Columns(), ","), "_KEY_id,_SEQUENCE_NUMBER,_VALUE_KIND,id,p,") {
		t.Errorf("codec %s, columns %v", f.Codec(), f.Columns())
	}
}

// Projection: fewer fields, in another order, and a field the file lacks.
func TestProjection(t *testing.T) {
	f, fields := loadAllTypes(t)
	byName := map[string]spec.DataField{}
	for _, fd := range fields {
		byName[fd.Name] = fd
	}
	cols := []spec.DataField{byName["s"], {Name: "nope", Type: spec.IntType}, byName["id"]}
	full := []spec.DataField{byName["id"], byName["s"]}
	var a, b []spec.Row
	for row, err := range f.ReadRows(cols) {
		if err != nil {
			t.Fatal(err)
		}
		a = append(a, row)
	}
	for row, err := range f.ReadRows(full) {
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, row)
	}
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d rows", len(a), len(b))
	}
	for i := range a {
		if a[i][0] != b[i][1] || a[i][1] != nil || a[i][2] != b[i][0] {
			t.Fatalf("row %d: %v vs %v", i, a[i], b[i])
		}
	}
}

// A field read as a type Paimon does not store that way is refused,
// naming the field and the types; so are TIMESTAMP(9) and TIME(6).
func TestTypeMismatchRefused(t *testing.T) {
	f, _ := loadAllTypes(t)
	for _, fd := range []spec.DataField{
		{Name: "s", Type: spec.IntType},
		{Name: "ts6", Type: spec.TimestampType(9)},
		{Name: "dec1", Type: spec.DecimalType(6, 2)},
		{Name: "m", Type: spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &spec.IntType}},
		{Name: "tm", Type: spec.DataType{Root: spec.TypeTime, Nullable: true, Precision: 6}},
	} {
		var err error
		for _, e := range f.ReadRows([]spec.DataField{fd}) {
			err = e
			break
		}
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), fd.Name) {
			t.Errorf("%s as %s: %v, want ErrUnsupported naming the field", fd.Name, fd.Type.String(), err)
		}
	}
}

// Truncated and bit-flipped files fail with ErrCorrupt or decode; they never
// panic (FuzzReadRows explores further).
func TestDamagedFiles(t *testing.T) {
	data, err := os.ReadFile("testdata/all-types-kv.avro")
	if err != nil {
		t.Fatal(err)
	}
	_, fields := loadAllTypes(t)
	for _, n := range []int{0, 3, 10, 100, len(data) / 2, len(data) - 1} {
		if err := readAll(data[:n], fields); !errors.Is(err, spec.ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

// readAll opens data and reads every row as fields.
func readAll(data []byte, fields []spec.DataField) error {
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, err := range f.ReadRows(fields) {
		if err != nil {
			return err
		}
	}
	return nil
}

func FuzzReadRows(f *testing.F) {
	seed, err := os.ReadFile("testdata/all-types-kv.avro")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	_, fields := loadAllTypes(f) // the table's schema, parsed once
	f.Fuzz(func(t *testing.T, data []byte) {
		err := readAll(data, fields)
		if err != nil && !errors.Is(err, spec.ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
