package table

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/predicate"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

var filterSeed = flag.Uint64("filter.seed", 0, "TestFilterModel: replay this seed (default: drawn)")

// filterColumns have every type a filter compares, and nested ones.
const filterColumns = "dt STRING NOT NULL, id INT NOT NULL, t TINYINT, sm SMALLINT, i INT, bi BIGINT, " +
	"f FLOAT, db DOUBLE, d DECIMAL(6, 2), dl DECIMAL(25, 3), s STRING, bin BYTES, b BOOLEAN, " +
	"day DATE, ts TIMESTAMP(3), ts6 TIMESTAMP(6), ltz TIMESTAMP(3) WITH LOCAL TIME ZONE, arr ARRAY<INT>"

// filterTables are the table kinds of TestFilterModel: name, primary key?,
// options.
var filterTables = []struct {
	name    string
	pk      bool
	deletes bool
	opts    []string
}{
	{"fixed", true, true, []string{"bucket", "2"}},
	{"fixed-one-bucket", true, true, []string{"bucket", "1"}},
	{"dynamic", true, true, []string{"bucket", "-1"}},
	{"deletion-vectors", true, true, []string{"bucket", "2", "deletion-vectors.enabled", "true"}},
	{"first-row", true, false, []string{"bucket", "2", "merge-engine", "first-row"}},
	{"partial-update", true, false, []string{"bucket", "2", "merge-engine", "partial-update"}},
	{"aggregation", true, false, []string{"bucket", "2", "merge-engine", "aggregation", "fields.i.aggregate-function", "sum", "fields.bi.aggregate-function", "max"}},
	{"append", false, false, []string{"bucket", "-1"}},
	{"append-fixed", false, false, []string{"bucket", "2", "bucket-key", "id"}},
}

var statsModes = []string{"none", "counts", "truncate(2)", "full", "truncate(16)"}

// TestFilterModel is the filter acceptance test: for random data (every
// column type, nulls, several commits so buckets hold several sorted runs,
// some compacted) and random predicates, a filtered scan returns exactly
// the rows of an unfiltered scan that the predicate keeps, for every kind
// of table and stats mode; and the counters show pruning happened.
func TestFilterModel(t *testing.T) {
	seed := *filterSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -filter.seed=%d)", seed, seed)
	fields, err := spec.ParseColumns(filterColumns)
	if err != nil {
		t.Fatal(err)
	}
	skipped := ScanStats{}
	for ti, kind := range filterTables {
		rng := rand.New(rand.NewPCG(seed, uint64(ti)))
		mode := statsModes[rng.IntN(len(statsModes))]
		t.Run(kind.name+"/"+mode, func(t *testing.T) {
			ctx := context.Background()
			var pk []string
			if kind.pk {
				pk = []string{"dt", "id"}
			}
			opts := append([]string{"metadata.stats-mode", mode, "num-sorted-run.compaction-trigger", "6"}, kind.opts...)
			if rng.IntN(2) == 0 {
				// Sparse stats: one column without, written as _VALUE_STATS_COLS.
				opts = append(opts, "fields.s.stats-mode", "none")
			}
			sc, err := spec.NewSchema(fields, []string{"dt"}, pk, spec.NewStringMap(opts...), nil)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Create(ctx, storage.NewMemory(), "db.db/f", sc)
			if err != nil {
				t.Fatal(err)
			}
			g := &filterGen{rng: rng, fields: fields}
			commits := 3 + rng.IntN(3)
			for c := 0; c < commits; c++ {
				var cs []change
				for n := 10 + rng.IntN(40); n > 0; n-- {
					row := g.row()
					kindOf := spec.RowKindInsert
					if kind.deletes && rng.IntN(8) == 0 {
						kindOf = spec.RowKindDelete
					}
					cs = append(cs, change{kindOf, row})
				}
				msgs := writeAll(t, tb, cs, kind.pk && rng.IntN(3) == 0)
				if _, err := tb.NewCommit("w").Commit(ctx, int64(c), msgs); err != nil {
					t.Fatal(err)
				}
			}
			all := scanAll(t, tb)
			rounds := 40
			if testing.Short() {
				rounds = 10
			}
			for round := 0; round < rounds; round++ {
				p := g.pred(3)
				if round%8 == 0 && len(all) > 0 {
					// A key equality now and then, so that fixed-bucket
					// tables prune buckets whatever the seed.
					id := all[g.rng.IntN(len(all))][1]
					p = predicate.And(predicate.Equal("id", id), g.pred(2))
				}
				b, err := predicate.Bind(p, fields)
				if err != nil {
					t.Fatalf("seed %d: Bind(%s): %v", seed, p, err)
				}
				var want []spec.Row
				for _, r := range all {
					if b.Eval(r) {
						want = append(want, r)
					}
				}
				s := tb.NewScan(WithFilter(p))
				var got []spec.Row
				for r, err := range s.Rows(ctx) {
					if err != nil {
						t.Fatalf("seed %d: %s: %v", seed, p, err)
					}
					got = append(got, r)
				}
				slices.SortFunc(got, spec.CompareRows)
				slices.SortFunc(want, spec.CompareRows)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("seed %d: filter %s\nscan: %d rows %v\nfull scan filtered: %d rows %v", seed, p, len(got), got, len(want), want)
				}
				// The columnar path (row groups and pages pruned, Filter on
				// batches) returns the same rows.
				cs := tb.NewScan(WithFilter(p), WithBatchRows(61), WithParallelism(2))
				if batch := scanBatchesAsRows(t, cs); len(batch) != len(got) {
					t.Fatalf("seed %d: filter %s: columnar scan %d rows, row scan %d (stats %+v)", seed, p, len(batch), len(got), cs.Stats())
				}
				skipped.RowGroupsSkipped += cs.Stats().RowGroupsSkipped
				checkBatchesMatchRows(t, tb, got, WithFilter(p))
				if round%10 == 0 {
					// The Records adapter filters the same rows.
					rr, err := tb.NewScan(WithFilter(p)).Records(ctx, 7)
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for rr.Next() {
						n += int(rr.RecordBatch().NumRows())
					}
					if err := rr.Err(); err != nil || n != len(want) {
						t.Fatalf("seed %d: %s: Records gave %d rows (%v), want %d", seed, p, n, err, len(want))
					}
					rr.Release()
				}
				st := s.Stats()
				if st.RowsReturned != int64(len(want)) || st.RowsRead < st.RowsReturned || st.FilesRead != st.FilesPlanned {
					t.Fatalf("seed %d: %s: stats %+v for %d rows", seed, p, st, len(want))
				}
				skipped.ManifestsSkipped += st.ManifestsSkipped
				skipped.FilesSkippedPartition += st.FilesSkippedPartition
				skipped.FilesSkippedBucket += st.FilesSkippedBucket
				skipped.FilesSkippedKeyStats += st.FilesSkippedKeyStats
				skipped.FilesSkippedValueStats += st.FilesSkippedValueStats
			}
		})
	}
	t.Logf("pruned over all tables: %+v", skipped)
	if skipped.FilesSkippedPartition == 0 || skipped.FilesSkippedBucket == 0 || skipped.FilesSkippedKeyStats == 0 ||
		skipped.FilesSkippedValueStats == 0 || skipped.RowGroupsSkipped == 0 {
		t.Errorf("seed %d: some pruning never happened: %+v", seed, skipped)
	}
}

type filterGen struct {
	rng    *rand.Rand
	fields []spec.DataField
}

var filterStrings = []string{"", "a", "ab", "abc", "abd", "b", "é", "éa", "zz", "\U0010ffff"}

// value draws from small domains so that filters hit and keys repeat.
func (g *filterGen) value(t spec.DataType, name string) any {
	r := g.rng
	switch name {
	case "dt":
		return []string{"2024-01-01", "2024-01-02", "2024-01-03"}[r.IntN(3)]
	case "id":
		return int32(r.IntN(30))
	}
	if r.IntN(6) == 0 {
		return nil
	}
	switch t.Root {
	case spec.TypeTinyInt:
		return []int8{math.MinInt8, -1, 0, 1, 2, math.MaxInt8}[r.IntN(6)]
	case spec.TypeSmallInt:
		return int16(r.IntN(7) - 3)
	case spec.TypeInt:
		return int32(r.IntN(9) - 4)
	case spec.TypeBigInt:
		return []int64{math.MinInt64, -2, 0, 1, 2, 1 << 40, math.MaxInt64}[r.IntN(7)]
	case spec.TypeFloat:
		return float32([]float64{math.NaN(), math.Inf(-1), -1.5, math.Copysign(0, -1), 0, 0.1, 2}[r.IntN(7)])
	case spec.TypeDouble:
		return []float64{math.NaN(), math.Inf(1), -1.5, math.Copysign(0, -1), 0, 0.1, 2}[r.IntN(7)]
	case spec.TypeDecimal:
		if t.Precision > 20 && r.IntN(3) == 0 {
			return spec.Decimal{Unscaled: new(big.Int).Mul(big.NewInt(int64(r.IntN(21)-10)), new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)), Scale: t.Scale}
		}
		return spec.NewDecimal(int64(r.IntN(2001)-1000), t.Scale)
	case spec.TypeVarChar:
		return filterStrings[r.IntN(len(filterStrings))] + filterStrings[r.IntN(len(filterStrings))]
	case spec.TypeVarBinary:
		return []byte(filterStrings[r.IntN(len(filterStrings))])
	case spec.TypeBoolean:
		return r.IntN(2) == 0
	case spec.TypeDate:
		return spec.Date(19700 + r.IntN(6))
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		unit := int64(1_000_000)
		if t.Precision > 3 {
			unit = 1000
		}
		ns := int64(r.IntN(6)) * unit
		return spec.Timestamp{Millis: 1_700_000_000_000 + ns/1_000_000, NanoOfMilli: int32(ns % 1_000_000)}
	case spec.TypeArray:
		return []any{int32(r.IntN(3)), nil}
	}
	panic(t.String())
}

func (g *filterGen) row() spec.Row {
	row := make(spec.Row, len(g.fields))
	for i, f := range g.fields {
		row[i] = g.value(f.Type, f.Name)
	}
	return row
}

// literal draws a literal for a column: mostly from the data's domain,
// sometimes a number between its values or out of its range.
func (g *filterGen) literal(f spec.DataField) any {
	r := g.rng
	switch f.Type.Root {
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt, spec.TypeDecimal:
		if r.IntN(4) == 0 {
			return []any{2.5, -0.5, 300, spec.NewDecimal(int64(r.IntN(2001)-1000), 3), int64(math.MaxInt64)}[r.IntN(5)]
		}
	}
	for {
		if v := g.value(f.Type, f.Name); v != nil {
			return v
		}
	}
}

func (g *filterGen) pred(depth int) predicate.Predicate {
	r := g.rng
	if depth > 0 && r.IntN(5) < 2 {
		switch r.IntN(4) {
		case 0, 1:
			return predicate.And(g.pred(depth-1), g.pred(depth-1))
		case 2:
			return predicate.Or(g.pred(depth-1), g.pred(depth-1))
		}
		return predicate.Not(g.pred(depth - 1))
	}
	f := g.fields[r.IntN(len(g.fields))]
	if f.Type.Root == spec.TypeArray || r.IntN(12) == 0 {
		if r.IntN(2) == 0 {
			return predicate.IsNull(f.Name)
		}
		return predicate.IsNotNull(f.Name)
	}
	switch r.IntN(8) {
	case 0:
		vs := make([]any, 1+r.IntN(3))
		for i := range vs {
			vs[i] = g.literal(f)
		}
		return predicate.In(f.Name, vs...)
	case 1:
		if f.Type.Root == spec.TypeVarChar {
			return predicate.StartsWith(f.Name, filterStrings[1+r.IntN(len(filterStrings)-1)])
		}
	}
	v := g.literal(f)
	switch r.IntN(6) {
	case 0:
		return predicate.Equal(f.Name, v)
	case 1:
		return predicate.NotEqual(f.Name, v)
	case 2:
		return predicate.LessThan(f.Name, v)
	case 3:
		return predicate.LessOrEqual(f.Name, v)
	case 4:
		return predicate.GreaterThan(f.Name, v)
	}
	return predicate.GreaterOrEqual(f.Name, v)
}
