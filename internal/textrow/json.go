package textrow

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stratalake/strata/spec"
)

// jsonParser reads JSON values straight into spec values, guided by the
// type. It replaces encoding/json on the write path, which costs several
// microseconds a row in reflection and maps; numbers are kept as their text
// and converted exactly, as json.Number would allow. Nesting is bounded by
// the schema, never by the input. The grammar is RFC 8259's, and strings are
// unescaped as encoding/json does, except that invalid UTF-8 is an error
// rather than U+FFFD (a lone surrogate escape such as \ud800 still becomes
// U+FFFD, as the escape itself is valid JSON).
type jsonParser struct {
	b   []byte
	i   int
	buf []byte // unescaped string scratch, reused
}

func (p *jsonParser) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// what describes the token at p.i for error messages.
func (p *jsonParser) what() string {
	if p.i >= len(p.b) {
		return "end of input"
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return "string"
	case c == '-' || isDigit(c):
		return "number"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c < 0x20 || c >= 0x7f:
		return "byte " + quoteFor([]byte{c})
	default:
		return "character '" + string(c) + "'"
	}
}

// expect consumes c after optional whitespace.
func (p *jsonParser) expect(c byte) error {
	p.skipWS()
	if p.i >= len(p.b) || p.b[p.i] != c {
		return errorf("want '%c', got %s", c, p.what())
	}
	p.i++
	return nil
}

// literal consumes word (true, false, null) if it is next.
func (p *jsonParser) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

// rowKind reads the value of _kind: a string, or null for the default.
func (p *jsonParser) rowKind() (spec.RowKind, error) {
	p.skipWS()
	if p.literal("null") {
		return spec.RowKindInsert, nil
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return 0, errorf("want a string (+I, -U, +U or -D), got %s", p.what())
	}
	s, err := p.str()
	if err != nil {
		return 0, err
	}
	return parseKind(s)
}

// str reads the string at p.i (which is '"'). The result aliases the input
// or the scratch buffer: it is valid until the next call.
func (p *jsonParser) str() ([]byte, error) {
	s, _, err := p.strScratch()
	return s, err
}

// strScratch is str, also reporting whether the result is in the scratch
// buffer (the string had escapes or non-ASCII bytes) rather than the input.
func (p *jsonParser) strScratch() ([]byte, bool, error) {
	start := p.i + 1
	i := plainPrefix(p.b, start)
	if i < len(p.b) && p.b[i] == '"' {
		p.i = i + 1
		return p.b[start:i], false, nil
	}
	buf := append(p.buf[:0], p.b[start:i]...)
	for {
		if i >= len(p.b) {
			return nil, false, errorf("unterminated string")
		}
		c := p.b[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = buf
			return buf, true, nil
		case c == '\\':
			if i+1 >= len(p.b) {
				return nil, false, errorf("unterminated string")
			}
			switch e := p.b[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(p.b, i+2)
				if !ok {
					return nil, false, errorf("invalid \\u escape in string")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A high surrogate pairs with an immediately following
					// \u low surrogate; anything else is U+FFFD.
					if i+1 < len(p.b) && p.b[i] == '\\' && p.b[i+1] == 'u' {
						if r2, ok := hex4(p.b, i+2); ok {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								buf = utf8.AppendRune(buf, d)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return nil, false, errorf("invalid escape '\\%c' in string", e)
			}
			i += 2
		case c < 0x20:
			return nil, false, errorf("control character %#02x in string", c)
		case c < utf8.RuneSelf:
			j := plainPrefix(p.b, i+1)
			buf = append(buf, p.b[i:j]...)
			i = j
		default:
			r, size := utf8.DecodeRune(p.b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, errorf("invalid UTF-8 in string (byte %#02x)", p.b[i])
			}
			buf = append(buf, p.b[i:i+size]...)
			i += size
		}
	}
}

// plainPrefix returns the index of the first byte at or after i in b that
// ends a run of plain string bytes: '"', '\\', a control character or a
// non-ASCII byte; len(b) if there is none. It looks at eight bytes at a
// time (the bit tricks of "Bit Twiddling Hacks": a byte below n, a zero
// byte after xor); the lowest flagged byte is always a true one.
func plainPrefix(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^(ones*'"'), x^(ones*'\\')
		m := (x-ones*0x20)&^x | (q-ones)&^q | (bs-ones)&^bs | x
		m &= highs
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return i
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// num reads a number at p.i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) num() ([]byte, error) {
	b, start, i := p.b, p.i, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return nil, errorf("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return nil, errorf("invalid number")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return nil, errorf("invalid number")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	p.i = i
	return b[start:i], nil
}

// value reads one value of type t.
func (p *jsonParser) value(t *spec.DataType) (any, error) {
	p.skipWS()
	if p.i >= len(p.b) {
		return nil, errorf("unexpected end of input")
	}
	c := p.b[p.i]
	if c == 'n' {
		if !p.literal("null") {
			return nil, errorf("invalid literal")
		}
		if !t.Nullable {
			return nil, errorf("null is not allowed (%s)", t)
		}
		return nil, nil
	}
	if c == '"' {
		switch t.Root {
		case spec.TypeChar, spec.TypeVarChar:
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			return checkString(string(s), t)
		default:
			// Every other type takes its text form in a string.
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			return parseText(s, t)
		}
	}
	switch t.Root {
	case spec.TypeBoolean:
		if p.literal("true") {
			return true, nil
		}
		if p.literal("false") {
			return false, nil
		}
		if c == 't' || c == 'f' {
			return nil, errorf("invalid literal")
		}
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
		spec.TypeFloat, spec.TypeDouble, spec.TypeDecimal:
		if c != '-' && !isDigit(c) {
			break
		}
		n, err := p.num()
		if err != nil {
			return nil, err
		}
		switch t.Root {
		case spec.TypeFloat, spec.TypeDouble:
			return parseFloat(n, t)
		case spec.TypeDecimal:
			return parseDecimal(n, t)
		}
		return parseInteger(n, t)
	case spec.TypeArray, spec.TypeVector:
		if c == '[' {
			return p.array(t)
		}
	case spec.TypeMap:
		if c == '{' {
			return p.mapObject(t)
		}
	case spec.TypeMultiset:
		if c == '{' {
			return p.mapObject(t)
		}
		if c == '[' {
			return p.multisetArray(t)
		}
	case spec.TypeRow:
		if c == '{' {
			return p.row(t)
		}
	}
	return nil, errorf("want %s, got %s", typeName(t), p.what())
}

func (p *jsonParser) array(t *spec.DataType) (any, error) {
	p.i++ // '['
	if t.Elem == nil {
		return nil, errorf("%s has no element type", typeName(t))
	}
	out := []any{}
	p.skipWS()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
	} else {
		for {
			v, err := p.value(t.Elem)
			if err != nil {
				return nil, inField(err, indexStep(len(out)))
			}
			out = append(out, v)
			if done, err := p.next(']'); err != nil {
				return nil, err
			} else if done {
				break
			}
		}
	}
	if t.Root == spec.TypeVector && len(out) != t.Length {
		return nil, errorf("%s needs %d elements, got %d", typeName(t), t.Length, len(out))
	}
	return out, nil
}

// next consumes the ',' between elements or the closing bracket, reporting
// whether it was the latter.
func (p *jsonParser) next(closing byte) (bool, error) {
	p.skipWS()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return false, nil
		case closing:
			p.i++
			return true, nil
		}
	}
	return false, errorf("want ',' or '%c', got %s", closing, p.what())
}

// key reads an object key and its colon. The result is valid until the next
// string is read.
func (p *jsonParser) key() ([]byte, error) {
	p.skipWS()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errorf("want a quoted key, got %s", p.what())
	}
	k, err := p.str()
	if err != nil {
		return nil, err
	}
	return k, p.expect(':')
}

// empty consumes the closing bracket of an empty object or array.
func (p *jsonParser) empty(closing byte) bool {
	p.skipWS()
	if p.i < len(p.b) && p.b[p.i] == closing {
		p.i++
		return true
	}
	return false
}

// multisetCount is the type of MULTISET counts.
var multisetCount = spec.IntType.NotNull()

// mapObject reads a MAP, or a MULTISET in its object form.
func (p *jsonParser) mapObject(t *spec.DataType) (any, error) {
	p.i++ // '{'
	kt, vt := t.Key, t.Value
	if t.Root == spec.TypeMultiset {
		kt, vt = t.Elem, &multisetCount
	}
	if kt == nil || vt == nil {
		return nil, errorf("%s has no key or value type", typeName(t))
	}
	m := spec.Map{Keys: []any{}, Values: []any{}}
	if p.empty('}') {
		return m, nil
	}
	var seen map[string]struct{}
	for {
		ks, err := p.key()
		if err != nil {
			return nil, err
		}
		k, err := parseKey(ks, kt)
		if err != nil {
			return nil, inField(err, keyStep(ks))
		}
		canon := string(ks)
		if kt.Root != spec.TypeChar && kt.Root != spec.TypeVarChar {
			canon = string(appendKeyText(nil, k, kt))
		}
		if len(m.Keys) > 0 {
			if seen == nil {
				seen = make(map[string]struct{})
				seen[string(appendKeyText(nil, m.Keys[0], kt))] = struct{}{}
			}
			if _, dup := seen[canon]; dup {
				return nil, inField(errorf("duplicate key"), keyStep([]byte(canon)))
			}
			seen[canon] = struct{}{}
		}
		v, err := p.value(vt)
		if err != nil {
			return nil, inField(err, keyStep([]byte(canon)))
		}
		if t.Root == spec.TypeMultiset && v.(int32) < 0 {
			return nil, inField(errorf("negative MULTISET count %d", v), keyStep([]byte(canon)))
		}
		m.Keys = append(m.Keys, k)
		m.Values = append(m.Values, v)
		if done, err := p.next('}'); err != nil {
			return nil, err
		} else if done {
			return m, nil
		}
	}
}

// parseKey parses a map key from its text form. A nullable non-string key
// type reads "null" as null, which is how null keys are written.
func parseKey(s []byte, kt *spec.DataType) (any, error) {
	if kt.Nullable && string(s) == "null" && kt.Root != spec.TypeChar && kt.Root != spec.TypeVarChar {
		return nil, nil
	}
	return parseText(s, kt)
}

// multisetArray reads a MULTISET given as a list of its elements.
func (p *jsonParser) multisetArray(t *spec.DataType) (any, error) {
	p.i++ // '['
	if t.Elem == nil {
		return nil, errorf("%s has no element type", typeName(t))
	}
	m := spec.Map{Keys: []any{}, Values: []any{}}
	if p.empty(']') {
		return m, nil
	}
	index := map[string]int{}
	for n := 0; ; n++ {
		v, err := p.value(t.Elem)
		if err != nil {
			return nil, inField(err, indexStep(n))
		}
		canon := "\x00null" // cannot collide with a text form
		if v != nil {
			canon = string(appendKeyText(nil, v, t.Elem))
		}
		if j, ok := index[canon]; ok {
			m.Values[j] = m.Values[j].(int32) + 1
		} else {
			index[canon] = len(m.Keys)
			m.Keys = append(m.Keys, v)
			m.Values = append(m.Values, int32(1))
		}
		if done, err := p.next(']'); err != nil {
			return nil, err
		} else if done {
			return m, nil
		}
	}
}

func (p *jsonParser) row(t *spec.DataType) (any, error) {
	p.i++ // '{'
	out := make(spec.Row, len(t.Fields))
	seen := make([]bool, len(t.Fields))
	if !p.empty('}') {
		for {
			k, err := p.key()
			if err != nil {
				return nil, err
			}
			j := -1
			for f := range t.Fields {
				if t.Fields[f].Name == string(k) {
					j = f
					break
				}
			}
			if j < 0 {
				return nil, inField(errorf("unknown field"), "."+string(k))
			}
			if seen[j] {
				return nil, inField(errorf("duplicate field"), "."+string(k))
			}
			seen[j] = true
			if out[j], err = p.value(&t.Fields[j].Type); err != nil {
				return nil, inField(err, "."+t.Fields[j].Name)
			}
			if done, err := p.next('}'); err != nil {
				return nil, err
			} else if done {
				break
			}
		}
	}
	for j, f := range t.Fields {
		if !seen[j] && !f.Type.Nullable {
			return nil, inField(errorf("missing value for NOT NULL field"), "."+f.Name)
		}
	}
	return out, nil
}

func indexStep(i int) string { return "[" + string(appendUint(nil, uint64(i))) + "]" }

func keyStep(k []byte) string { return "[" + quoteFor(k) + "]" }
