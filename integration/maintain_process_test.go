package integration

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// strata maintain, a real process running rounds every 20 ms over a
// write-only table, is stopped with SIGTERM at several points of its
// rounds once it has started: it must exit 0 promptly, and the table must read back every row
// and accept more maintenance afterwards.
func TestMaintainProcessStopsCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build strata: %v\n%s", err, out)
	}
	wh := t.TempDir()
	strata := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--warehouse", wh}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("strata %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	strata("", "create", "db.t", "--schema", "id INT NOT NULL, v INT", "--primary-key", "id", "-o", "bucket=2",
		"-o", "write-only=true", "-o", "snapshot.num-retained.min=1", "-o", "snapshot.time-retained=0 s")
	rows := 0
	for round, delay := range []time.Duration{0, 10, 40, 100, 250} {
		var in strings.Builder
		for i := range 200 {
			fmt.Fprintf(&in, "{\"id\":%d,\"v\":%d}\n", rows+i, round)
		}
		rows += 200
		strata(in.String(), "write", "db.t")
		cmd := exec.Command(bin, "--warehouse", wh, "maintain", "--all", "--every", "20ms", "--full-every", "1ms", "--orphans", "--orphan-age", "1h")
		logs := &firstWrite{started: make(chan struct{})}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Its first log line says the job runs (its signal handler is set).
		select {
		case <-logs.started:
		case <-time.After(30 * time.Second):
			t.Fatal("maintain logged nothing in 30 s")
		}
		time.Sleep(delay * time.Millisecond)
		sent := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("maintain stopped after %v: %v\n%s", delay*time.Millisecond, err, logs.String())
		}
		if took := time.Since(sent); took > 10*time.Second {
			t.Fatalf("maintain took %v to stop", took)
		}
		if got := strings.Count(strata("", "scan", "db.t", "--format", "csv"), "\n") - 1; got != rows {
			t.Fatalf("after a stop at %v: %d rows, want %d\n%s", delay*time.Millisecond, got, rows, logs.String())
		}
	}
	strata("", "maintain", "db.t", "--full-every", "1ms")
	if snaps := strata("", "snapshots", "db.t", "--format", "jsonl"); strings.Count(snaps, "\n") != 1 {
		t.Fatalf("snapshots after the last maintain: %s", snaps)
	}
}

// firstWrite keeps what is written and closes started at the first write.
type firstWrite struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started chan struct{}
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() == 0 && len(p) > 0 {
		close(w.started)
	}
	return w.buf.Write(p)
}

func (w *firstWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
