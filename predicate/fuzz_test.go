package predicate

import (
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
)

// FuzzParse: Parse never panics, refuses only with a SyntaxError, and what
// it accepts binds, renders to text that parses to the same predicate, and
// evaluates on a row of nulls without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"credit_score < 60 AND dt = '2024-01-31'",
		"i IN (1, 2.5, NULL) OR NOT (s LIKE 'a\\%b%' AND d BETWEEN -1e3 AND 2)",
		"`odd name` IS NOT NULL AND bin = X'0aff' AND ts > TIMESTAMP '2024-01-31 12:00:00.123456'",
		"(((b))) OR f <> 'NaN' AND tm <= '12:00' AND t NOT IN (1000)",
		"s = 'it''s' AND \"odd name\" != ''",
	} {
		f.Add(s)
	}
	fields, err := spec.ParseColumns(scriptColumns + ", credit_score INT")
	if err != nil {
		f.Fatal(err)
	}
	nulls := make(spec.Row, len(fields))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s, fields)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos < 1 || se.Pos > len(s)+1 {
				t.Fatalf("Parse(%q): %v is not a SyntaxError with a position in the text", s, err)
			}
			return
		}
		b, err := Bind(p, fields)
		if err != nil {
			t.Fatalf("Parse(%q) = %s does not bind: %v", s, p, err)
		}
		b.Eval(nulls)
		again, err := Parse(p.String(), fields)
		if err != nil || again.String() != p.String() {
			t.Fatalf("Parse(%q) = %s, which parses back as %s (%v)", s, p, again, err)
		}
	})
}
