// Package miniotest runs a throwaway MinIO server on loopback for tests of
// the S3 storage backend.
//
// The minio binary must be installed; tests fail, rather than skip, without
// it, so that S3 coverage cannot silently disappear. See InstallHint.
package miniotest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// InstallHint is the failure message when no minio binary is found.
const InstallHint = "minio not found; install it with: go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// Region is the region to sign requests with; MinIO accepts any by default.
const Region = "us-east-1"

const (
	accessKey = "miniotest"
	secretKey = "miniotest-secret"

	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is a running MinIO server.
type Server struct {
	// Endpoint is the server's URL, "http://127.0.0.1:<port>".
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey string
	SecretKey string

	cmd  *exec.Cmd
	exit chan struct{} // closed when the process has exited
	out  *syncBuffer   // combined stdout and stderr
}

// Start starts a MinIO server with its data in a temporary directory and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findMinio()
	if err != nil {
		t.Fatalf("%s (%v)", InstallHint, err)
	}
	dir := t.TempDir() // registered first, so removed after the server stops
	s, err := start(bin, dir)
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("miniotest: %v", err)
		}
	})
	return s
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
		bin, err := findMinio()
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
		shared.srv, err = start(bin, dir)
		if err != nil {
			os.RemoveAll(dir)
			shared.err = fmt.Errorf("miniotest: %v", err)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Client returns an S3 client for the server.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// NewBucket creates a bucket. The name must be a valid S3 bucket name and
// unused on this server; BucketName derives one from a test.
func (s *Server) NewBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("miniotest: create bucket %q: %v", name, err)
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

// Logs returns what the server has printed so far, for failure messages.
func (s *Server) Logs() string { return s.out.String() }

func start(bin, dir string) (*Server, error) {
	// Ports picked by listening on :0 can be taken by someone else before
	// MinIO binds them; retry with new ones if the process dies early.
	var lastErr error
	for range 3 {
		s, err := startOnce(bin, dir)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startOnce(bin, dir string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	consoleAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint:  "http://" + addr,
		AccessKey: accessKey,
		SecretKey: secretKey,
		exit:      make(chan struct{}),
		out:       &syncBuffer{},
	}
	s.cmd = exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", addr,
		"--console-address", consoleAddr,
		"--certs-dir", filepath.Join(dir, "certs"), // never pick up ~/.minio TLS certs
		"--quiet")
	s.cmd.Env = append(cleanEnv(),
		"MINIO_ROOT_USER="+accessKey,
		"MINIO_ROOT_PASSWORD="+secretKey,
		"MINIO_UPDATE=off",
		"MINIO_BROWSER=off",
	)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := run(s.cmd, s.exit); err != nil {
		return nil, fmt.Errorf("starting %s: %v", bin, err)
	}
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, fmt.Errorf("%v; output:\n%s", err, s.out.String())
	}
	return s, nil
}

// cleanEnv is the environment minus MinIO's own settings, which could point
// the server at other disks, credentials or addresses.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *Server) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(s.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exit:
			return fmt.Errorf("minio exited during startup: %v", s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio not ready at %s after %v", s.Endpoint, startTimeout)
		}
	}
}

// stop asks the server to exit and kills it if it takes too long.
func (s *Server) stop() error {
	select {
	case <-s.exit:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exit:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	return fmt.Errorf("minio did not stop within %v; killed", stopTimeout)
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// findMinio looks for the minio binary in PATH, then in GOPATH's bin
// directories, then in GOBIN.
func findMinio() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var dirs []string
	for _, gp := range filepath.SplitList(goEnv("GOPATH")) {
		if gp != "" {
			dirs = append(dirs, filepath.Join(gp, "bin"))
		}
	}
	if gobin := goEnv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	return findIn(dirs)
}

func findIn(dirs []string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, "minio")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("not in PATH or %s", strings.Join(dirs, ", "))
}

// goEnv returns a Go environment setting: the variable if set, else what
// "go env" reports (which knows the defaults, such as ~/go for GOPATH).
func goEnv(key string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
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
		if !processAlive(pid) {
			os.RemoveAll(m)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of the
// process's stdout and stderr copiers and reads by Logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; don't grow without bound
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
