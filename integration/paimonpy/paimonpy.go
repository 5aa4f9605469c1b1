// Package paimonpy runs pypaimon, Apache Paimon's Python implementation,
// from Go tests: it keeps a virtual environment with the pinned pypaimon
// in integration/python/.venv (created, and its packages installed from
// PyPI, when requirements.txt changes) and starts the read driver
// integration/python/paimon_driver.py, which speaks the Java driver's
// serve protocol (a paimonjava.Driver runs it).
//
// ForTest skips when python3 is missing, unless STRATA_REQUIRE_PYPAIMON is
// set (CI sets it): then it fails.
package paimonpy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
)

// RequireEnv turns a missing python3 from a skip into a failure.
const RequireEnv = "STRATA_REQUIRE_PYPAIMON"

// ErrNoPython is returned when python3 is not on PATH.
var ErrNoPython = errors.New("paimonpy: python3 not found on PATH")

// Dir is integration/python beside this package.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "python")
}

// Setup makes sure dir/.venv holds the packages of dir/requirements.txt
// (creating the environment and installing them with pip when the file
// changed) and returns the environment's python.
func Setup(ctx context.Context, dir string) (string, error) {
	sys, err := exec.LookPath("python3")
	if err != nil {
		return "", ErrNoPython
	}
	req, err := os.ReadFile(filepath.Join(dir, "requirements.txt"))
	if err != nil {
		return "", fmt.Errorf("paimonpy: %w", err)
	}
	sum := sha256.Sum256(req)
	stamp := hex.EncodeToString(sum[:])
	venv := filepath.Join(dir, ".venv")
	python := filepath.Join(venv, "bin", "python")
	if err := os.MkdirAll(venv, 0o755); err != nil {
		return "", fmt.Errorf("paimonpy: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(venv, ".setup.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("paimonpy: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("paimonpy: locking the environment: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	stampFile := filepath.Join(venv, "strata-requirements.stamp")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp {
		return python, nil
	}
	if err := run(ctx, sys, "-m", "venv", venv); err != nil {
		return "", err
	}
	if err := run(ctx, python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
		"-r", filepath.Join(dir, "requirements.txt")); err != nil {
		return "", err
	}
	if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
		return "", fmt.Errorf("paimonpy: %w", err)
	}
	return python, nil
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("paimonpy: %s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

// Start sets the environment up if needed and starts a serving driver.
func Start(ctx context.Context) (*paimonjava.Driver, error) {
	python, err := Setup(ctx, Dir())
	if err != nil {
		return nil, err
	}
	return paimonjava.StartCommand(exec.Command(python, filepath.Join(Dir(), "paimon_driver.py"), "serve"))
}

var shared struct {
	once sync.Once
	d    *paimonjava.Driver
	err  error
}

// ForTest returns the test binary's shared pypaimon driver, started on
// first use. Without python3 the test is skipped unless
// STRATA_REQUIRE_PYPAIMON is set; any other problem fails it.
func ForTest(t testing.TB) *paimonjava.Driver {
	t.Helper()
	shared.once.Do(func() { shared.d, shared.err = Start(context.Background()) })
	javatest.Tool{Missing: ErrNoPython, RequireEnv: RequireEnv, Install: "Python 3 with venv", Apt: "python3-venv",
		Tests: "the pypaimon tests"}.Need(t, shared.err)
	return shared.d
}
