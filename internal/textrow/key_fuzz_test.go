package textrow

import (
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
)

// FuzzKeyParser parses a key as `strata lookup` takes it from an argument
// and as the lookup server takes it from a request, for a key of every
// type one column at a time and for a two-column key: a row of the key's
// arity, or an error wrapping ErrBadInput, never a panic.
func FuzzKeyParser(f *testing.F) {
	for _, s := range []string{`42`, `"abc"`, `{"id":1,"s":"x"}`, `2024-01-31`, `{"id":-1e3}`, `[1,2]`, `null`, ` {"ID" : 7 , "s" : null} `} {
		f.Add(s)
	}
	parsers := []*KeyParser{NewKeyParser([]spec.DataField{fuzzFields[0], fuzzFields[9]})}
	for _, fd := range fuzzFields {
		parsers = append(parsers, NewKeyParser([]spec.DataField{fd}))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kp := range parsers {
			for _, parse := range []func() (spec.Row, error){
				func() (spec.Row, error) { return kp.ParseArg(s, 1) },
				func() (spec.Row, error) { return kp.ParseJSON([]byte(s), 1) },
			} {
				row, err := parse()
				if err != nil {
					if !errors.Is(err, ErrBadInput) {
						t.Fatalf("%q: %v does not wrap ErrBadInput", s, err)
					}
					continue
				}
				if len(row) != len(kp.cols.fields) {
					t.Fatalf("%q: row %v for %d key columns", s, row, len(kp.cols.fields))
				}
			}
		}
	})
}
