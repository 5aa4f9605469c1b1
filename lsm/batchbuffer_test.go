package lsm

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratalake/strata/internal/arrowconv"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var columnarSeed = flag.Uint64("columnar.seed", 0, "replay the columnar model tests with this seed")

func columnarRNG(t testing.TB) *rand.Rand {
	seed := *columnarSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with -columnar.seed=%d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, 11))
}

// columnarShape is a table shape the columnar tests run on.
type columnarShape struct {
	name, columns string
	keys          []string
}

var columnarShapes = []columnarShape{
	{"bigint-key", "id BIGINT NOT NULL, s STRING, d DOUBLE, n INT", []string{"id"}},
	{"composite-key", "a STRING NOT NULL, b INT NOT NULL, v STRING, dec DECIMAL(20, 2), ts TIMESTAMP(6), arr ARRAY<INT>, f FLOAT, ok BOOLEAN, dt DATE, bin BYTES", []string{"a", "b"}},
	{"double-key", "k DOUBLE NOT NULL, v BIGINT", []string{"k"}},
}

type columnarFixture struct {
	fields []spec.DataField
	layout *FileLayout
	rng    *rand.Rand
	keys   int
}

func newColumnarFixture(t *testing.T, sh columnarShape, rng *rand.Rand) *columnarFixture {
	fields, err := spec.ParseColumns(sh.columns)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, nil, sh.keys, spec.NewStringMap(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := spec.ParseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewFileLayout(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &columnarFixture{fields: fields, layout: l, rng: rng, keys: 1 + rng.IntN(300)}
}

// value is a random value of type t; key values come from a small space so
// that keys repeat.
func (f *columnarFixture) value(t spec.DataType, key bool) any {
	rng := f.rng
	if !key && t.Nullable && rng.IntN(6) == 0 {
		return nil
	}
	k := rng.IntN(f.keys)
	switch t.Root {
	case spec.TypeBigInt:
		if key {
			return int64(k) - 100
		}
		return rng.Int64() - math.MaxInt64/2
	case spec.TypeInt:
		if key {
			return int32(k % 7)
		}
		return int32(rng.Uint32())
	case spec.TypeVarChar:
		if key {
			return fmt.Sprintf("k%03d", k/7)
		}
		return string(rune('a'+rng.IntN(26))) + fmt.Sprint(rng.IntN(1e6)) + "-a-string-longer-than-sixteen"[:rng.IntN(28)]
	case spec.TypeDouble:
		if key {
			return float64(k)/4 - 10
		}
		return []float64{math.NaN(), math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), rng.NormFloat64()}[rng.IntN(6)]
	case spec.TypeFloat:
		return float32(rng.NormFloat64())
	case spec.TypeDecimal:
		return spec.NewDecimal(rng.Int64N(1e12)-5e11, 2)
	case spec.TypeTimestamp:
		return spec.Timestamp{Millis: rng.Int64N(1e12), NanoOfMilli: int32(rng.IntN(1000)) * 1000}
	case spec.TypeArray:
		return []any{int32(rng.IntN(5)), nil}
	case spec.TypeBoolean:
		return rng.IntN(2) == 0
	case spec.TypeDate:
		return spec.Date(rng.IntN(30000))
	case spec.TypeVarBinary:
		return []byte{byte(rng.IntN(256)), byte(rng.IntN(256))}
	}
	panic(fmt.Sprintf("no generator for %s", t))
}

func (f *columnarFixture) record(seq int64) *KeyValue {
	row := make(spec.Row, len(f.fields))
	for i, fl := range f.fields {
		row[i] = f.value(fl.Type, slices.Contains(f.layout.KeyIndex, i))
	}
	kind := spec.RowKindInsert
	if f.rng.IntN(5) == 0 {
		kind = []spec.RowKind{spec.RowKindUpdateBefore, spec.RowKindUpdateAfter, spec.RowKindDelete}[f.rng.IntN(3)]
	}
	return &KeyValue{Key: f.layout.KeyOf(row), Seq: seq, Kind: kind, Value: row, Level: -1}
}

// batchKVs turns BatchRun batches back into records.
func batchKVs(t *testing.T, l *FileLayout, run BatchRun) []*KeyValue {
	t.Helper()
	var out []*KeyValue
	for rec, err := range run {
		if err != nil {
			t.Fatal(err)
		}
		for r := range int(rec.NumRows()) {
			row := make(spec.Row, len(l.ValueFields))
			for j, fl := range l.ValueFields {
				v, err := arrowconv.Value(rec.Column(2+j), r, fl.Type)
				if err != nil {
					t.Fatal(err)
				}
				row[j] = v
			}
			out = append(out, &KeyValue{Key: l.KeyOf(row), Seq: rec.Column(0).(*array.Int64).Value(r),
				Kind: spec.RowKind(rec.Column(1).(*array.Int8).Value(r)), Value: row})
		}
		rec.Release()
	}
	return out
}

func sameKVs(t *testing.T, what string, got, want []*KeyValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Kind != w.Kind || spec.CompareRows(g.Value, w.Value) != 0 || !sameNulls(g.Value, w.Value) {
			t.Fatalf("%s: record %d is %v %d %v, want %v %d %v", what, i, g.Kind, g.Seq, g.Value, w.Kind, w.Seq, w.Value)
		}
	}
}

func sameNulls(a, b spec.Row) bool {
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
	}
	return true
}

// The columnar buffer flushes what the record buffer flushes, records
// added one at a time and as batches alike.
func TestBatchBufferMatchesBuffer(t *testing.T) {
	rng := columnarRNG(t)
	for _, sh := range columnarShapes {
		t.Run(sh.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f := newColumnarFixture(t, sh, rng)
			bb, err := NewBatchBuffer(mem, f.fields, f.layout.KeyIndex, 7)
			if err != nil {
				t.Fatal(err)
			}
			defer bb.Release()
			for round := range 3 {
				ref := NewBuffer(bb.NextSeq())
				n := rng.IntN(2000)
				for seq, end := bb.NextSeq(), bb.NextSeq()+int64(n); seq < end; {
					if rng.IntN(2) == 0 {
						kv := f.record(seq)
						ref.Add(kv, 1)
						if err := bb.AddRow(kv.Kind, kv.Value); err != nil {
							t.Fatal(err)
						}
						seq++
						continue
					}
					// A batch of which a random selection is buffered.
					m := rng.IntN(50)
					b, err := arrowconv.NewBuilder(mem, f.fields)
					if err != nil {
						t.Fatal(err)
					}
					var kinds []int8
					sel := []int32{} // not nil: nil selects every row
					all := rng.IntN(3) == 0
					for r := range m {
						kv := f.record(seq)
						if err := b.Append(kv.Value); err != nil {
							t.Fatal(err)
						}
						kinds = append(kinds, int8(kv.Kind))
						if all || rng.IntN(2) == 0 {
							sel = append(sel, int32(r))
							ref.Add(kv, 1)
							seq++
						}
					}
					rec := b.NewBatch()
					b.Release()
					if all {
						sel = nil
					}
					if err := bb.AddBatch(rec.Columns(), sel, kinds); err != nil {
						t.Fatal(err)
					}
					rec.Release()
				}
				want, err := ref.Drain(&Deduplicate{})
				if err != nil {
					t.Fatal(err)
				}
				got := batchKVs(t, f.layout, bb.Deduplicated())
				sameKVs(t, fmt.Sprintf("round %d", round), got, want)
				bb.Reset()
			}
		})
	}
}

// sortedRuns splits records into k sorted runs of distinct keys (as a
// level's files hold them), each cut into batches of random sizes.
func sortedRuns(t *testing.T, mem memory.Allocator, f *columnarFixture, kvs []*KeyValue, k int) ([][]*KeyValue, []BatchRun) {
	runs := make([][]*KeyValue, k)
	for _, kv := range kvs {
		i := f.rng.IntN(k)
		if slices.ContainsFunc(runs[i], func(o *KeyValue) bool { return CompareKeys(o.Key, kv.Key) == 0 }) {
			continue
		}
		runs[i] = append(runs[i], kv)
	}
	schema, err := arrowconv.Schema(append(parquetio.SystemFields(), f.fields...))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]BatchRun, k)
	for i := range runs {
		slices.SortFunc(runs[i], func(a, b *KeyValue) int { return CompareKeys(a.Key, b.Key) })
		var batches []arrow.RecordBatch
		for rest := runs[i]; len(rest) > 0; {
			n := min(len(rest), 1+f.rng.IntN(40))
			b, err := arrowconv.NewBuilder(mem, append(parquetio.SystemFields(), f.fields...))
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range rest[:n] {
				if err := b.Append(append(spec.Row{kv.Seq, int8(kv.Kind)}, kv.Value...)); err != nil {
					t.Fatal(err)
				}
			}
			rec := b.NewBatch()
			b.Release()
			batches = append(batches, array.NewRecordBatch(schema, rec.Columns(), rec.NumRows()))
			rec.Release()
			rest = rest[n:]
		}
		out[i] = func(yield func(arrow.RecordBatch, error) bool) {
			for j, rec := range batches {
				if !yield(rec, nil) {
					for _, r := range batches[j+1:] {
						r.Release()
					}
					return
				}
			}
		}
	}
	return runs, out
}

// Column-wise compaction merges produce what the record merge produces.
func TestMergeBatchesMatchesMergeRuns(t *testing.T) {
	rng := columnarRNG(t)
	ctx := context.Background()
	for _, sh := range columnarShapes {
		for _, dropDelete := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/drop=%v", sh.name, dropDelete), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				f := newColumnarFixture(t, sh, rng)
				var kvs []*KeyValue
				for seq := range int64(rng.IntN(3000)) {
					kvs = append(kvs, f.record(seq))
				}
				rows, runs := sortedRuns(t, mem, f, kvs, 1+rng.IntN(6))
				rowRuns := make([]Run, len(rows))
				for i, r := range rows {
					rowRuns[i] = SliceRun(r)
				}
				var want []*KeyValue
				for kv, err := range MergeRuns(rowRuns, NewReducer(&Deduplicate{})) {
					if err != nil {
						t.Fatal(err)
					}
					if dropDelete && kv.Kind.IsRetract() {
						continue
					}
					want = append(want, kv)
				}
				schema, err := arrowconv.Schema(append(parquetio.SystemFields(), f.fields...))
				if err != nil {
					t.Fatal(err)
				}
				keyCols := make([]int, len(f.layout.KeyIndex))
				for i, j := range f.layout.KeyIndex {
					keyCols[i] = 2 + j
				}
				got := batchKVs(t, f.layout, MergeBatches(ctx, mem, schema, runs, keyCols, f.layout.KeyTypes(), dropDelete))
				sameKVs(t, "merge", got, want)
			})
		}
	}
}

// Files written from batches describe themselves as files written from
// records do: row counts, keys, sequence numbers and column statistics.
func TestWriteBatchesMatchesWriteSeq(t *testing.T) {
	rng := columnarRNG(t)
	ctx := context.Background()
	for _, sh := range columnarShapes {
		t.Run(sh.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f := newColumnarFixture(t, sh, rng)
			var kvs []*KeyValue
			for seq := range int64(1 + rng.IntN(3000)) {
				kvs = append(kvs, f.record(seq))
			}
			rows, runs := sortedRuns(t, mem, f, kvs, 1)
			fs := storage.NewMemory()
			target := int64(1 + rng.IntN(64<<10))
			if rng.IntN(2) == 0 {
				target = 1 << 30
			}
			want, err := NewFileWriter(fs, "b", "data-", f.layout, target).Write(ctx, rows[0], 3, spec.FileSourceCompact)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewFileWriter(fs, "b", "data-", f.layout, target).WriteBatches(ctx, runs[0], 3, spec.FileSourceCompact)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || len(want) == 0 {
				t.Fatalf("%d and %d files", len(got), len(want))
			}
			// Files roll at slightly different rows; the first describes
			// the same rows when both hold all of them.
			if len(got) == 1 && len(want) == 1 {
				g, w := got[0], want[0]
				g.FileName, g.FileSize, g.CreationTime = w.FileName, w.FileSize, w.CreationTime
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("batch file meta\n%+v\nrecord file meta\n%+v", g, w)
				}
			}
			var n int64
			for _, m := range got {
				n += m.RowCount
			}
			if n != int64(len(rows[0])) {
				t.Fatalf("%d rows written, want %d", n, len(rows[0]))
			}
		})
	}
}
