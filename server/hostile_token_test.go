package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// comparisons records the inputs of the server's token comparisons.
type comparisons struct {
	mu   sync.Mutex
	lens [][2]int
}

func (c *comparisons) option() Option {
	return func(cfg *config) {
		cfg.compare = func(x, y []byte) int {
			c.mu.Lock()
			c.lens = append(c.lens, [2]int{len(x), len(y)})
			c.mu.Unlock()
			return subtle.ConstantTimeCompare(x, y)
		}
	}
}

func (c *comparisons) take() [][2]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lens
	c.lens = nil
	return l
}

// wrongTokens are Authorization headers that must be refused for token:
// every length from 0 to twice the token's and far longer, its prefixes,
// the token with a byte changed at each place or a byte added, another
// case, other schemes, its digest.
func wrongTokens(token string) []string {
	var out []string
	for n := 0; n <= 2*len(token)+1; n++ {
		out = append(out, "Bearer "+strings.Repeat("x", n))
		if n < len(token) {
			out = append(out, "Bearer "+token[:n])
		}
	}
	for i := range token {
		b := []byte(token)
		b[i] ^= 1
		out = append(out, "Bearer "+string(b), "Bearer "+token[:i]+token[i+1:], "Bearer "+token[:i]+"x"+token[i:])
	}
	sum := sha256.Sum256([]byte(token))
	out = append(out,
		"Bearer "+token+"x", "Bearer x"+token, "Bearer "+strings.ToUpper(token), "Bearer "+token+"\x00",
		"Bearer "+token+token, "Bearer "+strings.Repeat(token, 500), "Bearer "+string(sum[:]), fmt.Sprintf("Bearer %x", sum),
		"", "Bearer", "Bearer ", token, "Basic "+token, "Token "+token, "Bearer\t"+token, "Bearer:"+token,
		"Bearer"+token, " Bearer "+token, "Bearerx "+token,
	)
	return out
}

// A wrong token of any length is refused, and every check compares two
// digests of the same length, so that neither the token nor its length
// shows in the time a check takes (subtle.ConstantTimeCompare returns at
// once on inputs of different lengths).
func TestTokenComparedInConstantTime(t *testing.T) {
	for _, token := range []string{"t", "s3cret", strings.Repeat("long-token-", 30)} {
		var cmp comparisons
		w := newWarehouse(t)
		s, err := New(context.Background(), w.cat, WithToken(token), cmp.option())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range wrongTokens(token) {
			if s.authorized([]byte(h)) {
				t.Errorf("token %q: %q accepted", token, h)
			}
		}
		for _, h := range []string{"Bearer " + token, "bearer " + token, "BEARER " + token, "Bearer  " + token + " "} {
			if !s.authorized([]byte(h)) {
				t.Errorf("token %q: %q refused", token, h)
			}
		}
		lens := cmp.take()
		if want := len(wrongTokens(token)) + 4; len(lens) != want {
			t.Errorf("token %q: %d comparisons for %d checks", token, len(lens), want)
		}
		for _, l := range lens {
			if l != [2]int{sha256.Size, sha256.Size} {
				t.Fatalf("token %q: compared %d bytes with %d: the lengths show", token, l[0], l[1])
			}
		}
		s.Close()
	}
}

// Over HTTP too: wrong tokens are 401 on every endpoint behind the token,
// with the same answer whatever was wrong.
func TestWrongTokensOverHTTP(t *testing.T) {
	const token = "the-token-0123456789"
	w := newWarehouse(t)
	users(w)
	_, hs, _ := w.start(WithToken(token))
	addr := strings.TrimPrefix(hs.URL, "http://")
	var first string
	for _, h := range wrongTokens(token) {
		if strings.ContainsAny(h, "\x00\t") || bytes.ContainsAny([]byte(h), "\x80\xff") || strings.HasPrefix(h, " ") {
			continue // not a valid header value (the parser refuses it), or the right one once HTTP trims it
		}
		for _, target := range []string{"POST /v1/tables/db.users/lookup", "GET /metrics", "POST /v1/tables/db.nope/lookup"} {
			req := target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n"
			if h != "" {
				req += "Authorization: " + h + "\r\n"
			}
			a := rawRoundTrip(addr, req+"\r\n"+`{"keys": [1]}`)
			if a.status != 401 || errorCode(a.body) != codeUnauthorized {
				t.Fatalf("%s with %q: %d %s %v", target, h, a.status, a.body, a.err)
			}
			if first == "" {
				first = a.body
			} else if a.body != first {
				t.Fatalf("%s with %q: the answer %q differs from %q", target, h, a.body, first)
			}
		}
	}
	if r := do(t, "POST", hs.URL+"/v1/tables/db.users/lookup", token, strings.NewReader(`{"keys": [1]}`)); r.status != 200 {
		t.Fatalf("the token: %d %s", r.status, r.raw)
	}
}

// BenchmarkAuthorized times a token check by what the header holds: the
// times should not depend on how close a wrong token is to the right one
// (go test ./server -run '^$' -bench Authorized).
func BenchmarkAuthorized(b *testing.B) {
	token := strings.Repeat("0123456789abcdef", 2)
	w := newWarehouse(&testing.T{})
	s, err := New(context.Background(), w.cat, WithToken(token))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for name, h := range map[string]string{
		"right": token, "wrong-first-byte": "x" + token[1:], "wrong-last-byte": token[:31] + "x",
		"empty": "", "one-byte": "x", "prefix": token[:16], "longer": token + "x",
	} {
		header := []byte("Bearer " + h)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.authorized(header)
			}
		})
	}
}
