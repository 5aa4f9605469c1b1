package bench

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The lookup scenario's data: Rows rows of about 150 bytes (the write
// scenario's rows) with random even keys from a KeySpace-key space, loaded
// identically into every engine. Keys are even so that odd keys of the same
// space are misses that look like hits to a key-range filter.

// Shape names a layout of the Strata table.
type Shape string

const (
	// ShapeCompacted is the table fully compacted: one sorted run per bucket.
	ShapeCompacted Shape = "compacted"
	// ShapeRuns is the table written in SortedRuns commits with compaction
	// off (write-only=true): that many sorted runs per bucket.
	ShapeRuns Shape = "runs"
)

// SortedRuns is the number of commits (and so level-0 runs per bucket) of
// the runs shape.
const SortedRuns = 5

// lookupTableID is the table's name in its warehouse (the directory of
// its shape, or the MinIO bucket), and lookupTablePath its path there.
var (
	lookupTableID   = catalog.Identifier{Database: "bench", Table: "lookup"}
	lookupTablePath = catalog.TablePath(lookupTableID)
)

// dataset is the generated rows' parameters and the keys sampled from them.
type dataset struct {
	rows     int
	keySpace int64
	seed     uint64
	hits     []int64 // keys present, shuffled
	misses   []int64 // keys absent (odd), shuffled
}

// newDataset samples up to sample present keys (every rows/sample-th row)
// and as many absent ones.
func newDataset(rows int, keySpace int64, seed uint64, sample int) *dataset {
	ds := &dataset{rows: rows, keySpace: keySpace, seed: seed}
	sample = max(1, min(sample, rows))
	stride := max(1, rows/sample)
	ids := ds.keys()
	for i := range rows {
		id := ds.randomKey(ids)
		if i%stride == 0 && len(ds.hits) < sample {
			ds.hits = append(ds.hits, id)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	rng.Shuffle(len(ds.hits), func(i, j int) { ds.hits[i], ds.hits[j] = ds.hits[j], ds.hits[i] })
	for range len(ds.hits) {
		ds.misses = append(ds.misses, ds.randomKey(rng)|1)
	}
	return ds
}

// randomKey is an even key of the key space.
func (ds *dataset) randomKey(rng *rand.Rand) int64 { return 2 * rng.Int64N(max(1, ds.keySpace/2)) }

// keys is the random source of the rows' keys (apart from the values', so
// keys can be sampled without making rows).
func (ds *dataset) keys() *rand.Rand { return rand.New(rand.NewPCG(ds.seed, 1)) }

// generate calls fn with every row in order, the same rows on every call.
func (ds *dataset) generate(fn func(i int, id int64, row spec.Row) error) error {
	ids, vals := ds.keys(), rand.New(rand.NewPCG(ds.seed, 3))
	for i := range ds.rows {
		id := ds.randomKey(ids)
		if err := fn(i, id, genRow(vals, id)); err != nil {
			return err
		}
	}
	return nil
}

// pebbleKey is the key-value baselines' key: the id, big-endian.
func pebbleKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// loadStrata writes the rows into a new table of the shape under dir, with
// lookup.cache-max-memory-size = cache bytes (0: the default), and returns
// the table reopened for reading.
func (ds *dataset) loadStrata(ctx context.Context, dir string, buckets int, cache int64, shape Shape, progress func(string)) (*table.Table, error) {
	fs, err := storage.NewLocal(dir)
	if err != nil {
		return nil, fmt.Errorf("strata %s table: %w", shape, err)
	}
	fields, err := spec.ParseColumns(benchColumns)
	if err != nil {
		return nil, err
	}
	opts := []string{"bucket", fmt.Sprint(buckets)}
	if cache > 0 {
		opts = append(opts, spec.OptLookupCacheMaxMemorySize, fmt.Sprintf("%d b", cache))
	}
	commits := 1 // the compacted shape: one run, then a full compaction
	if shape == ShapeRuns {
		opts, commits = append(opts, "write-only", "true"), SortedRuns
	}
	sc, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap(opts...), nil)
	if err != nil {
		return nil, err
	}
	tb, err := table.Create(ctx, fs, lookupTablePath, sc)
	if err != nil {
		return nil, fmt.Errorf("strata %s table: %w", shape, err)
	}
	if err := ds.writeStrata(ctx, tb, commits, progress); err != nil {
		return nil, fmt.Errorf("load strata %s table: %w", shape, err)
	}
	if shape == ShapeCompacted {
		progress("strata " + string(shape) + ": full compaction")
		if _, err := tb.Compact(ctx, true, "bench-load", nil); err != nil {
			return nil, fmt.Errorf("compact strata table: %w", err)
		}
	}
	return table.Open(ctx, fs, lookupTablePath)
}

// writeStrata writes the rows in commits commits of equal size.
func (ds *dataset) writeStrata(ctx context.Context, tb *table.Table, commits int, progress func(string)) error {
	w, err := tb.NewWrite(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	per := max(1, (ds.rows+commits-1)/commits)
	commit := func(id int64) error {
		msgs, err := w.PrepareCommit(ctx)
		if err != nil {
			return err
		}
		_, err = tb.NewCommit("bench-load").Commit(ctx, id, msgs)
		return err
	}
	err = ds.generate(func(i int, _ int64, row spec.Row) error {
		if err := w.WriteRow(ctx, spec.RowKindInsert, row); err != nil {
			return err
		}
		if (i+1)%per == 0 || i+1 == ds.rows {
			progress(fmt.Sprintf("strata: %d/%d rows committed", i+1, ds.rows))
			return commit(int64(i))
		}
		return nil
	})
	return err
}

// loadPebble writes the rows into a new pebble DB under dir and compacts it
// fully: the settled key-value baseline. The rows go in as sorted sstables
// of pebbleChunk rows each, ingested one after the other (later rows of a
// key win, as with one Set after another, since every ingest is newer than
// the last), which skips the WAL, memtables and flushes of Set batches:
// several times faster for millions of rows, and the same DB after the
// full compaction.
func (ds *dataset) loadPebble(ctx context.Context, dir string, cacheBytes int64, progress func(string)) (*pebble.DB, error) {
	opts := &pebble.Options{Logger: quietLogger{}}
	if cacheBytes > 0 {
		opts.CacheSize = cacheBytes
	}
	opts.EnsureDefaults()
	db, err := pebble.Open(filepath.Join(dir, "pebble"), opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble: %w", err)
	}
	var ch pebbleChunkBuf
	n := 0
	ingest := func() error {
		if len(ch.ends) == 0 {
			return nil
		}
		path := filepath.Join(dir, fmt.Sprintf("pebble-ingest-%d.sst", n))
		n++
		if err := ch.write(path, opts.MakeWriterOptions(0, db.TableFormat())); err != nil {
			return err
		}
		ch.reset()
		return db.Ingest(ctx, []string{path}) // moves the file into the DB
	}
	err = ds.generate(func(i int, id int64, row spec.Row) error {
		ch.add(id, row)
		if (i+1)%pebbleChunk == 0 || i+1 == ds.rows {
			if err := ingest(); err != nil {
				return err
			}
			progress(fmt.Sprintf("pebble: %d/%d rows", i+1, ds.rows))
		}
		return nil
	})
	if err == nil {
		progress("pebble: full compaction")
		err = db.Compact(ctx, []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load pebble: %w", err)
	}
	return db, nil
}

// pebbleChunk is the number of rows in one ingested sstable (a variable for
// tests).
var pebbleChunk = 1_000_000

// pebbleChunkBuf holds the rows of one sstable to ingest: ids and encoded
// values (one buffer), in arrival order until sorted.
type pebbleChunkBuf struct {
	ids    []int64
	vals   []byte
	ends   []int // where each value ends in vals
	order  []int // rows sorted by id, the last of equal ids kept
	keyBuf []byte
}

func (c *pebbleChunkBuf) add(id int64, row spec.Row) {
	c.ids = append(c.ids, id)
	c.vals = append(c.vals, encodeRow(row)...)
	c.ends = append(c.ends, len(c.vals))
}

func (c *pebbleChunkBuf) reset() {
	c.ids, c.vals, c.ends, c.order = c.ids[:0], c.vals[:0], c.ends[:0], c.order[:0]
}

// write writes the chunk's rows in key order as an sstable at path, each
// key's last row only.
func (c *pebbleChunkBuf) write(path string, wo sstable.WriterOptions) error {
	for i := range c.ids {
		c.order = append(c.order, i)
	}
	slices.SortStableFunc(c.order, func(a, b int) int { return cmp.Compare(c.ids[a], c.ids[b]) })
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	for j, i := range c.order {
		if j+1 < len(c.order) && c.ids[c.order[j+1]] == c.ids[i] {
			continue // a later row of the key follows
		}
		from := 0
		if i > 0 {
			from = c.ends[i-1]
		}
		c.keyBuf = binary.BigEndian.AppendUint64(c.keyBuf[:0], uint64(c.ids[i]))
		if err := w.Set(c.keyBuf, c.vals[from:c.ends[i]]); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// tableShape is what a snapshot of the Strata table looks like.
type tableShape struct {
	Files         int   `json:"files"`
	MinRuns       int   `json:"min_runs_per_bucket"`
	MaxRuns       int   `json:"max_runs_per_bucket"`
	DataBytes     int64 `json:"data_bytes"`
	Buckets       int   `json:"buckets"`
	firstLastKeys []int64
}

// inspect counts the live files, sorted runs per bucket (fewest and most) (each level-0 file
// is a run, each higher level one) and bytes of the latest snapshot, and
// collects every file's first and last key (to warm every file).
func inspect(ctx context.Context, tb *table.Table) (tableShape, error) {
	plan, err := tb.NewScan().Plan(ctx)
	if err != nil {
		return tableShape{}, fmt.Errorf("plan: %w", err)
	}
	var sh tableShape
	keyType := tb.KeyTypes()
	for _, sp := range plan.Splits {
		runs, levels := 0, map[int32]bool{}
		for _, f := range sp.Files {
			sh.Files++
			sh.DataBytes += f.FileSize
			if f.Level == 0 {
				runs++
			} else if !levels[f.Level] {
				levels[f.Level] = true
				runs++
			}
			for _, k := range [][]byte{f.MinKey, f.MaxKey} {
				id, err := decodeKey(keyType, k)
				if err != nil {
					return tableShape{}, fmt.Errorf("file %s: %w", f.FileName, err)
				}
				sh.firstLastKeys = append(sh.firstLastKeys, id)
			}
		}
		if sh.Buckets == 0 || runs < sh.MinRuns {
			sh.MinRuns = runs
		}
		sh.Buckets++
		sh.MaxRuns = max(sh.MaxRuns, runs)
	}
	return sh, nil
}

// decodeKey reads the id out of a file's serialized min or max key.
func decodeKey(types []spec.DataType, b []byte) (int64, error) {
	_, raw, err := spec.DeserializeBinaryRow(b)
	if err != nil {
		return 0, err
	}
	row, _, err := spec.DecodeBinaryRow(types, raw)
	if err != nil {
		return 0, err
	}
	id, ok := row[0].(int64)
	if !ok {
		return 0, fmt.Errorf("%w: key %v is not a BIGINT", spec.ErrCorrupt, row[0])
	}
	return id, nil
}

// quietLogger drops pebble's informational messages (they would mix with
// the report) and keeps errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)              {}
func (quietLogger) Errorf(format string, args ...any) { pebble.DefaultLogger.Errorf(format, args...) }
func (quietLogger) Fatalf(format string, args ...any) { pebble.DefaultLogger.Fatalf(format, args...) }
