package table

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// TestCorruptLookupFiles damages the local lookup files (lookupfile's
// sstables) of a table lookup and of a writer whose compactions look keys
// up (changelog-producer=lookup with deletion vectors): truncated, or bits
// flipped, while the files are open and in use. The block cache is one
// byte, so the files are read from disk, not held in memory. Every lookup
// must still answer as the table says, and the writer's snapshots and
// changelog must be those of an undamaged writer: a damaged file is found
// by its block checksums, dropped and built again from the data file.
// Seeded like TestCorruptFiles (-corrupt.seed); -corrupt.all runs ten times
// the rounds.
func TestCorruptLookupFiles(t *testing.T) {
	seed := *corruptSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -corrupt.seed=%d)", seed, seed)
	rounds := 20
	if *corruptAll {
		rounds = 200
	}
	pristine := t.TempDir()
	buildCorruptFixture(t, pristine, rand.New(rand.NewPCG(seed, 1)), "lookup.cache-max-memory-size", "1 b")
	tree := readTree(t, pristine)
	ctx := context.Background()

	t.Run("lookup", func(t *testing.T) {
		tb, err := Open(ctx, memWarehouse(t, tree, "", nil), corruptTable)
		if err != nil {
			t.Fatal(err)
		}
		want, err := scanRows(ctx, tb.NewScan())
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		l, err := tb.NewLookup(ctx, WithRefreshInterval(0), WithLookupCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		rng := rand.New(rand.NewPCG(seed, 2))
		var keys []spec.Row
		for _, dt := range []string{"a", "b"} {
			for id := range int64(corruptIDs + 5) {
				keys = append(keys, spec.Row{dt, id})
			}
		}
		check := func(round int, what string) {
			t.Helper()
			res, err := l.GetBatch(ctx, keys)
			if err != nil {
				t.Fatalf("round %d (%s): %v", round, what, err)
			}
			got := map[string]string{}
			for i, r := range res.Rows {
				if r != nil {
					got[rowKey(keys[i])] = fmt.Sprint(r)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d (%s): lookup answers differ from the scan in keys %v", round, what, diffKeys(got, want))
			}
			k := keys[rng.IntN(len(keys))]
			r, err := l.Get(ctx, k)
			if err != nil {
				t.Fatalf("round %d (%s): Get(%v): %v", round, what, k, err)
			}
			if w, ok := want[rowKey(k)]; ok != (r != nil) || ok && fmt.Sprint(r) != w {
				t.Fatalf("round %d (%s): Get(%v) = %v, want %q", round, what, k, r, w)
			}
		}
		check(-1, "undamaged")
		for round := range rounds {
			files, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
			if len(files) == 0 {
				t.Fatal("the lookup keeps no local files")
			}
			check(round, damageLookupFile(t, rng, files[rng.IntN(len(files))]))
		}
		st := l.CacheStats()
		t.Logf("%d rounds: %d lookup files rebuilt after damage, %d builds", rounds, st.Corrupt, st.Builds)
		if st.Corrupt == 0 {
			t.Fatal("no damaged lookup file was noticed: the test damages nothing that is read")
		}
	})

	t.Run("writer", func(t *testing.T) {
		rounds := rounds / 3
		clean, _ := writerRounds(t, memWarehouse(t, tree, "", nil), seed, rounds, nil)
		var damaged []string
		got, rebuilt := writerRounds(t, memWarehouse(t, tree, "", nil), seed, rounds, func(rng *rand.Rand, spill string) {
			dirs, _ := filepath.Glob(filepath.Join(spill, "strata-lookup-*"))
			for _, d := range dirs {
				files, _ := filepath.Glob(filepath.Join(d, "*.sst"))
				for _, f := range files {
					damaged = append(damaged, damageLookupFile(t, rng, f))
				}
			}
		})
		// Not every damaged file is read again (compaction drops many), so
		// this count may be zero; the comparison above is the check.
		t.Logf("%d rounds: %d lookup files damaged, %d rebuilt after damage", rounds, len(damaged), rebuilt)
		for i := range clean {
			if !reflect.DeepEqual(got[i], clean[i]) {
				t.Fatalf("after damaging the writer's lookup files (%s): round %d differs from an undamaged writer in keys %v",
					strings.Join(damaged, ", "), i, diffKeys(got[i], clean[i]))
			}
		}
	})
}

// damageLookupFile truncates the lookup file p or flips a bit in it, in
// place (the file stays open in its cache), and says what it did.
func damageLookupFile(t *testing.T, rng *rand.Rand, p string) string {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	n := info.Size()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rng.IntN(3) == 0 {
		at := rng.Int64N(n)
		if err := f.Truncate(at); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s truncated to %d of %d bytes", filepath.Base(p), at, n)
	}
	var b [1]byte
	at := rng.Int64N(n)
	if _, err := f.ReadAt(b[:], at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1 << rng.IntN(8)
	if _, err := f.WriteAt(b[:], at); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s bit flipped at %d of %d", filepath.Base(p), at, n)
}

// writerRounds writes rounds of changes through one writer (so its lookup
// files live across rounds), calling damage before each round but the
// first, and returns after each round the table's rows and the changelog
// of the snapshots the round committed, and how many damaged lookup files
// the writer rebuilt.
func writerRounds(t *testing.T, st storage.Storage, seed uint64, rounds int, damage func(*rand.Rand, string)) ([]map[string]string, int64) {
	t.Helper()
	ctx := context.Background()
	tb, err := Open(ctx, st, corruptTable)
	if err != nil {
		t.Fatal(err)
	}
	spill := t.TempDir()
	w, err := tb.NewWrite(ctx, WithSpillDir(spill))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(seed, 3))
	drng := rand.New(rand.NewPCG(seed, 4))
	var out []map[string]string
	for round := range rounds {
		if damage != nil && round > 0 {
			damage(drng, spill)
		}
		before, err := tb.snapshots.LatestID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range corruptChanges(rng, 8, 2, round+10) {
			if err := w.WriteRow(ctx, c.kind, c.row); err != nil {
				t.Fatal(err)
			}
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := tb.NewCommit("rounds").Commit(ctx, int64(round+1), msgs); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		rows, err := scanRows(ctx, tb.NewScan())
		if err != nil {
			t.Fatal(err)
		}
		changes, err := streamRows(ctx, tb, WithStart(FromSnapshot(before+1)))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range changes {
			rows["changelog "+k] = v
		}
		out = append(out, rows)
	}
	if w.cache == nil {
		t.Fatal("the writer has no lookup cache")
	}
	return out, w.cache.Stats().Corrupt
}
