// Package miniotest runs a throwaway MinIO server on loopback for tests of
// the S3 storage backend (internal/minioserver runs it).
//
// The minio binary must be installed; tests fail, rather than skip, without
// it, so that S3 coverage cannot silently disappear. See InstallHint.
package miniotest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/minioserver"
)

// InstallHint is the failure message when no minio binary is found.
const InstallHint = minioserver.InstallHint

// Region is the region to sign requests with; MinIO accepts any by default.
const Region = minioserver.Region

// Server is a running MinIO server.
type Server struct {
	*minioserver.Server
}

// Start starts a MinIO server with its data in a temporary directory and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := minioserver.Find()
	if err != nil {
		t.Fatalf("%s (%v)", InstallHint, err)
	}
	dir := t.TempDir() // registered first, so removed after the server stops
	s, err := minioserver.Start(bin, dir)
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("miniotest: %v", err)
		}
	})
	return &Server{s}
}

// shared is the server Shared hands out. It is the package's only global:
// starting MinIO takes seconds, so a test binary starts it at most once.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns a server shared by all tests in the test binary, starting it
// on first use. It runs until the test binary exits (on Linux the kernel
// kills it then, even if the binary crashes; elsewhere it may outlive the
// binary). Its data directory is removed by a later Shared call once the
// binary that made it is gone. Tests sharing it should use their own buckets
// (see NewBucket and BucketName).
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		bin, err := minioserver.Find()
		if err != nil {
			shared.err = fmt.Errorf("%s (%v)", InstallHint, err)
			return
		}
		removeStaleDirs()
		dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", sharedDirPrefix, os.Getpid()))
		if err != nil {
			shared.err = fmt.Errorf("miniotest: %v", err)
			return
		}
		s, err := minioserver.Start(bin, dir)
		if err != nil {
			os.RemoveAll(dir)
			shared.err = fmt.Errorf("miniotest: %v", err)
			return
		}
		shared.srv = &Server{s}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// NewBucket creates a bucket. The name must be a valid S3 bucket name and
// unused on this server; BucketName derives one from a test.
func (s *Server) NewBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateBucket(ctx, name); err != nil {
		t.Fatalf("miniotest: %v", err)
	}
}

// BucketName returns a valid bucket name derived from the test's name,
// unique per call, for use with NewBucket on a shared server.
func BucketName(t testing.TB) string {
	var b strings.Builder
	for _, c := range strings.ToLower(t.Name()) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "bucket"
	}
	// S3 bucket names are 3-63 characters; the suffix keeps this one unique.
	return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1e12)
}

// sharedDirPrefix names the data directories of shared servers:
// <tmp>/miniotest-shared-<pid>-<random>.
const sharedDirPrefix = "miniotest-shared-"

// removeStaleDirs deletes data directories of shared servers whose test
// binary has exited; nothing else can, since the binary never learns that
// it is done.
func removeStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), sharedDirPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), sharedDirPrefix)
		pidStr, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if !minioserver.ProcessAlive(pid) {
			os.RemoveAll(m)
		}
	}
}
