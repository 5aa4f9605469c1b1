// Package faultproxy is a test helper: an HTTP reverse proxy in front of an
// S3 server (MinIO in tests) that answers chosen requests with the failures
// of a flaky object store: 500 InternalError, 503 SlowDown, a delay past the
// client's timeout, a connection reset before any answer, a reset halfway
// through the response body, or a lost answer (the request reaches the
// server and takes effect, then the connection is reset).
//
// Requests are signed for the proxy's host, which the proxy forwards
// unchanged, so SigV4 signatures stay valid.
package faultproxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Action is what the proxy does with one request.
type Action int

// The actions. Pass forwards the request untouched.
const (
	Pass Action = iota
	InternalError
	SlowDown
	Delay     // waits Proxy.Delay (or until the client hangs up), then forwards
	Reset     // resets the connection without forwarding the request
	ResetBody // forwards, then sends the headers and half the body, and resets
	LoseAnswer
	numActions
)

var actionNames = [numActions]string{"pass", "500", "503-slowdown", "delay", "reset", "reset-body", "lose-answer"}

func (a Action) String() string { return actionNames[a] }

// Rule picks requests: Method ("" any) and a substring of the URL path and
// query (Match, "" any). Matching requests get Actions in turn, one each,
// then pass (or, with Repeat, get the last action for good).
type Rule struct {
	Method  string
	Match   string
	Actions []Action
	Repeat  bool
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's endpoint, for storage.WithEndpoint.
	URL string
	// Delay is how long a Delay action waits.
	Delay time.Duration

	target *url.URL
	rp     *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []*ruleState
	injected map[Action]int
	requests int
}

type ruleState struct {
	Rule
	next int
}

// Start starts a proxy to endpoint (e.g. MinIO's) that stops with the test.
func Start(t testing.TB, endpoint string) *Proxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, injected: map[Action]int{}, Delay: 5 * time.Second}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the host the request was signed for
		},
		ErrorLog: nil,
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Add appends rules; the first rule that matches a request and has an
// action left decides it.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// Clear drops every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	p.rules = nil
	p.mu.Unlock()
}

// Injected returns how many requests got each action but Pass.
func (p *Proxy) Injected() map[Action]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[Action]int, len(p.injected))
	for a, n := range p.injected {
		m[a] = n
	}
	return m
}

// Requests returns how many requests reached the proxy.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

func (p *Proxy) action(r *http.Request) Action {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	target := r.URL.RequestURI()
	for _, rule := range p.rules {
		if (rule.Method != "" && rule.Method != r.Method) || !strings.Contains(target, rule.Match) {
			continue
		}
		var a Action
		switch {
		case rule.next < len(rule.Actions):
			a = rule.Actions[rule.next]
			rule.next++
		case rule.Repeat && len(rule.Actions) > 0:
			a = rule.Actions[len(rule.Actions)-1]
		default:
			continue
		}
		if a != Pass {
			p.injected[a]++
		}
		return a
	}
	return Pass
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	switch a := p.action(r); a {
	case InternalError:
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case SlowDown:
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case Delay:
		t := time.NewTimer(p.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return // the client gave up
		case <-t.C:
		}
		p.rp.ServeHTTP(w, r)
	case Reset:
		io.Copy(io.Discard, r.Body)
		reset(w)
	case LoseAnswer:
		// The server gets the request and acts on it; its answer never
		// reaches the client.
		if resp, err := p.forward(r); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		reset(w)
	case ResetBody:
		p.resetBody(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// forward sends r to the target and returns the raw response.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(context.WithoutCancel(r.Context()))
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.Host = r.Host
	return http.DefaultTransport.RoundTrip(out)
}

// resetBody sends the response's headers and half its body, then resets
// the connection: a transfer that breaks after the client got its answer.
func (p *Proxy) resetBody(w http.ResponseWriter, r *http.Request) {
	resp, err := p.forward(r)
	if err != nil {
		reset(w)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	fmt.Fprintf(buf, "HTTP/1.1 %s\r\n", resp.Status)
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	resp.Header.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	buf.Flush()
	resetConn(conn, buf)
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	resetConn(conn, buf)
}

func resetConn(conn net.Conn, _ *bufio.ReadWriter) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // close sends RST instead of FIN
	}
	conn.Close()
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>faultproxy</RequestId></Error>`, code, msg)
}
