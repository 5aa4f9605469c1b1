package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Error codes of the JSON error body.
const (
	codeBadRequest       = "bad_request"
	codeBadKey           = "bad_key"
	codeUnauthorized     = "unauthorized"
	codeUnknownTable     = "unknown_table"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTimeout          = "timeout"
	codeTooManyKeys      = "too_many_keys"
	codeBodyTooLarge     = "body_too_large"
	codeHeadersTooLarge  = "headers_too_large"
	codeInternal         = "internal"
	// codeTooManyConnections answers a connection over WithMaxConns.
	codeTooManyConnections = "too_many_connections"
)

// apiError is an error answer: its status, code and message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// errInternal is the answer to failures the server log explains.
func errInternal(what string) *apiError {
	return newError(http.StatusInternalServerError, codeInternal, "%s; the server log says why", what)
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers {"error": {"code": ..., "message": ...}}.
func writeError(rc *fasthttp.RequestCtx, e *apiError) {
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.msg
	body, _ := json.Marshal(&b)
	writeJSON(rc, e.status, append(body, '\n'))
}

var (
	contentTypeJSON = []byte("application/json")
	headerNoSniff   = []byte("X-Content-Type-Options")
	valueNoSniff    = []byte("nosniff")
	bodyHealthy     = []byte(`{"status":"ok"}` + "\n")
)

// writeJSON answers status with a JSON body (copied).
func writeJSON(rc *fasthttp.RequestCtx, status int, body []byte) {
	rc.SetStatusCode(status)
	rc.Response.Header.SetContentTypeBytes(contentTypeJSON)
	rc.Response.Header.SetCanonical(headerNoSniff, valueNoSniff)
	rc.SetBody(body)
}

// endpoint is one of the server's endpoints.
type endpoint struct {
	name    string
	methods []string // nil: any
	auth    bool     // needs the bearer token, when the server has one
	handle  func(rc *fasthttp.RequestCtx, table []byte)
	ok      prometheus.Counter // requests answered 200; nil for other, which never is
}

// endpoints are the server's endpoints, made once by routes.
type endpoints struct {
	health, metrics, lookup, other *endpoint
}

// routes builds the endpoints.
func (s *Server) routes() endpoints {
	get := []string{http.MethodGet, http.MethodHead}
	ep := func(name string, methods []string, auth bool, h func(*fasthttp.RequestCtx, []byte)) *endpoint {
		e := &endpoint{name: name, methods: methods, auth: auth, handle: h}
		if name != "other" {
			e.ok = s.m.requests.WithLabelValues(name, "200")
		}
		return e
	}
	metrics := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.reg,
		promhttp.HandlerOpts{ErrorLog: slogPrinter{s}, MaxRequestsInFlight: 4}))
	return endpoints{
		health:  ep("healthz", get, false, func(rc *fasthttp.RequestCtx, _ []byte) { writeJSON(rc, http.StatusOK, bodyHealthy) }),
		metrics: ep("metrics", get, true, func(rc *fasthttp.RequestCtx, _ []byte) { metrics(rc) }),
		lookup:  ep("lookup", []string{http.MethodPost}, true, s.handleLookup),
		other: ep("other", nil, false, func(rc *fasthttp.RequestCtx, _ []byte) {
			writeError(rc, newError(http.StatusNotFound, codeNotFound, "no endpoint %s", rc.Path()))
		}),
	}
}

// route picks the endpoint of a request's path as it came (not unescaped,
// so that an escaped slash stays in its segment) and, for a lookup, the
// table segment, still escaped.
func (s *Server) route(path []byte) (*endpoint, []byte) {
	switch string(path) {
	case "/healthz":
		return s.eps.health, nil
	case "/metrics":
		return s.eps.metrics, nil
	}
	if rest, ok := bytes.CutPrefix(path, []byte("/v1/tables/")); ok {
		if table, ok := bytes.CutSuffix(rest, []byte("/lookup")); ok && len(table) > 0 && bytes.IndexByte(table, '/') < 0 {
			return s.eps.lookup, table
		}
	}
	return s.eps.other, nil
}

// serveHTTP answers one request (fasthttp's handler).
func (s *Server) serveHTTP(rc *fasthttp.RequestCtx) {
	ep, table := s.route(rc.URI().PathOriginal())
	s.serve(rc, ep, table)
}

// serve runs an endpoint: it counts the request by status, refuses other
// methods, checks the bearer token when the endpoint needs it and the
// server has one, and turns a panic into a logged internal error, so that
// one bad request never takes the server down (fasthttp recovers nothing).
func (s *Server) serve(rc *fasthttp.RequestCtx, ep *endpoint, table []byte) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving a request", "method", string(rc.Method()), "path", string(rc.Path()),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rc.Response.Reset()
			writeError(rc, errInternal("the request failed"))
		}
		s.count(ep, rc.Response.StatusCode())
	}()
	switch {
	case !allowed(ep.methods, rc.Method()):
		rc.Response.Header.Set("Allow", strings.Join(ep.methods, ", "))
		writeError(rc, newError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s takes %s, not %s",
			rc.Path(), ep.methods[0], rc.Method()))
	case ep.auth && !s.authorized(rc.Request.Header.Peek("Authorization")):
		rc.Response.Header.Set("WWW-Authenticate", `Bearer realm="strata"`)
		writeError(rc, newError(http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token"))
	default:
		ep.handle(rc, table)
	}
}

// count counts a request answered with status.
func (s *Server) count(ep *endpoint, status int) {
	if status == http.StatusOK && ep.ok != nil {
		ep.ok.Inc()
		return
	}
	s.m.requests.WithLabelValues(ep.name, strconv.Itoa(status)).Inc()
}

// allowed reports whether method is one of methods (nil: any).
func allowed(methods []string, method []byte) bool {
	if methods == nil {
		return true
	}
	for _, m := range methods {
		if string(method) == m {
			return true
		}
	}
	return false
}

// authorized checks "Authorization: Bearer <token>" when the server has a
// token. Both tokens are hashed first and the digests compared in constant
// time, always, whatever the header holds: the time taken tells nothing of
// the token, its length included (ConstantTimeCompare returns at once on
// inputs of different lengths, so comparing the tokens themselves would
// tell the length).
func (s *Server) authorized(header []byte) bool {
	if s.cfg.token == "" {
		return true
	}
	scheme, tok, ok := bytes.Cut(header, []byte(" "))
	got := sha256.Sum256(bytes.TrimSpace(tok))
	match := s.cfg.compare(got[:], s.tokenHash[:]) == 1
	return ok && bytes.EqualFold(scheme, []byte("Bearer")) && match
}

// refuse answers a request that could not be read (fasthttp's error
// handler): too large a body or header, too slow, or not HTTP. It counts
// under its endpoint's requests only.
func (s *Server) refuse(rc *fasthttp.RequestCtx, err error) {
	var e *apiError
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = newError(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body is longer than %d bytes", s.cfg.maxBody)
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		e = newError(http.StatusRequestHeaderFieldsTooLarge, codeHeadersTooLarge,
			"the request line and headers are longer than %d bytes", s.cfg.maxHeaderBytes)
	case errors.As(err, &netErr) && netErr.Timeout() || brokenChunkTimeout(err):
		e = newError(http.StatusRequestTimeout, codeTimeout, "the request took longer than %v to arrive", s.cfg.readTimeout)
	default:
		e = newError(http.StatusBadRequest, codeBadRequest, "malformed HTTP request: %s", redactQuoted(err.Error()))
	}
	writeError(rc, e)
	ep, _ := s.route(rc.URI().PathOriginal())
	s.count(ep, e.status)
}

// quoted matches a Go-quoted string, as fasthttp quotes the request bytes
// it could not parse.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// redactQuoted replaces the quoted strings of a fasthttp error with "…":
// they are bytes of the request, which may hold its Authorization header
// (fasthttp quotes a malformed request line with the headers after it,
// whatever its SecureErrorLogMessage says).
func redactQuoted(msg string) string { return quoted.ReplaceAllLiteralString(msg, `"…"`) }

// brokenChunkTimeout reports whether err is fasthttp's error for a
// chunked body that stopped arriving: its ErrBrokenChunk does not unwrap
// to the read's timeout, so only its message says so.
func brokenChunkTimeout(err error) bool {
	return errors.As(err, new(fasthttp.ErrBrokenChunk)) && strings.HasSuffix(err.Error(), os.ErrDeadlineExceeded.Error())
}

// slogPrinter logs promhttp's and fasthttp's errors.
type slogPrinter struct{ s *Server }

// Println logs promhttp's errors.
func (p slogPrinter) Println(v ...any) { p.s.log.Error("metrics", "err", fmt.Sprint(v...)) }

// connErrorFormat is how fasthttp logs a connection that ended in an
// error: mostly a client's malformed, too large or too slow request, which
// its answer explains and strata_http_requests_total counts, so it is
// logged at debug level (a warning each would let bad clients flood the
// log).
const connErrorFormat = "error when serving connection %q<->%q: %v"

// Printf logs fasthttp's errors, with the request bytes they quote
// redacted.
func (p slogPrinter) Printf(format string, args ...any) {
	if format == connErrorFormat && len(args) == 3 {
		p.s.log.Debug("http connection failed", "remote", fmt.Sprint(args[1]), "err", redactQuoted(fmt.Sprint(args[2])))
		return
	}
	p.s.log.Warn("http", "err", redactQuoted(fmt.Sprintf(format, args...)))
}
