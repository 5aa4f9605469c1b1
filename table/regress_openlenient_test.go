package table

import (
	"context"
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Create is strict, opening is not: a table another engine wrote with keys
// Strata does not know, or with values Create would refuse, still opens.
func TestOpenToleratesWhatCreateRefuses(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, err := spec.ParseColumns("id INT NOT NULL, v STRING")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(
		"bucket", "2", "flink.custom.key", "x", "merge_engine", "first-row",
		"file.suffix.include.compression", "true", "write-buffer-spill.max-disk-size", "0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(sc); !errors.Is(err, spec.ErrInvalidSchema) {
		t.Fatalf("Validate: %v, want a refusal", err)
	}
	if _, err := Create(ctx, fs, "db.db/t", sc); !errors.Is(err, spec.ErrInvalidSchema) {
		t.Fatalf("Create: %v, want a refusal", err)
	}
	// Written as another engine would write it.
	if err := newSchemas(fs, "db.db/t").create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(ctx, fs, "db.db/t")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if v := tb.Options().Raw["flink.custom.key"]; v != "x" {
		t.Errorf("unknown key lost: %q", v)
	}
}
