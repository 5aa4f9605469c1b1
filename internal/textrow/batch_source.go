package textrow

import (
	"bytes"
	"io"

	"github.com/stratalake/strata/spec"
)

// jsonSource parses JSON Lines into column slots. Its grammar, checks and
// messages are JSONDecoder.parse's, step for step; where a value is not in
// one of the forms it reads unboxed, it goes back to the value's start and
// lets jsonParser.value read it, so every error is the row decoder's own.
type jsonSource struct {
	lr   lineReader
	cols columns
	p    jsonParser
	seen []bool
	// order[k] is the column the k-th key of the previous row named (-1
	// for none): rows of one input usually list their keys in one order,
	// and matching the expected key in place, quotes included (quoted), is
	// cheaper than reading it and looking it up.
	order  []int
	quoted [][]byte // nil for names that JSON would escape
}

func newJSONSource(r io.Reader, fields []spec.DataField) *jsonSource {
	s := &jsonSource{lr: newLineReader(r), cols: newColumns(fields), seen: make([]bool, len(fields)),
		order: make([]int, len(fields)+1)}
	for i := range s.order {
		s.order[i] = -1
	}
	s.quoted = make([][]byte, len(fields))
	for i, f := range fields {
		if plainPrefix([]byte(f.Name), 0) == len(f.Name) {
			s.quoted[i] = []byte(`"` + f.Name + `"`)
		}
	}
	return s
}

func (s *jsonSource) next(cols []batchColumn) (spec.RowKind, int, int, error) {
	for {
		b, err := s.lr.next()
		if err != nil {
			return 0, 0, 0, err
		}
		if blank(b) {
			continue
		}
		kind, err := s.parse(b, cols)
		s.p.b = nil // do not pin the reader's buffer
		return kind, s.lr.line, len(b), err
	}
}

// blank reports whether a line holds only spaces, tabs and CRs.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// key reads the pos-th key of a row and its colon, returning the key and
// the index of its field.
func (s *jsonSource) key(pos int) ([]byte, int, bool, error) {
	p := &s.p
	if pos < len(s.order) {
		if o := s.order[pos]; o >= 0 && s.quoted[o] != nil {
			p.skipWS()
			if q := s.quoted[o]; bytes.HasPrefix(p.b[p.i:], q) {
				p.i += len(q)
				return q[1 : len(q)-1], o, true, p.expect(':')
			}
		}
	}
	k, err := p.key()
	if err != nil {
		return nil, 0, false, err
	}
	idx, ok := s.column(k, pos)
	return k, idx, ok, nil
}

// column returns the index of the field named k, the pos-th key of a row.
func (s *jsonSource) column(k []byte, pos int) (int, bool) {
	idx, ok := s.cols.index[string(k)]
	if ok && pos < len(s.order) {
		s.order[pos] = idx
	}
	return idx, ok
}

func (s *jsonSource) parse(b []byte, cols []batchColumn) (spec.RowKind, error) {
	line := s.lr.line
	p := &s.p
	p.b, p.i = b, 0
	if err := p.expect('{'); err != nil {
		return 0, inputError(line, "", errorf("want a JSON object, got %s", p.what()))
	}
	fields := s.cols.fields
	clear(s.seen)
	kind, kindSeen := spec.RowKindInsert, false
	if !p.empty('}') {
		for pos := 0; ; pos++ {
			k, idx, ok, err := s.key(pos)
			if err != nil {
				return 0, inputError(line, "", err)
			}
			col := kindColumn // for a syntax error after the value
			if ok {
				col = fields[idx].Name
			}
			switch {
			case ok && s.seen[idx]:
				return 0, &InputError{Line: line, Column: fields[idx].Name, Msg: "duplicate key"}
			case ok:
				s.seen[idx] = true
				if err := s.value(&cols[idx]); err != nil {
					return 0, inputError(line, fields[idx].Name, err)
				}
			case string(k) == kindColumn:
				if kindSeen {
					return 0, &InputError{Line: line, Column: kindColumn, Msg: "duplicate key"}
				}
				kindSeen = true
				if kind, err = p.rowKind(); err != nil {
					return 0, inputError(line, kindColumn, err)
				}
			default:
				return 0, &InputError{Line: line, Column: string(k), Msg: "unknown column"}
			}
			done, err := p.next('}')
			if err != nil {
				return 0, inputError(line, col, err)
			}
			if done {
				break
			}
		}
	}
	if p.skipWS(); p.i < len(p.b) {
		return 0, inputError(line, "", errorf("unexpected %s after the object", p.what()))
	}
	for i := range fields {
		if !s.seen[i] && !fields[i].Type.Nullable {
			return 0, &InputError{Line: line, Column: fields[i].Name, Msg: "missing value for NOT NULL column"}
		}
	}
	return kind, nil
}

// value reads one value into c's slot, as jsonParser.value reads it.
func (s *jsonSource) value(c *batchColumn) error {
	p := &s.p
	p.skipWS()
	start := p.i
	if p.i < len(p.b) {
		switch ch := p.b[p.i]; {
		case ch == 'n':
			if c.t.Nullable && p.literal("null") {
				return nil
			}
		case ch == '"':
			str, scratch, err := p.strScratch()
			if err != nil {
				return err
			}
			if c.kind != kString {
				return c.text(str) // every other type takes its text form
			}
			if err := checkLength(str, c.t); err != nil {
				return err
			}
			if scratch {
				c.buf = append(c.buf[:0], str...)
				str = c.buf
			}
			c.b, c.set = str, true
			return nil
		case c.kind == kBool:
			if p.literal("true") {
				c.i, c.set = 1, true
				return nil
			}
			if p.literal("false") {
				c.i, c.set = 0, true
				return nil
			}
		case ch == '-' || isDigit(ch):
			if c.numeric() {
				n, err := p.num()
				if err != nil {
					return err
				}
				return c.text(n)
			}
		}
	}
	p.i = start
	v, err := p.value(c.t)
	if err != nil {
		return err
	}
	if v != nil {
		c.v, c.boxed, c.set = v, true, true
	}
	return nil
}

// csvSource parses CSV records into column slots, with CSVDecoder's header,
// checks and messages.
type csvSource struct {
	d *CSVDecoder
}

func (s *csvSource) next(cols []batchColumn) (spec.RowKind, int, int, error) {
	d := s.d
	if !d.header {
		if d.err == nil {
			d.err = d.readHeader()
		}
		if d.err != nil {
			return 0, 0, 0, d.err
		}
		d.header = true
	}
	for {
		blank, err := d.cr.read()
		if err != nil {
			return 0, 0, 0, err
		}
		if blank && len(d.target) != 1 {
			continue
		}
		kind, err := s.decode(cols)
		return kind, d.cr.line, len(d.cr.data) + len(d.cr.ends), err
	}
}

// decode is CSVDecoder.decode into slots.
func (s *csvSource) decode(cols []batchColumn) (spec.RowKind, error) {
	cr := &s.d.cr
	if len(cr.ends) != len(s.d.target) {
		return 0, &InputError{Line: cr.line, Msg: "record has " + itoa(len(cr.ends)) +
			" fields, header has " + itoa(len(s.d.target))}
	}
	fields := s.d.cols.fields
	kind := spec.RowKindInsert
	for j, idx := range s.d.target {
		cell := cr.cell(j)
		empty := len(cell) == 0 && !cr.quoted[j]
		if idx < 0 {
			if !empty {
				var err error
				if kind, err = parseKind(cell); err != nil {
					return 0, inputError(cr.lines[j], kindColumn, err)
				}
			}
			continue
		}
		if empty {
			if fields[idx].Type.Nullable {
				continue
			}
			return 0, nullCellError(cr.lines[j], &fields[idx])
		}
		if err := cols[idx].text(cell); err != nil {
			return 0, inputError(cr.lines[j], fields[idx].Name, err)
		}
	}
	return kind, nil
}
