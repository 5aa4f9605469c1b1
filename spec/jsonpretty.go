package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the two JSON halves shared by the schema, snapshot and type
// codecs: an order-preserving tree reader (Paimon's options order must
// survive a round trip, which map[string]any cannot give) and a writer that
// reproduces Jackson's output byte for byte, both its flat form and the
// DefaultPrettyPrinter layout Paimon uses for schema and snapshot files.

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack. A
// ROW type level takes three JSON levels (type object, fields array, field
// object), so this admits every type within maxTypeDepth inside a schema.
const maxJSONDepth = 3*maxTypeDepth + 16

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonNode is one value of a parsed JSON document. Objects keep their keys in
// document order; a repeated key keeps its first position and its last value,
// as Jackson's ObjectNode does.
type jsonNode struct {
	kind jsonKind
	b    bool
	s    string // string value, or the literal text of a number
	arr  []*jsonNode
	keys []string
	vals []*jsonNode
}

// parseJSONTree parses one JSON document. Anything but whitespace after the
// value is an error.
func parseJSONTree(data []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readJSONNode(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return nil, errors.New("unexpected data after the JSON value")
		}
		return nil, err
	}
	return n, nil
}

func readJSONNode(dec *json.Decoder, depth int) (*jsonNode, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch v := tok.(type) {
	case nil:
		return &jsonNode{kind: jsonNull}, nil
	case bool:
		return &jsonNode{kind: jsonBool, b: v}, nil
	case json.Number:
		return &jsonNode{kind: jsonNumber, s: string(v)}, nil
	case string:
		return &jsonNode{kind: jsonString, s: v}, nil
	case json.Delim:
		switch v {
		case '[':
			n := &jsonNode{kind: jsonArray}
			for dec.More() {
				e, err := readJSONNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, e)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		case '{':
			n := &jsonNode{kind: jsonObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T, not a string", kt)
				}
				val, err := readJSONNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if i := n.index(k); i >= 0 {
					n.vals[i] = val
				} else {
					n.keys = append(n.keys, k)
					n.vals = append(n.vals, val)
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

func (n *jsonNode) index(key string) int {
	for i, k := range n.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// get returns the member key of an object, or nil when n is not an object or
// has no such member.
func (n *jsonNode) get(key string) *jsonNode {
	if n == nil || n.kind != jsonObject {
		return nil
	}
	if i := n.index(key); i >= 0 {
		return n.vals[i]
	}
	return nil
}

// isNull reports whether n is absent or an explicit JSON null.
func (n *jsonNode) isNull() bool { return n == nil || n.kind == jsonNull }

// kindName names n's kind for error messages.
func (n *jsonNode) kindName() string {
	if n == nil {
		return "nothing"
	}
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[n.kind]
}

// asText mirrors Jackson's JsonNode.asText: scalars become their text
// (null becomes "null"), containers become "".
func (n *jsonNode) asText() string {
	switch n.kind {
	case jsonNull:
		return "null"
	case jsonBool:
		return strconv.FormatBool(n.b)
	case jsonNumber, jsonString:
		return n.s
	}
	return ""
}

// asInt64 reads an integer the way Jackson coerces one into a Java long: a
// number (a fraction is truncated) or a numeric string; null reads as 0. Other
// kinds and out-of-range values are errors rather than Jackson's silent 0,
// since they mean the file is damaged.
func (n *jsonNode) asInt64(bits int) (int64, error) {
	if n.isNull() {
		return 0, nil
	}
	var text string
	switch n.kind {
	case jsonNumber:
		text = n.s
	case jsonString:
		text = strings.TrimSpace(n.s)
	default:
		return 0, fmt.Errorf("want an integer, found %s", n.kindName())
	}
	if v, err := strconv.ParseInt(text, 10, bits); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want an integer, found %q", text)
	}
	f = math.Trunc(f)
	lim := math.Ldexp(1, bits-1)
	if f < -lim || f >= lim {
		return 0, fmt.Errorf("integer %s out of range", text)
	}
	return int64(f), nil
}

// jsonWriter emits JSON the way Jackson does. In pretty mode it follows
// DefaultPrettyPrinter: objects put each member on its own line indented by two
// spaces per object level with " : " after the name, arrays stay on one line as
// "[ a, b ]" (and do not add an indent level), and empty containers are "{ }"
// and "[ ]". Flat mode has no whitespace at all, like ObjectMapper.writer().
type jsonWriter struct {
	buf    []byte
	pretty bool
	stack  []jsonLevel
}

type jsonLevel struct {
	array bool
	count int
}

// objectDepth counts open objects; arrays do not indent in Jackson's printer.
func (w *jsonWriter) objectDepth() int {
	d := 0
	for _, l := range w.stack {
		if !l.array {
			d++
		}
	}
	return d
}

func (w *jsonWriter) newline() {
	w.buf = append(w.buf, '\n')
	for i := w.objectDepth(); i > 0; i-- {
		w.buf = append(w.buf, ' ', ' ')
	}
}

// beforeValue writes the separator an array element needs; object members
// get theirs from name.
func (w *jsonWriter) beforeValue() {
	if len(w.stack) == 0 {
		return
	}
	top := &w.stack[len(w.stack)-1]
	if !top.array {
		return
	}
	if top.count > 0 {
		w.buf = append(w.buf, ',')
	}
	if w.pretty {
		w.buf = append(w.buf, ' ')
	}
	top.count++
}

func (w *jsonWriter) beginObject() {
	w.beforeValue()
	w.buf = append(w.buf, '{')
	w.stack = append(w.stack, jsonLevel{})
}

func (w *jsonWriter) endObject() {
	top := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if w.pretty {
		if top.count > 0 {
			w.newline()
		} else {
			w.buf = append(w.buf, ' ')
		}
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) beginArray() {
	w.beforeValue()
	w.buf = append(w.buf, '[')
	w.stack = append(w.stack, jsonLevel{array: true})
}

func (w *jsonWriter) endArray() {
	w.stack = w.stack[:len(w.stack)-1]
	if w.pretty { // "[ a, b ]" and "[ ]" alike
		w.buf = append(w.buf, ' ')
	}
	w.buf = append(w.buf, ']')
}

// name starts an object member.
func (w *jsonWriter) name(k string) {
	top := &w.stack[len(w.stack)-1]
	if top.count > 0 {
		w.buf = append(w.buf, ',')
	}
	top.count++
	if w.pretty {
		w.newline()
	}
	w.buf = appendJacksonString(w.buf, k)
	if w.pretty {
		w.buf = append(w.buf, " : "...)
	} else {
		w.buf = append(w.buf, ':')
	}
}

func (w *jsonWriter) str(s string) {
	w.beforeValue()
	w.buf = appendJacksonString(w.buf, s)
}

func (w *jsonWriter) int(v int64) {
	w.beforeValue()
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

func (w *jsonWriter) null() {
	w.beforeValue()
	w.buf = append(w.buf, "null"...)
}

func (w *jsonWriter) strField(k, v string) { w.name(k); w.str(v) }
func (w *jsonWriter) intField(k string, v int64) {
	w.name(k)
	w.int(v)
}

const jacksonHexDigits = "0123456789ABCDEF"

// appendJacksonString quotes s as Jackson's default generator does: only '"',
// '\\' and control characters below 0x20 are escaped (\b \t \n \f \r, the rest
// as \u00XX with upper-case hex); '<', '>', '&', DEL and non-ASCII pass through.
// Invalid UTF-8 becomes U+FFFD, as it would in a Java string.
func appendJacksonString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', jacksonHexDigits[c>>4], jacksonHexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
