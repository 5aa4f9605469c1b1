package textrow

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/stratalake/strata/spec"
)

// This file decodes primary keys for point lookups. A key is JSON: a JSON
// object naming every primary-key column ({"id": 42}, {"a": 1, "b": "x"}),
// or, when the key has one column, that column's plain JSON value (42,
// "abc"). Values take the same forms as rows in JSON Lines input.

// KeyError locates a problem in a key. It wraps ErrBadInput.
type KeyError struct {
	// Key is the 1-based position of the key among those given (argument,
	// key of the input, element of a request's keys).
	Key int
	// Line is the input line the key is on; 0 when keys do not come from
	// lines.
	Line int
	// Column is the key column the problem is in (with a path into nested
	// values); empty when the problem is the key itself.
	Column string
	// Msg describes the problem.
	Msg string
}

// Error returns e.g. `textrow: bad input: key 2, column "id": invalid INT "x"`.
func (e *KeyError) Error() string {
	s := ErrBadInput.Error() + ": key " + strconv.Itoa(e.Key)
	if e.Line > 0 {
		s += " (line " + strconv.Itoa(e.Line) + ")"
	}
	if e.Column != "" {
		s += ", column " + strconv.Quote(e.Column)
	}
	return s + ": " + e.Msg
}

// Unwrap returns ErrBadInput.
func (e *KeyError) Unwrap() error { return ErrBadInput }

// keyError turns err into a *KeyError for column col of key pos.
func keyError(pos int, col string, err error) *KeyError {
	if ve, ok := err.(*valueError); ok {
		return &KeyError{Key: pos, Column: col + ve.path, Msg: ve.msg}
	}
	return &KeyError{Key: pos, Column: col, Msg: err.Error()}
}

// KeyParser decodes primary keys of the given key columns into rows of
// their values, in column order. It is safe for concurrent use.
type KeyParser struct {
	cols columns
}

// NewKeyParser returns a parser of keys made of fields (the primary-key
// columns, in order).
func NewKeyParser(fields []spec.DataField) *KeyParser {
	return &KeyParser{cols: newColumns(fields)}
}

// names lists the key columns for messages.
func (kp *KeyParser) names() string {
	names := make([]string, len(kp.cols.fields))
	for i, f := range kp.cols.fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// ParseJSON decodes one key given as JSON; pos is its 1-based position,
// which errors (*KeyError) name.
func (kp *KeyParser) ParseJSON(b []byte, pos int) (spec.Row, error) {
	p := jsonParser{b: b}
	p.skipWS()
	var row spec.Row
	var err error
	switch {
	case p.i < len(p.b) && p.b[p.i] == '{':
		row, err = kp.object(&p, pos)
	case len(kp.cols.fields) == 1:
		row, err = kp.plain(&p, pos)
	case p.i >= len(p.b):
		return nil, &KeyError{Key: pos, Msg: "empty key"}
	default:
		return nil, &KeyError{Key: pos, Msg: "want a JSON object naming the key columns (" + kp.names() + "), got " + p.what()}
	}
	if err != nil {
		return nil, err
	}
	if p.skipWS(); p.i < len(p.b) {
		return nil, &KeyError{Key: pos, Msg: "unexpected " + p.what() + " after the key"}
	}
	return row, nil
}

// ParseArg decodes a key given as a command-line argument: a JSON object
// naming the key columns, or, for a one-column key, a JSON string ("abc"
// with its quotes) or the column's text form as in CSV input (42, abc,
// 2024-01-31).
func (kp *KeyParser) ParseArg(s string, pos int) (spec.Row, error) {
	t := strings.TrimLeft(s, " \t\r\n")
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, `"`) || len(kp.cols.fields) != 1 {
		return kp.ParseJSON([]byte(s), pos)
	}
	f := &kp.cols.fields[0]
	v, err := parseText([]byte(s), &f.Type)
	if err != nil {
		return nil, keyError(pos, f.Name, err)
	}
	return spec.Row{v}, nil
}

// plain reads the value of a one-column key.
func (kp *KeyParser) plain(p *jsonParser, pos int) (spec.Row, error) {
	f := &kp.cols.fields[0]
	v, err := p.value(&f.Type)
	if err != nil {
		return nil, keyError(pos, f.Name, err)
	}
	if v == nil {
		return nil, &KeyError{Key: pos, Column: f.Name, Msg: "a key column cannot be null"}
	}
	return spec.Row{v}, nil
}

// object reads a key given as an object keyed by column name.
func (kp *KeyParser) object(p *jsonParser, pos int) (spec.Row, error) {
	fields := kp.cols.fields
	row := make(spec.Row, len(fields))
	seen := make([]bool, len(fields))
	p.i++ // '{'
	if !p.empty('}') {
		for {
			k, err := p.key()
			if err != nil {
				return nil, keyError(pos, "", err)
			}
			idx, ok := kp.cols.index[string(k)]
			switch {
			case !ok:
				return nil, &KeyError{Key: pos, Column: string(k), Msg: "not a primary-key column (key columns: " + kp.names() + ")"}
			case seen[idx]:
				return nil, &KeyError{Key: pos, Column: fields[idx].Name, Msg: "duplicate key"}
			}
			seen[idx] = true
			if row[idx], err = p.value(&fields[idx].Type); err != nil {
				return nil, keyError(pos, fields[idx].Name, err)
			}
			if row[idx] == nil {
				return nil, &KeyError{Key: pos, Column: fields[idx].Name, Msg: "a key column cannot be null"}
			}
			done, err := p.next('}')
			if err != nil {
				return nil, keyError(pos, fields[idx].Name, err)
			}
			if done {
				break
			}
		}
	}
	for i := range fields {
		if !seen[i] {
			return nil, &KeyError{Key: pos, Column: fields[i].Name, Msg: "missing key column"}
		}
	}
	return row, nil
}

// KeyDecoder reads keys from JSON Lines: one key per line, in any form
// KeyParser.ParseJSON takes. Blank lines are skipped.
type KeyDecoder struct {
	lr lineReader
	kp *KeyParser
	n  int
}

// NewKeyDecoder returns a decoder of keys made of fields from r.
func NewKeyDecoder(r io.Reader, fields []spec.DataField) *KeyDecoder {
	return &KeyDecoder{lr: newLineReader(r), kp: NewKeyParser(fields)}
}

// Next returns the next key, io.EOF after the last, a *KeyError (naming
// the key's position and line) for a bad key, after which it may be called
// again, or the reader's error.
func (d *KeyDecoder) Next() (spec.Row, error) {
	for {
		b, err := d.lr.next()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimLeft(b, " \t\r")) == 0 {
			continue
		}
		d.n++
		row, err := d.kp.ParseJSON(b, d.n)
		if ke, ok := err.(*KeyError); ok {
			ke.Line = d.lr.line
		}
		return row, err
	}
}
