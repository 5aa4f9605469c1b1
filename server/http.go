package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Error codes of the JSON error body.
const (
	codeBadRequest       = "bad_request"
	codeBadKey           = "bad_key"
	codeUnauthorized     = "unauthorized"
	codeUnknownTable     = "unknown_table"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooManyKeys      = "too_many_keys"
	codeBodyTooLarge     = "body_too_large"
	codeInternal         = "internal"
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

// writeError writes e as {"error": {"code": ..., "message": ...}}.
func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.code, "message": e.msg}})
	writeJSON(w, e.status, append(body, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// routes builds the server's handler.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	get := []string{http.MethodGet, http.MethodHead}
	mux.Handle("/healthz", s.endpoint("healthz", get, false, s.handleHealth))
	metrics := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}, MaxRequestsInFlight: 4})
	mux.Handle("/metrics", s.endpoint("metrics", get, true, metrics.ServeHTTP))
	mux.Handle("/v1/tables/{table}/lookup", s.endpoint("lookup", []string{http.MethodPost}, true, s.handleLookup))
	mux.Handle("/", s.endpoint("other", nil, false, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, codeNotFound, "no endpoint %s", r.URL.Path))
	}))
	return mux
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Error("metrics", "err", fmt.Sprint(v...)) }

// endpoint wraps a handler: it counts requests by status, refuses other
// methods (nil: any), checks the bearer token when auth is set and a token
// is configured, and turns a panic into a logged internal error, so that
// one bad request never takes the server down.
func (s *Server) endpoint(name string, methods []string, auth bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving a request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, errInternal("the request failed"))
				}
			}
			s.m.requests.WithLabelValues(name, strconv.Itoa(rec.code())).Inc()
		}()
		switch {
		case methods != nil && !slices.Contains(methods, r.Method):
			rec.Header().Set("Allow", strings.Join(methods, ", "))
			writeError(rec, newError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s takes %s, not %s", r.URL.Path, methods[0], r.Method))
		case auth && !s.authorized(r):
			rec.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
			writeError(rec, newError(http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token"))
		default:
			h(rec, r)
		}
	})
}

// authorized checks "Authorization: Bearer <token>" when the server has a
// token. Both tokens are hashed first, so the comparison takes the same
// time whatever their lengths.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.token == "" {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) == 1
	return ok && strings.EqualFold(scheme, "Bearer") && match
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`+"\n"))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// code is the status written, 200 when the handler wrote nothing.
func (r *statusRecorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
