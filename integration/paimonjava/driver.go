// Package paimonjava runs Apache Paimon's Java implementation from Go
// tests: it builds the driver in integration/java with Maven (once, when
// its sources change) and keeps one driver process serving commands.
//
// The driver's commands and value format are described in
// integration/java/README.md. Tests call ForTest, which skips when Java or
// Maven is missing, unless STRATA_REQUIRE_JAVA is set (CI sets it), in
// which case it fails.
package paimonjava

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// RequireEnv is the environment variable that turns a missing Java or
// Maven from a skip into a failure.
const RequireEnv = "STRATA_REQUIRE_JAVA"

// ErrNoJava is returned by Build and Start when java or mvn is not on PATH.
var ErrNoJava = errors.New("paimonjava: java or mvn not found on PATH")

// ProjectDir is the driver's Maven project: integration/java beside this
// package.
func ProjectDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "java")
}

// Build compiles the driver in dir unless target/ already holds a build
// of the same sources, and returns its class path. Maven runs offline
// (-o) first and online only when that fails, so after the first build
// nothing is downloaded. Concurrent callers (test binaries of several
// packages) serialize on a lock file.
func Build(ctx context.Context, dir string) (string, error) {
	return BuildProfile(ctx, dir, "")
}

// BuildProfile is Build with the Maven profile profile active ("" for
// none), built into target-<profile> (the pom's build directory for it),
// so builds of several profiles live side by side.
func BuildProfile(ctx context.Context, dir, profile string) (string, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", ErrNoJava
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", ErrNoJava
	}
	target := filepath.Join(dir, "target")
	var extra []string
	if profile != "" {
		target += "-" + profile
		extra = append(extra, "-P"+profile)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", fmt.Errorf("paimonjava: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(target, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("paimonjava: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("paimonjava: locking the build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	stamp, err := sourceStamp(dir)
	if err != nil {
		return "", err
	}
	stampFile := filepath.Join(target, "strata-build.stamp")
	cpFile := filepath.Join(target, "classpath.txt")
	if old, err := os.ReadFile(stampFile); err != nil || string(old) != stamp {
		if err := mvn(ctx, dir, append(extra, "-o")...); err != nil {
			if err2 := mvn(ctx, dir, extra...); err2 != nil {
				return "", fmt.Errorf("paimonjava: building the driver in %s: %w (offline: %v)", dir, err2, err)
			}
		}
		if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
			return "", fmt.Errorf("paimonjava: %w", err)
		}
	}
	deps, err := os.ReadFile(cpFile)
	if err != nil {
		return "", fmt.Errorf("paimonjava: the build left no class path: %w", err)
	}
	return filepath.Join(target, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(deps)), nil
}

func mvn(ctx context.Context, dir string, extra ...string) error {
	args := append([]string{"-q", "-B"}, extra...)
	args = append(args, "package")
	cmd := exec.CommandContext(ctx, "mvn", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mvn %s: %w\n%s", strings.Join(args, " "), err, tail(out.String(), 4000))
	}
	return nil
}

// sourceStamp hashes pom.xml and every file under src/.
func sourceStamp(dir string) (string, error) {
	var files []string
	files = append(files, filepath.Join(dir, "pom.xml"))
	err := filepath.WalkDir(filepath.Join(dir, "src"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("paimonjava: listing the driver's sources: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("paimonjava: %w", err)
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Driver is one running driver process serving commands. Its methods may
// be called from several goroutines; commands run one at a time.
type Driver struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *tailBuffer
	dead   error
}

// Start builds the driver if needed and starts a serving process.
func Start(ctx context.Context) (*Driver, error) {
	cp, err := Build(ctx, ProjectDir())
	if err != nil {
		return nil, err
	}
	// The process outlives ctx (Close ends it), so it is not tied to it.
	return StartCommand(exec.Command("java",
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx1g",
		"-cp", cp, "org.stratalake.paimondriver.Main", "serve"))
}

// StartCommand starts cmd as a driver: any program speaking the serve
// protocol of integration/java/README.md (the pypaimon driver in
// integration/python does too). Its stdin, stdout and stderr must be unset.
func StartCommand(cmd *exec.Cmd) (*Driver, error) {
	var err error
	d := &Driver{cmd: cmd, stderr: &tailBuffer{max: 64 << 10}}
	cmd.Stderr = d.stderr
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("paimonjava: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("paimonjava: %w", err)
	}
	d.stdout = bufio.NewReaderSize(out, 1<<20)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("paimonjava: starting %s: %w", cmd.Path, err)
	}
	return d, nil
}

// CommandError is a command the driver ran and Paimon refused or failed:
// the driver itself is fine.
type CommandError struct {
	Args    []string
	Message string // the Java exception chain
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("paimon-driver %s: %s", strings.Join(e.Args, " "), e.Message)
}

// Run runs one driver command with stdin as its input and returns what it
// printed. A command Java fails is a *CommandError; if ctx ends first or
// the process dies, the driver is stopped and every later call fails.
func (d *Driver) Run(ctx context.Context, stdin string, args ...string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead != nil {
		return "", d.dead
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("paimonjava: %s: %w", strings.Join(args, " "), err)
	}
	req, err := json.Marshal(struct {
		Args  []string `json:"args"`
		Stdin string   `json:"stdin"`
	}{args, stdin})
	if err != nil {
		return "", fmt.Errorf("paimonjava: %w", err)
	}
	type answer struct {
		OK     bool   `json:"ok"`
		Stdout string `json:"stdout"`
		Error  string `json:"error"`
	}
	done := make(chan struct{})
	var resp answer
	var ioErr error
	go func() {
		defer close(done)
		if _, ioErr = d.stdin.Write(append(req, '\n')); ioErr != nil {
			return
		}
		line, err := d.stdout.ReadBytes('\n')
		if err != nil {
			ioErr = err
			return
		}
		ioErr = json.Unmarshal(line, &resp)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		d.kill(fmt.Errorf("paimonjava: %s: %w", strings.Join(args, " "), ctx.Err()))
		<-done
		return "", d.dead
	}
	if ioErr != nil {
		d.kill(fmt.Errorf("paimonjava: the driver process failed during %s: %w; its stderr ends:\n%s",
			strings.Join(args, " "), ioErr, d.stderr.String()))
		return "", d.dead
	}
	if !resp.OK {
		return "", &CommandError{Args: args, Message: resp.Error}
	}
	return resp.Stdout, nil
}

func (d *Driver) kill(err error) {
	d.dead = err
	_ = d.cmd.Process.Kill()
	_ = d.cmd.Wait()
}

// Close stops the driver process.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead != nil {
		return nil
	}
	d.dead = errors.New("paimonjava: driver closed")
	_ = d.stdin.Close()
	return d.cmd.Wait()
}

// Stderr is the end of what the driver process printed on stderr (Java
// stack traces of failed commands, Paimon's warnings).
func (d *Driver) Stderr() string { return d.stderr.String() }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
