package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The bearer token, right or wrong, never appears in the server's logs
// (at debug level) or its answers, whatever a request gets wrong around
// its Authorization header: a malformed request line or header (fasthttp
// quotes the bytes it could not parse), too large headers, a bad body, a
// slow request, an unknown table, a panic.
func TestSecretsNeverLogged(t *testing.T) {
	const token = "TOKEN-5ecret-0f-the-server"
	const wrong = "WRONG-5ecret-0f-a-client"
	w := newWarehouse(t)
	users(w)
	_, hs, logs := w.start(WithToken(token), WithMaxHeaderBytes(2048), WithMaxBody(256),
		WithTimeouts(300*time.Millisecond, 0, 0))
	addr := strings.TrimPrefix(hs.URL, "http://")
	var answers []string
	for _, secret := range []string{token, wrong} {
		auth := "Authorization: Bearer " + secret + "\r\n"
		body := `{"keys": [1]}`
		lookup := "POST /v1/tables/db.users/lookup HTTP/1.1\r\nHost: x\r\n"
		for name, req := range map[string]string{
			"ok or unauthorized": lookup + auth + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body),
			"bad request line":   "POST /v1/tables/db.users/lookup HTTP/1.1 extra\r\n" + auth + "\r\n",
			"no method":          " /x HTTP/1.1\r\n" + auth + "\r\n",
			"no version":         "GET /x\r\n" + auth + "\r\n",
			"no header colon":    lookup + "Authorization Bearer " + secret + "\r\n\r\n",
			"bad header line":    lookup + auth + "no colon here\r\n\r\n",
			"header first":       lookup + auth + "X:" + strings.Repeat("y", 100) + "\r\n\x00\r\n\r\n",
			"bad content length": lookup + auth + "Content-Length: x1\r\n\r\n",
			"two lengths":        lookup + auth + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
			"bad chunk":          lookup + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
			"huge chunk":         lookup + auth + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
			"headers too large":  lookup + auth + "X-Big: " + strings.Repeat("b", 4096) + "\r\n\r\n",
			"after big header":   lookup + "X-Big: " + strings.Repeat("b", 1900) + "\r\n" + auth + "\r\n",
			"body too large":     lookup + auth + "Content-Length: 100000\r\n\r\n",
			"bad body":           lookup + auth + "Content-Length: 5\r\n\r\n{\"k\":",
			"bad key":            lookup + auth + "Content-Length: 14\r\n\r\n{\"keys\": [[]]}",
			"unknown table":      "POST /v1/tables/db.nope/lookup HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 13\r\n\r\n" + body,
			"bad table":          "POST /v1/tables/..%2fx/lookup HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 13\r\n\r\n" + body,
			"slow":               lookup + auth + "Content-Length: 100\r\n\r\n{",
			"not http":           "\x16\x03\x01\x02\x00" + auth + "\r\n\r\n",
			"http/2 preface":     "PRI * HTTP/2.0\r\n" + auth + "\r\nSM\r\n\r\n",
			"metrics":            "GET /metrics HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
			"token in the path":  "GET /" + secret + " HTTP/1.1\r\nHost: x\r\n\r\n",
		} {
			a := rawRoundTrip(addr, req)
			answers = append(answers, name+": "+a.body)
			if name == "token in the path" {
				continue // the client's own path comes back in the 404; it is not logged
			}
			if strings.Contains(a.body, secret) {
				t.Errorf("%s: the answer holds the token: %d %s", name, a.status, a.body)
			}
		}
	}
	time.Sleep(100 * time.Millisecond) // fasthttp logs a connection's error after answering
	for _, secret := range []string{token, wrong} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold a token:\n%s", logs)
		}
	}
	if !strings.Contains(strings.Join(answers, "\n"), `"code":"bad_request"`) {
		t.Errorf("no request was malformed enough:\n%s", strings.Join(answers, "\n"))
	}
}
