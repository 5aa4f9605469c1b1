package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stratalake/strata/catalog"
)

// StartHTTPServerProcess runs `bin --warehouse warehouse serve` for table
// id on a free loopback port as its own process, as Redis runs as
// redis-server, logging to logPath, and waits until it answers /healthz
// (it opens the table first). Stop sends SIGTERM and waits for a clean
// exit.
func StartHTTPServerProcess(ctx context.Context, bin, warehouse string, id catalog.Identifier, logPath string) (*HTTPServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("lookup server log: %w", err)
	}
	cmd := exec.Command(bin, "--warehouse", warehouse, "serve", "--addr", addr, "--tables", id.String())
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() {
		done <- cmd.Wait()
		logf.Close()
	}()
	p := &serveProcess{cmd: cmd, done: done, log: logPath}
	h := &HTTPServer{URL: "http://" + addr, pid: cmd.Process.Pid, stop: p.stop}
	if err := p.waitReady(ctx, h.URL); err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// serveProcess is a running `strata serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	done chan error // the exit, once
	log  string
}

// waitReady polls /healthz until it answers 200, the process exits or 60
// seconds pass.
func (p *serveProcess) waitReady(ctx context.Context, url string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := client.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("lookup server exited (%v): %s", err, logTail(p.log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("lookup server on %s did not answer: %s", url, logTail(p.log))
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 15 s, and reports an unclean
// exit.
func (p *serveProcess) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("exit: %w: %s", err, logTail(p.log))
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("did not stop on SIGTERM; killed: %s", logTail(p.log))
	}
}

// logTail is the end of a log file, for errors.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 500 {
		b = b[len(b)-500:]
	}
	return strings.TrimSpace(string(b))
}
