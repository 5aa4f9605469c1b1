package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/storage"
)

// RunWriteCLI runs the scenario through the strata write command (bin) in a
// child process: cfg's stream, as JSON Lines in a file written first and
// not timed, is its input, committed every cfg.CommitEvery rows into a
// table on local disk. The time runs from starting the command to its
// exit; the tenths come from the moments it reports the commits that end
// them (exact when a tenth is a whole number of commit intervals). CPU
// time and peak memory are the child's, from its resource usage; bytes
// written are not known (write amplification 0).
func RunWriteCLI(ctx context.Context, cfg WriteConfig, bin string) (res WriteResult, err error) {
	if cfg, err = cfg.normalized(); err != nil {
		return res, err
	}
	if cfg.Storage != StorageLocal {
		return res, fmt.Errorf("the strata write run is on local disk only, not %s", cfg.Storage)
	}
	dir := filepath.Join(cfg.Dir, "cli")
	input := filepath.Join(cfg.Dir, "cli-input.jsonl")
	if err := writeJSONL(ctx, cfg, input); err != nil {
		return res, err
	}
	defer os.Remove(input)
	fs, err := storage.NewLocal(dir)
	if err != nil {
		return res, err
	}
	tb, err := createBenchTable(ctx, fs, cfg.Buckets, cfg.Options...)
	if err != nil {
		return res, err
	}
	in, err := os.Open(input)
	if err != nil {
		return res, err
	}
	defer in.Close()
	cmd := exec.CommandContext(ctx, bin, "--warehouse", dir, "write", "bench.upserts",
		"--commit-every", strconv.Itoa(cfg.CommitEvery))
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("strata write: %w", err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	t, serr := commitTimes(out, cfg, start)
	res.PeakRSS = peak()
	if err := cmd.Wait(); err != nil {
		msg := stderr.Bytes()
		return res, fmt.Errorf("strata write: %w\n%s", err, bytes.TrimSpace(msg[max(0, len(msg)-500):]))
	}
	if serr != nil {
		return res, serr
	}
	end := time.Now()
	t.total, t.lastTenth = end.Sub(start), end.Sub(start.Add(t.lastTenth))
	peakRSS := res.PeakRSS
	res = result("strata", cfg.Rows, t, 0)
	res.API, res.Storage, res.PeakRSS = string(APIJSONL), "local disk", peakRSS
	if ps := cmd.ProcessState; ps != nil {
		res.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	res.SortedRuns, err = sortedRuns(ctx, tb, cfg.Buckets)
	return res, err
}

// watchPeakRSS samples process pid's peak resident memory (VmHWM) every
// 20 ms; the function it returns stops sampling and returns the last
// value read (0 without /proc). The child's own rusage cannot say: Linux
// carries the parent's high-water mark into a child across exec.
func watchPeakRSS(pid int) func() int64 {
	status := fmt.Sprintf("/proc/%d/status", pid)
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := readStatus(status, "VmHWM:"); err == nil && v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// commitTimes reads strata write's output ("snapshot N: wrote R rows
// (lines A-B)") until it ends and returns the time from start to the
// commit that reached row Rows/10 (firstTenth) and to the one that reached
// 9*Rows/10 (lastTenth, still to be turned into the time after it).
func commitTimes(out io.Reader, cfg WriteConfig, start time.Time) (writeTimes, error) {
	var t writeTimes
	firstEnd, lastStart := cfg.Rows/10, 9*cfg.Rows/10
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		_, span, ok := strings.Cut(line, "(lines ")
		if !strings.HasPrefix(line, "snapshot ") || !ok {
			continue
		}
		var first, n int
		if _, err := fmt.Sscanf(span, "%d-%d", &first, &n); err != nil {
			return t, fmt.Errorf("strata write printed %q: %w", line, err)
		}
		now := time.Since(start)
		if t.firstTenth == 0 && n >= firstEnd {
			t.firstTenth = now
		}
		if t.lastTenth == 0 && n >= lastStart {
			t.lastTenth = now
		}
		progress(cfg.Progress, "strata write", n, cfg.Rows, start)
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("strata write's output: %w", err)
	}
	return t, nil
}

// writeJSONL writes cfg's stream to path as JSON Lines in benchColumns'
// shape, the rows drive makes for every engine.
func writeJSONL(ctx context.Context, cfg WriteConfig, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("JSON Lines input: %w", err)
	}
	s := &jsonlSink{w: bufio.NewWriterSize(f, 1<<20)}
	quiet := cfg
	quiet.Progress = nil
	if _, err := drive(ctx, quiet, "jsonl", s); err != nil {
		f.Close()
		return err
	}
	if err := s.w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("JSON Lines input: %w", err)
	}
	return f.Close()
}

// jsonlSink writes the rows as JSON Lines. Their strings are letters,
// digits, '-' and '_': nothing to escape.
type jsonlSink struct {
	w   *bufio.Writer
	buf []byte
}

func (s *jsonlSink) add(_ context.Context, u *upsert) error {
	b := append(s.buf[:0], `{"id":`...)
	b = strconv.AppendInt(b, u.id, 10)
	b = append(b, `,"account":"`...)
	b = append(b, u.account[:]...)
	b = append(b, `","amount":`...)
	b = strconv.AppendFloat(b, u.amount, 'g', -1, 64)
	b = append(b, `,"currency":"`+currency+`","merchant":"`...)
	b = append(b, u.merchant[:]...)
	b = append(b, `","risk_score":`...)
	b = strconv.AppendFloat(b, u.risk, 'g', -1, 64)
	b = append(b, `,"note":"`...)
	b = append(b, u.note[:]...)
	b = append(b, "\"}\n"...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

func (s *jsonlSink) flush(context.Context) error         { return nil }
func (s *jsonlSink) commit(context.Context, int64) error { return nil }
func (s *jsonlSink) finish(context.Context) error        { return nil }
