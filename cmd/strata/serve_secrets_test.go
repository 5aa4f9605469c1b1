package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Secrets of the tests below: none may appear in strata's output or in
// the server's answers.
const (
	secretAccessKey = "SECRETACCESSKEY-d0-not-print"
	sessionToken    = "SESSIONTOKEN-d0-not-print"
	bearerToken     = "BEARERTOKEN-d0-not-print"
	urlPassword     = "URLPASSWORD-d0-not-print"
)

// fakeS3 answers every request 403 AccessDenied, as S3 does to wrong
// credentials, and counts the requests signed with the access key.
func fakeS3(t *testing.T, accessKey string) (*httptest.Server, *atomic.Int64) {
	var signed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), accessKey) {
			signed.Add(1)
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
	}))
	t.Cleanup(srv.Close)
	return srv, &signed
}

// s3Env points the AWS SDK at endpoint with the test's credentials and
// nothing from the machine's AWS configuration.
func s3Env(t *testing.T, endpoint string) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEYID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", sessionToken)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("STRATA_S3_ENDPOINT", endpoint)
}

// noSecrets fails the test if s holds a secret.
func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{secretAccessKey, sessionToken, bearerToken, urlPassword} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds %q:\n%s", what, secret, s)
		}
	}
}

// strata serve on an S3 warehouse whose store refuses every request,
// with a bearer token, logging at every level it has: neither its output
// (startup, failed table opens, refused and malformed requests, shutdown)
// nor its answers hold the S3 secret key, the session token or the bearer
// token, in text or JSON logs.
func TestCLIServeKeepsSecrets(t *testing.T) {
	srv, signed := fakeS3(t, "AKIATESTKEYID")
	s3Env(t, srv.URL)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(bearerToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
			exit := make(chan int, 1)
			go func() {
				exit <- run(ctx, []string{"--warehouse", "s3://bucket/wh", "serve", "--addr", "127.0.0.1:0",
					"--token-file", tokenFile, "--log-format", format, "--refresh", "10ms"}, strings.NewReader(""), stdout, stderr)
			}()
			base := waitServing(t, stderr, exit)
			var answers strings.Builder
			send := func(req string) {
				c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				io.WriteString(c, req)
				b, _ := io.ReadAll(c)
				answers.Write(b)
			}
			auth := "Authorization: Bearer " + bearerToken + "\r\n"
			body := `{"keys": [1]}`
			lookup := "POST /v1/tables/db.users/lookup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			send(lookup + auth + "Content-Length: 13\r\n\r\n" + body)                                           // S3 refuses: 500
			send(lookup + "Authorization: Bearer " + secretAccessKey + "\r\nContent-Length: 13\r\n\r\n" + body) // 401
			send("GET /v1/tables HTTP/1.1 junk\r\n" + auth + "\r\n")                                            // malformed: 400
			send(lookup + auth + "no colon " + sessionToken + "\r\n\r\n")                                       // malformed: 400
			send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + "\r\n")
			if !strings.Contains(answers.String(), `"code":"internal"`) || !strings.Contains(answers.String(), `"code":"unauthorized"`) {
				t.Fatalf("answers: %s", answers.String())
			}
			cancel()
			if code := <-exit; code != 0 {
				t.Fatalf("serve exited %d: %s", code, stderr)
			}
			if !strings.Contains(stderr.String(), "AccessDenied") {
				t.Errorf("the log does not say why the table did not open: %s", stderr)
			}
			noSecrets(t, "stderr", stderr.String())
			noSecrets(t, "stdout", stdout.String())
			noSecrets(t, "the answers", answers.String())
		})
	}
	if signed.Load() == 0 {
		t.Error("no request reached the fake S3 signed with the test's credentials")
	}
}

// waitServing waits for strata serve's "serving ... on URL" line and
// returns the URL.
func waitServing(t *testing.T, stderr *lockedBuffer, exit chan int) string {
	t.Helper()
	addr := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for !addr.MatchString(stderr.String()) {
		select {
		case code := <-exit:
			t.Fatalf("serve exited %d: %s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr.FindStringSubmatch(stderr.String())[1]
}

// A password in the warehouse URL or the S3 endpoint never shows: strata
// refuses user info there (credentials come from the AWS chain), with a
// message that leaves it out.
func TestCLIURLPasswordsNotShown(t *testing.T) {
	srv, _ := fakeS3(t, "AKIATESTKEYID")
	dir := t.TempDir()
	for _, c := range []struct {
		warehouse, endpoint string
	}{
		{"s3://AKIAUSER:" + urlPassword + "@bucket/wh", srv.URL},
		{"s3a://AKIAUSER:" + urlPassword + "@bucket/wh", srv.URL},
		{"s3://:" + urlPassword + "@bucket", srv.URL},
		{"s3://user:" + urlPassword + "@/wh", srv.URL},
		{"s3://user:" + urlPassword + "@bucket/wh?x=1", srv.URL},
		{"s3://user:" + urlPassword + "@bucket:99999999/wh", srv.URL},
		{"s3://user:" + urlPassword + "@bu cket/wh", srv.URL},
		{"file://user:" + urlPassword + "@localhost" + dir, srv.URL},
		{"file://user:" + urlPassword + "@otherhost/x", srv.URL},
		{"gs://user:" + urlPassword + "@bucket/wh", srv.URL},
		{"s3://bucket/wh", "http://minio:" + urlPassword + "@" + strings.TrimPrefix(srv.URL, "http://")},
		{"s3://bucket/wh", "ftp://minio:" + urlPassword + "@host"},
		{"s3://bucket/wh", "http://minio:" + urlPassword + "@host:notaport"},
	} {
		s3Env(t, c.endpoint)
		for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0", "--tables", "db.users"}, {"scan", "db.users"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
			code := run(ctx, append([]string{"--warehouse", c.warehouse}, args...), strings.NewReader(""), stdout, stderr)
			cancel()
			if code == 0 {
				t.Errorf("%s %v (endpoint %s) succeeded", c.warehouse, args, c.endpoint)
			}
			noSecrets(t, "stderr of strata "+args[0], stderr.String())
			noSecrets(t, "stdout of strata "+args[0], stdout.String())
		}
	}
}
