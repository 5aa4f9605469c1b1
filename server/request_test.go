package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// keysBody finds each key of {"keys": [...]} in place, in any valid JSON
// spelling, and refuses what encoding/json refused: malformed JSON, other
// fields, data after the object.
func TestKeysBody(t *testing.T) {
	for _, c := range []struct {
		body string
		keys []string
	}{
		{`{"keys":[1,"a",{"day":"2024-01-01","id":2}]}`, []string{`1`, `"a"`, `{"day":"2024-01-01","id":2}`}},
		{" \n{ \"keys\" :\t[ -1.5e3 , \"a\\\"]\\u00e9\" , [ ] , { } , true , null ] } \n", []string{`-1.5e3`, `"a\"]\u00e9"`, `[ ]`, `{ }`, `true`, `null`}},
		{`{"keys":[]}`, nil},
		{`{"Keys":[1]}`, []string{`1`}},                   // field names match as in encoding/json: any case
		{`{"k\u0065ys":[2]}`, []string{`2`}},              // and escaped
		{`{"keys":[1],"keys":[2,3]}`, []string{`2`, `3`}}, // the last wins
	} {
		spans, n, err := keysBody([]byte(c.body), 10, nil)
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		var got []string
		for _, sp := range spans {
			got = append(got, c.body[sp.from:sp.to])
		}
		if n != len(c.keys) || strings.Join(got, "|") != strings.Join(c.keys, "|") {
			t.Errorf("%s: %d keys %q, want %q", c.body, n, got, c.keys)
		}
	}
	deep := `{"keys":[` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `]}`
	for _, c := range []struct{ body, msg string }{
		{``, "the body is empty"},
		{`  `, "the body is empty"},
		{`[1]`, "the body is an array, not an object"},
		{`{}`, `"keys" is missing`},
		{`{"keys":null}`, `"keys" is missing`},
		{`{"keys":1}`, `"keys" is a number, not an array`},
		{`{"keys":[1,]}`, "key 2: invalid JSON at byte 12: want a JSON value"},
		{`{"keys":[1 2]}`, "want ',' or ']'"},
		{`{"keys":[01]}`, "want ',' or ']'"},
		{`{"keys":[1.]}`, "key 1: invalid JSON"},
		{`{"keys":["a\x"]}`, "key 1: invalid JSON"},
		{"{\"keys\":[\"a\tb\"]}", "key 1: invalid JSON"},
		{`{"keys":[tru]}`, "key 1: invalid JSON"},
		{`{"keys":[{"a" 1}]}`, "key 1: invalid JSON"},
		{`{"keys":[1]`, "want ',' or '}'"},
		{`{"keys":[1]} {"keys":[2]}`, "unexpected data after the request object"},
		{`{"keys":[1]}]`, "unexpected data after the request object"},
		{`{"keys":[1],"snapshot":2}`, `unknown field "snapshot"`},
		{`{keys:[1]}`, "want a field name"},
		{deep, "key 1: invalid JSON"},
	} {
		_, _, err := keysBody([]byte(c.body), 10, nil)
		if err == nil || err.status != http.StatusBadRequest || err.code != codeBadRequest || !strings.Contains(err.msg, c.msg) {
			t.Errorf("%q: got %v, want bad_request with %q", c.body, err, c.msg)
		}
	}
	// Keys past the limit are counted, not kept.
	spans, n, err := keysBody([]byte(`{"keys":[1,2,3,4,5]}`), 3, nil)
	if err != nil || n != 5 || len(spans) != 3 {
		t.Errorf("past the limit: %d spans, %d keys, %v", len(spans), n, err)
	}
}

// An answer is encoded without allocating once its buffer has grown.
func TestAnswerAllocations(t *testing.T) {
	fields, err := spec.ParseColumns("id BIGINT NOT NULL, name STRING, amount DOUBLE, day DATE, ok BOOLEAN")
	if err != nil {
		t.Fatal(err)
	}
	enc := textrow.NewJSONEncoder(nil, fields)
	rows := []spec.Row{{int64(1), "ann \"a\"", 12.5, spec.Date(19753), true}, nil, {int64(2), nil, nil, nil, false}}
	buf, err := appendAnswer(nil, enc, 7, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"snapshot":7,"rows":[{"id":1,"name":"ann \"a\"","amount":12.5,"day":"2024-01-31","ok":true},null,` +
		`{"id":2,"name":null,"amount":null,"day":null,"ok":false}]}` + "\n"
	if string(buf) != want {
		t.Fatalf("answer %s, want %s", buf, want)
	}
	if n := testing.AllocsPerRun(100, func() { buf, _ = appendAnswer(buf[:0], enc, 7, rows) }); n != 0 {
		t.Errorf("%v allocations per answer", n)
	}
}

// Lookups share deadline contexts within a window and get fresh ones
// after it; each ends about the timeout after the request.
func TestDeadlines(t *testing.T) {
	d := &deadlines{parent: context.Background(), timeout: time.Minute}
	now := time.Now()
	a, b := d.get(now), d.get(now.Add(deadlineGrain/2))
	c := d.get(now.Add(deadlineGrain))
	if a != b || a == c {
		t.Fatal("contexts not shared within a window, or shared past it")
	}
	for _, at := range []time.Time{now, now.Add(deadlineGrain)} {
		dl, ok := d.get(at).Deadline()
		if !ok || dl.Before(at.Add(time.Minute)) || dl.After(at.Add(time.Minute+deadlineGrain)) {
			t.Errorf("deadline %v for a request at %v", dl, at)
		}
	}
	parent, cancel := context.WithCancel(context.Background())
	d = &deadlines{parent: parent, timeout: time.Minute}
	ctx := d.get(time.Now())
	cancel()
	if ctx.Err() == nil {
		t.Error("a lookup outlives the server")
	}
}

// Requests the server cannot read get JSON errors too: too large headers,
// too slow a request.
func TestUnreadableRequests(t *testing.T) {
	w := newWarehouse(t)
	users(w)
	_, hs, _ := w.start(WithMaxHeaderBytes(1024), WithTimeouts(200*time.Millisecond, 0, 0))
	req, _ := http.NewRequest("GET", hs.URL+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 2000))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("large headers: %d %v", resp.StatusCode, resp.Header)
	}
	// Half a request, then nothing: the read timeout answers 408.
	c, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("POST /v1/tables/db.users/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"keys\"")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	n, _ := c.Read(b)
	if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 408") || !strings.Contains(string(b[:n]), `"code":"timeout"`) {
		t.Errorf("slow request: %q", b[:n])
	}
}
