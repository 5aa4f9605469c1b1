package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The Java Paimon peer figures: the write scenario's upsert stream written
// by Apache Paimon's Java writer (a streaming TableWrite, compaction on),
// and warm point lookups of the lookup scenario's compacted table through
// Java's LocalTableQuery, each next to Strata's figure measured in the same
// run on the same data. The Java side is the driver of integration/java
// (commands bench-write and bench-lookup), run through JavaPeerConfig.Java,
// which `strata bench --java` fills with JavaDriver (built with Maven).

// JavaPeerConfig is a peer run.
type JavaPeerConfig struct {
	// Write is the write scenario (Rows, KeySpace, Buckets, CommitEvery,
	// Seed), as `strata bench write` takes it.
	Write WriteConfig
	// The lookup scenario's table: LookupRows rows of the write scenario's
	// shape with even keys from LookupKeySpace in LookupBuckets buckets,
	// fully compacted; LookupSample present and as many absent keys are
	// read, each Get measured for LookupDuration.
	LookupRows     int
	LookupKeySpace int64
	LookupBuckets  int
	LookupSample   int
	LookupDuration time.Duration
	// Tuned, when set (k=v,...), has Java set these table options on the
	// lookup table afterwards (ALTER TABLE SET: a new schema both engines
	// read) and measures both engines' lookups again with them.
	Tuned string
	Dir   string // scratch directory (default: a temporary one, removed after)
	// Java runs one command of the Java Paimon driver in a JVM of its own,
	// with stdin as its input, and returns what it printed on stdout.
	Java     func(ctx context.Context, stdin string, args ...string) ([]byte, error)
	Progress io.Writer // nil: quiet
}

// DefaultJavaPeerConfig is the write scenario of `strata bench write` and
// the compacted table of `strata bench lookup --rows 2000000`.
func DefaultJavaPeerConfig() JavaPeerConfig {
	return JavaPeerConfig{
		Write:      WriteConfig{Rows: 2_000_000, KeySpace: 10_000_000, Buckets: 4, CommitEvery: 100_000, Seed: 1},
		LookupRows: 2_000_000, LookupKeySpace: 1_000_000_000, LookupBuckets: 4, LookupSample: 100_000,
		LookupDuration: 5 * time.Second,
	}
}

// JavaPeerReport is a peer run's figures.
type JavaPeerReport struct {
	// GenSeconds is how long generating the write stream's rows takes in
	// Go (part of Strata's write time, not of Java's: Java reads them from
	// a file loaded before its clock starts).
	GenSeconds float64 `json:"gen_seconds"`
	// StreamFileBytes is the size of the stream file, which Java holds in
	// memory while it writes (part of its peak RSS).
	StreamFileBytes int64       `json:"stream_file_bytes"`
	StrataWrite     WriteResult `json:"strata_write"`
	StrataDiskBytes int64       `json:"strata_disk_bytes"`
	JavaWrite       WriteResult `json:"java_write"`
	StrataLookup    PeerLookup  `json:"strata_lookup"`
	JavaLookup      PeerLookup  `json:"java_lookup"`
	// Tuned is both engines' lookups with JavaPeerConfig.Tuned's options.
	Tuned *PeerTuned `json:"tuned,omitempty"`
}

// PeerTuned is both engines' lookups with table options set.
type PeerTuned struct {
	Options string     `json:"options"`
	Strata  PeerLookup `json:"strata"`
	Java    PeerLookup `json:"java"`
}

// PeerLookup is one engine's warm lookups on one thread.
type PeerLookup struct {
	WarmSeconds float64  `json:"warm_seconds"` // every sampled key once, after opening
	Hits        PeerGets `json:"hits"`
	Misses      PeerGets `json:"misses"`
}

// PeerGets is a closed loop of Gets on one thread.
type PeerGets struct {
	Ops     int64   `json:"ops"`
	Seconds float64 `json:"seconds"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
}

// PerSec is the loop's Gets per second.
func (g PeerGets) PerSec() float64 {
	if g.Seconds == 0 {
		return 0
	}
	return float64(g.Ops) / g.Seconds
}

// RunJavaPeer runs the write scenario with Strata and with Java, then loads
// the lookup table with Strata and reads it warm with both.
func RunJavaPeer(ctx context.Context, cfg JavaPeerConfig) (*JavaPeerReport, error) {
	if cfg.Java == nil {
		return nil, fmt.Errorf("bench: the Java peer run needs a way to run the Java driver")
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "strata-bench-java-")
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	rep := &JavaPeerReport{}
	if err := runPeerWrite(ctx, cfg, rep); err != nil {
		return nil, err
	}
	if err := runPeerLookup(ctx, cfg, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

func runPeerWrite(ctx context.Context, cfg JavaPeerConfig, rep *JavaPeerReport) error {
	say := progressFunc(cfg.Progress)
	wc := cfg.Write
	wc.Dir, wc.Progress = cfg.Dir, cfg.Progress
	file := filepath.Join(cfg.Dir, "upserts.bin")
	say(fmt.Sprintf("write: generating %d rows into %s", wc.Rows, file))
	gen, err := writeStreamFile(wc, file)
	if err != nil {
		return err
	}
	rep.GenSeconds = gen
	say("write: strata")
	if rep.StrataWrite, err = RunWriteStrata(ctx, wc); err != nil {
		return fmt.Errorf("strata write: %w", err)
	}
	if rep.StrataDiskBytes, err = diskBytes(filepath.Join(cfg.Dir, "strata")); err != nil {
		return err
	}
	say("write: java")
	out, err := cfg.Java(ctx, "", "bench-write", filepath.Join(cfg.Dir, "java"), "bench.upserts", "--input", file,
		"--buckets", strconv.Itoa(wc.Buckets), "--commit-every", strconv.Itoa(wc.CommitEvery))
	if err != nil {
		return fmt.Errorf("java write: %w", err)
	}
	var jw struct {
		Rows       int     `json:"rows"`
		Seconds    float64 `json:"seconds"`
		FirstTenth float64 `json:"first_tenth_seconds"`
		LastTenth  float64 `json:"last_tenth_seconds"`
		PeakRSS    int64   `json:"peak_rss_bytes"`
		StartRSS   int64   `json:"start_rss_bytes"`
		Bytes      int64   `json:"bytes_on_disk"`
	}
	if err := json.Unmarshal(out, &jw); err != nil || jw.Rows != wc.Rows || jw.Seconds <= 0 {
		return fmt.Errorf("java write printed %q (%v), want %d rows", out, err, wc.Rows)
	}
	rep.JavaWrite = result("java", jw.Rows, writeTimes{total: seconds(jw.Seconds), firstTenth: seconds(jw.FirstTenth),
		lastTenth: seconds(jw.LastTenth)}, jw.Bytes)
	rep.JavaWrite.PeakRSS, rep.JavaWrite.StartRSS, rep.JavaWrite.Storage = jw.PeakRSS, jw.StartRSS, "local disk"
	rep.StreamFileBytes = int64(jw.Rows) * peerRecord
	return os.Remove(file)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// peerRecord is a row of the write stream file: id, amount and risk_score
// (little-endian), then account, merchant and note, whose lengths are
// fixed (see upsert).
const peerRecord = 8 + 8 + 8 + 12 + 12 + 99

// writeStreamFile writes the rows RunWriteStrata writes, in its order, as
// fixed-size records, and returns the seconds generating them took.
func writeStreamFile(cfg WriteConfig, path string) (float64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("stream file: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	rec := make([]byte, 0, peerRecord)
	var u upsert
	var gen time.Duration
	for range cfg.Rows {
		t0 := time.Now()
		id := rng.Int64N(cfg.KeySpace)
		u.fill(rng, id)
		gen += time.Since(t0)
		rec = binary.LittleEndian.AppendUint64(rec[:0], uint64(id))
		rec = binary.LittleEndian.AppendUint64(rec, math.Float64bits(u.amount))
		rec = binary.LittleEndian.AppendUint64(rec, math.Float64bits(u.risk))
		rec = append(rec, u.account[:]...)
		rec = append(rec, u.merchant[:]...)
		rec = append(rec, u.note[:]...)
		if _, err := w.Write(rec); err != nil {
			return 0, fmt.Errorf("stream file: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("stream file: %w", err)
	}
	return gen.Seconds(), f.Close()
}

// diskBytes is the size of the files under dir.
func diskBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		n += info.Size()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sizing %s: %w", dir, err)
	}
	return n, nil
}

func runPeerLookup(ctx context.Context, cfg JavaPeerConfig, rep *JavaPeerReport) error {
	say := progressFunc(cfg.Progress)
	ds := newDataset(cfg.LookupRows, cfg.LookupKeySpace, cfg.Write.Seed, cfg.LookupSample)
	dir := filepath.Join(cfg.Dir, "lookup")
	tb, err := ds.loadStrata(ctx, dir, cfg.LookupBuckets, 0, ShapeCompacted, say)
	if err != nil {
		return err
	}
	hits, misses := filepath.Join(cfg.Dir, "hits.bin"), filepath.Join(cfg.Dir, "misses.bin")
	for path, keys := range map[string][]int64{hits: ds.hits, misses: ds.misses} {
		var b []byte
		for _, k := range keys {
			b = binary.LittleEndian.AppendUint64(b, uint64(k))
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("key file: %w", err)
		}
	}
	say("lookup: strata")
	if rep.StrataLookup, err = strataLookup(ctx, tb, ds, cfg.LookupDuration); err != nil {
		return err
	}
	say("lookup: java")
	if rep.JavaLookup, err = javaLookup(ctx, cfg, dir, hits, misses); err != nil {
		return err
	}
	if cfg.Tuned == "" {
		return nil
	}
	say("lookup: java sets " + cfg.Tuned)
	var changes []map[string]string
	for _, kv := range strings.Split(cfg.Tuned, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("tuned options %q: want k=v,...", cfg.Tuned)
		}
		changes = append(changes, map[string]string{"op": "set", "key": k, "value": v})
	}
	alter, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	if _, err := cfg.Java(ctx, string(alter), "alter", dir, "bench.lookup"); err != nil {
		return fmt.Errorf("java alter: %w", err)
	}
	fs, err := storage.NewLocal(dir)
	if err != nil {
		return err
	}
	if tb, err = table.Open(ctx, fs, lookupTablePath); err != nil {
		return err
	}
	rep.Tuned = &PeerTuned{Options: cfg.Tuned}
	say("lookup: strata, tuned")
	if rep.Tuned.Strata, err = strataLookup(ctx, tb, ds, cfg.LookupDuration); err != nil {
		return err
	}
	say("lookup: java, tuned")
	rep.Tuned.Java, err = javaLookup(ctx, cfg, dir, hits, misses)
	return err
}

// strataLookup opens a lookup on tb (as the lookup bench's StrataTarget),
// reads every sampled key once, then Gets hits and misses for d each.
func strataLookup(ctx context.Context, tb *table.Table, ds *dataset, d time.Duration) (PeerLookup, error) {
	st, err := NewStrataTarget(ctx, "strata", tb, 100*time.Millisecond)
	if err != nil {
		return PeerLookup{}, err
	}
	defer st.Close()
	get := func(k int64) (bool, error) {
		row, err := st.Get(ctx, k)
		return row != nil, err
	}
	var l PeerLookup
	start := time.Now()
	for _, keys := range [][]int64{ds.hits, ds.misses} {
		for _, k := range keys {
			if _, err := get(k); err != nil {
				return PeerLookup{}, fmt.Errorf("strata warm-up: %w", err)
			}
		}
	}
	l.WarmSeconds = time.Since(start).Seconds()
	if l.Hits, err = measureGets(get, ds.hits, d, true); err != nil {
		return PeerLookup{}, fmt.Errorf("strata hits: %w", err)
	}
	if l.Misses, err = measureGets(get, ds.misses, d, false); err != nil {
		return PeerLookup{}, fmt.Errorf("strata misses: %w", err)
	}
	return l, nil
}

// javaLookup runs the driver's bench-lookup on the lookup table.
func javaLookup(ctx context.Context, cfg JavaPeerConfig, dir, hits, misses string) (PeerLookup, error) {
	out, err := cfg.Java(ctx, "", "bench-lookup", dir, "bench.lookup", "--hits", hits, "--misses", misses,
		"--seconds", strconv.FormatFloat(cfg.LookupDuration.Seconds(), 'f', -1, 64))
	if err != nil {
		return PeerLookup{}, fmt.Errorf("java lookup: %w", err)
	}
	var l PeerLookup
	if err := json.Unmarshal(out, &l); err != nil || l.Hits.Ops == 0 {
		return PeerLookup{}, fmt.Errorf("java lookup printed %q (%v)", out, err)
	}
	return l, nil
}

// measureGets calls get on keys in turn, one at a time, for d; every key
// must be present, or every key absent.
func measureGets(get func(int64) (bool, error), keys []int64, d time.Duration, present bool) (PeerGets, error) {
	lat := make([]time.Duration, 0, 1<<20)
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; ; i++ {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		k := keys[i%len(keys)]
		found, err := get(k)
		if err != nil {
			return PeerGets{}, err
		}
		if found != present {
			return PeerGets{}, fmt.Errorf("key %d: found %v, want %v", k, found, present)
		}
		lat = append(lat, time.Since(t0))
	}
	g := PeerGets{Ops: int64(len(lat)), Seconds: time.Since(start).Seconds()}
	if len(lat) > 0 {
		slices.Sort(lat)
		g.P50us = float64(lat[len(lat)/2]) / 1e3
		g.P99us = float64(lat[min(len(lat)-1, len(lat)*99/100)]) / 1e3
	}
	return g, nil
}

// Markdown renders the report as BENCHMARKS.md's table: each figure of
// Strata, of Java, and their ratio.
func (r *JavaPeerReport) Markdown() string {
	var b strings.Builder
	b.WriteString("| scenario | Strata | Java Paimon | Strata / Java |\n|---|---:|---:|---:|\n")
	line := func(name, s, j, ratio string) { fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, s, j, ratio) }
	sw, jw := r.StrataWrite, r.JavaWrite
	line("write: upserts/s", count(int64(sw.RowsPerSec)), count(int64(jw.RowsPerSec)), ratio(sw.RowsPerSec, jw.RowsPerSec))
	line("write: upserts/s, first tenth of the rows", count(int64(sw.FirstTenthPerSec)), count(int64(jw.FirstTenthPerSec)),
		ratio(sw.FirstTenthPerSec, jw.FirstTenthPerSec))
	line("write: upserts/s, last tenth of the rows", count(int64(sw.LastTenthPerSec)), count(int64(jw.LastTenthPerSec)),
		ratio(sw.LastTenthPerSec, jw.LastTenthPerSec))
	line("write: peak RSS (at the start)", peakStr(sw.PeakRSS, sw.StartRSS), peakStr(jw.PeakRSS, jw.StartRSS), ratio(float64(sw.PeakRSS), float64(jw.PeakRSS)))
	line("write: bytes on disk after", bytesStr(r.StrataDiskBytes), bytesStr(jw.BytesWritten),
		ratio(float64(r.StrataDiskBytes), float64(jw.BytesWritten)))
	lookupRows(line, "", r.StrataLookup, r.JavaLookup)
	if r.Tuned != nil {
		lookupRows(line, "with "+r.Tuned.Options+": ", r.Tuned.Strata, r.Tuned.Java)
	}
	fmt.Fprintf(&b, "\nStrata's write time includes generating the rows in Go (%.2f s); Java reads them from a file loaded before its clock starts. "+
		"Java's peak RSS (its JVM's, -Xmx4g) includes that file held in memory (%s).\n", r.GenSeconds, bytesStr(r.StreamFileBytes))
	return b.String()
}

// lookupRows adds the lookup figures of one pair of runs to the table.
func lookupRows(line func(name, s, j, ratio string), prefix string, sl, jl PeerLookup) {
	for _, g := range []struct {
		name string
		s, j PeerGets
	}{{"hit", sl.Hits, jl.Hits}, {"miss", sl.Misses, jl.Misses}} {
		line(prefix+"warm Get "+g.name+" p50 / p99, 1 thread", latStr(g.s.P50us)+" / "+latStr(g.s.P99us),
			latStr(g.j.P50us)+" / "+latStr(g.j.P99us), ratio(g.s.P50us, g.j.P50us)+" / "+ratio(g.s.P99us, g.j.P99us))
		line(prefix+"warm Get "+g.name+" lookups/s, 1 thread", count(int64(g.s.PerSec())), count(int64(g.j.PerSec())),
			ratio(g.s.PerSec(), g.j.PerSec()))
	}
	line(prefix+"warm-up: every sampled key once (s)", fmt.Sprintf("%.2f", sl.WarmSeconds), fmt.Sprintf("%.2f", jl.WarmSeconds),
		ratio(sl.WarmSeconds, jl.WarmSeconds))
}
