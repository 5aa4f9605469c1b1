package table

import (
	"context"
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// dynamic-bucket.max-buckets below the number of assigners: assigner 1 of 2
// with max-buckets 1 owns no bucket, and its first key panics (rng.IntN(0)).
func TestMaxBucketsFewerThanAssigners(t *testing.T) {
	ctx := context.Background()
	fields, _ := spec.ParseColumns("id BIGINT NOT NULL, v STRING")
	sc, _ := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "-1", "dynamic-bucket.max-buckets", "1"), nil)
	tb, err := Create(ctx, storage.NewMemory(), "db.db/mb", sc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tb.NewWrite(ctx, WithAssigner(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	if err := w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "v"}); !errors.Is(err, spec.ErrInvalidSchema) {
		t.Fatalf("assigner without buckets: %v, want ErrInvalidSchema", err)
	}
}
