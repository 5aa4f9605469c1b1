package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// A partitioned table: rows land in Paimon-named partition directories,
// upserts and deletes stay within their partition, compaction works per
// partition-bucket, and partition-filtered scans return exactly that
// partition.
func TestPartitionedTable(t *testing.T) {
	ctx := context.Background()
	fs := storage.NewMemory()
	fields, _ := spec.ParseColumns("dt STRING NOT NULL, region INT NOT NULL, id BIGINT NOT NULL, v STRING")
	sc, err := spec.NewSchema(fields, []string{"dt", "region"}, []string{"dt", "region", "id"},
		spec.NewStringMap("bucket", "2", "num-sorted-run.compaction-trigger", "2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Create(ctx, fs, "db.db/p", sc)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		dt     string
		region int32
		id     int64
	}
	model := map[key]spec.Row{}
	rng := rand.New(rand.NewPCG(4, 4))
	days := []string{"2024-01-01", "2024-01-02", "a/b:c"}
	for c := 0; c < 6; c++ {
		w, _ := tb.NewWrite(ctx)
		for i := 0; i < 200; i++ {
			k := key{days[rng.IntN(3)], int32(rng.IntN(2)), rng.Int64N(50)}
			row := spec.Row{k.dt, k.region, k.id, fmt.Sprint(c, "-", i)}
			kind := spec.RowKindInsert
			if rng.IntN(5) == 0 {
				kind = spec.RowKindDelete
				delete(model, k)
			} else {
				model[k] = row
			}
			if err := w.WriteRow(ctx, kind, row); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tb.NewCommit("p").Commit(ctx, int64(c), msgs); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	all := scanAll(t, tb)
	if len(all) != len(model) {
		t.Fatalf("%d rows, model has %d", len(all), len(model))
	}
	for _, r := range all {
		if m := model[key{r[0].(string), r[1].(int32), r[2].(int64)}]; spec.CompareRows(m, r) != 0 {
			t.Fatalf("row %v, model %v", r, m)
		}
	}
	for _, d := range days {
		rows := scanAll(t, tb, WithPartition(map[string]any{"dt": d, "region": int32(1)}))
		want := 0
		for k := range model {
			if k.dt == d && k.region == 1 {
				want++
			}
		}
		if len(rows) != want {
			t.Fatalf("partition %s/1: %d rows, want %d", d, len(rows), want)
		}
		for _, r := range rows {
			if r[0] != d || r[1] != int32(1) {
				t.Fatalf("partition %s/1 returned %v", d, r)
			}
		}
	}
	if rows := scanAll(t, tb, WithPartition(map[string]any{"dt": "1999-01-01"})); len(rows) != 0 {
		t.Fatalf("absent partition: %v", rows)
	}
	if _, err := tb.NewScan(WithPartition(map[string]any{"region": "x"})).Plan(ctx); err == nil {
		t.Fatal("a string for an INT partition accepted")
	}
	// Directories are named as Java names them, with escaping.
	infos, _ := fs.List(ctx, "db.db/p", false)
	var dirs []string
	for _, fi := range infos {
		if fi.IsDir {
			dirs = append(dirs, fi.Path[len("db.db/p/"):])
		}
	}
	got := strings.Join(dirs, " ")
	for _, want := range []string{"dt=2024-01-01", "dt=a%2Fb%3Ac"} {
		if !strings.Contains(got, want) {
			t.Fatalf("directories %q lack %q", got, want)
		}
	}
	sub, _ := fs.List(ctx, "db.db/p/dt=2024-01-01", false)
	if len(sub) == 0 || !strings.HasPrefix(sub[0].Path, "db.db/p/dt=2024-01-01/region=") {
		t.Fatalf("second level: %v", sub)
	}
}
