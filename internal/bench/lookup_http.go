package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// HTTPTarget reads a table through Strata's lookup service (package
// server) as a client would: POST /v1/tables/{db}.{table}/lookup with
// {"keys": [...]} over HTTP/1.1 keep-alive connections (httpClient). Its
// rows are the server's JSON objects, split out of the answer's rows array
// and not decoded, as a Redis client receives its values' bytes: the two
// clients do about the same work per row. Every row is checked to be null
// or to name its own key ({"id":K,...}); every checkEvery-th answer is
// decoded in full and compared with the expected rows (Expect).
type HTTPTarget struct {
	client *httpClient
	expect map[int64][]byte // encodeRow's form; nil: a miss
	n      atomic.Int64
	reqs   sync.Pool // *[]byte: request bodies
}

// checkEvery is how often (in answers) an HTTPTarget decodes an answer's
// rows in full to check them.
const checkEvery = 64

// NewHTTPTarget reads table id of the server at baseURL
// ("http://127.0.0.1:port") on at most conns connections, all kept alive:
// requests beyond conns wait for a free connection, as Redis clients wait
// for their pool's.
func NewHTTPTarget(baseURL string, id catalog.Identifier, conns int) (*HTTPTarget, error) {
	c, err := newHTTPClient(baseURL+"/v1/tables/"+id.String()+"/lookup", conns, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &HTTPTarget{client: c, reqs: sync.Pool{New: func() any { return new([]byte) }}}, nil
}

// Expect sets the rows the sampled checks compare answers with, by key in
// encodeRow's form (nil: the key has no row); keys not in rows are only
// decoded. Call it before the target is used.
func (h *HTTPTarget) Expect(rows map[int64][]byte) { h.expect = rows }

// Name implements Target.
func (h *HTTPTarget) Name() string { return "strata-http" }

// Get implements Target as a request of one key; the row is the server's
// JSON object.
func (h *HTTPTarget) Get(ctx context.Context, key int64) ([]byte, error) {
	keys := [1]int64{key}
	var out [1][]byte
	if err := h.lookup(ctx, keys[:], out[:]); err != nil {
		return nil, err
	}
	return out[0], nil
}

// GetBatch implements Target as one request of all the keys; the rows are
// the server's JSON objects.
func (h *HTTPTarget) GetBatch(ctx context.Context, keys []int64) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if err := h.lookup(ctx, keys, out); err != nil {
		return nil, err
	}
	return out, nil
}

// lookup sends one request of keys and sets out[i] to key i's row (nil for
// null).
func (h *HTTPTarget) lookup(ctx context.Context, keys []int64, out [][]byte) error {
	bp := h.reqs.Get().(*[]byte)
	*bp = appendKeysJSON((*bp)[:0], keys)
	err := h.client.post(ctx, *bp, func(status int, body []byte) error {
		if status != 200 {
			return fmt.Errorf("status %d: %.300s", status, body)
		}
		return splitRows(bytes.Clone(body), keys, out)
	})
	h.reqs.Put(bp)
	if err != nil {
		return fmt.Errorf("http lookup: %w", err)
	}
	if h.n.Add(1)%checkEvery == 0 {
		return h.check(keys, out)
	}
	return nil
}

// check decodes every row and compares it with the expected one, when
// there is one.
func (h *HTTPTarget) check(keys []int64, rows [][]byte) error {
	for i, k := range keys {
		want, known := h.expect[k]
		var got []byte
		if rows[i] != nil {
			var err error
			if got, err = decodeJSONRow(rows[i]); err != nil {
				return fmt.Errorf("http lookup: key %d: %w", k, err)
			}
		}
		if known && !bytes.Equal(got, want) {
			return fmt.Errorf("http lookup: key %d: got %s, want %x", k, rows[i], want)
		}
	}
	return nil
}

// Close implements Target: it closes the idle connections.
func (h *HTTPTarget) Close() error {
	h.client.close()
	return nil
}

// appendKeysJSON appends {"keys":[k1,k2,...]}: the bench table's key is one
// BIGINT column, so each key is its plain number.
func appendKeysJSON(b []byte, keys []int64) []byte {
	b = append(b, `{"keys":[`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, k, 10)
	}
	return append(b, "]}"...)
}

// splitRows sets rows[i] to the i-th element of body's "rows" array (a
// slice of body; nil for null), checking that there is one per key and
// that each row starts with its key ({"id":K,).
func splitRows(body []byte, keys []int64, rows [][]byte) error {
	at := bytes.Index(body, []byte(`"rows":[`))
	if at < 0 || !bytes.HasPrefix(body, []byte(`{"snapshot":`)) {
		return fmt.Errorf("answer %.200q: want {\"snapshot\":N,\"rows\":[...]}", body)
	}
	i := at + len(`"rows":[`)
	var idPrefix [32]byte
	for n := range rows {
		if n > 0 {
			if i >= len(body) || body[i] != ',' {
				return fmt.Errorf("answer: %d rows for %d keys", n, len(keys))
			}
			i++
		}
		end, err := jsonValueEnd(body, i)
		if err != nil {
			return fmt.Errorf("answer, row %d: %w", n+1, err)
		}
		row := body[i:end:end]
		i = end
		if string(row) == "null" {
			rows[n] = nil
			continue
		}
		prefix := strconv.AppendInt(append(idPrefix[:0], `{"id":`...), keys[n], 10)
		if !bytes.HasPrefix(row, prefix) || (row[len(prefix)] != ',' && row[len(prefix)] != '}') {
			return fmt.Errorf("answer, row %d: %.100s is not the row of key %d", n+1, row, keys[n])
		}
		rows[n] = row
	}
	if i >= len(body) || body[i] != ']' {
		return fmt.Errorf("answer: more rows than the %d keys", len(keys))
	}
	return nil
}

// jsonValueEnd returns the end of the object, array or null at b[i:] in
// compact JSON (the server's answers have no whitespace).
func jsonValueEnd(b []byte, i int) (int, error) {
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return i + 4, nil
	}
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		return 0, errors.New("want an object or null")
	}
	depth, inString := 0, false
	for j := i; j < len(b); j++ {
		switch c := b[j]; {
		case inString && c == '\\':
			j++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errors.New("unterminated value")
}

// decodeJSONRow decodes a bench row as the server writes it and returns it
// in encodeRow's form.
func decodeJSONRow(raw []byte) ([]byte, error) {
	var r benchRow
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode row %.100s: %w", raw, err)
	}
	return encodeRow(r.row()), nil
}

// benchRow is a row of the bench table (benchColumns) as the server writes
// it.
type benchRow struct {
	ID        int64   `json:"id"`
	Account   string  `json:"account"`
	Amount    float64 `json:"amount"`
	Currency  string  `json:"currency"`
	Merchant  string  `json:"merchant"`
	RiskScore float64 `json:"risk_score"`
	Note      string  `json:"note"`
}

func (r *benchRow) row() spec.Row {
	return spec.Row{r.ID, r.Account, r.Amount, r.Currency, r.Merchant, r.RiskScore, r.Note}
}

// HTTPServer is a Strata lookup server (server.Server, as `strata serve`
// runs it: default options, no token) serving one table of a warehouse on
// a free loopback port, in this process (StartHTTPServer) or in its own
// (StartHTTPServerProcess).
type HTTPServer struct {
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL  string
	pid  int // the server's own process (0: this process)
	stop func() error
	once sync.Once
	err  error
}

// StartHTTPServer serves table id of the warehouse in fs in this process
// until Stop.
func StartHTTPServer(ctx context.Context, fs storage.Storage, id catalog.Identifier) (*HTTPServer, error) {
	srv, err := server.New(ctx, catalog.New(fs), server.WithTables(id))
	if err != nil {
		return nil, fmt.Errorf("start lookup server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("start lookup server: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	return &HTTPServer{URL: "http://" + ln.Addr().String(), stop: func() error {
		cancel()
		return <-done
	}}, nil
}

// Stop shuts the server down and returns its error; stopping again
// returns the same.
func (h *HTTPServer) Stop() error {
	h.once.Do(func() {
		if h.err = h.stop(); h.err != nil {
			h.err = fmt.Errorf("lookup server: %w", h.err)
		}
	})
	return h.err
}

// HTTPReport is the lookup service measured over loopback HTTP side by
// side with Redis: the same scenarios and keys, one target after the other
// within each scenario.
type HTTPReport struct {
	Shape Shape `json:"shape"`
	// Refresh is the server's refresh interval (its default).
	Refresh time.Duration `json:"refresh_interval_ns"`
	// Process says the server ran as its own process (`strata serve`), not
	// in the benchmark's.
	Process bool `json:"server_process"`
	Conns   int  `json:"conns"`
	// ServerRSS is the server process's resident size after the runs (0
	// when the server ran in the benchmark's process).
	ServerRSS int64         `json:"server_rss_bytes,omitempty"`
	Strata    TargetFigures `json:"strata_http"`
	// Redis is nil when Redis is skipped.
	Redis *TargetFigures `json:"redis,omitempty"`
}

// runHTTP serves the table in dir with an in-process lookup server, warms
// it through the client and measures it next to redis (nil: alone); the
// client's sampled checks compare answers with what lib (the in-process
// lookup of the same table) returns.
func runHTTP(ctx context.Context, cfg LookupConfig, ds *dataset, dir string, shape Shape, sh tableShape, lib Target, redis Target,
	say func(string)) (*HTTPReport, error) {
	hs, err := startServed(ctx, cfg, dir)
	if err != nil {
		return nil, err
	}
	defer hs.Stop()
	ht, err := NewHTTPTarget(hs.URL, lookupTableID, cfg.Conns)
	if err != nil {
		return nil, err
	}
	defer ht.Close()
	want, err := expectedRows(ctx, lib, ds)
	if err != nil {
		return nil, err
	}
	ht.Expect(want)
	say(fmt.Sprintf("serving the %s table on %s; warming %d files", shape, hs.URL, sh.Files))
	warmed, err := warm(ctx, ht, sh.warmKeys(ds))
	if err != nil {
		return nil, err
	}
	ts := []measured{{ht, cfg.Conns}}
	if redis != nil {
		ts = append(ts, measured{redis, cfg.Conns})
	}
	figs, err := measure(ctx, cfg, ds, serviceScenarios(ds, cfg.Batch), say, ts...)
	if err != nil {
		return nil, err
	}
	rep := &HTTPReport{Shape: shape, Refresh: server.DefaultRefreshInterval, Process: cfg.ServeBinary != "",
		Conns: cfg.Conns, Strata: figs[0]}
	rep.Strata.WarmSeconds = warmed
	if hs.pid != 0 {
		if rep.ServerRSS, err = readRSS(fmt.Sprintf("/proc/%d/status", hs.pid)); err != nil {
			return nil, err
		}
	}
	if len(figs) > 1 {
		rep.Redis = &figs[1]
	}
	return rep, hs.Stop()
}

// startServed starts the lookup server over the warehouse in dir: as
// cfg.ServeBinary's `serve` when set, else in this process.
func startServed(ctx context.Context, cfg LookupConfig, dir string) (*HTTPServer, error) {
	if cfg.ServeBinary != "" {
		return StartHTTPServerProcess(ctx, cfg.ServeBinary, dir, lookupTableID, filepath.Join(cfg.Dir, "serve.log"))
	}
	fs, err := storage.NewLocal(dir)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	return StartHTTPServer(ctx, fs, lookupTableID)
}

// expectedKeys is how many hits (and as many misses) the HTTP client's
// sampled checks know the rows of.
const expectedKeys = 1000

// expectedRows reads the first expectedKeys hits and misses through lib.
func expectedRows(ctx context.Context, lib Target, ds *dataset) (map[int64][]byte, error) {
	keys := slices.Concat(ds.hits[:min(len(ds.hits), expectedKeys)], ds.misses[:min(len(ds.misses), expectedKeys)])
	rows, err := lib.GetBatch(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("expected rows: %w", err)
	}
	want := make(map[int64][]byte, len(keys))
	for i, k := range keys {
		want[k] = rows[i]
	}
	return want, nil
}
