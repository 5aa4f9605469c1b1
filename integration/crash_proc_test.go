package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// crashRun is one backend's harness: the warehouse, the model of the
// table, the background processes and the kill counts.
type crashRun struct {
	t     *testing.T
	bin   string
	wh    string   // --warehouse
	env   []string // the processes' environment (S3 endpoint and keys)
	tmp   string
	fs    storage.Storage
	rng   *rand.Rand
	seed  uint64
	kills *killCount
	round int
	// short is CI's run (the plan of named points); planLimit cuts it.
	short     bool
	planLimit int
	// checked counts what the checks compared (any difference fails).
	checked struct{ scans, answers, changes int }

	// The model. Two writers share the table, each with its own keys:
	// writer 0 (commit user job0, even keys) commits one checkpoint per
	// command, writer 1 (job1, odd keys) streams rows with
	// --commit-every. half[w] is writer w's rows now; after[w] its rows
	// after each commit identifier; ckpt the last identifier used (both
	// writers draw from it); hist each APPEND snapshot of the current
	// history (synced up to histMax) with the rows its writer had then.
	ckpt    int64
	half    [2]map[int64]string
	after   [2]map[int64]map[int64]string
	hist    []histEntry
	histMax int64
	tags    map[string]tagEntry

	maint, serve, tail *bgProc
	addr               string // the lookup server's
	// The tail's epoch: the snapshot it began at (the anchor consumer's),
	// and its runs.
	epochStart int64
	tailRuns   []*tailRun
	// rolledBack is the snapshot of the last rollback until the lookup
	// server has moved back to it.
	rolledBack int64
}

type histEntry struct {
	snap   int64
	writer int
	half   map[int64]string
}

type tagEntry struct {
	snap int64
	half [2]map[int64]string
}

const (
	crashKeys  = 300 // key space
	crashTable = "db.t"
)

func newCrashRun(t *testing.T, bin, backend string, seed uint64, total *killCount) *crashRun {
	r := &crashRun{t: t, bin: bin, tmp: t.TempDir(), seed: seed, rng: rand.New(rand.NewPCG(seed, 13)),
		kills: &killCount{n: map[string]int{}, missed: map[string]int{}, parent: total}, tags: map[string]tagEntry{}}
	for w := range r.half {
		r.half[w] = map[int64]string{}
		r.after[w] = map[int64]map[int64]string{}
	}
	r.env = append(os.Environ(), "TMPDIR="+r.tmp) // a killed server's lookup files stay in the test's directory
	if backend == "s3" {
		fs, srv, bucket := s3Storage(t)
		r.fs, r.wh = fs, "s3://"+bucket+"/warehouse"
		r.env = append(r.env, "STRATA_S3_ENDPOINT="+srv.Endpoint, "AWS_ACCESS_KEY_ID="+srv.AccessKey,
			"AWS_SECRET_ACCESS_KEY="+srv.SecretKey, "AWS_REGION=us-east-1")
	} else {
		r.wh = t.TempDir()
		l, err := storage.NewLocal(r.wh)
		if err != nil {
			t.Fatal(err)
		}
		r.fs = l
	}
	return r
}

// setup creates the table: two buckets, a lookup changelog (so writers
// compact at commit and tails see -U/+U), short snapshot retention.
func (r *crashRun) setup() {
	r.ok("", "create", crashTable, "--schema", "id BIGINT NOT NULL, v STRING", "--primary-key", "id",
		"-o", "bucket=2", "-o", "changelog-producer=lookup", "-o", "snapshot.num-retained.min=2",
		"-o", "snapshot.num-retained.max=4", "-o", "snapshot.time-retained=1 ms")
	r.epochStart = 1
	r.resetConsumer("anchor", 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	ln.Close()
}

// table opens the table in the test process.
func (r *crashRun) table() *table.Table {
	tb, err := catalog.New(r.fs).GetTable(context.Background(), catalog.Identifier{Database: "db", Table: "t"})
	if err != nil {
		r.t.Fatalf("open the table: %v", err)
	}
	return tb
}

func (r *crashRun) resetConsumer(id string, next int64) {
	if err := r.table().ResetConsumer(context.Background(), id, next); err != nil {
		r.t.Fatal(err)
	}
}

func (r *crashRun) command(extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"--warehouse", r.wh}, args...)...)
	cmd.Env = append(append([]string{}, r.env...), extraEnv...)
	return cmd
}

// ok runs a strata command that must succeed and returns its stdout.
func (r *crashRun) ok(stdin string, args ...string) string {
	r.t.Helper()
	out, died := r.runKill("", nil, 0, stdin, args...)
	ensure(r.t, !died, "strata %v died", args)
	return out
}

// runKill runs a strata command of kind with extra environment; after
// killAfter (> 0) it is SIGKILLed if still running. It reports whether
// the process died of SIGKILL (at a point, or sent), counting the kill; any
// other failure fails the test.
func (r *crashRun) runKill(kind string, extraEnv []string, killAfter time.Duration, stdin string, args ...string) (string, bool) {
	r.t.Helper()
	out, died, err := r.runProc(kind, extraEnv, killAfter, stdin, args...)
	if err != nil {
		r.t.Fatalf("round %d: %v", r.round, err)
	}
	return out, died
}

// runProc is runKill for any goroutine: it returns the failure.
func (r *crashRun) runProc(kind string, extraEnv []string, killAfter time.Duration, stdin string, args ...string) (string, bool, error) {
	cmd := r.command(extraEnv, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return "", false, err
	}
	var timer *time.Timer
	if killAfter > 0 {
		timer = time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	}
	err := cmd.Wait()
	if timer != nil {
		timer.Stop()
	}
	if point, killed := killedBy(err, stderr.String()); killed {
		r.kills.add(kind, point)
		return stdout.String(), true, nil
	}
	if len(extraEnv) > 0 && strings.HasPrefix(extraEnv[0], "STRATA_CRASH_AT=") && err == nil {
		point, _, _ := strings.Cut(strings.TrimPrefix(extraEnv[0], "STRATA_CRASH_AT="), ":")
		r.kills.miss(kind, point)
	}
	if err != nil {
		return "", false, fmt.Errorf("strata %s (env %v): %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), extraEnv, err, stdout.String(), stderr.String())
	}
	return stdout.String(), false, nil
}

// killedBy tells whether a process ended by SIGKILL, and at which point
// ("random" when the point marker is missing: the harness sent it).
func killedBy(err error, stderr string) (string, bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "", false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return "", false
	}
	if _, after, found := strings.Cut(stderr, "faultpoint: crash at "); found {
		name, _, _ := strings.Cut(after, " ")
		return name, true
	}
	return "random", true
}

// bgProc is a background strata process: maintain --every, serve, tail
// --follow.
type bgProc struct {
	kind      string
	cmd       *exec.Cmd
	stderr    *bytes.Buffer
	done      chan error
	killed    atomic.Bool // the harness sent SIGKILL
	stopping  bool        // ended by the harness, not a crash
	accounted bool
	out       *os.File
	started   time.Time
	end       string // how it ended, once accounted
}

// startBg starts a background process of kind dying at point (none: "").
func (r *crashRun) startBg(kind, point string, maxNth int, out *os.File, args ...string) *bgProc {
	p := &bgProc{kind: kind, stderr: &bytes.Buffer{}, done: make(chan error, 1), out: out, started: time.Now()}
	p.cmd = r.command(r.crashEnv(point, maxNth), args...)
	p.cmd.Stderr = p.stderr // read only once the process ended
	if out != nil {
		p.cmd.Stdout = out
	}
	if err := p.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

// exited reports whether p ended, failing the test if it ended otherwise
// than by SIGKILL or SIGTERM's clean exit.
func (r *crashRun) exited(p *bgProc) bool {
	r.t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // keep it for a later look
		r.account(p, err)
		return true
	default:
		return false
	}
}

// account counts p's end once.
func (r *crashRun) account(p *bgProc, err error) {
	r.t.Helper()
	if p.accounted {
		return
	}
	p.accounted = true
	if p.out != nil {
		p.out.Close()
	}
	point, killed := killedBy(err, p.stderr.String())
	p.end = "stopped"
	switch {
	case killed && point == "random" && p.stopping:
		p.end = "killed by the harness"
	case killed:
		p.end = "killed at " + point
		r.kills.add(p.kind, point)
	case err != nil:
		r.t.Fatalf("round %d: background %s failed: %v\n%s", r.round, p.kind, err, p.stderr.String())
	}
}

// kill SIGKILLs p (if still running) and waits for it; counted as a
// random kill when counted is set.
func (r *crashRun) kill(p *bgProc, counted bool) {
	r.t.Helper()
	if p == nil {
		return
	}
	if !r.exited(p) {
		p.killed.Store(true)
		p.stopping = !counted
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		err := <-p.done
		p.done <- err
		r.account(p, err)
	}
}

// stop ends p with SIGTERM: it must exit 0.
func (r *crashRun) stop(p *bgProc) {
	r.t.Helper()
	if p == nil || r.exited(p) {
		return
	}
	// Go's runtime catches SIGTERM from its start, before main asks for
	// it: a process still starting would die of it.
	waitHandlesSIGTERM(r.t, p.cmd.Process.Pid)
	time.Sleep(time.Until(p.started.Add(time.Second)))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			if _, killed := killedBy(err, p.stderr.String()); !killed {
				r.t.Fatalf("round %d: %s stopped by SIGTERM: %v\n%s", r.round, p.kind, err, p.stderr.String())
			}
		}
		r.account(p, err)
	case <-time.After(60 * time.Second):
		r.t.Fatalf("round %d: %s did not stop in 60 s after SIGTERM", r.round, p.kind)
	}
}

func (r *crashRun) stopAll() {
	r.kill(r.maint, false)
	r.kill(r.serve, false)
	r.kill(r.tail, false)
}

// ensureBackground (re)starts the lookup server, the tail and, unless
// noMaintain, the maintenance loop, each dying at a random point now and
// then.
func (r *crashRun) ensureBackground(noMaintain bool) {
	r.t.Helper()
	if r.serve == nil || r.exited(r.serve) {
		r.startServe(r.pick(servePoints))
	}
	if r.tail == nil || r.exited(r.tail) {
		r.startTail(r.pick(tailPoints))
	}
	if !noMaintain && (r.maint == nil || r.exited(r.maint)) {
		bgPoints := maintainPoints[:len(maintainPoints)-2] // no orphan cleaning beside writers
		r.maint = r.startBg("maintain-bg", r.pick(append(bgPoints, "")), 4, nil, "maintain", crashTable,
			"--every", "30ms", "--full-every", "150ms")
	}
}

// killSoon SIGKILLs p at a random moment of the next 300 ms unless point
// is to kill it.
func (r *crashRun) killSoon(p *bgProc, point string) {
	if point != "" {
		return
	}
	d := time.Duration(r.rng.IntN(300)) * time.Millisecond
	time.AfterFunc(d, func() {
		p.killed.Store(true)
		_ = p.cmd.Process.Signal(syscall.SIGKILL) // ErrProcessDone once it ended
	})
}

// pick chooses a point for a background process: none half the time.
func (r *crashRun) pick(points []string) string {
	if r.rng.IntN(2) == 0 {
		return ""
	}
	return points[r.rng.IntN(len(points))]
}

func (r *crashRun) stopMaintain() {
	r.kill(r.maint, false)
	r.maint = nil
}

// maybeKillBackground SIGKILLs each background process now and then, at a
// random moment of the next 300 ms.
func (r *crashRun) maybeKillBackground() {
	for _, p := range []*bgProc{r.maint, r.serve, r.tail} {
		if p != nil && r.rng.IntN(3) == 0 {
			r.killSoon(p, "")
		}
	}
}

func (r *crashRun) startTail(point string) {
	f, err := os.Create(filepath.Join(r.tmp, fmt.Sprintf("tail-%d.jsonl", len(r.tailRuns)+r.round*1000)))
	if err != nil {
		r.t.Fatal(err)
	}
	r.tail = r.startBg("tail", point, 5, f, "tail", crashTable, "--from", "earliest", "--follow", "--poll", "20ms",
		"--consumer", "c", "--with-snapshot")
	r.tailRuns = append(r.tailRuns, &tailRun{out: f.Name(), proc: r.tail, round: r.round, point: point})
}
