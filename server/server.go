package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/stratalake/strata/catalog"
)

// Defaults of the options.
const (
	DefaultRefreshInterval = time.Second
	DefaultMaxKeys         = 1000
	DefaultMaxBody         = 1 << 20
	DefaultReadTimeout     = 10 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultMaxHeaderBytes  = 64 << 10
	DefaultMaxConns        = 1024
	DefaultShutdownTimeout = 10 * time.Second
)

// config is what the options set.
type config struct {
	tables          []catalog.Identifier
	refresh         time.Duration
	token           string
	maxKeys         int
	maxBody         int64
	readTimeout     time.Duration
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	maxHeaderBytes  int
	maxConns        int
	shutdownTimeout time.Duration
	logger          *slog.Logger
	cacheStats      CacheStatsFunc
	// compare compares the digests of the token and a request's, in
	// constant time (subtle.ConstantTimeCompare; tests watch it).
	compare func(x, y []byte) int
}

// Option configures a Server.
type Option func(*config)

// WithTables serves only these tables, opened by New (which fails if one is
// missing or has no primary key). Without it every primary-key table of the
// warehouse is served, each opened on its first request.
func WithTables(ids ...catalog.Identifier) Option {
	return func(c *config) { c.tables = append(c.tables, ids...) }
}

// WithRefreshInterval sets how often each table's refresher moves its
// lookup to the latest snapshot (default 1s; 0 never refreshes).
func WithRefreshInterval(d time.Duration) Option { return func(c *config) { c.refresh = d } }

// WithToken requires "Authorization: Bearer <token>" on every endpoint but
// /healthz.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithMaxKeys bounds the keys of one request (default 1000).
func WithMaxKeys(n int) Option { return func(c *config) { c.maxKeys = n } }

// WithMaxBody bounds a request body in bytes (default 1 MiB).
func WithMaxBody(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithTimeouts sets the HTTP server's read timeout (a whole request, from
// its first byte or, on a new connection, from the connection), write
// timeout (an answer) and idle timeout (between requests on a keep-alive
// connection); defaults 10s, 30s, 2m. The write timeout also bounds each
// lookup (give or take 100 ms). A zero leaves that timeout at its default.
func WithTimeouts(read, write, idle time.Duration) Option {
	return func(c *config) {
		c.readTimeout = cmpOr(read, c.readTimeout)
		c.writeTimeout = cmpOr(write, c.writeTimeout)
		c.idleTimeout = cmpOr(idle, c.idleTimeout)
	}
}

// WithMaxHeaderBytes bounds a request's line and headers (default 64
// KiB); each open connection holds a read buffer of that size.
func WithMaxHeaderBytes(n int) Option { return func(c *config) { c.maxHeaderBytes = n } }

// WithMaxConns bounds the connections open at a time (default 1024); one
// more is answered 503 too_many_connections and closed. Each open
// connection holds a read buffer of WithMaxHeaderBytes (64 KiB by
// default), so the default bounds those buffers to 64 MiB.
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// WithShutdownTimeout bounds how long Serve waits for requests in flight
// when it shuts down (default 10s).
func WithShutdownTimeout(d time.Duration) Option { return func(c *config) { c.shutdownTimeout = d } }

// WithLogger sets the structured logger (default: none).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

func cmpOr(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Server answers point lookups over HTTP. Create it with New and run it
// with Serve; a Server that never serves is released with Close.
type Server struct {
	cfg       config
	log       *slog.Logger
	reg       *prometheus.Registry
	m         *metrics
	eps       endpoints
	tables    *tables
	deadlines *deadlines
	tokenHash [sha256.Size]byte
	conns     atomic.Int64 // open connections

	closeOnce sync.Once
	closeErr  error
}

// New returns a server of the warehouse cat. With WithTables it opens those
// tables and starts their refreshers now.
func New(ctx context.Context, cat *catalog.Catalog, opts ...Option) (*Server, error) {
	cfg := config{
		refresh: DefaultRefreshInterval, maxKeys: DefaultMaxKeys, maxBody: DefaultMaxBody,
		readTimeout: DefaultReadTimeout, writeTimeout: DefaultWriteTimeout, idleTimeout: DefaultIdleTimeout,
		maxHeaderBytes: DefaultMaxHeaderBytes, maxConns: DefaultMaxConns, shutdownTimeout: DefaultShutdownTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.compare == nil {
		cfg.compare = subtle.ConstantTimeCompare
	}
	s := &Server{cfg: cfg, log: cfg.logger, reg: prometheus.NewRegistry()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.token != "" {
		s.tokenHash = sha256.Sum256([]byte(cfg.token))
	}
	s.tables = newTables(s, cat)
	s.deadlines = &deadlines{parent: s.tables.ctx, timeout: cfg.writeTimeout}
	if cfg.cacheStats == nil {
		cfg.cacheStats = lookupCacheStats
	}
	s.m = newMetrics(s.reg, s.tables.open, cfg.cacheStats, &s.conns)
	s.eps = s.routes()
	for _, id := range cfg.tables {
		if _, err := s.tables.get(ctx, id); err != nil {
			s.Close()
			return nil, fmt.Errorf("serve %s: %w", id, err)
		}
	}
	return s, nil
}

func (c *config) validate() error {
	switch {
	case c.refresh < 0:
		return fmt.Errorf("server: refresh interval %v is negative", c.refresh)
	case c.maxKeys < 1:
		return fmt.Errorf("server: max keys %d: want at least 1", c.maxKeys)
	case c.maxBody < 1:
		return fmt.Errorf("server: max body %d: want at least 1 byte", c.maxBody)
	case c.maxHeaderBytes < 1:
		return fmt.Errorf("server: max header bytes %d: want at least 1", c.maxHeaderBytes)
	case c.maxConns < 1:
		return fmt.Errorf("server: max connections %d: want at least 1", c.maxConns)
	case c.shutdownTimeout < 0:
		return fmt.Errorf("server: shutdown timeout %v is negative", c.shutdownTimeout)
	}
	for _, id := range c.tables {
		if err := catalog.ValidateDatabaseName(id.Database); err != nil {
			return fmt.Errorf("server: table %s: %w", id, err)
		}
		if err := catalog.ValidateName(id.Table); err != nil {
			return fmt.Errorf("server: table %s: %w", id, err)
		}
	}
	return nil
}

// Registry is the server's Prometheus registry, served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// it stops accepting, waits for requests in flight (up to the shutdown
// timeout, then closes their connections), stops the refreshers and closes
// the lookups. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	conns := &connSet{m: map[net.Conn]struct{}{}}
	hs := s.httpServer(conns)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(newLimitListener(ln, s.cfg.maxConns, &s.conns, s.m.connsRefused)) }()
	s.log.Info("serving", "addr", ln.Addr().String())
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("server: %w", err)
	case <-ctx.Done():
		s.log.Info("shutting down", "timeout", s.cfg.shutdownTimeout)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.shutdownTimeout)
		if err = hs.ShutdownWithContext(sctx); err != nil {
			conns.closeAll()
			err = fmt.Errorf("server: requests still in flight after %v: %w", s.cfg.shutdownTimeout, err)
		}
		cancel()
		if serr := <-errc; err == nil && serr != nil {
			err = fmt.Errorf("server: %w", serr)
		}
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	s.log.Info("stopped")
	return err
}

// httpServer is the HTTP server of Serve: fasthttp (see
// docs/architecture.md for why), with the server's limits and timeouts;
// conns tracks its connections.
func (s *Server) httpServer(conns *connSet) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:      s.serveHTTP,
		ErrorHandler: s.refuse,
		ConnState:    conns.track,
		Logger:       slogPrinter{s},
		ReadTimeout:  s.cfg.readTimeout,
		WriteTimeout: s.cfg.writeTimeout,
		IdleTimeout:  s.cfg.idleTimeout,
		// fasthttp reads a request's line and headers into this buffer,
		// one per connection: its size is the header limit.
		ReadBufferSize:               s.cfg.maxHeaderBytes,
		MaxRequestBodySize:           int(min(s.cfg.maxBody, math.MaxInt32)),
		CloseOnShutdown:              true,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		// Parse errors without the request's bytes (its Authorization
		// header); redactQuoted takes out what fasthttp quotes anyway.
		SecureErrorLogMessage: true,
	}
}

// connSet is the open connections of a fasthttp server, which a shutdown
// that times out closes (fasthttp's shutdown only waits).
type connSet struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
}

// track follows a connection's state changes (fasthttp's ConnState).
func (cs *connSet) track(c net.Conn, st fasthttp.ConnState) {
	switch st {
	case fasthttp.StateNew:
		cs.mu.Lock()
		cs.m[c] = struct{}{}
		cs.mu.Unlock()
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		cs.mu.Lock()
		delete(cs.m, c)
		cs.mu.Unlock()
	}
}

// closeAll closes every open connection.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for c := range cs.m {
		c.Close()
	}
}

// Close stops the refreshers and closes the lookups. Requests still being
// served get internal errors; Serve calls it once they are done.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.tables.close() })
	return s.closeErr
}
