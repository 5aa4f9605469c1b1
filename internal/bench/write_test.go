package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// BenchmarkWriteStrata is the `strata bench write` scenario for Strata alone
// (b.N rows), for profiling; both APIs.
func BenchmarkWriteStrata(b *testing.B) {
	for _, api := range []WriteAPI{APIArrow, APIRows} {
		b.Run(string(api), func(b *testing.B) {
			res, err := RunWriteStrata(context.Background(), WriteConfig{Rows: b.N, KeySpace: 10_000_000, Buckets: 4,
				CommitEvery: 100_000, API: api, Dir: b.TempDir(), Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.RowsPerSec, "rows/s")
			b.ReportMetric(res.WriteAmp, "write-amp")
		})
	}
}

// BenchmarkWritePebble is the same stream into pebble (WAL on, a synced
// batch per 100k rows): run with BenchmarkWriteStrata
// (`-bench 'Write(Strata|Pebble)'`) for the baseline of the same run.
func BenchmarkWritePebble(b *testing.B) {
	res, err := RunWritePebble(context.Background(), WriteConfig{Rows: b.N, KeySpace: 10_000_000, Buckets: 4,
		CommitEvery: 100_000, Dir: b.TempDir(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.RowsPerSec, "rows/s")
	b.ReportMetric(res.WriteAmp, "write-amp")
}

// Through either API, Strata ends with the rows pebble ends with: both
// engines see the same stream. Every figure is filled in.
func TestRunWriteSameStream(t *testing.T) {
	for _, api := range []WriteAPI{APIArrow, APIRows} {
		t.Run(string(api), func(t *testing.T) {
			dir := t.TempDir()
			cfg := WriteConfig{Rows: 20_000, KeySpace: 5_000, Buckets: 2, CommitEvery: 3_000, API: api, BatchRows: 700,
				Dir: dir, Seed: 7}
			rep, err := RunWrite(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []WriteResult{rep.Strata, rep.Pebble} {
				if r.Rows != 20_000 || r.BytesWritten <= 0 || r.WriteAmp <= 0 || r.FirstTenthPerSec <= 0 || r.LastTenthPerSec <= 0 ||
					r.FirstTenthSeconds >= r.Seconds || r.LastTenthSeconds >= r.Seconds || r.Storage != "local disk" {
					t.Errorf("figures %+v", r)
				}
				if runtime.GOOS == "linux" && (r.PeakRSS <= 0 || r.CPUSeconds <= 0) {
					t.Errorf("%s: peak RSS %d, CPU %.2fs on Linux", r.Engine, r.PeakRSS, r.CPUSeconds)
				}
			}
			if rep.Strata.API != string(api) || len(rep.Strata.SortedRuns) != 2 || rep.Strata.SortedRuns[0] < 1 || rep.Strata.SortedRuns[1] < 1 {
				t.Errorf("strata: api %q, sorted runs %v", rep.Strata.API, rep.Strata.SortedRuns)
			}
			text := rep.Text()
			for _, want := range []string{"20,000 upserts", "first 10%", "strata  " + string(api), "strata/pebble: throughput"} {
				if !strings.Contains(text, want) {
					t.Errorf("report lacks %q:\n%s", want, text)
				}
			}
			s, p := strataValues(t, filepath.Join(dir, "strata")), pebbleValues(t, dir)
			if len(s) < 4_000 || len(s) != len(p) {
				t.Fatalf("strata has %d keys, pebble %d", len(s), len(p))
			}
			for id, v := range p {
				if !bytes.Equal(s[id], v) {
					t.Fatalf("key %d: strata %x, pebble %x", id, s[id], v)
				}
			}
		})
	}
}

// The strata write command, run on the stream as JSON Lines, ends with the
// rows pebble ends with, and its figures are filled in.
func TestRunWriteCLISameStream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the strata binary")
	}
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build strata: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cfg := WriteConfig{Rows: 20_000, KeySpace: 5_000, Buckets: 2, CommitEvery: 2_000, Dir: dir, Seed: 7, CLI: bin}
	rep, err := RunWrite(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.CLI
	if c == nil || c.API != "jsonl" || c.Rows != 20_000 || c.FirstTenthPerSec <= 0 || c.LastTenthPerSec <= 0 ||
		c.FirstTenthSeconds >= c.Seconds || c.LastTenthSeconds >= c.Seconds || len(c.SortedRuns) != 2 {
		t.Fatalf("figures %+v", c)
	}
	if runtime.GOOS == "linux" && (c.PeakRSS <= 0 || c.CPUSeconds <= 0) {
		t.Errorf("peak RSS %d, CPU %.2fs on Linux", c.PeakRSS, c.CPUSeconds)
	}
	if text := rep.Text(); !strings.Contains(text, "strata  jsonl") || !strings.Contains(text, "strata write (JSON Lines)/API") {
		t.Errorf("report:\n%s", text)
	}
	s, p := strataValues(t, filepath.Join(dir, "cli")), pebbleValues(t, dir)
	if len(s) < 4_000 || len(s) != len(p) {
		t.Fatalf("the CLI's table has %d keys, pebble %d", len(s), len(p))
	}
	for id, v := range p {
		if !bytes.Equal(s[id], v) {
			t.Fatalf("key %d: strata write %x, pebble %x", id, s[id], v)
		}
	}
}

// strataValues scans the write scenario's Strata table in the warehouse
// wh: each key's row in encodeRow's form.
func strataValues(t *testing.T, wh string) map[int64][]byte {
	t.Helper()
	ctx := context.Background()
	fs, err := storage.NewLocal(wh)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := table.Open(ctx, fs, "bench.db/upserts")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]byte{}
	for row, err := range tb.NewScan().Rows(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		out[row[0].(int64)] = encodeRow(row)
	}
	return out
}

// pebbleValues reads the write scenario's pebble database under dir.
func pebbleValues(t *testing.T, dir string) map[int64][]byte {
	t.Helper()
	db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[int64][]byte{}
	for it.First(); it.Valid(); it.Next() {
		out[int64(binary.BigEndian.Uint64(it.Key()))] = bytes.Clone(it.Value())
	}
	return out
}

// On MinIO the scenario runs end to end (the minio binary is required, as
// for the storage tests).
func TestRunWriteMinio(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MinIO server")
	}
	res, err := RunWriteStrata(context.Background(), WriteConfig{Rows: 5_000, KeySpace: 2_000, Buckets: 2, CommitEvery: 2_000,
		Storage: StorageMinio, Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Storage != "MinIO (loopback)" || res.BytesWritten <= 0 || len(res.SortedRuns) != 2 || res.SortedRuns[0] < 1 {
		t.Errorf("figures %+v", res)
	}
}

func TestWriteConfigValidate(t *testing.T) {
	ok := WriteConfig{Rows: 10, KeySpace: 10, Buckets: 1, CommitEvery: 5}
	if err := ok.Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
	for _, bad := range []func(*WriteConfig){
		func(c *WriteConfig) { c.Rows = 0 },
		func(c *WriteConfig) { c.KeySpace = -1 },
		func(c *WriteConfig) { c.CommitEvery = 0 },
		func(c *WriteConfig) { c.BatchRows = -1 },
		func(c *WriteConfig) { c.API = "columns" },
		func(c *WriteConfig) { c.Storage = "s3" },
		func(c *WriteConfig) { c.API = APIJSONL },
		func(c *WriteConfig) { c.CLI, c.Storage = "strata", StorageMinio },
	} {
		c := ok
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
}

var genSeed = flag.Uint64("gen.seed", 0, "TestUpsertGenerator: replay this seed (default: drawn)")

// oldGenRow is the generator as fmt wrote it: the generator must keep
// giving these values (BENCHMARKS.md's figures and the lookup tables were
// made with them).
func oldGenRow(rng *rand.Rand, id int64) spec.Row {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [99]byte
	for i := 0; i < len(b); i += 8 {
		x := rng.Uint64()
		for j := i; j < i+8 && j < len(b); j++ {
			b[j] = letters[x&63]
			x >>= 6
		}
	}
	note := string(b[:])
	return spec.Row{id, fmt.Sprintf("acct-%07d", id%10_000_000), float64(rng.IntN(1_000_000)) / 100, "EUR",
		fmt.Sprintf("merchant-%03d", rng.IntN(1000)), rng.Float64(), note}
}

// The generator gives oldGenRow's rows; appendValue is encodeRow; the
// Arrow batches hold the same values.
func TestUpsertGenerator(t *testing.T) {
	seed := *genSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -gen.seed)", seed)
	a, b := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
	fields, err := spec.ParseColumns(benchColumns)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := newUpsertBatches(fields, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer batches.release()
	var want []spec.Row
	var u upsert
	for range 64 {
		id := a.Int64N(20_000_000)
		u.fill(a, id)
		w := oldGenRow(b, b.Int64N(20_000_000))
		if got := u.row(); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("row %v, want %v", got, w)
		}
		if !bytes.Equal(u.appendValue(nil), encodeRow(w)) {
			t.Fatalf("row %v: appendValue differs from encodeRow", w)
		}
		batches.add(&u)
		want = append(want, w)
	}
	if !batches.full() {
		t.Fatalf("%d rows in a batch of 64 is not full", batches.len())
	}
	rec := batches.batch()
	defer rec.Release()
	if batches.len() != 0 || rec.NumRows() != 64 {
		t.Fatalf("batch of %d rows, %d left", rec.NumRows(), batches.len())
	}
	for i, w := range want {
		for j := range w {
			if got := fmt.Sprint(rec.Column(j).ValueStr(i)); got != fmt.Sprint(w[j]) {
				t.Fatalf("row %d column %d: %s, want %v", i, j, got, w[j])
			}
		}
	}
}

// The baselines' timed reads decode their stored values; decodeRow must
// give back the rows encodeRow stored, and refuse bytes cut short.
func TestDecodeRowReversesEncodeRow(t *testing.T) {
	ds := newDataset(200, 1000, 3, 10)
	err := ds.generate(func(_ int, _ int64, row spec.Row) error {
		b := encodeRow(row)
		got, err := decodeRow(b)
		if err != nil {
			return err
		}
		if !bytes.Equal(encodeRow(got), b) {
			return fmt.Errorf("row %v decoded as %v", row, got)
		}
		if _, err := decodeRow(b[:len(b)-1]); err == nil {
			return fmt.Errorf("row %v: a value cut short decoded", row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// --option sets table options on Strata's table, and the report says so; a
// typo or the bucket count (the scenario's own) is refused before anything
// runs.
func TestRunWriteOptions(t *testing.T) {
	base := WriteConfig{Rows: 2_000, KeySpace: 5_000, Buckets: 2, CommitEvery: 200, Seed: 7}
	for _, bad := range [][]string{{"write-onyl", "true"}, {"bucket", "3"}, {"write-only", "maybe"}, {"write-only"}} {
		cfg := base
		cfg.Options = bad
		if err := cfg.Validate(); err == nil {
			t.Errorf("options %q accepted", bad)
		}
	}
	cfg := base
	cfg.Dir, cfg.Options = t.TempDir(), []string{"write-only", "true"}
	rep, err := RunWrite(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Ten commits without compaction leave ten sorted runs per bucket.
	if fmt.Sprint(rep.Strata.SortedRuns) != "[10 10]" {
		t.Errorf("sorted runs %v, want 10 per bucket (write-only: no compaction)", rep.Strata.SortedRuns)
	}
	if text := rep.Text(); !strings.Contains(text, "Strata's table options: write-only=true") {
		t.Errorf("report does not name the options:\n%s", text)
	}
}
