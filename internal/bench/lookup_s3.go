package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/internal/latency"
	"github.com/stratalake/strata/internal/minioserver"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// The cold-lookup scenario: the table copied to a MinIO bucket on loopback
// and read through fresh Lookups (empty local lookup-file caches), next to
// the same reads of the table on local disk.

// benchBucket is the MinIO bucket the table is copied to.
const benchBucket = "strata-bench"

// S3Report is cold and warm lookups of one table on MinIO and on local
// disk.
type S3Report struct {
	Shape     Shape `json:"shape"`
	Files     int   `json:"files"`
	DataBytes int64 `json:"data_bytes"`
	// CopyBytes were copied to the bucket (every object of the table) in
	// CopySeconds.
	CopyBytes   int64       `json:"copy_bytes"`
	CopySeconds float64     `json:"copy_seconds"`
	S3          ColdFigures `json:"s3"`
	Local       ColdFigures `json:"local"`
}

// ColdFigures are one storage's reads through fresh Lookups: Rounds
// Lookups each opened with an empty cache, then a Get of one key of every
// data file (cold: it builds the file's local lookup file from the data
// file), then, on the last Lookup, warm Gets of sampled keys.
type ColdFigures struct {
	Storage string  `json:"storage"`
	Rounds  int     `json:"rounds"`
	Open    Latency `json:"open"` // NewLookup: snapshot and manifests
	// OpenBytes and OpenReads are what the opens fetched, in all.
	OpenBytes int64   `json:"open_bytes"`
	OpenReads int64   `json:"open_reads"`
	Cold      Latency `json:"cold"`
	// ColdBytes and ColdReads are what the cold Gets fetched (Get and
	// GetRange requests), in all; Builds the lookup files they built.
	ColdBytes int64   `json:"cold_bytes"`
	ColdReads int64   `json:"cold_reads"`
	Builds    int64   `json:"builds"`
	Warm      OpStats `json:"warm"`
	WarmBytes int64   `json:"warm_bytes"`
}

// runS3 starts MinIO, copies the table in dir to a bucket and measures cold
// and warm lookups there and on local disk. Without a minio binary it
// returns why, and no report.
func runS3(ctx context.Context, cfg LookupConfig, ds *dataset, dir string, shape Shape, sh tableShape,
	say func(string)) (*S3Report, string, error) {
	bin, err := findMinio(cfg.Minio)
	if err != nil {
		skipped := fmt.Sprintf("%s (%v): S3 rows skipped", minioserver.InstallHint, err)
		say(skipped)
		return nil, skipped, nil
	}
	mdir := filepath.Join(cfg.Dir, "minio")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return nil, "", fmt.Errorf("minio directory: %w", err)
	}
	srv, err := minioserver.Start(bin, mdir)
	if err != nil {
		return nil, "", err
	}
	defer srv.Stop()
	local, err := storage.NewLocal(dir)
	if err != nil {
		return nil, "", fmt.Errorf("open local table: %w", err)
	}
	remote, err := newBenchBucket(ctx, srv)
	if err != nil {
		return nil, "", err
	}
	rep := &S3Report{Shape: shape, Files: sh.Files, DataBytes: sh.DataBytes}
	say(fmt.Sprintf("copying the %s table to %s", shape, remote))
	start := time.Now()
	if rep.CopyBytes, err = copyStorage(ctx, local, remote); err != nil {
		return nil, "", err
	}
	rep.CopySeconds = time.Since(start).Seconds()
	rounds := max(1, (cfg.ColdLookups+sh.Files-1)/max(1, sh.Files))
	for _, m := range []struct {
		out  *ColdFigures
		name string
		fs   storage.Storage
	}{{&rep.S3, "s3 (MinIO)", remote}, {&rep.Local, "local disk", local}} {
		say(fmt.Sprintf("%s: %d fresh lookups × %d files cold, then warm", m.name, rounds, sh.Files))
		if *m.out, err = runCold(ctx, m.fs, m.name, sh, rounds, ds.hits, cfg.Duration); err != nil {
			return nil, "", fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return rep, "", srv.Stop()
}

// findMinio is bin if set, else minio where minioserver finds it.
func findMinio(bin string) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("minio binary: %w", err)
		}
		return bin, nil
	}
	return minioserver.Find()
}

// newBenchBucket creates the bench bucket on srv and opens it as storage.
func newBenchBucket(ctx context.Context, srv *minioserver.Server) (storage.Storage, error) {
	if err := srv.CreateBucket(ctx, benchBucket); err != nil {
		return nil, err
	}
	s, err := storage.NewS3(ctx, benchBucket, "", storage.WithEndpoint(srv.Endpoint),
		storage.WithRegion(minioserver.Region), storage.WithStaticCredentials(srv.AccessKey, srv.SecretKey, ""))
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", err)
	}
	return s, nil
}

// copyStorage copies every object of src to dst and returns the bytes
// copied.
func copyStorage(ctx context.Context, src, dst storage.Storage) (int64, error) {
	files, err := src.List(ctx, "", true)
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", src, err)
	}
	var n int64
	for _, f := range files {
		b, err := src.Get(ctx, f.Path)
		if err == nil {
			err = dst.Put(ctx, f.Path, b)
		}
		if err != nil {
			return n, fmt.Errorf("copy %s: %w", f.Path, err)
		}
		n += int64(len(b))
	}
	return n, nil
}

// runCold opens rounds fresh Lookups of the table in fs, each followed by a
// cold Get of one key of every file (each file's first key, or its last in
// odd rounds), then measures warm Gets of hits for d on the last Lookup.
func runCold(ctx context.Context, fs storage.Storage, name string, sh tableShape, rounds int, hits []int64,
	d time.Duration) (ColdFigures, error) {
	res := ColdFigures{Storage: name, Rounds: rounds}
	rc := newReadCounter(fs)
	tb, err := table.Open(ctx, rc, lookupTablePath)
	if err != nil {
		return res, fmt.Errorf("open table: %w", err)
	}
	openRec, coldRec := newRecorder(1), newRecorder(2)
	var l *table.Lookup
	defer func() {
		if l != nil {
			l.Close()
		}
	}()
	for r := range rounds {
		if l != nil {
			if err := l.Close(); err != nil {
				return res, fmt.Errorf("close lookup: %w", err)
			}
		}
		reads0, bytes0 := rc.counts()
		start := time.Now()
		if l, err = tb.NewLookup(ctx, table.WithRefreshInterval(0)); err != nil {
			return res, fmt.Errorf("open lookup: %w", err)
		}
		openRec.Add(time.Since(start))
		reads1, bytes1 := rc.counts()
		res.OpenReads, res.OpenBytes = res.OpenReads+reads1-reads0, res.OpenBytes+bytes1-bytes0
		if err := coldGets(ctx, l, rc, sh.fileKeys(r%2), coldRec, &res); err != nil {
			return res, err
		}
	}
	res.Open, res.Cold = summarize([]*latency.Sample{openRec}), summarize([]*latency.Sample{coldRec})
	_, bytes0 := rc.counts()
	st := &StrataTarget{name: name, l: l}
	if res.Warm, err = runClosed(ctx, 1, d, getOp(st, hits, 1)); err != nil {
		return res, fmt.Errorf("warm gets: %w", err)
	}
	_, bytes1 := rc.counts()
	res.WarmBytes = bytes1 - bytes0
	return res, nil
}

// coldGets reads each key, present in the table, once through l, recording
// each Get's latency and what it fetched and built.
func coldGets(ctx context.Context, l *table.Lookup, rc *readCounter, keys []int64, rec *latency.Sample, res *ColdFigures) error {
	for _, k := range keys {
		reads0, bytes0 := rc.counts()
		builds0 := l.CacheStats().Builds
		start := time.Now()
		row, err := l.Get(ctx, spec.Row{k})
		if err != nil {
			return fmt.Errorf("cold get %d: %w", k, err)
		}
		rec.Add(time.Since(start))
		if row == nil {
			return fmt.Errorf("cold get %d: a file's first or last key is missing", k)
		}
		reads1, bytes1 := rc.counts()
		res.ColdReads, res.ColdBytes = res.ColdReads+reads1-reads0, res.ColdBytes+bytes1-bytes0
		res.Builds += l.CacheStats().Builds - builds0
	}
	return nil
}

// fileKeys is every file's first key (which 0) or last key (which 1).
func (sh tableShape) fileKeys(which int) []int64 {
	keys := make([]int64, 0, len(sh.firstLastKeys)/2)
	for i := which; i < len(sh.firstLastKeys); i += 2 {
		keys = append(keys, sh.firstLastKeys[i])
	}
	return keys
}

// readCounter wraps a storage and counts what reads fetch from it: Get and
// GetRange requests (reads) and their bytes (storage.Counting's BytesRead).
type readCounter struct {
	*storage.Counting
	reads atomic.Int64
}

func newReadCounter(s storage.Storage) *readCounter {
	return &readCounter{Counting: storage.NewCounting(s)}
}

// Get implements storage.Storage.
func (c *readCounter) Get(ctx context.Context, p string) ([]byte, error) {
	c.reads.Add(1)
	return c.Counting.Get(ctx, p)
}

// GetRange implements storage.Storage.
func (c *readCounter) GetRange(ctx context.Context, p string, off, n int64) ([]byte, error) {
	c.reads.Add(1)
	return c.Counting.GetRange(ctx, p, off, n)
}

// counts are the reads and bytes read so far.
func (c *readCounter) counts() (reads, bytes int64) { return c.reads.Load(), c.BytesRead.Load() }
