package miniotest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStart(t *testing.T) {
	s := Start(t)
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("Endpoint %s is not on loopback", s.Endpoint)
	}
	resp, err := http.Get(s.Endpoint + "/minio/health/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %s", resp.Status)
	}

	name := BucketName(t)
	s.NewBucket(t, name)
	ctx := context.Background()
	c := s.Client()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(name), Key: aws.String("k"), Body: strings.NewReader("v"),
	}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(name), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); string(b) != "v" {
		t.Fatalf("got %q", b)
	}
}

func TestShared(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a != b {
		t.Fatal("Shared returned two servers")
	}
	a.NewBucket(t, BucketName(t))
}

func TestStopped(t *testing.T) {
	var s *Server
	t.Run("run", func(t *testing.T) { s = Start(t) })
	select {
	case <-s.Exited():
	default:
		t.Fatal("server still running after its test ended")
	}
}

func TestBucketName(t *testing.T) {
	for _, name := range []string{BucketName(t), BucketName(t)} {
		if len(name) < 3 || len(name) > 63 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" ||
			name[0] == '-' || name[len(name)-1] == '-' {
			t.Fatalf("invalid bucket name %q", name)
		}
	}
	t.Run("Very/Long_Name With Spaces And Ünïcode Characters Exceeding Limits", func(t *testing.T) {
		if name := BucketName(t); len(name) > 63 || strings.Contains(name, "--") {
			t.Fatalf("invalid bucket name %q", name)
		}
	})
}

func TestInstallHint(t *testing.T) {
	const want = "minio not found; install it with: go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
	if InstallHint != want {
		t.Fatalf("InstallHint = %q", InstallHint)
	}
}

// fatalRecorder captures a Fatalf instead of failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinaryFails(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("GOBIN", "")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec)
	}()
	<-done
	if !strings.HasPrefix(rec.msg, InstallHint) {
		t.Fatalf("Start without minio: Fatalf(%q), want the install hint", rec.msg)
	}
}
