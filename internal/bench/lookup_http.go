package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// HTTPTarget reads a table through Strata's lookup service (package
// server) as a client would: POST /v1/tables/{db}.{table}/lookup with
// {"keys": [...]} over HTTP/1.1 keep-alive connections, the answer's rows
// decoded from JSON.
type HTTPTarget struct {
	url    string
	client *http.Client
	bufs   sync.Pool // *bytes.Buffer: request and response bodies
}

// NewHTTPTarget reads table id of the server at baseURL
// ("http://127.0.0.1:port") on at most conns connections, all kept alive:
// requests beyond conns wait for a free connection, as Redis clients wait
// for their pool's.
func NewHTTPTarget(baseURL string, id catalog.Identifier, conns int) *HTTPTarget {
	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // the server does not compress; no Accept-Encoding
		ReadBufferSize:      32 << 10,
		WriteBufferSize:     8 << 10,
	}
	return &HTTPTarget{url: baseURL + "/v1/tables/" + id.String() + "/lookup",
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		bufs:   sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// Name implements Target.
func (h *HTTPTarget) Name() string { return "strata-http" }

// Get implements Target as a request of one key.
func (h *HTTPTarget) Get(ctx context.Context, key int64) ([]byte, error) {
	rows, err := h.GetBatch(ctx, []int64{key})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// GetBatch implements Target as one request of all the keys.
func (h *HTTPTarget) GetBatch(ctx context.Context, keys []int64) ([][]byte, error) {
	req := h.bufs.Get().(*bytes.Buffer)
	defer h.bufs.Put(req)
	req.Reset()
	req.Write(appendKeysJSON(req.AvailableBuffer(), keys))
	body, err := h.post(ctx, req.Bytes())
	if body != nil {
		defer h.bufs.Put(body)
	}
	if err != nil {
		return nil, err
	}
	var ans lookupAnswer
	if err := json.Unmarshal(body.Bytes(), &ans); err != nil {
		return nil, fmt.Errorf("http lookup: decode answer: %w", err)
	}
	if len(ans.Rows) != len(keys) {
		return nil, fmt.Errorf("http lookup: %d rows for %d keys", len(ans.Rows), len(keys))
	}
	out := make([][]byte, len(keys))
	for i, r := range ans.Rows {
		if r != nil {
			out[i] = encodeRow(r.row())
		}
	}
	return out, nil
}

// post sends one lookup request and returns the answer's body (a pooled
// buffer, returned even with an error) of a 200 answer.
func (h *HTTPTarget) post(ctx context.Context, reqBody []byte) (*bytes.Buffer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(reqBody))
	if err != nil {
		return nil, fmt.Errorf("http lookup: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("http lookup: %w", err)
	}
	defer resp.Body.Close()
	body := h.bufs.Get().(*bytes.Buffer)
	body.Reset()
	if _, err := body.ReadFrom(resp.Body); err != nil { // read to the end: the connection is reused
		return body, fmt.Errorf("http lookup: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("http lookup: %s: %.300s", resp.Status, body.Bytes())
	}
	return body, nil
}

// Close implements Target: it closes the idle connections.
func (h *HTTPTarget) Close() error {
	h.client.CloseIdleConnections()
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

// lookupAnswer is the server's answer: the snapshot read and one row (or
// null) per key.
type lookupAnswer struct {
	Snapshot int64       `json:"snapshot"`
	Rows     []*benchRow `json:"rows"`
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
// runs it: default options, no token) serving one table of a warehouse,
// run in-process on a free loopback port.
type HTTPServer struct {
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL  string
	stop context.CancelFunc
	done chan error
	once sync.Once
	err  error
}

// StartHTTPServer serves table id of the warehouse in fs until Stop.
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
	h := &HTTPServer{URL: "http://" + ln.Addr().String(), stop: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(sctx, ln) }()
	return h, nil
}

// Stop shuts the server down and returns Serve's error; stopping again
// returns the same.
func (h *HTTPServer) Stop() error {
	h.once.Do(func() {
		h.stop()
		if h.err = <-h.done; h.err != nil {
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
	Conns   int           `json:"conns"`
	Strata  TargetFigures `json:"strata_http"`
	// Redis is nil when Redis is skipped.
	Redis *TargetFigures `json:"redis,omitempty"`
}

// runHTTP serves the table in dir with an in-process lookup server, warms
// it through the client and measures it next to redis (nil: alone).
func runHTTP(ctx context.Context, cfg LookupConfig, ds *dataset, dir string, shape Shape, sh tableShape, redis Target,
	say func(string)) (*HTTPReport, error) {
	fs, err := storage.NewLocal(dir)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	hs, err := StartHTTPServer(ctx, fs, lookupTableID)
	if err != nil {
		return nil, err
	}
	defer hs.Stop()
	ht := NewHTTPTarget(hs.URL, lookupTableID, cfg.Conns)
	defer ht.Close()
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
	rep := &HTTPReport{Shape: shape, Refresh: server.DefaultRefreshInterval, Conns: cfg.Conns, Strata: figs[0]}
	rep.Strata.WarmSeconds = warmed
	if len(figs) > 1 {
		rep.Redis = &figs[1]
	}
	return rep, hs.Stop()
}
