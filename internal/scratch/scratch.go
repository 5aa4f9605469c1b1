// Package scratch makes temporary directories and files in the local
// temporary directory that a killed process does not leak. Each holds an
// advisory lock (flock) for as long as its owner runs, and making a new one
// first removes the entries of the same pattern whose owner is gone: not
// locked, and older than a minute, so that one still being set up is never
// taken. The kernel drops the lock of a process however it ends, SIGKILL
// included. Where flock is missing nothing is swept.
package scratch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// setupGuard is how old an unlocked entry must be before a sweep removes
// it: its owner makes it and locks it well within that.
const setupGuard = time.Minute

// ownerFile holds a directory's lock.
const ownerFile = ".owner"

// Dir is a temporary directory made by MkdirTemp.
type Dir struct {
	path string
	lock *os.File
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// Remove deletes the directory and releases its lock.
func (d *Dir) Remove() error {
	err := os.RemoveAll(d.path)
	if d.lock != nil {
		err = errors.Join(err, d.lock.Close())
	}
	return err
}

// MkdirTemp makes a directory in parent (os.TempDir() when empty) as
// os.MkdirTemp does, after removing the abandoned ones of pattern.
func MkdirTemp(parent, pattern string) (*Dir, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	sweep(parent, pattern)
	path, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(path, ownerFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = lock(f)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.RemoveAll(path)
		return nil, fmt.Errorf("scratch: lock %s: %w", path, err)
	}
	return &Dir{path: path, lock: f}, nil
}

// CreateTemp makes a file in parent (os.TempDir() when empty) as
// os.CreateTemp does, after removing the abandoned ones of pattern. The
// file holds its own lock until closed: remove it after closing.
func CreateTemp(parent, pattern string) (*os.File, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	sweep(parent, pattern)
	f, err := os.CreateTemp(parent, pattern)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("scratch: lock %s: %w", f.Name(), err)
	}
	return f, nil
}

// sweep removes pattern's entries in parent whose owner is gone. It is
// best effort: what it cannot read or lock it leaves.
func sweep(parent, pattern string) {
	if !canLock {
		return
	}
	prefix, _, _ := strings.Cut(pattern, "*")
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-setupGuard)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		p := filepath.Join(parent, e.Name())
		lockPath := p
		if e.IsDir() {
			lockPath = filepath.Join(p, ownerFile)
		}
		f, err := os.Open(lockPath)
		if err != nil {
			continue // not ours (no lock file), or gone
		}
		if lock(f) == nil {
			os.RemoveAll(p)
		}
		f.Close()
	}
}
