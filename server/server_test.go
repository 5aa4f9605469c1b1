package server

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// users is a one-column-key table with three rows, then 2 updated and 3
// deleted (snapshot 3).
func users(w *warehouse) *table.Table {
	w.t.Helper()
	tb := w.create("db.users", "id BIGINT NOT NULL, name STRING, amount DECIMAL(10, 2), day DATE", nil, []string{"id"}, "bucket", "2")
	w.commit(tb, spec.RowKindInsert,
		spec.Row{int64(1), "ann", spec.Decimal{Unscaled: bigInt(1250), Scale: 2}, spec.Date(19753)},
		spec.Row{int64(2), "bob", nil, nil},
		spec.Row{int64(3), "cy", nil, nil})
	w.commit(tb, spec.RowKindInsert, spec.Row{int64(2), "bobby", nil, nil})
	w.commit(tb, spec.RowKindDelete, spec.Row{int64(3), nil, nil, nil})
	return tb
}

// events has a composite key (day, id), partitioned by day.
func events(w *warehouse) *table.Table {
	w.t.Helper()
	tb := w.create("db.events", "day DATE NOT NULL, id INT NOT NULL, v STRING", []string{"day"}, []string{"day", "id"})
	w.commit(tb, spec.RowKindInsert,
		spec.Row{spec.Date(19723), int32(1), "a"},
		spec.Row{spec.Date(19724), int32(1), "b"},
		spec.Row{spec.Date(19724), int32(2), "c"})
	return tb
}

func TestLookupHitsAndMisses(t *testing.T) {
	w := newWarehouse(t)
	tb := users(w)
	want := w.scanJSON(tb)
	if len(want) != 2 || !strings.Contains(want["2"], `"bobby"`) {
		t.Fatalf("scan: %v", want)
	}
	_, hs, _ := w.start()
	r := lookup(t, hs.URL, "db.users", `{"keys": [1, 9, {"id": 2}, "1", 3, {"id": "2"}]}`)
	if r.status != http.StatusOK || r.Snapshot != 3 {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	wantRows := []string{want["1"], "null", want["2"], want["1"], "null", want["2"]}
	if got := r.rowStrings(); !slices.Equal(got, wantRows) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
	if want["1"] != `{"id":1,"name":"ann","amount":"12.50","day":"2024-01-31"}` {
		t.Fatalf("scan format: %s", want["1"])
	}
	// The same table by an escaped name.
	if r2 := lookup(t, hs.URL, "db%2Eusers", `{"keys": [1, 9, {"id": 2}, "1", 3, {"id": "2"}]}`); r2.raw != r.raw {
		t.Fatalf("escaped name: %d %s", r2.status, r2.raw)
	}
	// No keys: no rows.
	if r := lookup(t, hs.URL, "db.users", `{"keys": []}`); r.status != http.StatusOK || r.raw != `{"snapshot":3,"rows":[]}`+"\n" {
		t.Fatalf("no keys: %d %s", r.status, r.raw)
	}
}

func TestLookupCompositeKey(t *testing.T) {
	w := newWarehouse(t)
	events(w)
	_, hs, _ := w.start()
	r := lookup(t, hs.URL, "db.events", `{"keys": [{"day": "2024-01-02", "id": 2}, {"id": 1, "day": "2024-01-01"}, {"day": "2024-01-01", "id": 2}, {"day": "2024-01-03", "id": 1}]}`)
	want := []string{`{"day":"2024-01-02","id":2,"v":"c"}`, `{"day":"2024-01-01","id":1,"v":"a"}`, "null", "null"}
	if r.status != http.StatusOK || !slices.Equal(r.rowStrings(), want) || r.Snapshot != 1 {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	r = lookup(t, hs.URL, "db.events", `{"keys": [{"day": "2024-01-02", "id": 2}, {"id": 1}]}`)
	wantError(t, r, http.StatusBadRequest, codeBadKey, `key 2, column "day": missing key column`)
	r = lookup(t, hs.URL, "db.events", `{"keys": [1]}`)
	wantError(t, r, http.StatusBadRequest, codeBadKey, `key 1: want a JSON object naming the key columns (day, id), got number`)
}

// Bad requests get JSON errors with the right status, and the server keeps
// answering.
func TestLookupErrors(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	w.create("db.log", "id INT, v STRING", nil, nil)
	_, hs, _ := w.start(WithMaxKeys(3), WithMaxBody(200))
	cases := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"bad json", "POST", "/v1/tables/db.users/lookup", `{"keys": [1,}`, 400, codeBadRequest, "want {"},
		{"not an object", "POST", "/v1/tables/db.users/lookup", `[1, 2]`, 400, codeBadRequest, "want {"},
		{"empty body", "POST", "/v1/tables/db.users/lookup", ``, 400, codeBadRequest, "want {"},
		{"missing keys", "POST", "/v1/tables/db.users/lookup", `{}`, 400, codeBadRequest, `"keys" is missing`},
		{"null keys", "POST", "/v1/tables/db.users/lookup", `{"keys": null}`, 400, codeBadRequest, `"keys" is missing`},
		{"keys not an array", "POST", "/v1/tables/db.users/lookup", `{"keys": 1}`, 400, codeBadRequest, "want {"},
		{"unknown field", "POST", "/v1/tables/db.users/lookup", `{"keys": [1], "snapshot": 2}`, 400, codeBadRequest, "snapshot"},
		{"trailing data", "POST", "/v1/tables/db.users/lookup", `{"keys": [1]} {"keys": [2]}`, 400, codeBadRequest, "after the request object"},
		{"wrong key type", "POST", "/v1/tables/db.users/lookup", `{"keys": [1, "abc"]}`, 400, codeBadKey, `key 2, column "id": invalid BIGINT "abc"`},
		{"bool key", "POST", "/v1/tables/db.users/lookup", `{"keys": [true]}`, 400, codeBadKey, `key 1, column "id": want BIGINT, got boolean`},
		{"null key", "POST", "/v1/tables/db.users/lookup", `{"keys": [null]}`, 400, codeBadKey, `key 1, column "id": null is not allowed`},
		{"value column", "POST", "/v1/tables/db.users/lookup", `{"keys": [{"name": "ann"}]}`, 400, codeBadKey, `column "name": not a primary-key column`},
		{"out of range", "POST", "/v1/tables/db.users/lookup", `{"keys": [1e30]}`, 400, codeBadKey, "out of range"},
		{"too many keys", "POST", "/v1/tables/db.users/lookup", `{"keys": [1, 2, 3, 4]}`, 413, codeTooManyKeys, "4 keys: at most 3"},
		{"body too large", "POST", "/v1/tables/db.users/lookup", `{"keys": [1]` + strings.Repeat(" ", 200) + `}`, 413, codeBodyTooLarge, "longer than 200 bytes"},
		{"unknown table", "POST", "/v1/tables/db.nope/lookup", `{"keys": [1]}`, 404, codeUnknownTable, "db.nope does not exist"},
		{"unknown database", "POST", "/v1/tables/nodb.users/lookup", `{"keys": [1]}`, 404, codeUnknownTable, "nodb.users"},
		{"append-only table", "POST", "/v1/tables/db.log/lookup", `{"keys": [1]}`, 404, codeUnknownTable, "db.log has no primary key"},
		{"escaping name", "POST", "/v1/tables/db%2F..%2F..%2Fx/lookup", `{"keys": [1]}`, 400, codeBadRequest, "invalid table name"},
		{"dotted name", "POST", "/v1/tables/db.users.x/lookup", `{"keys": [1]}`, 400, codeBadRequest, "invalid table name"},
		{"empty name", "POST", "/v1/tables/.users/lookup", `{"keys": [1]}`, 400, codeBadRequest, "invalid table name"},
		{"wrong method", "GET", "/v1/tables/db.users/lookup", ``, 405, codeMethodNotAllowed, "takes POST"},
		{"unknown path", "GET", "/v2/nothing", ``, 404, codeNotFound, "/v2/nothing"},
		{"healthz by POST", "POST", "/healthz", ``, 405, codeMethodNotAllowed, "takes GET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, do(t, c.method, hs.URL+c.path, "", strings.NewReader(c.body)), c.status, c.code, c.msg)
		})
	}
	// A body too large without a Content-Length (chunked) is cut off too.
	chunked := io.NopCloser(strings.NewReader(`{"keys": [` + strings.Repeat("1, ", 100) + `1]}`))
	wantError(t, do(t, "POST", hs.URL+"/v1/tables/db.users/lookup", "", chunked), 413, codeBodyTooLarge, "longer than 200 bytes")
	if r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`); r.status != 200 || len(r.Rows) != 1 {
		t.Fatalf("after the errors: %d %s", r.status, r.raw)
	}
	if r := do(t, "GET", hs.URL+"/healthz", "", nil); r.status != 200 || r.raw != `{"status":"ok"}`+"\n" {
		t.Fatalf("healthz: %d %q", r.status, r.raw)
	}
}

func TestAuth(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	_, hs, _ := w.start(WithToken("s3cret"))
	url := hs.URL + "/v1/tables/db.users/lookup"
	body := func() io.Reader { return strings.NewReader(`{"keys": [1]}`) }
	for name, header := range map[string]string{
		"none": "", "wrong": "Bearer s3cre", "longer": "Bearer s3cret2", "basic": "Basic s3cret", "no scheme": "s3cret",
	} {
		req, _ := http.NewRequest("POST", url, body())
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(string(b), `"code":"unauthorized"`) || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	if r := do(t, "POST", url, "s3cret", body()); r.status != 200 || len(r.Rows) != 1 || r.Rows[0] == nil {
		t.Fatalf("with the token: %d %s", r.status, r.raw)
	}
	req, _ := http.NewRequest("POST", url, body())
	req.Header.Set("Authorization", "bearer s3cret") // the scheme is case-insensitive
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("lower-case scheme: %v %v", resp, err)
	}
	wantError(t, do(t, "GET", hs.URL+"/metrics", "", nil), 401, codeUnauthorized, "bearer token")
	if r := do(t, "GET", hs.URL+"/metrics", "s3cret", nil); r.status != 200 || !strings.Contains(r.raw, "strata_http_requests_total") {
		t.Fatalf("metrics with the token: %d", r.status)
	}
	if r := do(t, "GET", hs.URL+"/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz needs no token: %d %s", r.status, r.raw)
	}
	// Unauthorized requests never open tables.
	wantError(t, do(t, "POST", hs.URL+"/v1/tables/db.nope/lookup", "", body()), 401, codeUnauthorized, "")
}

func TestMetrics(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	events(w)
	stats := WithCacheStats(func(l *table.Lookup) (CacheStats, bool) {
		if slices.ContainsFunc(l.KeyFields(), func(f spec.DataField) bool { return f.Name == "day" }) {
			return CacheStats{}, false // events has no cache
		}
		return CacheStats{Hits: 7, Misses: 2, Evictions: 1, Bytes: 4096, Entries: 3}, true
	})
	s, hs, _ := w.start(stats)
	lookup(t, hs.URL, "db.users", `{"keys": [1, 2, 3]}`)
	lookup(t, hs.URL, "db.users", `{"keys": ["x"]}`)
	lookup(t, hs.URL, "db.events", `{"keys": []}`)
	lookup(t, hs.URL, "db.nope", `{"keys": [1]}`)
	r := do(t, "GET", hs.URL+"/metrics", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, line := range []string{
		`strata_lookup_request_duration_seconds_count{code="200",table="db.users"} 1`,
		`strata_lookup_request_duration_seconds_count{code="400",table="db.users"} 1`,
		`strata_lookup_request_duration_seconds_count{code="404",table="unknown"} 1`,
		`strata_lookup_keys_sum{table="db.users"} 4`,
		`strata_lookup_keys_count{table="db.users"} 2`,
		`strata_lookup_keys_count{table="db.events"} 1`,
		`strata_lookup_errors_total{code="bad_key",table="db.users"} 1`,
		`strata_lookup_errors_total{code="unknown_table",table="unknown"} 1`,
		`strata_http_requests_total{code="200",handler="lookup"} 2`,
		`strata_http_requests_total{code="404",handler="lookup"} 1`,
		`strata_table_snapshot{table="db.users"} 3`,
		`strata_table_snapshot{table="db.events"} 1`,
		`strata_table_snapshot_lag_seconds{table="db.users"} 0`,
		`strata_lookup_cache_hits_total{table="db.users"} 7`,
		`strata_lookup_cache_misses_total{table="db.users"} 2`,
		`strata_lookup_cache_evictions_total{table="db.users"} 1`,
		`strata_lookup_cache_bytes{table="db.users"} 4096`,
		`strata_lookup_cache_entries{table="db.users"} 3`,
		"go_goroutines ",
		"process_",
	} {
		if !strings.Contains(r.raw, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	if strings.Contains(r.raw, `strata_lookup_cache_hits_total{table="db.events"}`) {
		t.Error("a lookup without a cache reported cache metrics")
	}
	// Each server has its own registry: a second one registers the same
	// metrics without a conflict, and starts from zero.
	s2, err := New(context.Background(), w.cat)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Registry() == s.Registry() {
		t.Fatal("servers share a registry")
	}
	mfs, err := s2.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "strata_lookup") && len(mf.GetMetric()) > 0 {
			t.Fatalf("a new server has %s", mf.GetName())
		}
	}
}

// Without WithTables every primary-key table is served, opened on first
// request, tables created after the start too. With it, only those.
func TestTables(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	_, hs, logs := w.start()
	events(w)
	if r := lookup(t, hs.URL, "db.events", `{"keys": [{"day": "2024-01-01", "id": 1}]}`); r.status != 200 || r.Rows[0] == nil {
		t.Fatalf("table created after the start: %d %s", r.status, r.raw)
	}
	if !strings.Contains(logs.String(), "serving table") {
		t.Fatalf("logs: %s", logs)
	}
	// Many first requests at once open a table once.
	w.create("db.late", "k STRING NOT NULL, v INT", nil, []string{"k"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := lookup(t, hs.URL, "db.late", `{"keys": ["a"]}`); r.status != 200 {
				t.Errorf("db.late: %d %s", r.status, r.raw)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "table=db.late"); n != 1 {
		t.Fatalf("db.late opened %d times:\n%s", n, logs)
	}

	// A table of the default database, by its name alone or in full.
	kv := w.create("kv", "k STRING NOT NULL, v INT", nil, []string{"k"})
	w.commit(kv, spec.RowKindInsert, spec.Row{"a", int32(1)})
	for _, name := range []string{"kv", "default.kv", "kv", "default.kv"} {
		if r := lookup(t, hs.URL, name, `{"keys": ["a"]}`); r.status != 200 || string(r.Rows[0]) != `{"k":"a","v":1}` {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
	}

	_, hs2, _ := w.start(WithTables(catalog.Identifier{Database: "db", Table: "users"}))
	if r := lookup(t, hs2.URL, "db.users", `{"keys": [1]}`); r.status != 200 {
		t.Fatalf("listed table: %d %s", r.status, r.raw)
	}
	wantError(t, lookup(t, hs2.URL, "db.events", `{"keys": []}`), 404, codeUnknownTable, "db.events is not served")

	for _, id := range []catalog.Identifier{{Database: "db", Table: "nope"}, {Database: "db", Table: "log"}, {Database: "..", Table: "x"}} {
		if id.Table == "log" {
			w.create("db.log", "id INT, v STRING", nil, nil)
		}
		if _, err := New(context.Background(), w.cat, WithTables(id)); err == nil {
			t.Fatalf("New with %s succeeded", id)
		}
	}
}

// A panic while a request is handled, or while a table opens (on a
// goroutine of its own), is a logged 500, and the server keeps serving.
// Here the logger panics, once: when the table opens, or when a request
// logs that its table failed to open.
func TestPanicRecovered(t *testing.T) {
	for _, msg := range []string{"serving table", "opening a table failed"} {
		t.Run(msg, func(t *testing.T) {
			w := newWarehouse(t)
			users(w)
			logs := &syncBuffer{}
			h := &panicOnce{Handler: slog.NewTextHandler(logs, nil), msg: msg}
			h.armed.Store(true)
			_, hs, _ := w.start(WithLogger(slog.New(h)))
			w.fs.fail.Store(msg == "opening a table failed")
			wantError(t, lookup(t, hs.URL, "db.users", `{"keys": [1]}`), 500, codeInternal, "server log")
			want := map[string]string{"serving table": "panic opening db.users: boom", "opening a table failed": "panic serving a request"}[msg]
			if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "boom") {
				t.Fatalf("logs: %s", logs)
			}
			w.fs.fail.Store(false)
			if r := lookup(t, hs.URL, "db.users", `{"keys": [1]}`); r.status != 200 {
				t.Fatalf("after the panic: %d %s", r.status, r.raw)
			}
		})
	}
}

// panicOnce is a log handler that panics at the first record with message
// msg, as a faulty handler would.
type panicOnce struct {
	slog.Handler
	msg   string
	armed atomic.Bool
}

func (h *panicOnce) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg && h.armed.CompareAndSwap(true, false) {
		panic("boom")
	}
	return h.Handler.Handle(ctx, r)
}

func TestOptionsValidated(t *testing.T) {
	w := newWarehouse(t)
	for i, o := range []Option{WithMaxKeys(0), WithMaxBody(0), WithRefreshInterval(-1), WithMaxHeaderBytes(0), WithShutdownTimeout(-1), WithMaxConns(0)} {
		if _, err := New(context.Background(), w.cat, o); err == nil {
			t.Errorf("option %d accepted", i)
		}
	}
}

// Many clients at once, while the table changes under them: every answer
// is one snapshot's (run with -race).
func TestConcurrentLookups(t *testing.T) {
	w := newWarehouse(t)
	tb := w.create("db.c", "id INT NOT NULL, v INT", nil, []string{"id"}, "bucket", "2")
	w.commit(tb, spec.RowKindInsert, spec.Row{int32(1), int32(1)}, spec.Row{int32(2), int32(1)})
	_, hs, _ := w.start(WithRefreshInterval(5 * time.Millisecond))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 20 {
				r := lookup(t, hs.URL, "db.c", `{"keys": [1, 2]}`)
				// Both keys are written in every commit: one snapshot means
				// equal values.
				if r.status != 200 || len(r.Rows) != 2 || string(r.Rows[0])[len(`{"id":1`):] != string(r.Rows[1])[len(`{"id":2`):] {
					t.Errorf("client %d: %d %s", g, r.status, r.raw)
					return
				}
			}
		})
	}
	for v := int32(2); v <= 6; v++ {
		w.commit(tb, spec.RowKindInsert, spec.Row{int32(1), v}, spec.Row{int32(2), v})
	}
	wg.Wait()
	eventually(t, "the last commit", func() bool {
		r := lookup(t, hs.URL, "db.c", `{"keys": [2]}`)
		return r.status == 200 && string(r.Rows[0]) == `{"id":2,"v":6}`
	})
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }
