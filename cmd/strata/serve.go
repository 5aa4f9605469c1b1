package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// serveFlags are strata serve's flags.
type serveFlags struct {
	addr, tables, tokenFile, maxBody, logFormat string
	refresh, readTimeout, writeTimeout          time.Duration
	idleTimeout, shutdownTimeout                time.Duration
	maxKeys, maxHeaderBytes, maxConns           int
}

func newServeCmd(e *env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--tables db.t,...] [--refresh 1s] [--token-file F]",
		Short: "Serve point lookups over HTTP",
		Long: `Serve point lookups by primary key over HTTP, from the latest snapshot of each
table, refreshed in the background every --refresh.

With --tables only those tables are served; they are opened at start, which
fails if one is missing or has no primary key. Without it every primary-key
table of the warehouse is served, each opened on its first request (tables
created later are served too).

Endpoints:
  POST /v1/tables/DB.TABLE/lookup   {"keys": [...]} -> {"snapshot": N, "rows": [...]}
  GET  /healthz                     {"status": "ok"} (no token needed)
  GET  /metrics                     Prometheus metrics

Keys are as in "strata lookup": 42, "abc" or {"id": 42} for a one-column key,
an object naming every primary-key column otherwise. rows holds, in key
order, each row as "strata scan --format jsonl" prints it, or null. Errors
are {"error": {"code": ..., "message": ...}} with a 4xx or 5xx status.

Limits keep slow, large or too many clients from hurting the others:
--max-body, --max-keys and --max-header-bytes refuse larger requests (413,
431); --read-timeout cuts off a client sending its request too slowly
(408), --write-timeout one that does not read its answer, --idle-timeout an
idle keep-alive connection; beyond --max-conns open connections a new one is
answered 503 and closed.

With --token-file every endpoint but /healthz needs "Authorization: Bearer
TOKEN" (the file's contents, surrounding whitespace trimmed). SIGINT or
SIGTERM stops accepting, lets requests in flight finish (up to
--shutdown-timeout) and exits 0. Logs go to stderr.

Examples:
  strata serve --tables shop.orders,shop.users --addr 127.0.0.1:8080
  curl -s localhost:8080/v1/tables/shop.orders/lookup -d '{"keys": [1, 2, {"id": 3}]}'
  curl -s localhost:8080/metrics`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return e.serve(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks one)")
	fl.StringVar(&f.tables, "tables", "", "tables to serve, comma-separated DB.TABLE (default: every primary-key table, opened on first request)")
	fl.DurationVar(&f.refresh, "refresh", server.DefaultRefreshInterval, "how often each table moves to its latest snapshot (0: never)")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token required on every endpoint but /healthz")
	fl.IntVar(&f.maxKeys, "max-keys", server.DefaultMaxKeys, "most keys in one request")
	fl.StringVar(&f.maxBody, "max-body", "1MiB", "largest request body (512KiB, 1MiB, 4mb, bytes)")
	fl.DurationVar(&f.readTimeout, "read-timeout", server.DefaultReadTimeout,
		"time to read a whole request, headers and body (a client sending slower is answered 408 and cut off)")
	fl.DurationVar(&f.writeTimeout, "write-timeout", server.DefaultWriteTimeout,
		"time to answer a request: bounds each lookup, and cuts off a client that does not read its answer")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", server.DefaultIdleTimeout, "how long an idle keep-alive connection stays open")
	fl.IntVar(&f.maxHeaderBytes, "max-header-bytes", server.DefaultMaxHeaderBytes,
		"largest request line and headers, in bytes; each open connection holds a read buffer of this size")
	fl.IntVar(&f.maxConns, "max-conns", server.DefaultMaxConns,
		"most connections open at a time (keep-alive ones too); one more is answered 503 and closed")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long shutdown waits for requests in flight")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	return cmd
}

// serve runs the lookup server until SIGINT or SIGTERM.
func (e *env) serve(cmd *cobra.Command, f *serveFlags) error {
	opts, err := f.options(e.stderr)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	fs, err := storage.OpenExisting(ctx, e.location())
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("warehouse %s %w: the directory does not exist", e.location(), spec.ErrNotFound)
	}
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, catalog.New(fs), opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	fmt.Fprintf(e.stderr, "strata: serving %s on http://%s\n", e.location(), ln.Addr())
	return srv.Serve(ctx, ln)
}

// options turns the flags into server options.
func (f *serveFlags) options(stderr io.Writer) ([]server.Option, error) {
	maxBody, err := parseSize(f.maxBody)
	if err != nil {
		return nil, usagef("--max-body: %v", err)
	}
	var logger *slog.Logger
	switch f.logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return nil, usagef("--log-format %q: want text or json", f.logFormat)
	}
	opts := []server.Option{
		server.WithLogger(logger), server.WithRefreshInterval(f.refresh),
		server.WithMaxKeys(f.maxKeys), server.WithMaxBody(maxBody),
		server.WithTimeouts(f.readTimeout, f.writeTimeout, f.idleTimeout),
		server.WithMaxHeaderBytes(f.maxHeaderBytes), server.WithShutdownTimeout(f.shutdownTimeout),
		server.WithMaxConns(f.maxConns),
	}
	switch {
	case f.refresh < 0:
		return nil, usagef("--refresh %v: want a duration of 0 or more", f.refresh)
	case f.maxKeys < 1:
		return nil, usagef("--max-keys %d: want at least 1", f.maxKeys)
	case f.maxHeaderBytes < 1:
		return nil, usagef("--max-header-bytes %d: want at least 1", f.maxHeaderBytes)
	case f.maxConns < 1:
		return nil, usagef("--max-conns %d: want at least 1", f.maxConns)
	}
	for _, name := range splitList(f.tables) {
		id, err := catalog.ParseIdentifier(name)
		if err != nil {
			return nil, usagef("--tables: %v", err)
		}
		opts = append(opts, server.WithTables(id))
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return nil, usagef("--token-file %s is empty", f.tokenFile)
		}
		opts = append(opts, server.WithToken(tok))
	}
	return opts, nil
}

// parseSize reads a byte size: digits and an optional unit, Paimon's
// (b, kb, mb, gb, tb, case-insensitive, powers of 1024) or KiB, MiB, GiB,
// TiB.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if l := strings.ToLower(t); len(l) > 3 && strings.HasSuffix(l, "ib") {
		t = t[:len(t)-2] + "b"
	}
	n, err := spec.ParseMemorySize(t)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("size %q: want at least 1 byte", s)
	}
	return n, nil
}
