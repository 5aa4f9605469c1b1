package spec

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tagTestSnapshot is the snapshot of Java's TagTest with strings where Java
// has nulls (Strata's Snapshot holds those as plain strings).
func tagTestSnapshot() Snapshot {
	return Snapshot{
		Version: 3, UUID: ptrTo("snapshot-uuid"), BaseManifestList: "b", DeltaManifestList: "d",
		CommitUser: "u", WriterVersion: ptrTo("java-2.1-SNAPSHOT-commit-id"),
		CommitKind: CommitKindAppend, TimeMillis: 1000,
	}
}

// TestTagGolden checks the bytes of Java's TagTest.testFromSnapshotAndTagTtl
// (with the strings above), and that a tag without retention is its snapshot
// file, byte for byte.
func TestTagGolden(t *testing.T) {
	created := time.Date(1969, 1, 1, 0, 0, 0, 123456789, time.Local)
	retained := 5 * time.Second
	tag := &Tag{Snapshot: tagTestSnapshot(), CreateTime: &created, TimeRetained: &retained}
	want := "{\n" +
		"  \"version\" : 3,\n" +
		"  \"uuid\" : \"snapshot-uuid\",\n" +
		"  \"id\" : 0,\n" +
		"  \"schemaId\" : 0,\n" +
		"  \"baseManifestList\" : \"b\",\n" +
		"  \"deltaManifestList\" : \"d\",\n" +
		"  \"commitUser\" : \"u\",\n" +
		"  \"writerVersion\" : \"java-2.1-SNAPSHOT-commit-id\",\n" +
		"  \"commitIdentifier\" : 0,\n" +
		"  \"commitKind\" : \"APPEND\",\n" +
		"  \"timeMillis\" : 1000,\n" +
		"  \"totalRecordCount\" : 0,\n" +
		"  \"deltaRecordCount\" : 0,\n" +
		"  \"tagCreateTime\" : [ 1969, 1, 1, 0, 0, 0, 123456789 ],\n" +
		"  \"tagTimeRetained\" : 5.000000000\n" +
		"}"
	got := EncodeTag(tag)
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	back, err := DecodeTag(got)
	if err != nil {
		t.Fatal(err)
	}
	if !back.CreateTime.Equal(created) || *back.TimeRetained != retained || back.TimeMillis != 1000 ||
		*back.WriterVersion != "java-2.1-SNAPSHOT-commit-id" {
		t.Errorf("decoded %+v", back)
	}

	plain := &Tag{Snapshot: tagTestSnapshot()}
	snap := tagTestSnapshot()
	if !bytes.Equal(EncodeTag(plain), EncodeSnapshot(&snap)) {
		t.Errorf("a tag without retention must be the snapshot JSON:\n%s", EncodeTag(plain))
	}
	// A snapshot file reads as a tag without the tag fields.
	back, err = DecodeTag(EncodeSnapshot(&snap))
	if err != nil || back.CreateTime != nil || back.TimeRetained != nil {
		t.Errorf("snapshot as tag: %v %+v", err, back)
	}
}

// TestTagAgainstJava compares DecodeTag/EncodeTag with Jackson's binding of
// Java's Tag (Tag.fromJson then toJson) on the recorded cases.
func TestTagAgainstJava(t *testing.T) {
	in, out := readOracle(t, "tags")
	for i, line := range in {
		java := out[i]
		ours, err := DecodeTag([]byte(line))
		if strings.HasPrefix(java, "ERR ") {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("line %d: Java rejects it (%s), Strata: %v", i+1, java, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("line %d: Java reads it but Strata fails: %v", i+1, err)
			continue
		}
		if got := string(EncodeTag(ours)); got != java {
			t.Errorf("line %d: Strata writes\n%s\nJava writes\n%s", i+1, got, java)
		}
		back, err := DecodeTag([]byte(java))
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
		} else if string(EncodeTag(back)) != java {
			t.Errorf("line %d: re-encoding Java's output differs", i+1)
		}
	}
}

// TestTagDurations covers what the oracle leaves out: values where Strata
// deliberately differs from Jackson (negative fractions, which Jackson
// reads a second too high; values beyond time.Duration, which Strata
// clamps), and the text of durations no JSON input above produces.
func TestTagDurations(t *testing.T) {
	for _, tc := range []struct {
		json string
		want time.Duration
	}{
		{"-1.5", -1500 * time.Millisecond},
		{"-0.000000001", -1},
		{"5.0000000019", 5*time.Second + 1},
		{"1e400", math.MaxInt64},
		{"-1e400", math.MinInt64},
		{"1e-400", 0},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036.854775807", math.MaxInt64},
		{"9223372036.854775808", math.MaxInt64},
		{"1e99999999999999999999", math.MaxInt64},
		{`"PT-1.5S"`, -1500 * time.Millisecond},
		{`"-PT1H-30M"`, -30 * time.Minute},
		{`"P1DT2H3M4,5S"`, 26*time.Hour + 3*time.Minute + 4500*time.Millisecond},
		{`"pt0.000000001s"`, 1},
		{`"P200000D"`, math.MaxInt64},
	} {
		tag, err := DecodeTag([]byte(`{"id":1,"tagTimeRetained":` + tc.json + `}`))
		if err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if tag.TimeRetained == nil || *tag.TimeRetained != tc.want {
			t.Errorf("%s: got %v, want %v", tc.json, tag.TimeRetained, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "0.0", 1: "1E-9", 123: "1.23E-7", 100: "1.00E-7", 999: "9.99E-7", 1000: "0.000001000",
		-1: "-1E-9", -1500 * time.Millisecond: "-1.500000000", time.Second: "1.000000000",
		math.MaxInt64: "9223372036.854775807", math.MinInt64: "-9223372036.854775808",
	} {
		if got := string(appendJacksonDuration(nil, d)); got != want {
			t.Errorf("%d: got %s, want %s", d, got, want)
		}
	}
}

func TestDecodeTagErrors(t *testing.T) {
	for _, extra := range []string{
		`"tagCreateTime":[2024,1,2,3]`, `"tagCreateTime":[2024,1,2,3,4,5,6,7]`,
		`"tagCreateTime":[2024,2,30,0,0]`, `"tagCreateTime":[2024,1,2,3,4,5.5]`,
		`"tagCreateTime":["2024",1,2,3,4]`, `"tagCreateTime":[99999999999,1,2,3,4]`,
		`"tagCreateTime":{}`, `"tagCreateTime":12345`, `"tagCreateTime":"yesterday"`,
		`"tagTimeRetained":true`, `"tagTimeRetained":[1]`, `"tagTimeRetained":"PT"`,
		`"tagTimeRetained":"P"`, `"tagTimeRetained":"PT1.5"`, `"tagTimeRetained":"5"`,
		`"id":"x"`,
	} {
		in := `{"id":1,` + extra + `}`
		if _, err := DecodeTag([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", in, err)
		}
	}
	for _, in := range []string{``, `[]`, `{`, `{"id":1}x`} {
		if _, err := DecodeTag([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: got %v, want ErrCorrupt", in, err)
		}
	}
}

// FuzzDecodeTag checks that DecodeTag never panics and that what it
// accepts re-encodes to a fixed point.
func FuzzDecodeTag(f *testing.F) {
	in, _ := readOracleLines(filepath.Join("testdata", "oracle", "tags.in"))
	for _, l := range in {
		f.Add([]byte(l))
	}
	for _, p := range goldenFiles(f, "snapshot-") {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := DecodeTag(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc := EncodeTag(tag)
		back, err := DecodeTag(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if enc2 := EncodeTag(back); !bytes.Equal(enc, enc2) {
			t.Fatalf("not a fixed point:\n%s\n%s", enc, enc2)
		}
	})
}
