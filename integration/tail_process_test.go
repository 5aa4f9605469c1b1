package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// strata tail --follow --consumer, a real process following a table while
// strata write commits to it, is SIGKILLed at random moments and started
// again: the union of what the runs printed is the table's change stream,
// with at most the snapshot a run was killed in printed again by the next.
// The last run catches up and stops with SIGTERM, exit 0.
func TestTailProcessKilledAndResumed(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build strata: %v\n%s", err, out)
	}
	wh := t.TempDir()
	strata := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--warehouse", wh}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("strata %v: %v\n%s", args, err, stderr.String())
		}
		return string(out)
	}
	strata("", "create", "db.t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id",
		"-o", "bucket=2", "-o", "changelog-producer=lookup")

	commits := 16
	writerDone := make(chan error, 1)
	go func() {
		wrng := rand.New(rand.NewPCG(seed, 8))
		for c := range commits {
			var in strings.Builder
			for range 30 {
				id := wrng.IntN(50)
				if wrng.IntN(4) == 0 {
					fmt.Fprintf(&in, "{\"id\":%d,\"_kind\":\"-D\"}\n", id)
				} else {
					fmt.Fprintf(&in, "{\"id\":%d,\"v\":\"c%d\"}\n", id, c)
				}
			}
			cmd := exec.Command(bin, "--warehouse", wh, "write", "db.t")
			cmd.Stdin = strings.NewReader(in.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				writerDone <- fmt.Errorf("write %d: %v\n%s", c, err, out)
				return
			}
		}
		writerDone <- nil
	}()

	consumerFile := filepath.Join(wh, "db.db", "t", "consumer", "consumer-x")
	var outputs []string
	writing := true
	for run := 0; ; run++ {
		if run > 200 {
			t.Fatal("the tail never caught up")
		}
		out := filepath.Join(t.TempDir(), "out.jsonl")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--warehouse", wh, "tail", "db.t", "--from", "earliest", "--follow", "--poll", "10ms",
			"--consumer", "x", "--with-snapshot")
		cmd.Stdout = f
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if writing {
			select {
			case err := <-writerDone:
				if err != nil {
					t.Fatal(err)
				}
				writing = false
			default:
			}
		}
		if writing || run < 3 {
			time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
		} else {
			// The writer is done: let this run catch up, then stop it.
			latest := strings.Count(strata("", "snapshots", "db.t", "--format", "jsonl"), "\n")
			want := fmt.Sprintf("\"nextSnapshot\" : %d", latest+1)
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if data, _ := os.ReadFile(consumerFile); strings.Contains(string(data), want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the tail did not catch up with snapshot %d\n%s", latest, stderr.String())
				}
			}
			// The consumer file may have caught up in an earlier run:
			// make sure this one handles SIGTERM before sending it.
			waitHandlesSIGTERM(t, cmd.Process.Pid)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("tail stopped by SIGTERM: %v\n%s", err, stderr.String())
			}
		}
		f.Close()
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
		if !writing && run >= 3 {
			break
		}
	}

	ref := parseTail(t, strata("", "tail", "db.t", "--from", "earliest", "--with-snapshot"))
	var got []tailLine
	restarts, repeated := 0, 0
	for i, o := range outputs {
		lines := parseTail(t, o)
		if len(lines) == 0 {
			continue
		}
		if len(got) > 0 {
			restarts++
			if last := got[len(got)-1].snapshot; lines[0].snapshot < last {
				t.Fatalf("run %d resumed at snapshot %d, before %d, the last one the run before printed", i, lines[0].snapshot, last)
			}
			k := len(got)
			for k > 0 && got[k-1].snapshot >= lines[0].snapshot {
				k--
				repeated++
			}
			got = got[:k]
		}
		got = append(got, lines...)
	}
	if len(got) != len(ref) {
		t.Fatalf("the runs printed %d changes (after dropping repeats), the stream has %d", len(got), len(ref))
	}
	for i := range got {
		if got[i] != ref[i] {
			t.Fatalf("change %d: %+v, want %+v", i, got[i], ref[i])
		}
	}
	t.Logf("%d runs (%d resumed with output), %d changes, %d printed again", len(outputs), restarts, len(ref), repeated)
}

// waitHandlesSIGTERM waits until process pid catches SIGTERM, as Linux's
// /proc/PID/status SigCgt mask shows.
func waitHandlesSIGTERM(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("process %d: %v", pid, err)
		}
		for _, l := range strings.Split(string(status), "\n") {
			if mask, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64); err == nil && m&(1<<(syscall.SIGTERM-1)) != 0 {
					return
				}
			}
		}
	}
	t.Fatalf("process %d did not catch SIGTERM within 30 s", pid)
}

type tailLine struct {
	snapshot int64
	line     string
}

// parseTail reads tail --with-snapshot output; a last line cut by a kill
// is dropped.
func parseTail(t *testing.T, out string) []tailLine {
	t.Helper()
	var lines []tailLine
	for _, l := range strings.SplitAfter(out, "\n") {
		if !strings.HasSuffix(l, "\n") {
			break
		}
		var v struct {
			Snapshot int64 `json:"_snapshot"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Snapshot == 0 {
			t.Fatalf("tail line %q: %v", l, err)
		}
		lines = append(lines, tailLine{v.Snapshot, l})
	}
	return lines
}
