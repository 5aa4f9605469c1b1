package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratalake/strata/spec"
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
	cases := map[string]struct{ prefix, rest string }{
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
	}
	t.Run("clients", func(t *testing.T) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
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
			})
		}
	})
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

// A client that sends requests and never reads the answers is cut off by
// the write timeout: the server closes the connection while the client
// still reads nothing, and serves others meanwhile.
func TestNeverReadingClientCutOff(t *testing.T) {
	w := newWarehouse(t)
	tb := w.create("db.wide", "id BIGINT NOT NULL, v STRING", nil, []string{"id"})
	rows := make([]spec.Row, 1000)
	keys := make([]string, len(rows))
	for i := range rows {
		rows[i] = spec.Row{int64(i), strings.Repeat("v", 250)}
		keys[i] = fmt.Sprint(i)
	}
	w.commit(tb, spec.RowKindInsert, rows...)
	const timeout = 300 * time.Millisecond
	s, hs, _ := w.start(WithTimeouts(0, timeout, 0))
	c, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 200 answers of 260 KB each: far more than the loopback's buffers.
	body := `{"keys": [` + strings.Join(keys, ",") + `]}`
	req := fmt.Sprintf("POST /v1/tables/db.wide/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	go func() {
		c.SetWriteDeadline(time.Now().Add(time.Minute))
		for range 200 {
			if _, err := io.WriteString(c, req); err != nil {
				return // the server closed the connection
			}
		}
	}()
	eventually(t, "the client's connection to open", func() bool { return s.conns.Load() == 1 })
	start := time.Now()
	eventually(t, "the server to close the connection", func() bool { return s.conns.Load() == 0 })
	if took := time.Since(start); took > timeout+slack {
		t.Errorf("closed after %v, want about %v", took, timeout)
	}
	// The client gets what the buffers held, then the connection's end.
	c.SetReadDeadline(time.Now().Add(time.Minute))
	n, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("reading what was left: %v", err)
	}
	if full := int64(200 * 260_000); n >= full {
		t.Errorf("the client read %d bytes: every answer", n)
	}
	if r := lookup(t, hs.URL, "db.wide", `{"keys": [1]}`); r.status != 200 {
		t.Fatalf("others are served: %d %s", r.status, r.raw)
	}
}

// No more than WithMaxConns connections are open at a time: one more is
// answered 503 too_many_connections, as JSON, and closed; once one closes,
// new connections are served again.
func TestMaxConns(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	s, hs, _ := w.start(WithMaxConns(3))
	addr := strings.TrimPrefix(hs.URL, "http://")
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	eventually(t, "3 open connections", func() bool { return s.conns.Load() == 3 })
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 503 || errorCode(string(b)) != codeTooManyConnections || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("a 4th connection: %d %v %s", resp.StatusCode, resp.Header, b)
		}
	}
	if got := testutil.ToFloat64(s.m.connsRefused); got != 5 {
		t.Errorf("strata_http_connections_refused_total = %v, want 5", got)
	}
	if got := testutil.ToFloat64(s.m.connsOpen); got != 3 {
		t.Errorf("strata_http_connections_open = %v, want 3", got)
	}
	held[0].Close()
	eventually(t, "a connection to close", func() bool { return s.conns.Load() == 2 })
	if r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`); r.status != 200 {
		t.Fatalf("after one closed: %d %s", r.status, r.raw)
	}
}

// Bodies are bounded before they are read: a Content-Length over the
// limit is refused at once, without waiting for the body, as is a chunk
// too large; a key is bounded by the body (a key as large as the body
// allows is answered).
func TestBodyLimits(t *testing.T) {
	w := newWarehouse(t)
	w.create("db.s", "k STRING NOT NULL, v STRING", nil, []string{"k"})
	_, hs, _ := w.start(WithMaxBody(1<<20), WithTimeouts(time.Minute, 0, 0))
	addr := strings.TrimPrefix(hs.URL, "http://")
	post := "POST /v1/tables/db.s/lookup HTTP/1.1\r\nHost: x\r\n"
	for name, c := range map[string]struct {
		req    string
		status int
	}{
		"10 GB":            {post + "Content-Length: 10000000000\r\n\r\n", 413},
		"max int64":        {post + "Content-Length: 9223372036854775807\r\n\r\n", 413},
		"overflowing":      {post + "Content-Length: 99999999999999999999999\r\n\r\n", 400},
		"negative":         {post + "Content-Length: -1\r\n\r\n", 400},
		"huge chunk":       {post + "Transfer-Encoding: chunked\r\n\r\nfffffff\r\n", 413},
		"overflowed chunk": {post + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400},
		"both":             {post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
	} {
		start := time.Now()
		a := rawRoundTrip(addr, c.req)
		if took := time.Since(start); took > slack {
			t.Errorf("%s: answered after %v: the server waited for the body", name, took)
		}
		if a.status != c.status || errorCode(a.body) == "" {
			t.Errorf("%s: %d %q %v; want %d", name, a.status, a.body, a.err, c.status)
		}
	}
	big := `{"keys": ["` + strings.Repeat("k", 1<<20-20) + `"]}`
	if r := lookup(t, hs.URL, "db.s", big); r.status != 200 || len(r.Rows) != 1 || string(r.Rows[0]) != "null" {
		t.Errorf("a key of 1 MiB: %d %.200s", r.status, r.raw)
	}
}

// Hostile bodies within the size limit are refused quickly with a 400:
// deep nesting, huge numbers, repeated fields, invalid UTF-8, keys of the
// wrong shape.
func TestHostileBodies(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	w.create("db.s", "k STRING NOT NULL, v STRING", nil, []string{"k"})
	_, hs, _ := w.start()
	for name, c := range map[string]struct {
		table, body string
		status      int
	}{
		"nesting":         {"db.users", `{"keys": [` + strings.Repeat("[", 500_000) + `]}`, 400},
		"object nesting":  {"db.users", `{"keys": [` + strings.Repeat(`{"a":`, 100_000) + `]}`, 400},
		"nested key":      {"db.users", `{"keys": [[[[[1]]]]]}`, 400},
		"huge number":     {"db.users", `{"keys": [1` + strings.Repeat("0", 500_000) + `]}`, 400},
		"huge exponent":   {"db.users", `{"keys": [1e999999999999]}`, 400},
		"negative zero":   {"db.users", `{"keys": [-0]}`, 200},
		"NaN":             {"db.users", `{"keys": [NaN]}`, 400},
		"repeated keys":   {"db.users", strings.Repeat(`{"keys": [1],`, 1) + strings.Repeat(`"keys": [1],`, 50_000) + `"keys": [2]}`, 200},
		"many nulls":      {"db.users", `{"keys": [` + strings.Repeat("null,", 999) + `null]}`, 400},
		"too many keys":   {"db.users", `{"keys": [` + strings.Repeat("1,", 100_000) + `1]}`, 413},
		"invalid UTF-8":   {"db.s", "{\"keys\": [\"\xff\xfe\"]}", 400},
		"escaped NUL":     {"db.s", `{"keys": ["\u0000"]}`, 200},
		"lone surrogate":  {"db.s", `{"keys": ["\ud800"]}`, 200},
		"raw control":     {"db.s", "{\"keys\": [\"a\x01\"]}", 400},
		"many escapes":    {"db.s", `{"keys": ["` + strings.Repeat(`\u00e9`, 150_000) + `"]}`, 200},
		"bad escape":      {"db.s", `{"keys": ["\x"]}`, 400},
		"long field name": {"db.s", `{"` + strings.Repeat("k", 500_000) + `": [1]}`, 400},
		"key object":      {"db.s", `{"keys": [{"k": "a", "k": "b", "v": 1}]}`, 400},
		"BOM":             {"db.s", "\xef\xbb\xbf{\"keys\": [\"a\"]}", 400},
	} {
		start := time.Now()
		r := lookup(t, hs.URL, c.table, c.body)
		if took := time.Since(start); took > slack {
			t.Errorf("%s: answered after %v", name, took)
		}
		if r.status != c.status || (r.status != 200 && r.Error.Code == "") {
			t.Errorf("%s: %d %.300s; want %d", name, r.status, r.raw, c.status)
		}
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

// Requests naming many tables cannot pile up opens: at most maxOpening
// tables open at a time, and a request that waits for a slot gives up at
// its deadline without starting one. Here the store holds every schema
// read while 60 requests name 60 tables.
func TestOpensBounded(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	const timeout = 300 * time.Millisecond
	_, hs, _ := w.start(WithTimeouts(0, timeout, 0))
	entered, release := w.fs.hold("db.db/t") // db.t0 to db.t59, not db.users
	defer release()
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := lookup(t, hs.URL, fmt.Sprintf("db.t%d", i), `{"keys": [1]}`); r.status != 500 {
				t.Errorf("db.t%d: %d %s", i, r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	select {
	case <-entered:
	default:
		t.Fatal("no open reached the store")
	}
	if most := w.fs.mostHeld(); most > maxOpening {
		t.Errorf("%d tables opened at once, want at most %d", most, maxOpening)
	}
	release()
	eventually(t, "db.users to be served", func() bool { return lookup(t, hs.URL, "db.users", `{"keys": [1]}`).status == 200 })
}
