package textrow

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrBadInput marks input rows that do not parse or do not fit the schema.
// Every *InputError wraps it.
var ErrBadInput = errors.New("textrow: bad input")

// InputError locates a problem in the input.
type InputError struct {
	// Line is the 1-based line number; in CSV the header is line 1.
	Line int
	// Column is the column the problem is in, with a path into nested
	// values (addr.zip, tags[2]); empty when the problem is the line itself.
	Column string
	// Msg describes the problem.
	Msg string
}

// Error returns e.g. `textrow: bad input: line 3, column "age": invalid INT "abc"`.
func (e *InputError) Error() string {
	s := ErrBadInput.Error() + ": line " + strconv.Itoa(e.Line)
	if e.Column != "" {
		s += ", column " + strconv.Quote(e.Column)
	}
	return s + ": " + e.Msg
}

// Unwrap returns ErrBadInput.
func (e *InputError) Unwrap() error { return ErrBadInput }

// valueError is a problem inside one value; path grows outward (".f", "[2]")
// as the error unwinds through nested values.
type valueError struct {
	path string
	msg  string
}

func (e *valueError) Error() string { return e.path + ": " + e.msg }

func errorf(format string, args ...any) *valueError {
	return &valueError{msg: fmt.Sprintf(format, args...)}
}

// inField prefixes err's path with a nested step (".name" or "[i]").
func inField(err error, step string) error {
	if ve, ok := err.(*valueError); ok {
		ve.path = step + ve.path
	}
	return err
}

// inputError turns err into an *InputError for column col on line.
func inputError(line int, col string, err error) *InputError {
	if ve, ok := err.(*valueError); ok {
		return &InputError{Line: line, Column: col + ve.path, Msg: ve.msg}
	}
	return &InputError{Line: line, Column: col, Msg: err.Error()}
}
