// Package server is Strata's HTTP lookup service: point reads by primary key
// from the primary-key tables of one warehouse, each answered from one
// snapshot, kept fresh by a background refresher per table.
//
// # Endpoints
//
//	POST /v1/tables/{db}.{table}/lookup   {"keys": [...]} → {"snapshot": N, "rows": [...]}
//	GET  /healthz                         {"status": "ok"}, never behind auth
//	GET  /metrics                         Prometheus text format
//
// A key is a JSON object naming every primary-key column ({"day":
// "2024-01-31", "id": 7}) or, for a one-column key, that column's plain
// value (42, "abc"); values take the forms of `strata write`'s JSON Lines
// (internal/textrow). Rows come back in key order, each as `strata scan
// --format jsonl` prints it, or null when the snapshot holds no row with
// the key. Every row of an answer comes from the snapshot it names.
//
// The URL names a table as {db}.{table}, or {table} in database
// "default", as the CLI does. Table names in the URL go through the catalog's name validation, so a
// request can name nothing outside the warehouse. A server given tables
// (WithTables) opens them in New and serves only them; otherwise it serves
// every primary-key table of the warehouse, each opened on its first
// request (tables created later are served too), at most 16 at a time;
// a request waits for its table's open no longer than its deadline.
//
// # Errors
//
// Every error is JSON, {"error": {"code": C, "message": M}}, with C one of
//
//	bad_request          400  malformed JSON, a missing "keys", an invalid table name,
//	                          a request that is not HTTP
//	bad_key              400  a key that does not fit the primary key (the message
//	                          names the key, counting from 1, and the column)
//	unauthorized         401  missing or wrong bearer token
//	unknown_table        404  no such table, or one without a primary key
//	not_found            404  no such endpoint
//	method_not_allowed   405  wrong method for an endpoint
//	timeout              408  the request did not arrive within the read timeout
//	too_many_keys        413  more keys than WithMaxKeys
//	body_too_large       413  a body longer than WithMaxBody
//	headers_too_large    431  a request line and headers longer than WithMaxHeaderBytes
//	internal             500  the lookup failed; the server log says why
//	too_many_connections 503  WithMaxConns connections are open; sent unread, then closed
//
// A handler that panics is answered with internal and logged; the server
// keeps serving. A request that is not valid HTTP is answered bad_request
// and logged at debug level only (it is the client's fault, and counted),
// and neither the answer nor the log quotes its bytes, which may hold its
// Authorization header. The request body is read as JSON in place (one pass
// validates it and finds the keys, which the table's key parser then
// decodes), and field names match as encoding/json matches them.
//
// # Operation
//
// Each table's refresher calls Lookup.Refresh every WithRefreshInterval;
// a failure is logged (log/slog) and the table keeps serving its last
// snapshot. With WithToken every endpoint but /healthz needs
// "Authorization: Bearer <token>", compared in constant time. The HTTP
// server is github.com/valyala/fasthttp (HTTP/1.1 with keep-alive; see
// docs/architecture.md for why not net/http), with read, write and idle
// timeouts, a header size limit (each connection reads into a buffer of
// WithMaxHeaderBytes) and a bound on open connections (WithMaxConns). The
// read timeout bounds a whole request from its first byte (on a new
// connection, from the connection), so a client sending it slowly is cut
// off; the write timeout bounds each answer, so one not reading it is. The write timeout also bounds each lookup (to within
// 100 ms: lookups started together share a deadline). Serve shuts down when
// its context ends: it stops accepting, closes idle connections, lets
// requests in flight finish (their answers say "Connection: close"; after
// WithShutdownTimeout their connections are closed), stops the refreshers
// and closes the lookups.
//
// # Metrics
//
// Each Server has its own Prometheus registry (Registry), holding the Go
// and process collectors and:
//
//	strata_http_requests_total{handler, code}                 every request
//	strata_lookup_request_duration_seconds{table, code}       lookup latency
//	strata_lookup_keys{table}                                 keys per request
//	strata_lookup_errors_total{table, code}                   failed lookups by error code
//	strata_table_snapshot{table}                              snapshot served
//	strata_table_snapshot_lag_seconds{table}                  latest snapshot's commit time minus the served one's
//	strata_table_refresh_duration_seconds{table}              refresh attempts
//	strata_table_refresh_failures_total{table}                failed refreshes
//	strata_http_connections_open                              open connections
//	strata_http_connections_refused_total                     connections over WithMaxConns
//	strata_lookup_cache_*{table}                              with WithCacheStats
//
// The table label is "db.table" for served tables and "unknown" for
// requests that name no served table, so clients cannot grow the label set.
// A request refused before it is read (timeout, body_too_large,
// headers_too_large, not HTTP) counts in strata_http_requests_total only.
package server
