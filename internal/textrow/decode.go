package textrow

import (
	"bufio"
	"bytes"
	"io"

	"github.com/stratalake/strata/spec"
)

// Decoder reads rows with their kinds. Next returns io.EOF after the last
// row, an *InputError (wrapping ErrBadInput) for a bad row, after which it
// may be called again, or the reader's error.
type Decoder interface {
	Next() (spec.Row, spec.RowKind, error)
}

// kindColumn is the reserved field holding the row kind.
const kindColumn = "_kind"

// lineReader splits input into lines, numbering them from 1 and dropping
// the line terminator (\n or \r\n) and a leading UTF-8 byte order mark.
type lineReader struct {
	r    *bufio.Reader
	line int    // number of the line last returned
	crlf bool   // the line last returned ended with \r\n
	long []byte // assembles lines longer than the bufio buffer
	err  error  // deferred read error
}

func newLineReader(r io.Reader) lineReader {
	return lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, valid until the following call.
func (lr *lineReader) next() ([]byte, error) {
	if lr.err != nil {
		return nil, lr.err
	}
	b, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = lr.r.ReadSlice('\n')
			lr.long = append(lr.long, b...)
		}
		b = lr.long
	}
	if err != nil {
		if len(b) == 0 {
			lr.err = err
			return nil, err
		}
		if err != io.EOF {
			lr.err = err
			return nil, err
		}
		lr.err = io.EOF // return the last, unterminated line first
	}
	lr.line++
	if lr.line == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	lr.crlf = false
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
			lr.crlf = true
		}
	}
	return b, nil
}

// columns maps names to field indexes.
type columns struct {
	fields []spec.DataField
	index  map[string]int
	// kindShadowed is set when a field is itself named _kind.
	kindShadowed bool
}

func newColumns(fields []spec.DataField) columns {
	c := columns{fields: fields, index: make(map[string]int, len(fields))}
	for i, f := range fields {
		c.index[f.Name] = i
		if f.Name == kindColumn {
			c.kindShadowed = true
		}
	}
	return c
}

func parseKind(s []byte) (spec.RowKind, error) {
	switch string(s) {
	case "+I":
		return spec.RowKindInsert, nil
	case "-U":
		return spec.RowKindUpdateBefore, nil
	case "+U":
		return spec.RowKindUpdateAfter, nil
	case "-D":
		return spec.RowKindDelete, nil
	}
	k, err := spec.ParseRowKind(string(s))
	if err != nil {
		return 0, errorf("%s", err.Error())
	}
	return k, nil
}

// JSONDecoder reads JSON Lines: one object per line, keyed by column name.
type JSONDecoder struct {
	lr   lineReader
	cols columns
	p    jsonParser
	seen []bool
}

// NewJSONDecoder returns a decoder of JSON Lines rows of the given fields.
func NewJSONDecoder(r io.Reader, fields []spec.DataField) *JSONDecoder {
	return &JSONDecoder{lr: newLineReader(r), cols: newColumns(fields), seen: make([]bool, len(fields))}
}

// Line returns the line number of the row Next last returned.
func (d *JSONDecoder) Line() int { return d.lr.line }

// Next returns the next row and its kind (+I unless _kind says otherwise).
// Each row is newly allocated and owned by the caller.
func (d *JSONDecoder) Next() (spec.Row, spec.RowKind, error) {
	for {
		b, err := d.lr.next()
		if err != nil {
			return nil, 0, err
		}
		if len(bytes.TrimLeft(b, " \t\r")) == 0 {
			continue
		}
		row, kind, err := d.parse(b)
		if err != nil {
			return nil, 0, err
		}
		return row, kind, nil
	}
}

func (d *JSONDecoder) parse(b []byte) (spec.Row, spec.RowKind, error) {
	line := d.lr.line
	p := &d.p
	p.b, p.i = b, 0
	defer func() { p.b = nil }() // do not pin the reader's buffer
	syntax := func(err error) (spec.Row, spec.RowKind, error) {
		return nil, 0, inputError(line, "", err)
	}
	if err := p.expect('{'); err != nil {
		return syntax(errorf("want a JSON object, got %s", p.what()))
	}
	fields := d.cols.fields
	row := make(spec.Row, len(fields))
	clear(d.seen)
	kind, kindSeen := spec.RowKindInsert, false
	if !p.empty('}') {
		for {
			k, err := p.key()
			if err != nil {
				return syntax(err)
			}
			col := kindColumn // for a syntax error after the value
			idx, ok := d.cols.index[string(k)]
			if ok {
				col = fields[idx].Name
			}
			switch {
			case ok && d.seen[idx]:
				return nil, 0, &InputError{Line: line, Column: fields[idx].Name, Msg: "duplicate key"}
			case ok:
				d.seen[idx] = true
				if row[idx], err = p.value(&fields[idx].Type); err != nil {
					return nil, 0, inputError(line, fields[idx].Name, err)
				}
			case string(k) == kindColumn:
				if kindSeen {
					return nil, 0, &InputError{Line: line, Column: kindColumn, Msg: "duplicate key"}
				}
				kindSeen = true
				if kind, err = d.kind(); err != nil {
					return nil, 0, inputError(line, kindColumn, err)
				}
			default:
				return nil, 0, &InputError{Line: line, Column: string(k), Msg: "unknown column"}
			}
			done, err := p.next('}')
			if err != nil {
				return nil, 0, inputError(line, col, err)
			}
			if done {
				break
			}
		}
	}
	if p.skipWS(); p.i < len(p.b) {
		return syntax(errorf("unexpected %s after the object", p.what()))
	}
	for i := range fields {
		if !d.seen[i] && !fields[i].Type.Nullable {
			return nil, 0, &InputError{Line: line, Column: fields[i].Name, Msg: "missing value for NOT NULL column"}
		}
	}
	return row, kind, nil
}

// kind reads the value of _kind.
func (d *JSONDecoder) kind() (spec.RowKind, error) { return d.p.rowKind() }

// CSVDecoder reads CSV with a header row naming the columns.
type CSVDecoder struct {
	cr   csvReader
	cols columns
	// target maps each CSV column to a field index, or -1 for _kind.
	target []int
	header bool
	err    error // sticky header error
}

// NewCSVDecoder returns a decoder of CSV rows of the given fields. The
// header may name any subset of them in any order, plus _kind; columns it
// leaves out are null.
func NewCSVDecoder(r io.Reader, fields []spec.DataField) *CSVDecoder {
	return &CSVDecoder{cr: csvReader{lr: newLineReader(r)}, cols: newColumns(fields)}
}

// Line returns the line number on which the row Next last returned starts.
func (d *CSVDecoder) Line() int { return d.cr.line }

func (d *CSVDecoder) readHeader() error {
	for {
		blank, err := d.cr.read()
		if err == io.EOF {
			return err // no header, no rows
		}
		if err != nil {
			return err
		}
		if !blank {
			break
		}
	}
	line := d.cr.line
	fields := d.cols.fields
	present := make([]bool, len(fields))
	kindSeen := false
	for j := range d.cr.ends {
		name := string(d.cr.cell(j))
		idx, ok := d.cols.index[name]
		switch {
		case ok && present[idx], !ok && name == kindColumn && kindSeen:
			return &InputError{Line: line, Column: name, Msg: "duplicate column in header"}
		case ok:
			present[idx] = true
			d.target = append(d.target, idx)
		case name == kindColumn:
			kindSeen = true
			d.target = append(d.target, -1)
		default:
			return &InputError{Line: line, Column: name, Msg: "unknown column in header"}
		}
	}
	for i, f := range fields {
		if !present[i] && !f.Type.Nullable {
			return &InputError{Line: line, Column: f.Name, Msg: "NOT NULL column missing from header"}
		}
	}
	return nil
}

// Next returns the next row and its kind (+I unless a _kind column says
// otherwise). Each row is newly allocated and owned by the caller.
func (d *CSVDecoder) Next() (spec.Row, spec.RowKind, error) {
	if !d.header {
		if d.err == nil {
			d.err = d.readHeader()
		}
		if d.err != nil {
			return nil, 0, d.err
		}
		d.header = true
	}
	for {
		blank, err := d.cr.read()
		if err != nil {
			return nil, 0, err
		}
		// A blank line is a record only when it can be one: a null in a
		// single-column file (that is how the encoder writes one).
		if blank && len(d.target) != 1 {
			continue
		}
		return d.decode()
	}
}

func (d *CSVDecoder) decode() (spec.Row, spec.RowKind, error) {
	cr := &d.cr
	if len(cr.ends) != len(d.target) {
		return nil, 0, &InputError{Line: cr.line, Msg: "record has " + itoa(len(cr.ends)) +
			" fields, header has " + itoa(len(d.target))}
	}
	fields := d.cols.fields
	row := make(spec.Row, len(fields))
	kind := spec.RowKindInsert
	for j, idx := range d.target {
		cell := cr.cell(j)
		empty := len(cell) == 0 && !cr.quoted[j]
		if idx < 0 {
			if !empty {
				var err error
				if kind, err = parseKind(cell); err != nil {
					return nil, 0, inputError(cr.lines[j], kindColumn, err)
				}
			}
			continue
		}
		t := &fields[idx].Type
		if empty {
			if t.Nullable {
				continue
			}
			return nil, 0, nullCellError(cr.lines[j], &fields[idx])
		}
		v, err := parseText(cell, t)
		if err != nil {
			return nil, 0, inputError(cr.lines[j], fields[idx].Name, err)
		}
		row[idx] = v
	}
	return row, kind, nil
}

// nullCellError is the error of an unquoted empty cell in a NOT NULL column.
func nullCellError(line int, f *spec.DataField) *InputError {
	msg := "null is not allowed (" + f.Type.String() + ")"
	switch f.Type.Root {
	case spec.TypeChar, spec.TypeVarChar, spec.TypeBinary, spec.TypeVarBinary:
		msg += `; an unquoted empty cell is null, write "" for the empty value`
	}
	return &InputError{Line: line, Column: f.Name, Msg: msg}
}

func itoa(n int) string { return string(appendUint(nil, uint64(n))) }

// csvReader splits RFC 4180 CSV into records, remembering for each cell
// whether it was quoted (to tell "" from null) and the line it starts on.
// encoding/csv offers neither the quoting nor an allocation-free record.
type csvReader struct {
	lr     lineReader
	line   int    // line the current record starts on
	data   []byte // the record's cells, concatenated
	ends   []int  // end of each cell in data
	quoted []bool
	lines  []int
}

func (c *csvReader) cell(j int) []byte {
	start := 0
	if j > 0 {
		start = c.ends[j-1]
	}
	return c.data[start:c.ends[j]]
}

// read reads the next record; blank reports an empty line. A syntax error
// abandons the rest of the record's lines.
func (c *csvReader) read() (blank bool, err error) {
	line, err := c.lr.next()
	if err != nil {
		return false, err
	}
	c.line = c.lr.line
	c.data, c.ends, c.quoted, c.lines = c.data[:0], c.ends[:0], c.quoted[:0], c.lines[:0]
	if len(line) == 0 {
		c.ends, c.quoted, c.lines = append(c.ends, 0), append(c.quoted, false), append(c.lines, c.line)
		return true, nil
	}
	pos := 0
	for {
		c.lines = append(c.lines, c.lr.line)
		if pos < len(line) && line[pos] == '"' {
			start := c.lr.line
			pos++
			for {
				j := bytes.IndexByte(line[pos:], '"')
				if j < 0 {
					// The quoted cell continues on the next line, with
					// the line break it holds kept as it was.
					c.data = append(c.data, line[pos:]...)
					if c.lr.crlf {
						c.data = append(c.data, '\r')
					}
					next, err := c.lr.next()
					if err == io.EOF {
						return false, &InputError{Line: start, Msg: "unterminated quoted field"}
					}
					if err != nil {
						return false, err
					}
					c.data = append(c.data, '\n')
					line, pos = next, 0
					continue
				}
				c.data = append(c.data, line[pos:pos+j]...)
				pos += j + 1
				if pos < len(line) && line[pos] == '"' {
					c.data = append(c.data, '"')
					pos++
					continue
				}
				break
			}
			c.ends, c.quoted = append(c.ends, len(c.data)), append(c.quoted, true)
			if pos == len(line) {
				return false, nil
			}
			if line[pos] != ',' {
				return false, &InputError{Line: c.lr.line, Msg: "unexpected " + quoteFor(line[pos:pos+1]) + " after a quoted field"}
			}
			pos++
			continue
		}
		j := bytes.IndexByte(line[pos:], ',')
		cell := line[pos:]
		if j >= 0 {
			cell = line[pos : pos+j]
		}
		if bytes.IndexByte(cell, '"') >= 0 {
			return false, &InputError{Line: c.lr.line, Msg: "bare \" in unquoted field (quote the field and double the \")"}
		}
		c.data = append(c.data, cell...)
		c.ends, c.quoted = append(c.ends, len(c.data)), append(c.quoted, false)
		if j < 0 {
			return false, nil
		}
		pos += j + 1
	}
}
