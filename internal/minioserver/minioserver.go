// Package minioserver runs a throwaway MinIO server on loopback, for tests
// (through internal/miniotest) and benchmarks of the S3 storage backend.
//
// It needs the minio binary (Find looks in PATH, then in GOPATH's and
// GOBIN's bin directories); InstallHint says how to install it.
package minioserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

	cmd     *exec.Cmd
	exit    chan struct{} // closed when the process has exited
	out     *syncBuffer   // combined stdout and stderr
	stopped sync.Once
	stopErr error
}

// Start starts bin (a minio binary, see Find) with its data and
// configuration under dir, on free loopback ports, and waits until it is
// ready. On Linux the kernel kills the server if the calling process dies
// without stopping it. The caller stops it with Stop and removes dir.
func Start(bin, dir string) (*Server, error) {
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
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, s.out.String())
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

// Stop asks the server to exit (SIGINT) and kills it if it takes more than
// 10 s. Stopping again returns the first Stop's result.
func (s *Server) Stop() error {
	s.stopped.Do(func() {
		select {
		case <-s.exit:
			return
		default:
		}
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exit:
			return
		case <-time.After(stopTimeout):
		}
		_ = s.cmd.Process.Kill()
		<-s.exit
		s.stopErr = fmt.Errorf("minio did not stop within %v; killed", stopTimeout)
	})
	return s.stopErr
}

// Exited is closed once the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exit }

// Logs returns what the server has printed so far, for failure messages.
func (s *Server) Logs() string { return s.out.String() }

// Client returns an S3 client for the server.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket; the name must be a valid S3 bucket name
// unused on this server.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("minio: create bucket %q: %w", name, err)
	}
	return nil
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// Find looks for the minio binary in PATH, then in GOPATH's bin
// directories, then in GOBIN.
func Find() (string, error) {
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
