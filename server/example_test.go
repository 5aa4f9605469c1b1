package server_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/server"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// check stops an example at its first error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Serve lookups over HTTP, as strata serve does, and call the lookup
// endpoint: the answers and errors below are what a client gets.
func Example() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c := catalog.New(storage.NewMemory())
	fields, err := spec.ParseColumns("user_id BIGINT NOT NULL, country STRING, score INT")
	check(err)
	schema, err := spec.NewSchema(fields, nil, []string{"user_id"}, spec.NewStringMap("bucket", "2"), nil)
	check(err)
	id := catalog.Identifier{Database: "risk", Table: "users"}
	t, err := c.CreateTable(ctx, id, schema)
	check(err)
	w, err := t.NewWrite(ctx)
	check(err)
	check(w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(1), "DE", int32(710)}))
	check(w.WriteRow(ctx, spec.RowKindInsert, spec.Row{int64(2), "FR", nil}))
	msgs, err := w.PrepareCommit(ctx)
	check(err)
	_, err = t.NewCommit("example").Commit(ctx, table.BatchCommitIdentifier, msgs)
	check(err)
	w.Close()

	srv, err := server.New(ctx, c, server.WithTables(id), server.WithToken("s3cret"))
	check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	call := func(method, path, token, body string) {
		req, err := http.NewRequest(method, "http://"+ln.Addr().String()+path, strings.NewReader(body))
		check(err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		check(err)
		fmt.Print(resp.StatusCode, " ", string(b))
	}
	call("POST", "/v1/tables/risk.users/lookup", "s3cret", `{"keys": [1, {"user_id": 2}, 3]}`)
	call("POST", "/v1/tables/risk.users/lookup", "s3cret", `{"keys": ["one"]}`)
	call("POST", "/v1/tables/risk.orders/lookup", "s3cret", `{"keys": [1]}`)
	call("POST", "/v1/tables/risk.users/lookup", "", `{"keys": [1]}`)
	call("GET", "/healthz", "", "")

	stop()
	check(<-served)
	// Output:
	// 200 {"snapshot":1,"rows":[{"user_id":1,"country":"DE","score":710},{"user_id":2,"country":"FR","score":null},null]}
	// 400 {"error":{"code":"bad_key","message":"key 1, column \"user_id\": invalid BIGINT \"one\""}}
	// 404 {"error":{"code":"unknown_table","message":"unknown table: risk.orders is not served"}}
	// 401 {"error":{"code":"unauthorized","message":"missing or wrong bearer token"}}
	// 200 {"status":"ok"}
}
