// Package bench runs Strata's benchmark scenarios against baselines measured
// in the same run, for `strata bench` and BENCHMARKS.md.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// The write scenario: one stream of upserts written into a Strata table
// (through the Arrow or the rows API, on local disk or on MinIO) and into
// pebble on local disk, each engine timed as a whole and over the first
// and the last tenth of its rows.

// WriteAPI is how Strata is handed the rows.
type WriteAPI string

const (
	// APIArrow hands Strata Arrow record batches (table.Write.Write).
	APIArrow WriteAPI = "arrow"
	// APIRows hands Strata one row of Go values at a time (WriteRow).
	APIRows WriteAPI = "rows"
	// APIJSONL runs the strata write command on the rows as JSON Lines
	// (RunWriteCLI); a report has it beside the API it compares with.
	APIJSONL WriteAPI = "jsonl"
)

// WriteStorage is where Strata's table lives; pebble's is always on local
// disk.
type WriteStorage string

const (
	// StorageLocal is a directory of the scratch directory.
	StorageLocal WriteStorage = "local"
	// StorageMinio is a bucket of a MinIO server the run starts on loopback
	// (its data under the scratch directory) and stops afterwards.
	StorageMinio WriteStorage = "minio"
)

// DefaultBatchRows is the rows per Arrow batch by default.
const DefaultBatchRows = 1024

// WriteConfig is the upsert scenario: RowBytes-sized rows with random keys
// from a KeySpace-key space, committed every CommitEvery rows.
type WriteConfig struct {
	Rows        int
	KeySpace    int64
	Buckets     int
	CommitEvery int
	API         WriteAPI     // "": APIArrow
	BatchRows   int          // rows per Arrow batch (0: DefaultBatchRows)
	Storage     WriteStorage // "": StorageLocal
	Minio       string       // minio binary ("": minio in PATH, GOPATH/bin or GOBIN)
	Dir         string       // scratch directory for both engines
	Seed        uint64
	Progress    io.Writer // nil: quiet
	// CLI, if set, is a strata binary: RunWrite also runs its write
	// command on the same rows as JSON Lines (RunWriteCLI).
	CLI string
	// CPUProfile, if set, receives a CPU profile (pprof) of Strata's
	// timed phase.
	CPUProfile io.Writer
	// Options are table options (key, value, key, value...) set on
	// Strata's table beside the bucket count; none: Paimon's defaults.
	// They say what a figure would be with another setting (write-only,
	// file.compression...); the summary's targets are for the defaults.
	Options []string
}

// Validate checks the configuration.
func (c WriteConfig) Validate() error {
	_, err := c.normalized()
	return err
}

// normalized is c with defaults filled in, checked.
func (c WriteConfig) normalized() (WriteConfig, error) {
	if c.Rows <= 0 || c.KeySpace <= 0 || c.Buckets <= 0 || c.CommitEvery <= 0 || c.BatchRows < 0 {
		return c, fmt.Errorf("rows, keys, buckets and commit interval must be positive (and the batch size not negative)")
	}
	if _, err := benchSchema(c.Buckets, c.Options...); err != nil {
		return c, fmt.Errorf("table options: %w", err)
	}
	if c.API == "" {
		c.API = APIArrow
	}
	if c.BatchRows == 0 {
		c.BatchRows = DefaultBatchRows
	}
	if c.Storage == "" {
		c.Storage = StorageLocal
	}
	if c.API != APIArrow && c.API != APIRows {
		return c, fmt.Errorf("api %q: want %s or %s", c.API, APIArrow, APIRows)
	}
	if c.CLI != "" && c.Storage != StorageLocal {
		return c, fmt.Errorf("the strata write run is on local disk only: it cannot go with storage %s", c.Storage)
	}
	if c.Storage != StorageLocal && c.Storage != StorageMinio {
		return c, fmt.Errorf("storage %q: want %s or %s", c.Storage, StorageLocal, StorageMinio)
	}
	return c, nil
}

// WriteResult is one engine's figures.
type WriteResult struct {
	Engine  string  `json:"engine"`
	API     string  `json:"api,omitempty"` // Strata's: arrow, rows or jsonl
	Storage string  `json:"storage"`
	Rows    int     `json:"rows"`
	Seconds float64 `json:"seconds"`
	// FirstTenthSeconds is the time rows [0, Rows/10) took, LastTenth's
	// rows [9*Rows/10, Rows), the final commit included.
	FirstTenthSeconds float64 `json:"first_tenth_seconds"`
	LastTenthSeconds  float64 `json:"last_tenth_seconds"`
	RowsPerSec        float64 `json:"rows_per_sec"`
	FirstTenthPerSec  float64 `json:"first_tenth_rows_per_sec"`
	LastTenthPerSec   float64 `json:"last_tenth_rows_per_sec"`
	RowsPerCore       float64 `json:"rows_per_sec_per_core"` // rows/s over GOMAXPROCS
	// TenthsPerSec is the rate of each tenth of the rows in turn, the first
	// and last being FirstTenthPerSec and LastTenthPerSec (nil: not
	// measured).
	TenthsPerSec []float64 `json:"tenths_rows_per_sec,omitempty"`
	// CPUSeconds is the CPU time (user and system) the process used in the
	// phase (0: unknown); for MinIO, not the server's.
	CPUSeconds   float64 `json:"cpu_seconds"`
	BytesIn      int64   `json:"bytes_in"`      // logical bytes of the rows ingested
	BytesWritten int64   `json:"bytes_written"` // bytes the engine wrote to storage
	WriteAmp     float64 `json:"write_amp"`
	// PeakRSS is the process's peak resident memory in the phase, in bytes
	// (0: unknown; see phaseUsage).
	PeakRSS int64 `json:"peak_rss_bytes"`
	// StartRSS is the resident memory when the phase started (0: unknown),
	// the process's baseline: its code and runtime, and what earlier
	// phases left.
	StartRSS int64 `json:"start_rss_bytes,omitempty"`
	// SortedRuns is the number of sorted runs of each bucket in the last
	// snapshot (Strata's).
	SortedRuns []int `json:"sorted_runs_per_bucket,omitempty"`
}

// writeTimes are a run's clock readings.
type writeTimes struct {
	total, firstTenth, lastTenth time.Duration
	// tenths are the times of the ten tenths of the rows (nil: not
	// measured).
	tenths []time.Duration
}

// newWriteTimes are the times of a run from its 11 marks: the start, the
// end of each tenth of the rows and the end.
func newWriteTimes(marks []time.Time) writeTimes {
	t := writeTimes{total: marks[10].Sub(marks[0]), firstTenth: marks[1].Sub(marks[0]), lastTenth: marks[10].Sub(marks[9])}
	for k := range 10 {
		t.tenths = append(t.tenths, marks[k+1].Sub(marks[k]))
	}
	return t
}

// result computes an engine's rates from its times.
func result(engine string, rows int, t writeTimes, written int64) WriteResult {
	in := int64(rows) * rowBytes
	r := WriteResult{Engine: engine, Rows: rows, Seconds: t.total.Seconds(), FirstTenthSeconds: t.firstTenth.Seconds(),
		LastTenthSeconds: t.lastTenth.Seconds(), BytesIn: in, BytesWritten: written, WriteAmp: float64(written) / float64(in)}
	r.RowsPerSec = perSec(rows, r.Seconds)
	r.FirstTenthPerSec = perSec(rows/10, r.FirstTenthSeconds)
	r.LastTenthPerSec = perSec(rows-9*rows/10, r.LastTenthSeconds)
	r.RowsPerCore = r.RowsPerSec / float64(runtime.GOMAXPROCS(0))
	for k, d := range t.tenths {
		r.TenthsPerSec = append(r.TenthsPerSec, perSec((k+1)*rows/10-k*rows/10, d.Seconds()))
	}
	return r
}

func perSec(n int, secs float64) float64 {
	if n == 0 || secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// WriteReport is a run of the write scenario: Strata's figures and
// pebble's on the same stream.
type WriteReport struct {
	Rows        int    `json:"rows"`
	KeySpace    int64  `json:"key_space"`
	Buckets     int    `json:"buckets"`
	CommitEvery int    `json:"commit_every"`
	BatchRows   int    `json:"batch_rows,omitempty"` // Arrow API
	Seed        uint64 `json:"seed"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	// Options are the table options set beside the bucket count.
	Options map[string]string `json:"table_options,omitempty"`
	Strata  WriteResult       `json:"strata"`
	Pebble  WriteResult       `json:"pebble"`
	// CLI is the strata write command's run, when asked for.
	CLI *WriteResult `json:"cli,omitempty"`
}

// RunWrite runs both engines on fresh scratch directories, Strata first,
// in this process.
func RunWrite(ctx context.Context, cfg WriteConfig) (*WriteReport, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "strata-bench-"); err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		defer os.RemoveAll(cfg.Dir)
	}
	rep := &WriteReport{Rows: cfg.Rows, KeySpace: cfg.KeySpace, Buckets: cfg.Buckets, CommitEvery: cfg.CommitEvery,
		Seed: cfg.Seed, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if cfg.API == APIArrow {
		rep.BatchRows = cfg.BatchRows
	}
	for i := 0; i+1 < len(cfg.Options); i += 2 {
		if rep.Options == nil {
			rep.Options = map[string]string{}
		}
		rep.Options[cfg.Options[i]] = cfg.Options[i+1]
	}
	if rep.Strata, err = RunWriteStrata(ctx, cfg); err != nil {
		return nil, fmt.Errorf("strata: %w", err)
	}
	if cfg.CLI != "" {
		cli, err := RunWriteCLI(ctx, cfg, cfg.CLI)
		if err != nil {
			return nil, fmt.Errorf("strata write: %w", err)
		}
		rep.CLI = &cli
	}
	if rep.Pebble, err = RunWritePebble(ctx, cfg); err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	return rep, nil
}

// Text renders the report as an aligned table and the ratios.
func (r *WriteReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s upserts of %d-byte rows, %s keys, %d buckets, a commit every %s rows, GOMAXPROCS %d\n",
		count(int64(r.Rows)), rowBytes, count(r.KeySpace), r.Buckets, count(int64(r.CommitEvery)), r.GOMAXPROCS)
	if len(r.Options) > 0 {
		keys := slices.Sorted(maps.Keys(r.Options))
		for i, k := range keys {
			keys[i] = k + "=" + r.Options[k]
		}
		fmt.Fprintf(&b, "Strata's table options: %s (the targets are for the defaults)\n", strings.Join(keys, ", "))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tAPI\tstorage\trows/s\tfirst 10%\tlast 10%\tlast/first\trows/s/core\tCPU s\twrite-amp\tpeak RSS (start)\truns/bucket\t")
	rows := []WriteResult{r.Strata, r.Pebble}
	if r.CLI != nil {
		rows = []WriteResult{r.Strata, *r.CLI, r.Pebble}
	}
	for _, w := range rows {
		api, runs := w.API, "-"
		if api == "" {
			api = "-"
		}
		if w.SortedRuns != nil {
			runs = strings.Trim(fmt.Sprint(w.SortedRuns), "[]")
		}
		amp := "–"
		if w.WriteAmp > 0 {
			amp = fmt.Sprintf("%.2f", w.WriteAmp)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t\n", w.Engine, api, w.Storage,
			count(int64(w.RowsPerSec)), count(int64(w.FirstTenthPerSec)), count(int64(w.LastTenthPerSec)),
			ratio(w.LastTenthPerSec, w.FirstTenthPerSec), count(int64(w.RowsPerCore)), w.CPUSeconds, amp,
			peakStr(w.PeakRSS, w.StartRSS), runs)
	}
	tw.Flush()
	if tenth := r.Rows / 10; r.CommitEvery > 0 && tenth%r.CommitEvery != 0 {
		fmt.Fprintf(&b, "note: a tenth of the rows (%s) is not a whole number of commit intervals: the first and last tenths hold different numbers of commits\n",
			count(int64(tenth)))
	}
	s, p := r.Strata, r.Pebble
	fmt.Fprintf(&b, "strata/pebble: throughput %s, write amplification %s, peak RSS %s\n",
		ratio(s.RowsPerSec, p.RowsPerSec), ratio(s.WriteAmp, p.WriteAmp), ratio(float64(s.PeakRSS), float64(p.PeakRSS)))
	if c := r.CLI; c != nil {
		fmt.Fprintf(&b, "strata write (JSON Lines)/API: throughput %s, per CPU second %s\n",
			ratio(c.RowsPerSec, s.RowsPerSec), ratio(perSec(c.Rows, c.CPUSeconds), perSec(s.Rows, s.CPUSeconds)))
	}
	return b.String()
}

// peakStr is a peak RSS and the RSS it started from, or "unknown".
func peakStr(peak, start int64) string {
	switch {
	case peak <= 0:
		return "unknown"
	case start <= 0:
		return bytesStr(peak)
	}
	return fmt.Sprintf("%s (%s)", bytesStr(peak), bytesStr(start))
}

// JSON is the report as indented JSON.
func (r *WriteReport) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return append(b, '\n'), nil
}

func progress(w io.Writer, engine string, done, total int, start time.Time) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "\r%s: %d/%d rows (%.0f rows/s)   ", engine, done, total, float64(done)/time.Since(start).Seconds())
	if done == total {
		fmt.Fprintln(w)
	}
}
