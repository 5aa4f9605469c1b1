package spec

import (
	"errors"
	"os"
	"regexp"
	"testing"
)

// FuzzParseOptions parses a table's options (the option map of a schema
// file, which Java or a hand may have written) with one fuzzed key and
// value, then validates a table with it: no panic, and every refusal wraps
// ErrInvalidOption or ErrInvalidSchema. Seeds: every option key options.go
// declares, with typical values.
func FuzzParseOptions(f *testing.F) {
	src, err := os.ReadFile("options.go")
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`Opt\w+\s*=\s*"([a-z0-9.\-]+)"`).FindAllSubmatch(src, -1) {
		for _, v := range []string{"1", "10 mb"} {
			f.Add(string(m[1]), v)
		}
	}
	fields, err := ParseColumns("k BIGINT NOT NULL, v STRING, n INT")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if _, err := ParseOptions(map[string]string{key: value}); err != nil && !errors.Is(err, ErrInvalidOption) {
			t.Fatalf("ParseOptions(%q=%q): %v does not wrap ErrInvalidOption", key, value, err)
		}
		s, err := NewSchema(fields, nil, []string{"k"}, NewStringMap(key, value), nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidOption) && !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("NewSchema(%q=%q): %v", key, value, err)
			}
			return
		}
		if _, err := s.ValidateCreate(); err != nil && !errors.Is(err, ErrInvalidOption) && !errors.Is(err, ErrInvalidSchema) {
			t.Fatalf("ValidateCreate(%q=%q): %v", key, value, err)
		}
		if err := s.Validate(); err != nil && !errors.Is(err, ErrInvalidOption) && !errors.Is(err, ErrInvalidSchema) {
			t.Fatalf("Validate(%q=%q): %v", key, value, err)
		}
	})
}

// FuzzReadDVIndexFile reads a deletion-vector index file through the
// metadata an index manifest gives (offset, length, cardinality): a vector
// or an error wrapping ErrCorrupt, never a panic, and a vector read holds
// the cardinality the metadata says.
func FuzzReadDVIndexFile(f *testing.F) {
	f.Add(dvIndex32, int32(1), int32(24), int64(-1))
	f.Add(dvIndex32, int32(33), int32(22), int64(2))
	f.Add(dvIndex64, int32(1), int32(44), int64(-1))
	f.Add([]byte{1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0}, int32(1), int32(4), int64(0))
	f.Fuzz(func(t *testing.T, file []byte, offset, length int32, card int64) {
		meta := DeletionVectorMeta{DataFile: "data-0.parquet", Offset: offset, Length: length}
		if card >= 0 {
			meta.Cardinality = &card
		}
		dvs, err := ReadDVIndexFile(file, []DeletionVectorMeta{meta})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		dv := dvs[meta.DataFile]
		if dv == nil {
			t.Fatal("no vector and no error")
		}
		if card >= 0 && dv.Cardinality() != card {
			t.Fatalf("cardinality %d, metadata %d", dv.Cardinality(), card)
		}
	})
}
