package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/stratalake/strata/spec"
)

// BenchmarkHandleLookup is the server's work for one lookup request, from
// a parsed HTTP request to the answer's body, without the network: routing,
// metrics, the body's JSON, the keys, GetBatch on a warm table in memory
// and the rows' JSON (go test ./server -run '^$' -bench HandleLookup
// -benchmem).
func BenchmarkHandleLookup(b *testing.B) {
	t := &testing.T{}
	w := newWarehouse(t)
	tb := w.create("db.kv", "id BIGINT NOT NULL, name STRING, amount DOUBLE, note STRING", nil, []string{"id"}, "bucket", "4")
	rows := make([]spec.Row, 1000)
	for i := range rows {
		rows[i] = spec.Row{int64(i), fmt.Sprintf("name-%d", i), float64(i) * 1.25, strings.Repeat("n", 60)}
	}
	w.commit(tb, spec.RowKindInsert, rows...)
	s, err := New(context.Background(), w.cat)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{1, 100} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprint(i * 7 % 1000)
		}
		body := []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`)
		var rc fasthttp.RequestCtx
		rc.Request.Header.SetMethod("POST")
		rc.Request.SetRequestURI("/v1/tables/db.kv/lookup")
		rc.Request.SetBody(body)
		s.serveHTTP(&rc) // opens the table and warms its files
		if rc.Response.StatusCode() != 200 {
			b.Fatalf("%d %s", rc.Response.StatusCode(), rc.Response.Body())
		}
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rc.Response.Reset()
				s.serveHTTP(&rc)
			}
		})
	}
}
