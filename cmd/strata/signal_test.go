//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a strata process instead of running the
// tests (TestMain): "main" runs main, "signals" signalChild. The process
// tests below thus run main's signal handling for real.
const childEnv = "STRATA_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "main":
		main()
	case "signals":
		signalChild()
	}
	os.Exit(m.Run())
}

// signalChild says "ready" once signalContext is in place and "stopping"
// once a signal ended its context, then ignores the context as a stuck
// command would: only the default handling of a second signal ends it.
func signalChild() {
	ctx, stop := signalContext()
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("stopping")
	time.Sleep(time.Minute)
	os.Exit(3)
}

// child is a strata process whose stdin is a pipe the test holds open.
type child struct {
	t              *testing.T
	cmd            *exec.Cmd
	in             *os.File
	stdout, stderr lockedBuffer
	exited         chan error
	done           bool // exited has been received from
}

func startChild(t *testing.T, mode string, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, in: w, exited: make(chan error, 1)}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(os.Environ(), childEnv+"="+mode)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = r, &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() {
		w.Close()
		if !c.done {
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// waitFor waits until the child's stdout holds want.
func (c *child) waitFor(want string) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(c.stdout.String(), want); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.t.Fatalf("the child did not print %q: stdout %q, stderr %q", want, c.stdout.String(), c.stderr.String())
		}
	}
}

// write sends input and waits until the child has read it all: it is
// then blocked reading more, past its start and its signal handling setup.
func (c *child) write(input string) {
	c.t.Helper()
	if _, err := c.in.WriteString(input); err != nil {
		c.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n, err := unix.IoctlGetInt(int(c.in.Fd()), unix.TIOCINQ) // FIONREAD: bytes in the pipe
		if err != nil {
			c.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the child left %d bytes of its input unread: stderr %q", n, c.stderr.String())
		}
	}
}

// signal sends sig and returns how the child ended, failing the test when
// it does not end within 10 seconds.
func (c *child) signal(sig syscall.Signal) *exec.ExitError {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		c.done = true
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			c.t.Fatal(err)
		}
		return ee
	case <-time.After(10 * time.Second):
		c.t.Fatalf("the child ignored %v for 10 s: stdout %q, stderr %q", sig, c.stdout.String(), c.stderr.String())
		return nil
	}
}

// strata write blocked on an input pipe that stays open stops at SIGINT or
// SIGTERM as at any other interruption: exit 1, nothing after the last
// commit committed. It used to wait for the next input line forever, as
// strata lookup --input - did.
func TestCLIStopsOnSignalWhileReading(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "t", "--schema", "id INT NOT NULL, v STRING", "--primary-key", "id", "-o", "bucket=1")
	rows := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "{\"id\":%d,\"v\":\"r%d\"}\n", i, i)
		}
		return b.String()
	}
	stream := []string{"--warehouse", c.wh, "write", "t", "--commit-every", "2", "--commit-user", "job", "--checkpoint", "0"}
	for _, tc := range []struct {
		name    string
		sig     syscall.Signal
		args    []string
		input   string
		await   string // on stdout, before the signal
		wantErr string
	}{
		{"one commit", syscall.SIGINT, []string{"--warehouse", c.wh, "write", "t"}, rows(1, 2), "",
			"strata: nothing committed: context canceled\n"},
		{"commit every", syscall.SIGTERM, stream, rows(1, 3), "snapshot 1: wrote 2 rows (lines 1-2)\n",
			"strata: committed up to line 2 (snapshot 1, checkpoint 2), nothing after it: context canceled\n"},
		// Run again, it skips the 2 rows committed: stopped while skipping.
		{"resuming", syscall.SIGTERM, stream, rows(1, 1), "",
			"strata: skipping the 2 rows job committed up to checkpoint 2: context canceled\n"},
		{"lookup", syscall.SIGTERM, []string{"--warehouse", c.wh, "lookup", "t", "--input", "-"}, "1\n", "",
			"strata: stdin: context canceled\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startChild(t, "main", tc.args...)
			p.write(tc.input)
			if tc.await != "" {
				p.waitFor(tc.await)
			}
			start := time.Now()
			ee := p.signal(tc.sig)
			if ee == nil || ee.ExitCode() != 1 || p.stderr.String() != tc.wantErr {
				t.Fatalf("after %v: %v (stdout %q), stderr %q, want exit 1 and %q", tc.sig, ee, p.stdout.String(), p.stderr.String(), tc.wantErr)
			}
			t.Logf("%v: exited in %s", tc.sig, time.Since(start).Round(time.Millisecond))
		})
	}
	if got := c.ok("", "scan", "t", "--format", "csv"); got != "id,v\n1,r1\n2,r2\n" {
		t.Fatalf("scan: %q, want the rows of the one commit", got)
	}
}

// After the first SIGTERM ended the context, a second one kills the
// process the default way, should the command not stop.
func TestSecondSignalKills(t *testing.T) {
	p := startChild(t, "signals")
	p.waitFor("ready\n")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitFor("stopping\n")
	ee := p.signal(syscall.SIGTERM)
	if ee == nil {
		t.Fatal("the child exited 0")
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("the child ended with %v, want killed by SIGTERM", ee)
	}
}
