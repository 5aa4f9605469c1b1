package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// flakyStorage fails reads of snapshot files while fail is set, as a store
// that is briefly unreachable for the refresher would, and holds reads
// while a gate is set, as a slow store would.
type flakyStorage struct {
	storage.Storage
	fail atomic.Bool
	gate atomic.Pointer[gate]
}

// gate holds reads of paths containing sub until release is closed;
// entered is closed when the first one arrives.
type gate struct {
	sub              string
	entered, release chan struct{}
	once             sync.Once
	waiting, most    atomic.Int64 // reads waiting, now and at most
}

// hold makes reads of paths containing sub wait until the returned
// release; entered is closed once one waits.
func (f *flakyStorage) hold(sub string) (entered <-chan struct{}, release func()) {
	g := &gate{sub: sub, entered: make(chan struct{}), release: make(chan struct{})}
	f.gate.Store(g)
	var once sync.Once
	return g.entered, func() { once.Do(func() { close(g.release) }) }
}

// mostHeld is the most reads the gate held at once.
func (f *flakyStorage) mostHeld() int64 { return f.gate.Load().most.Load() }

func (f *flakyStorage) check(path string) error {
	if g := f.gate.Load(); g != nil && strings.Contains(path, g.sub) {
		g.once.Do(func() { close(g.entered) })
		n := g.waiting.Add(1)
		for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
		}
		<-g.release
		g.waiting.Add(-1)
	}
	if f.fail.Load() && strings.Contains(path, "snapshot") {
		return &injectedError{path}
	}
	return nil
}

type injectedError struct{ path string }

func (e *injectedError) Error() string { return "injected failure reading " + e.path }

func (f *flakyStorage) Get(ctx context.Context, path string) ([]byte, error) {
	if err := f.check(path); err != nil {
		return nil, err
	}
	return f.Storage.Get(ctx, path)
}

func (f *flakyStorage) List(ctx context.Context, prefix string, recursive bool) ([]storage.FileInfo, error) {
	if err := f.check(prefix); err != nil {
		return nil, err
	}
	return f.Storage.List(ctx, prefix, recursive)
}

func (f *flakyStorage) Stat(ctx context.Context, path string) (storage.FileInfo, error) {
	if err := f.check(path); err != nil {
		return storage.FileInfo{}, err
	}
	return f.Storage.Stat(ctx, path)
}

// warehouse is a test warehouse in memory (behind flakyStorage).
type warehouse struct {
	t   *testing.T
	fs  *flakyStorage
	cat *catalog.Catalog
}

func newWarehouse(t *testing.T) *warehouse {
	fs := &flakyStorage{Storage: storage.NewMemory()}
	return &warehouse{t: t, fs: fs, cat: catalog.New(fs)}
}

// create creates a table from columns in SQL form.
func (w *warehouse) create(name, columns string, partition, pk []string, opts ...string) *table.Table {
	w.t.Helper()
	fields, err := spec.ParseColumns(columns)
	if err != nil {
		w.t.Fatal(err)
	}
	sc, err := spec.NewSchema(fields, partition, pk, spec.NewStringMap(opts...), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	id, err := catalog.ParseIdentifier(name)
	if err != nil {
		w.t.Fatal(err)
	}
	tb, err := w.cat.CreateTable(context.Background(), id, sc)
	if err != nil {
		w.t.Fatal(err)
	}
	return tb
}

// commit writes rows of one kind and commits them; it returns the snapshot.
func (w *warehouse) commit(tb *table.Table, kind spec.RowKind, rows ...spec.Row) int64 {
	w.t.Helper()
	ctx := context.Background()
	wr, err := tb.NewWrite(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer wr.Close()
	for _, r := range rows {
		if err := wr.WriteRow(ctx, kind, r); err != nil {
			w.t.Fatal(err)
		}
	}
	msgs, err := wr.PrepareCommit(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	id, err := tb.NewCommit("test").Commit(ctx, table.BatchCommitIdentifier, msgs)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// scanJSON is each row of the table's latest snapshot as `strata scan
// --format jsonl` prints it, by the row's first column printed as JSON.
func (w *warehouse) scanJSON(tb *table.Table) map[string]string {
	w.t.Helper()
	var buf bytes.Buffer
	enc := textrow.NewJSONEncoder(&buf, tb.Schema().Fields)
	for r, err := range tb.NewScan().Rows(context.Background()) {
		if err != nil {
			w.t.Fatal(err)
		}
		if err := enc.Write(r); err != nil {
			w.t.Fatal(err)
		}
	}
	enc.Flush()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			w.t.Fatal(err)
		}
		out[string(m[tb.Schema().Fields[0].Name])] = line
	}
	return out
}

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a running server's address.
type testServer struct {
	// URL is the server's base URL, "http://127.0.0.1:port".
	URL string
}

// start runs a server of the warehouse on a loopback port until the test
// ends; it logs to the returned buffer (later options, a WithLogger too,
// win over the test's).
func (w *warehouse) start(opts ...Option) (*Server, *testServer, *syncBuffer) {
	w.t.Helper()
	logs := &syncBuffer{}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	s, err := New(context.Background(), w.cat, opts...)
	if err != nil {
		w.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Error(err)
		}
	})
	return s, &testServer{URL: "http://" + ln.Addr().String()}, logs
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	closes bool // the server closes the connection after this answer
	raw    string
	// a lookup's answer
	Snapshot int64             `json:"snapshot"`
	Rows     []json.RawMessage `json:"rows"`
	// an error
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends a request and decodes the JSON answer (any JSON answer: the
// server answers JSON everywhere but /metrics).
func do(t *testing.T, method, url, token string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, closes: resp.Close, raw: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s %s: answer %q is not JSON: %v", method, url, b, err)
		}
	}
	return r
}

// lookup posts body to a table's lookup endpoint.
func lookup(t *testing.T, base, table, body string) reply {
	t.Helper()
	return do(t, http.MethodPost, base+"/v1/tables/"+table+"/lookup", "", strings.NewReader(body))
}

// wantError checks an error answer's status, code and message.
func wantError(t *testing.T, r reply, status int, code, msg string) {
	t.Helper()
	if r.status != status || r.Error.Code != code || !strings.Contains(r.Error.Message, msg) ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("got %d %s; want %d, code %q, message containing %q", r.status, r.raw, status, code, msg)
	}
}

// rows returns the answer's rows as strings ("null" for a miss).
func (r reply) rowStrings() []string {
	out := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = string(row)
	}
	return out
}

// eventually polls cond every 10ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
