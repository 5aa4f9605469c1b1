package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is stderr for a command that runs while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCLIServe(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.users", "--schema", "id BIGINT NOT NULL, name STRING", "--primary-key", "id")
	c.ok("{\"id\": 1, \"name\": \"ann\"}\n", "write", "db.users")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"--warehouse", c.wh, "serve", "--addr", "127.0.0.1:0", "--tables", "db.users",
			"--token-file", tokenFile, "--refresh", "20ms", "--max-body", "1KiB", "--max-keys", "2"}, strings.NewReader(""), &stdout, stderr)
	}()
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
	base := addr.FindStringSubmatch(stderr.String())[1]
	post := func(body, token string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/v1/tables/db.users/lookup", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(`{"keys": [1, 2]}`, "s3cret"); code != 200 || body != `{"snapshot":1,"rows":[{"id":1,"name":"ann"},null]}`+"\n" {
		t.Fatalf("lookup: %d %s", code, body)
	}
	if code, body := post(`{"keys": [1]}`, ""); code != 401 || !strings.Contains(body, "unauthorized") {
		t.Fatalf("no token: %d %s", code, body)
	}
	if code, body := post(`{"keys": [1, 2, 3]}`, "s3cret"); code != 413 || !strings.Contains(body, "too_many_keys") {
		t.Fatalf("--max-keys: %d %s", code, body)
	}
	if code, body := post(`{"keys": [1]`+strings.Repeat(" ", 1024)+`}`, "s3cret"); code != 413 || !strings.Contains(body, "body_too_large") {
		t.Fatalf("--max-body: %d %s", code, body)
	}
	// A write is served after a refresh.
	c.ok("{\"id\": 2, \"name\": \"bob\"}\n", "write", "db.users")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, body := post(`{"keys": [2]}`, "s3cret"); strings.Contains(body, `"bob"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write was never served")
		}
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("stderr: %s", stderr)
	}
}

func TestCLIServeErrors(t *testing.T) {
	c := cli{t, t.TempDir()}
	c.ok("", "create", "db.users", "--schema", "id BIGINT NOT NULL, name STRING", "--primary-key", "id")
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--tables", "db.nope"}, 1, "db.nope does not exist"},
		{[]string{"--tables", "../x"}, 2, "--tables"},
		{[]string{"--max-body", "lots"}, 2, "--max-body"},
		{[]string{"--max-body", "0"}, 2, "--max-body"},
		{[]string{"--max-keys", "0"}, 2, "--max-keys"},
		{[]string{"--max-conns", "0"}, 2, "--max-conns"},
		{[]string{"--refresh", "-1s"}, 2, "--refresh"},
		{[]string{"--token-file", empty}, 2, "is empty"},
		{[]string{"--token-file", empty + ".missing"}, 1, "--token-file"},
		{[]string{"--log-format", "xml"}, 2, "--log-format"},
		{[]string{"--addr", "127.0.0.1:-5"}, 1, "listen"},
		{[]string{"extra"}, 2, "accepts 0 arg"},
	} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)
		if _, errs, code := c.run("", args...); code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("serve %v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errs, tc.msg)
		}
	}
	if _, errs, code := (cli{t, filepath.Join(t.TempDir(), "none")}).run("", "serve"); code != 1 || !strings.Contains(errs, "does not exist") {
		t.Errorf("missing warehouse: %d %q", code, errs)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "512KiB": 512 << 10, "4mb": 4 << 20, "100": 100, "2 GiB": 2 << 30, "1k": 1024} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "lots", "1XiB", "-1MiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}
