package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The scan scenario's data: a risk feature table, one row per user, keyed
// by user_id, with rows of about 150 logical bytes. It is generated once
// per parameter set under ScanConfig.DataDir (generation takes minutes at
// 10M rows) in two layouts of the same data:
//
//   - merge-on-read: every key written in a first commit, then 20%, 30%,
//     40% and 50% of the keys (a random choice per key) updated in four
//     more commits, with write-only=true (no compaction) and a write buffer
//     that spills to disk: exactly scanRuns level-0 files, so sorted runs,
//     per bucket;
//   - compacted: a copy of that table after a full compaction, one sorted
//     run per bucket.

// Layout names a physical layout of the scan table.
type Layout string

const (
	// LayoutCompacted is the table fully compacted: one sorted run per
	// bucket, read without merging overlaps.
	LayoutCompacted Layout = "compacted"
	// LayoutMergeOnRead is the same data in scanRuns sorted runs per
	// bucket, merged on read.
	LayoutMergeOnRead Layout = "merge-on-read"
)

// scanRuns is the number of commits, and so sorted runs per bucket, of the
// merge-on-read layout; scanUpdatePct[c] is the share of keys (in percent)
// commit c rewrites.
const scanRuns = 5

var scanUpdatePct = [scanRuns]uint64{100, 20, 30, 40, 50}

// scanDataVersion names the generator: bump it when rows, options or
// layouts change, so cached tables of the old kind are not reused. 2: the
// write buffer holds a whole commit (with version 1 the columnar writer
// flushed a bucket early on large tables, leaving 6 runs in some).
const scanDataVersion = 2

// scanColumns is the risk feature table: 8 + 10 + 4 + 6×8 + 3×8 + 2 + ~8
// + 40 ≈ 144 logical bytes a row; income and utilization are sometimes
// null, as missing features are.
const scanColumns = "user_id BIGINT NOT NULL, dt STRING, credit_score INT, income DOUBLE, debt_ratio DOUBLE, " +
	"utilization DOUBLE, pd_score DOUBLE, balance DOUBLE, last_txn_amount DOUBLE, num_accounts BIGINT, " +
	"delinquencies_12m BIGINT, days_since_open BIGINT, country STRING, segment STRING, device_id STRING"

// scanRowBytes is the rows' approximate logical size.
const scanRowBytes = 144

// scanKeyBase is the first user_id: keys are scanKeyBase + 0..rows-1.
const scanKeyBase = 100_000_000

// scanTableID is the table's name in each layout's warehouse.
var scanTableID = catalog.Identifier{Database: "bench", Table: "features"}

var (
	scanCountries = []string{"US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "SE", "BR", "MX", "IN", "JP", "KR", "AU", "CA", "ZA", "NG", "EG", "TR"}
	scanSegments  = []string{"prime", "near_prime", "subprime", "super_prime"}
)

// mix is splitmix64: the rows' values are a pure function of (seed,
// commit, key), so every key can be regenerated without a stream.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// scanValues draws the values of one row version.
type scanValues struct{ s uint64 }

func newScanValues(seed uint64, commit int, id int64) *scanValues {
	return &scanValues{s: mix(seed ^ mix(uint64(commit)<<56^uint64(id)))}
}

func (v *scanValues) next() uint64   { v.s = mix(v.s); return v.s }
func (v *scanValues) intn(n int) int { return int(v.next() % uint64(n)) }
func (v *scanValues) float() float64 { return float64(v.next()>>11) / (1 << 53) }

// updated reports whether commit rewrites key id.
func scanUpdated(seed uint64, commit int, id int64) bool {
	return mix(seed^0x5ca1ab1e^uint64(commit)<<40^uint64(id))%100 < scanUpdatePct[commit]
}

// scanRow is key id's row as commit writes it: dt is the commit's day, the
// features random; the 40-character device_id is random enough that no
// engine gets it for free from compression or dictionaries.
func scanRow(seed uint64, commit int, id int64) spec.Row {
	v := newScanValues(seed, commit, id)
	row := make(spec.Row, 15)
	row[0] = id
	row[1] = fmt.Sprintf("2024-01-%02d", 27+commit)
	row[2] = int32(300 + v.intn(551))
	if v.intn(100) >= 3 {
		row[3] = 20_000 + v.float()*180_000 // income, missing for 3%
	}
	row[4] = v.float() * 2
	if v.intn(100) >= 2 {
		row[5] = v.float() // utilization, missing for 2%
	}
	row[6], row[7], row[8] = v.float(), v.float()*50_000, v.float()*2_000
	row[9], row[10], row[11] = int64(1+v.intn(20)), int64(0), int64(v.intn(7_300))
	if v.intn(10) == 0 {
		row[10] = int64(1 + v.intn(5))
	}
	row[12], row[13] = scanCountries[v.intn(len(scanCountries))], scanSegments[v.intn(len(scanSegments))]
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var dev [40]byte
	for i := 0; i < len(dev); i += 10 {
		x := v.next()
		for j := i; j < i+10; j++ {
			dev[j] = letters[x&63]
			x >>= 6
		}
	}
	row[14] = string(dev[:])
	return row
}

// scanData is a generated pair of layouts on local disk.
type scanData struct {
	Rows    int    `json:"rows"`
	Buckets int    `json:"buckets"`
	Seed    uint64 `json:"seed"`
	Version int    `json:"version"`
	// Written is the number of row versions the merge-on-read table holds
	// (the first commit's rows plus every update).
	Written int64  `json:"written"`
	dir     string // holds one warehouse per layout
}

// warehouse is the layout's warehouse directory.
func (d *scanData) warehouse(l Layout) string { return filepath.Join(d.dir, string(l)) }

// open opens the layout's table.
func (d *scanData) open(ctx context.Context, l Layout) (*table.Table, error) {
	fs, err := storage.NewLocal(d.warehouse(l))
	if err != nil {
		return nil, err
	}
	return table.Open(ctx, fs, catalog.TablePath(scanTableID))
}

// scanDataName is the cache directory of a parameter set.
func scanDataName(rows, buckets int, seed uint64) string {
	return fmt.Sprintf("scan-v%d-rows%d-buckets%d-seed%d", scanDataVersion, rows, buckets, seed)
}

// scanReadyFile marks a generated directory as complete: a run killed
// while generating leaves none, and the next run starts over.
const scanReadyFile = "ready.json"

// prepareScanData returns the layouts for the parameters under root,
// generating them unless a complete earlier generation is there.
func prepareScanData(ctx context.Context, root string, rows, buckets int, seed uint64, say func(string)) (*scanData, error) {
	dir := filepath.Join(root, scanDataName(rows, buckets, seed))
	if b, err := os.ReadFile(filepath.Join(dir, scanReadyFile)); err == nil {
		d := &scanData{dir: dir}
		if err := json.Unmarshal(b, d); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, scanReadyFile), err)
		}
		say("reusing the tables generated in " + dir)
		return d, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	d := &scanData{Rows: rows, Buckets: buckets, Seed: seed, Version: scanDataVersion, dir: dir}
	if err := d.generate(ctx, say); err != nil {
		return nil, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return d, os.WriteFile(filepath.Join(dir, scanReadyFile), b, 0o644)
}

// generate writes the merge-on-read table, then copies and compacts it.
func (d *scanData) generate(ctx context.Context, say func(string)) error {
	say(fmt.Sprintf("generating %d rows in %d buckets into %s (once per parameter set)", d.Rows, d.Buckets, d.dir))
	if err := d.writeMergeOnRead(ctx, say); err != nil {
		return fmt.Errorf("generate merge-on-read table: %w", err)
	}
	say("copying the table for the compacted layout")
	if err := copyTree(d.warehouse(LayoutMergeOnRead), d.warehouse(LayoutCompacted), true); err != nil {
		return fmt.Errorf("copy table: %w", err)
	}
	tb, err := d.open(ctx, LayoutCompacted)
	if err != nil {
		return err
	}
	say("full compaction of the compacted layout")
	if _, err := tb.Compact(ctx, true, "bench-load", nil); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}

// writeMergeOnRead writes the scanRuns commits. A target-file-size above
// any bucket's size keeps each commit's flush of a bucket in one file, and
// a write-buffer-size above a commit's rows keeps the writer from flushing
// a bucket before the commit (the columnar buffer of a deduplicate table
// flushes a level-0 file when full, it does not spill): one level-0 run
// per commit.
func (d *scanData) writeMergeOnRead(ctx context.Context, say func(string)) error {
	fs, err := storage.NewLocal(d.warehouse(LayoutMergeOnRead))
	if err != nil {
		return err
	}
	fields, err := spec.ParseColumns(scanColumns)
	if err != nil {
		return err
	}
	sc, err := spec.NewSchema(fields, nil, []string{"user_id"}, spec.NewStringMap("bucket", fmt.Sprint(d.Buckets),
		"write-only", "true", "target-file-size", "64 gb", "write-buffer-size", "64 gb"), nil)
	if err != nil {
		return err
	}
	tb, err := table.Create(ctx, fs, catalog.TablePath(scanTableID), sc)
	if err != nil {
		return err
	}
	spill := filepath.Join(d.dir, "spill")
	if err := os.MkdirAll(spill, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(spill)
	w, err := tb.NewWrite(ctx, table.WithSpillDir(spill))
	if err != nil {
		return err
	}
	defer w.Close()
	for c := range scanRuns {
		n := 0
		for i := range d.Rows {
			id := int64(scanKeyBase + i)
			if c > 0 && !scanUpdated(d.Seed, c, id) {
				continue
			}
			if err := w.WriteRow(ctx, spec.RowKindInsert, scanRow(d.Seed, c, id)); err != nil {
				return err
			}
			n++
		}
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			return err
		}
		if _, err := tb.NewCommit("bench-load").Commit(ctx, int64(c), msgs); err != nil {
			return err
		}
		d.Written += int64(n)
		say(fmt.Sprintf("commit %d/%d: %d rows", c+1, scanRuns, n))
	}
	return nil
}

// copyTree copies the directory tree src to dst. With link, data files
// are hard-linked where the file system allows (they are never modified,
// and a compaction of the copy only adds files); metadata is always
// copied, since a commit may rewrite hint files in place.
func copyTree(src, dst string, link bool) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if link && strings.HasSuffix(p, ".parquet") && os.Link(p, to) == nil {
			return nil
		}
		return copyFile(p, to)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
