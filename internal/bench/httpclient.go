package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// httpClient is the benchmark's HTTP/1.1 client: POSTs of a JSON body to
// one URL over at most conns keep-alive connections, each answer read into
// the connection's buffer. It does what a client must (writes a
// well-formed request, reads the status line, the headers and a
// Content-Length body, honours "Connection: close") and nothing else (no
// redirects, proxies, compression, chunked answers or header maps), so that
// on a small machine the load generator spends about what go-redis spends
// per Redis command, not net/http's client cost: the server is measured,
// not the client.
type httpClient struct {
	addr    string
	head    []byte // the request up to the Content-Length value
	timeout time.Duration
	// slots holds one entry per connection the client may open; an entry's
	// conn is nil until first used and after an error.
	slots chan *httpConn
}

// httpConn is one keep-alive connection with its buffers.
type httpConn struct {
	c    net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
}

// errConnClosed: the server answered "Connection: close".
var errConnClosed = errors.New("connection closed by the server")

// newHTTPClient posts to rawURL ("http://host:port/path") on at most conns
// connections; each request must complete within timeout.
func newHTTPClient(rawURL string, conns int, timeout time.Duration) (*httpClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("http client: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("http client: %q: want http://host:port/path", rawURL)
	}
	h := &httpClient{addr: u.Host, timeout: timeout, slots: make(chan *httpConn, conns)}
	h.head = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: strata-bench\r\n"+
		"Content-Type: application/json\r\nContent-Length: ", u.RequestURI(), u.Host)
	for range conns {
		h.slots <- &httpConn{}
	}
	return h, nil
}

// post sends body and calls read with the status code and the answer's
// body, which is valid only during the call.
func (h *httpClient) post(ctx context.Context, body []byte, read func(status int, body []byte) error) error {
	var hc *httpConn
	select {
	case hc = <-h.slots:
	case <-ctx.Done():
		return ctx.Err()
	}
	status, ans, err := h.roundTrip(ctx, hc, body)
	if err != nil && hc.c != nil {
		hc.c.Close()
		hc.c = nil
	}
	if err == nil || errors.Is(err, errConnClosed) {
		err = read(status, ans)
	}
	h.slots <- hc
	return err
}

// roundTrip writes one request on hc (dialling it first if needed) and
// reads the answer into hc.body.
func (h *httpClient) roundTrip(ctx context.Context, hc *httpConn, body []byte) (int, []byte, error) {
	if hc.c == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", h.addr)
		if err != nil {
			return 0, nil, err
		}
		hc.c = c
		if hc.r == nil {
			hc.r = bufio.NewReaderSize(c, 32<<10)
		} else {
			hc.r.Reset(c)
		}
	}
	deadline := time.Now().Add(h.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := hc.c.SetDeadline(deadline); err != nil {
		return 0, nil, err
	}
	hc.req = strconv.AppendInt(append(hc.req[:0], h.head...), int64(len(body)), 10)
	hc.req = append(append(hc.req, "\r\n\r\n"...), body...)
	if _, err := hc.c.Write(hc.req); err != nil {
		return 0, nil, err
	}
	return hc.readAnswer()
}

// readAnswer reads a status line, headers and a Content-Length body.
func (hc *httpConn) readAnswer() (int, []byte, error) {
	line, err := hc.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length, closing := -1, false
	for {
		line, err := hc.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, fmt.Errorf("read headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, nil, fmt.Errorf("Transfer-Encoding %q: the benchmark's client reads Content-Length bodies only", value)
		}
	}
	if length < 0 {
		return 0, nil, errors.New("answer without Content-Length")
	}
	if cap(hc.body) < length {
		hc.body = make([]byte, length, max(length, 2*cap(hc.body)))
	}
	hc.body = hc.body[:length]
	if _, err := io.ReadFull(hc.r, hc.body); err != nil {
		return 0, nil, fmt.Errorf("read body: %w", err)
	}
	if closing {
		return status, hc.body, errConnClosed
	}
	return status, hc.body, nil
}

// close closes the idle connections; requests in flight keep theirs until
// they finish.
func (h *httpClient) close() {
	var idle []*httpConn
	for len(idle) < cap(h.slots) {
		select {
		case hc := <-h.slots:
			idle = append(idle, hc)
			continue
		default:
		}
		break
	}
	for _, hc := range idle {
		if hc.c != nil {
			hc.c.Close()
			hc.c = nil
		}
		h.slots <- hc
	}
}
