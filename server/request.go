package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// This file reads a lookup request's body, {"keys": [...]}, without
// encoding/json's reflection and per-key copies: one pass validates the
// JSON (RFC 8259) and records where each key is, and the table's
// KeyParser then decodes each key from the body in place.

// span is where one key's JSON is in the body.
type span struct{ from, to int }

// maxDepth bounds the nesting of a key's JSON (keys nest as deep as their
// columns' types, a few levels), so that a hostile body cannot run the
// scanner deep.
const maxDepth = 64

// keysBody scans body as {"keys": [...]} and appends each key's place to
// spans, up to maxKeys of them; n is the number of keys, which may exceed
// maxKeys (the caller refuses the request then). The object must have
// "keys" (matched as encoding/json matches field names: exactly, or else
// ignoring ASCII case; the last one wins) and nothing else, and nothing may
// follow it.
func keysBody(body []byte, maxKeys int, spans []span) (_ []span, n int, _ *apiError) {
	sc := scanner{b: body}
	bad := func(format string, args ...any) ([]span, int, *apiError) {
		return nil, 0, newError(http.StatusBadRequest, codeBadRequest, `want {"keys": [...]}: `+format, args...)
	}
	sc.ws()
	if sc.i == len(sc.b) {
		return bad("the body is empty")
	}
	if sc.b[sc.i] != '{' {
		return bad("the body is %s, not an object", sc.what())
	}
	sc.i++
	found := false
	for first := true; ; first = false {
		sc.ws()
		if sc.eat('}') {
			break
		}
		if !first && !sc.eat(',') {
			return bad("%s", sc.syntax("',' or '}'"))
		}
		sc.ws()
		name, ok := sc.str()
		if !ok {
			return bad("%s", sc.syntax("a field name"))
		}
		if !isKeys(name) {
			return bad("unknown field %s", name)
		}
		if sc.ws(); !sc.eat(':') {
			return bad("%s", sc.syntax("':'"))
		}
		sc.ws()
		var aerr *apiError
		if spans, n, found, aerr = sc.keys(maxKeys, spans[:0]); aerr != nil {
			return nil, 0, aerr
		}
	}
	if sc.ws(); sc.i < len(sc.b) {
		return nil, 0, newError(http.StatusBadRequest, codeBadRequest, "unexpected data after the request object")
	}
	if !found {
		return bad(`"keys" is missing`)
	}
	return spans, n, nil
}

// isKeys reports whether a field name (a JSON string with its quotes) is
// "keys" as encoding/json would match it.
func isKeys(name []byte) bool {
	if bytes.IndexByte(name, '\\') < 0 {
		return bytes.EqualFold(name[1:len(name)-1], []byte("keys"))
	}
	var s string
	return json.Unmarshal(name, &s) == nil && bytes.EqualFold([]byte(s), []byte("keys"))
}

// keys scans the value of "keys": null (found is false, as for a missing
// field) or an array, whose elements' places it appends to spans.
func (sc *scanner) keys(maxKeys int, spans []span) (_ []span, n int, found bool, _ *apiError) {
	bad := func(format string, args ...any) ([]span, int, bool, *apiError) {
		return nil, 0, false, newError(http.StatusBadRequest, codeBadRequest, `want {"keys": [...]}: `+format, args...)
	}
	if sc.literal("null") {
		return spans, 0, false, nil
	}
	if !sc.eat('[') {
		return bad(`"keys" is %s, not an array`, sc.what())
	}
	for {
		sc.ws()
		if n == 0 && sc.eat(']') {
			return spans, 0, true, nil
		}
		from := sc.i
		if !sc.value(0) {
			return bad("key %d: %s", n+1, sc.syntax("a JSON value"))
		}
		if n++; n <= maxKeys {
			spans = append(spans, span{from, sc.i})
		}
		sc.ws()
		switch {
		case sc.eat(']'):
			return spans, n, true, nil
		case !sc.eat(','):
			return bad("%s", sc.syntax("',' or ']'"))
		}
	}
}

// scanner validates JSON in place.
type scanner struct {
	b []byte
	i int
}

func (sc *scanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) peek(c byte) bool { return sc.i < len(sc.b) && sc.b[sc.i] == c }

func (sc *scanner) eat(c byte) bool {
	if sc.peek(c) {
		sc.i++
		return true
	}
	return false
}

func (sc *scanner) literal(word string) bool {
	if bytes.HasPrefix(sc.b[sc.i:], []byte(word)) {
		sc.i += len(word)
		return true
	}
	return false
}

// what names the token at the scanner for messages.
func (sc *scanner) what() string {
	if sc.i >= len(sc.b) {
		return "the end of the body"
	}
	switch c := sc.b[sc.i]; {
	case c == '"':
		return "a string"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return fmt.Sprintf("%q", c)
	}
}

// syntax describes a syntax error at the scanner.
func (sc *scanner) syntax(want string) string {
	return fmt.Sprintf("invalid JSON at byte %d: want %s, got %s", sc.i+1, want, sc.what())
}

// value skips one JSON value; false (the scanner at the fault) if it is
// invalid or nests deeper than maxDepth.
func (sc *scanner) value(depth int) bool {
	if sc.i >= len(sc.b) || depth > maxDepth {
		return false
	}
	switch c := sc.b[sc.i]; {
	case c == '"':
		_, ok := sc.str()
		return ok
	case c == '{' || c == '[':
		return sc.composite(depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	default:
		return sc.literal("true") || sc.literal("false") || sc.literal("null")
	}
}

// composite skips an object or an array.
func (sc *scanner) composite(depth int) bool {
	closing, object := byte(']'), sc.b[sc.i] == '{'
	if object {
		closing = '}'
	}
	sc.i++
	sc.ws()
	if sc.eat(closing) {
		return true
	}
	for {
		if object {
			if _, ok := sc.str(); !ok {
				return false
			}
			if sc.ws(); !sc.eat(':') {
				return false
			}
			sc.ws()
		}
		if !sc.value(depth + 1) {
			return false
		}
		sc.ws()
		switch {
		case sc.eat(closing):
			return true
		case !sc.eat(','):
			return false
		}
		sc.ws()
	}
}

// str skips a string and returns it with its quotes. Its bytes are
// checked as JSON requires (no control characters, valid escapes); UTF-8
// is left to the key parser, as encoding/json leaves it to the reader.
func (sc *scanner) str() ([]byte, bool) {
	from := sc.i
	if !sc.eat('"') {
		return nil, false
	}
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; {
		case c == '"':
			sc.i++
			return sc.b[from:sc.i], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if !sc.escape() {
				return nil, false
			}
		default:
			sc.i++
		}
	}
	return nil, false
}

// escape skips a backslash escape.
func (sc *scanner) escape() bool {
	sc.i++ // '\\'
	if sc.i >= len(sc.b) {
		return false
	}
	switch sc.b[sc.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		sc.i++
		return true
	case 'u':
		if len(sc.b)-sc.i < 5 {
			return false
		}
		for _, h := range sc.b[sc.i+1 : sc.i+5] {
			if !isHex(h) {
				return false
			}
		}
		sc.i += 5
		return true
	}
	return false
}

func isHex(c byte) bool { return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// number skips -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (sc *scanner) number() bool {
	sc.eat('-')
	switch {
	case sc.eat('0'):
	case sc.digits() == 0:
		return false
	}
	if sc.eat('.') && sc.digits() == 0 {
		return false
	}
	if sc.eat('e') || sc.eat('E') {
		if !sc.eat('+') {
			sc.eat('-')
		}
		if sc.digits() == 0 {
			return false
		}
	}
	return true
}

func (sc *scanner) digits() int {
	from := sc.i
	for sc.i < len(sc.b) && sc.b[sc.i] >= '0' && sc.b[sc.i] <= '9' {
		sc.i++
	}
	return sc.i - from
}
