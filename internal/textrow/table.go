package textrow

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/stratalake/strata/spec"
)

// TableBatch is how many rows a TableEncoder holds to size its columns.
// Widths carry over from batch to batch and only grow, so a later, wider
// batch shifts its columns right of the earlier ones.
const TableBatch = 1000

// TableEncoder writes rows as an aligned table for people, in psql's style:
//
//	 id | name  | score
//	----+-------+-------
//	  1 | alice |   1.5
//	  2 | NULL  |  12.0
//
// Numbers are right-aligned, null is NULL, control characters are escaped
// (\n, \t, \x01) and nested values are JSON.
type TableEncoder struct {
	w      *bufio.Writer
	fields []spec.DataField
	right  []bool // right-align numeric columns
	widths []int
	rows   [][]string
	header bool
	cell   []byte
}

// NewTableEncoder returns an encoder of rows of the given fields to w.
func NewTableEncoder(w io.Writer, fields []spec.DataField) *TableEncoder {
	e := &TableEncoder{w: bufio.NewWriter(w), fields: fields, right: make([]bool, len(fields)), widths: make([]int, len(fields))}
	for i, f := range fields {
		switch f.Type.Root {
		case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
			spec.TypeFloat, spec.TypeDouble, spec.TypeDecimal:
			e.right[i] = true
		}
		e.widths[i] = width(tableText(f.Name))
	}
	return e
}

// Write renders one row; rows reach the writer a batch at a time.
func (e *TableEncoder) Write(row spec.Row) error {
	if err := checkWidth(row, e.fields); err != nil {
		return err
	}
	cells := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			cells[i] = "NULL"
			continue
		}
		var err error
		if e.cell, err = appendText(e.cell[:0], v, &e.fields[i].Type); err != nil {
			return rowError(e.fields[i].Name, err)
		}
		cells[i] = tableText(string(e.cell))
	}
	e.rows = append(e.rows, cells)
	if len(e.rows) >= TableBatch {
		return e.writeRows()
	}
	return nil
}

// Flush writes the buffered rows (the header at least) and flushes.
func (e *TableEncoder) Flush() error {
	if err := e.writeRows(); err != nil {
		return err
	}
	return e.w.Flush()
}

func (e *TableEncoder) writeRows() error {
	for _, r := range e.rows {
		for i, c := range r {
			e.widths[i] = max(e.widths[i], width(c))
		}
	}
	if !e.header {
		e.header = true
		names := make([]string, len(e.fields))
		for i, f := range e.fields {
			names[i] = tableText(f.Name)
		}
		e.line(names, false)
		var b strings.Builder
		for i, w := range e.widths {
			if i > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.Repeat("-", w+2))
		}
		b.WriteByte('\n')
		e.w.WriteString(b.String())
	}
	for _, r := range e.rows {
		e.line(r, true)
	}
	clear(e.rows)
	e.rows = e.rows[:0]
	_, err := e.w.Write(nil) // surface any earlier write error
	return err
}

// line writes one table line; values are right-aligned in numeric columns,
// headers always left-aligned. Trailing spaces are trimmed.
func (e *TableEncoder) line(cells []string, values bool) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString(" |")
		}
		pad := e.widths[i] - width(c)
		b.WriteByte(' ')
		if values && e.right[i] {
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString(c)
		} else {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	e.w.WriteString(strings.TrimRight(b.String(), " "))
	e.w.WriteByte('\n')
}

func width(s string) int { return utf8.RuneCountInString(s) }

// tableText escapes control characters and invalid UTF-8 so that a cell
// stays on one line and its width is its rune count.
func tableText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || s[i] >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean || (utf8.ValidString(s) && !strings.ContainsFunc(s, isControl)) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r):
			if r < 0x100 {
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[r>>4])
				b.WriteByte(hexDigits[r&0xf])
			} else {
				b.WriteString(`\u`)
				for shift := 12; shift >= 0; shift -= 4 {
					b.WriteByte(hexDigits[(r>>shift)&0xf])
				}
			}
		default:
			b.WriteRune(r) // invalid UTF-8 arrives here as U+FFFD
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}
