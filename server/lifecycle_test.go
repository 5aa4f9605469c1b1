package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
)

// A committed change is served within the refresh interval (polled, with
// a bound); the snapshot and lag gauges follow.
func TestRefresh(t *testing.T) {
	w := newWarehouse(t)
	tb := w.create("db.kv", "k STRING NOT NULL, v INT", nil, []string{"k"})
	_, hs, _ := w.start(WithRefreshInterval(50 * time.Millisecond))
	// An empty table answers from snapshot 0.
	if r := lookup(t, hs.URL, "db.kv", `{"keys": ["a"]}`); r.status != 200 || r.Snapshot != 0 || string(r.Rows[0]) != "null" {
		t.Fatalf("empty table: %d %s", r.status, r.raw)
	}
	for v := 1; v <= 3; v++ {
		snap := w.commit(tb, spec.RowKindInsert, spec.Row{"a", int32(v)})
		committed := time.Now()
		want := `{"snapshot":` + itoa(snap) + `,"rows":[{"k":"a","v":` + itoa(int64(v)) + `}]}` + "\n"
		eventually(t, "the new value", func() bool { return lookup(t, hs.URL, "db.kv", `{"keys": ["a"]}`).raw == want })
		// Generous for a loaded machine, far below "never".
		if d := time.Since(committed); d > 5*time.Second {
			t.Fatalf("value %d served after %v", v, d)
		}
	}
	metrics := do(t, "GET", hs.URL+"/metrics", "", nil).raw
	for _, line := range []string{`strata_table_snapshot{table="db.kv"} 3`, `strata_table_snapshot_lag_seconds{table="db.kv"} 0`, `strata_table_refresh_duration_seconds_count{table="db.kv"}`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
}

// A failing refresh is logged and counted; the table keeps serving its last
// snapshot and catches up once the store answers again.
func TestRefreshFailureKeepsServing(t *testing.T) {
	w := newWarehouse(t)
	tb := w.create("db.kv", "k STRING NOT NULL, v INT", nil, []string{"k"})
	w.commit(tb, spec.RowKindInsert, spec.Row{"a", int32(1)})
	_, hs, logs := w.start(WithRefreshInterval(20 * time.Millisecond))
	old := `{"snapshot":1,"rows":[{"k":"a","v":1}]}` + "\n"
	if r := lookup(t, hs.URL, "db.kv", `{"keys": ["a"]}`); r.raw != old {
		t.Fatalf("before: %s", r.raw)
	}
	w.fs.fail.Store(true)
	eventually(t, "a logged refresh failure", func() bool { return strings.Contains(logs.String(), "refresh failed") })
	if !strings.Contains(logs.String(), "injected failure") || !strings.Contains(logs.String(), "table=db.kv") {
		t.Fatalf("log: %s", logs)
	}
	w.fs.fail.Store(false)
	w.commit(tb, spec.RowKindInsert, spec.Row{"a", int32(2)}) // snapshot 2, while...
	w.fs.fail.Store(true)                                     // ...the refresher cannot see it
	time.Sleep(100 * time.Millisecond)
	for range 3 {
		if r := lookup(t, hs.URL, "db.kv", `{"keys": ["a"]}`); r.raw != old {
			t.Fatalf("while refreshes fail: %d %s", r.status, r.raw)
		}
	}
	metrics := do(t, "GET", hs.URL+"/metrics", "", nil).raw
	if !strings.Contains(metrics, `strata_table_refresh_failures_total{table="db.kv"}`) {
		t.Fatalf("no refresh failures counted")
	}
	w.fs.fail.Store(false)
	eventually(t, "the new value", func() bool {
		return lookup(t, hs.URL, "db.kv", `{"keys": ["a"]}`).raw == `{"snapshot":2,"rows":[{"k":"a","v":2}]}`+"\n"
	})
	eventually(t, "the recovery log", func() bool { return strings.Contains(logs.String(), "refresh recovered") })
}

// serveReal runs a server on a real listener until the returned cancel.
func serveReal(t *testing.T, w *warehouse, opts ...Option) (s *Server, base string, cancel context.CancelFunc, done chan error) {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	s, err := New(context.Background(), w.cat, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return s, "http://" + ln.Addr().String(), cancel, done
}

// Shutdown lets requests in flight finish, refuses new ones, and then
// stops the refreshers and closes the lookups. The request in flight is
// the table's first: it opens the table while the store holds the read of
// its schema.
func TestShutdownFinishesInFlight(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	s, base, cancel, done := serveReal(t, w, WithShutdownTimeout(30*time.Second))
	entered, release := w.fs.hold("/schema/")
	defer release()
	inflight := make(chan reply, 1)
	go func() { inflight <- lookup(t, base, "db.users", `{"keys": [1, 3]}`) }()
	<-entered
	cancel()
	// New connections are refused once the listener is closed.
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	eventually(t, "new requests refused", func() bool {
		resp, err := noKeepAlive.Post(base+"/v1/tables/db.users/lookup", "application/json", strings.NewReader(`{"keys": [1]}`))
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	r := <-inflight
	if r.status != 200 || len(r.Rows) != 2 || !strings.Contains(string(r.Rows[0]), `"ann"`) || string(r.Rows[1]) != "null" {
		t.Fatalf("in-flight request: %d %s", r.status, r.raw)
	}
	if !r.closes {
		t.Error("an answer during shutdown keeps its connection open")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	// The refreshers have stopped and the tables are closed: the handler
	// now finds the server closed.
	if _, err := s.tables.get(context.Background(), catalog.Identifier{Database: "db", Table: "users"}); !errors.Is(err, errClosed) {
		t.Fatalf("after Serve: %v", err)
	}
}

// Requests that outlast the shutdown timeout are cut off and Serve says so.
func TestShutdownTimeout(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	_, base, cancel, done := serveReal(t, w, WithShutdownTimeout(100*time.Millisecond))
	entered, release := w.fs.hold("/schema/")
	defer release()
	cut := make(chan error, 1)
	go func() {
		resp, err := http.Post(base+"/v1/tables/db.users/lookup", "application/json", strings.NewReader(`{"keys": [1]}`))
		if err == nil {
			resp.Body.Close()
		}
		cut <- err
	}()
	<-entered
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "in flight") {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if err := <-cut; err == nil {
		t.Error("the request cut off got an answer")
	}
}
