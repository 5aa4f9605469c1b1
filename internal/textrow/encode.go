package textrow

import (
	"bufio"
	"fmt"
	"io"

	"github.com/stratalake/strata/spec"
)

// Encoder writes rows. Write fails, writing nothing, if the row does not fit
// the schema (the error wraps spec.ErrSchemaMismatch); Flush must be called
// at the end, even after no rows, so that headers reach the writer.
type Encoder interface {
	Write(row spec.Row) error
	Flush() error
}

// rowError reports a value that does not fit its column.
func rowError(col string, err error) error {
	if ve, ok := err.(*valueError); ok {
		return fmt.Errorf("textrow: column %q: %s: %w", col+ve.path, ve.msg, spec.ErrSchemaMismatch)
	}
	return fmt.Errorf("textrow: column %q: %w", col, err)
}

func checkWidth(row spec.Row, fields []spec.DataField) error {
	if len(row) != len(fields) {
		return fmt.Errorf("textrow: row has %d values for %d columns: %w", len(row), len(fields), spec.ErrSchemaMismatch)
	}
	return nil
}

// JSONEncoder writes JSON Lines: one object per row, keys in schema order.
type JSONEncoder struct {
	w      *bufio.Writer
	fields []spec.DataField
	keys   [][]byte // `{"name":` for the first column, `,"name":` after
	buf    []byte
}

// NewJSONEncoder returns an encoder of rows of the given fields to w.
func NewJSONEncoder(w io.Writer, fields []spec.DataField) *JSONEncoder {
	e := &JSONEncoder{w: bufio.NewWriterSize(w, 64<<10), fields: fields}
	for i, f := range fields {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		e.keys = append(e.keys, append(appendJSONString([]byte{sep}, f.Name), ':'))
	}
	return e
}

// Write writes one row as a JSON object and a newline.
func (e *JSONEncoder) Write(row spec.Row) error {
	b, err := e.AppendRow(e.buf[:0], row)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	e.buf = b
	_, err = e.w.Write(b)
	return err
}

// AppendRow appends row to dst as the JSON object Write writes, without the
// newline, and returns the extended buffer; on error dst is returned
// unchanged in length. It writes nothing to the encoder's writer and is safe
// for concurrent use.
func (e *JSONEncoder) AppendRow(dst []byte, row spec.Row) ([]byte, error) {
	if err := checkWidth(row, e.fields); err != nil {
		return dst, err
	}
	b := dst
	if len(e.fields) == 0 {
		b = append(b, '{')
	}
	for i := range e.fields {
		b = append(b, e.keys[i]...)
		var err error
		if b, err = appendJSON(b, row[i], &e.fields[i].Type); err != nil {
			return dst, rowError(e.fields[i].Name, err)
		}
	}
	return append(b, '}'), nil
}

// Flush writes any buffered output.
func (e *JSONEncoder) Flush() error { return e.w.Flush() }

// CSVEncoder writes a header row and then one record per row, in the text
// form the CSV decoder reads: null is an empty cell, the empty string "".
type CSVEncoder struct {
	w      *bufio.Writer
	fields []spec.DataField
	header bool
	buf    []byte
	cell   []byte
}

// NewCSVEncoder returns an encoder of rows of the given fields to w.
func NewCSVEncoder(w io.Writer, fields []spec.DataField) *CSVEncoder {
	return &CSVEncoder{w: bufio.NewWriterSize(w, 64<<10), fields: fields}
}

func (e *CSVEncoder) writeHeader() error {
	e.header = true
	b := e.buf[:0]
	for i, f := range e.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVCell(b, []byte(f.Name))
	}
	b = append(b, '\n')
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

// Write writes one row as a CSV record; the header goes first.
func (e *CSVEncoder) Write(row spec.Row) error {
	if err := checkWidth(row, e.fields); err != nil {
		return err
	}
	if !e.header {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	b := e.buf[:0]
	for i := range e.fields {
		if i > 0 {
			b = append(b, ',')
		}
		if row[i] == nil {
			continue
		}
		var err error
		if e.cell, err = appendText(e.cell[:0], row[i], &e.fields[i].Type); err != nil {
			return rowError(e.fields[i].Name, err)
		}
		b = appendCSVCell(b, e.cell)
	}
	b = append(b, '\n')
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

// Flush writes the header if no row has, and any buffered output.
func (e *CSVEncoder) Flush() error {
	if !e.header {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	return e.w.Flush()
}

// appendCSVCell appends a non-null cell, quoting it when it is empty (to
// tell it from null), holds a delimiter, quote or line break, or starts with
// a space other tools might trim.
func appendCSVCell(dst, cell []byte) []byte {
	quote := len(cell) == 0 || cell[0] == ' ' || cell[0] == '\t'
	for _, c := range cell {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(dst, cell...)
	}
	dst = append(dst, '"')
	for _, c := range cell {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
