package server

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The limits are small in these tests and the bounds on how long the
// server takes to enforce them generous (seconds over a limit of 300 ms),
// so that a loaded machine cannot fail them; each test checks that what
// it waits for is the limit, not another timeout or the client's end.

// slack is how late a limit may be enforced.
const slack = 5 * time.Second

// dribble sends prefix, then rest a byte every gap, until the server ends
// the connection; it returns how long the server took from the first
// byte and what it answered, if anything.
func dribble(t *testing.T, addr, prefix, rest string, gap time.Duration) (time.Duration, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	answer := make(chan string, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		b, _ := io.ReadAll(c) // until the server closes (or resets) the connection
		answer <- string(b)
	}()
	if _, err := io.WriteString(c, prefix); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rest); i++ {
		select {
		case a := <-answer:
			return time.Since(start), a
		case <-time.After(gap):
		}
		if _, err := c.Write([]byte{rest[i]}); err != nil {
			break
		}
	}
	a := <-answer
	return time.Since(start), a
}

// Slow clients (slowloris) are cut off by the read timeout, which bounds
// the whole request: headers or a body sent a byte at a time, on a new
// connection or the second request of a keep-alive one, are answered 408
// within the timeout (plus slack), long before they would have arrived.
func TestSlowClientsCutOff(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	const timeout = 300 * time.Millisecond
	_, hs, _ := w.start(WithTimeouts(timeout, 0, 0))
	addr := strings.TrimPrefix(hs.URL, "http://")
	headers := strings.Repeat("X-Slow: abcdefgh\r\n", 100) // 1800 bytes: 90s at a byte every 50ms
	body := `{"keys": [` + strings.Repeat("1, ", 600) + `1]}`
	post := "POST /v1/tables/db.users/lookup HTTP/1.1\r\nHost: x\r\n"
	first := post + "Content-Length: 13\r\n\r\n" + `{"keys": [1]}`
	for name, c := range map[string]struct{ prefix, rest string }{
		"request line":         {"", post},
		"headers":              {post, headers},
		"body":                 {post + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)), body},
		"chunked body":         {post + "Transfer-Encoding: chunked\r\n\r\n", strings.Repeat("1\r\n \r\n", 300)},
		"keep-alive headers":   {first + post, headers},
		"keep-alive body":      {first + post + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)), body},
		"expect 100-continue":  {post + "Expect: 100-continue\r\nContent-Length: 13\r\n\r\n", ""},
		"nothing":              {"", ""},
		"half a header":        {post + "X-Half: ", ""},
		"pipelined then slow":  {first + first + first, headers},
		"headers then nothing": {post + "Content-Length: 1000\r\n\r\n{", ""},
	} {
		took, answer := dribble(t, addr, c.prefix, c.rest, 50*time.Millisecond)
		if took > timeout+slack {
			t.Errorf("%s: cut off after %v; want about %v", name, took, timeout)
		}
		// The last answer on the connection is the 408 (or nothing, for a
		// connection that never started a request).
		if i := strings.LastIndex(answer, "HTTP/1.1 "); i >= 0 && !strings.HasPrefix(answer[i:], "HTTP/1.1 408") &&
			!strings.HasPrefix(answer[i:], "HTTP/1.1 200") {
			t.Errorf("%s: answered %q", name, answer[i:])
		} else if i >= 0 && strings.HasPrefix(answer[i:], "HTTP/1.1 408") && !strings.Contains(answer[i:], `"code":"timeout"`) {
			t.Errorf("%s: answered %q", name, answer[i:])
		}
		if name == "headers" && !strings.Contains(answer, "408") {
			t.Errorf("%s: answered %q, want a 408", name, answer)
		}
	}
	if r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`); r.status != 200 {
		t.Fatalf("after the slow clients: %d %s", r.status, r.raw)
	}
}

// An idle keep-alive connection is closed after the idle timeout, and not
// before.
func TestIdleConnectionClosed(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	const idle = 300 * time.Millisecond
	_, hs, _ := w.start(WithTimeouts(0, 0, idle))
	took, answer := dribble(t, strings.TrimPrefix(hs.URL, "http://"),
		"POST /v1/tables/db.users/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"keys\": [1]}", "", 0)
	if !strings.HasPrefix(answer, "HTTP/1.1 200") || took < idle/2 || took > idle+slack {
		t.Fatalf("closed after %v (idle timeout %v), answer %q", took, idle, answer)
	}
}

// A request's time is bounded: a lookup whose table is slow to open is
// answered 500 after the write timeout, while the open goes on; once it
// is done the table is served.
func TestRequestTimeBounded(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	const timeout = 300 * time.Millisecond
	_, hs, logs := w.start(WithTimeouts(0, timeout, 0))
	entered, release := w.fs.hold("/schema/")
	defer release()
	start := time.Now()
	r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`)
	took := time.Since(start)
	<-entered
	wantError(t, r, 500, codeInternal, "opening table db.users failed")
	if took < timeout || took > timeout+slack {
		t.Errorf("answered after %v, want about %v", took, timeout)
	}
	release()
	eventually(t, "the table to be served", func() bool { return lookup(t, hs.URL, "db.users", `{"keys": [1]}`).status == 200 })
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("the log does not say why: %s", logs)
	}
}
