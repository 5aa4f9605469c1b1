package predicate

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stratalake/strata/spec"
)

// ErrSyntax marks text Parse cannot read.
var ErrSyntax = errors.New("syntax error")

// SyntaxError is a Parse error: where in the text, and what was expected.
type SyntaxError struct {
	Pos int    // 1-based byte position in the text
	Msg string // what was found and what was expected
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// keywords are reserved: an identifier spelled like one must be quoted.
var keywords = map[string]int{
	"AND": 1, "OR": 1, "NOT": 1, "IN": 1, "IS": 1, "NULL": 1, "LIKE": 1,
	"TRUE": 1, "FALSE": 1, "BETWEEN": 1,
}

// Parse reads a filter in SQL syntax, typing each literal by its column:
//
//	credit_score < 60 AND dt = '2024-01-31'
//	region IN ('eu', 'us') OR NOT (score >= 0.5)
//	name LIKE 'abc%' AND email IS NOT NULL
//	`odd name` <> 'x' AND amount BETWEEN 10.5 AND 20
//
// Comparisons are = <> != < <= > >=; also [NOT] IN (...), IS [NOT] NULL,
// [NOT] LIKE 'prefix%' (only prefix patterns; \ escapes % and _),
// [NOT] BETWEEN, AND, OR, NOT and parentheses. Identifiers are bare or
// quoted in backquotes or double quotes; keywords are case-insensitive.
// Literals: numbers (12, -3.5, 1e6), 'strings' (” is a quote), TRUE,
// FALSE, X'0a1b' for binaries, and dates, times and timestamps as strings
// ('2024-01-31', '2024-01-31 12:00:00.5'), optionally after DATE, TIME or
// TIMESTAMP. Errors are *SyntaxError (wrapping ErrSyntax) naming the
// position, or name the column whose type a literal does not fit.
func Parse(expr string, fields []spec.DataField) (Predicate, error) {
	p := &parser{src: expr, fields: fields}
	if err := p.lex(); err != nil {
		return Predicate{}, err
	}
	if p.peek().kind == tEOF {
		return Predicate{}, p.errAt(p.peek(), "empty filter: expected a condition such as col = 1")
	}
	out, err := p.or()
	if err != nil {
		return Predicate{}, err
	}
	if t := p.peek(); t.kind != tEOF {
		return Predicate{}, p.errAt(t, "unexpected %s: expected AND, OR or the end", t)
	}
	return out, nil
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQuotedIdent
	tString
	tBinary
	tNumber
	tOp // = <> != < <= > >=
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // identifier, keyword, operator, number; string contents
	pos  int    // 1-based
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return quoteString(t.text)
	case tBinary:
		return "X'" + t.text + "'"
	case tQuotedIdent:
		return "`" + t.text + "`"
	}
	return fmt.Sprintf("%q", t.text)
}

// is reports whether t is the keyword kw.
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

type parser struct {
	src    string
	fields []spec.DataField
	toks   []token
	i      int
	depth  int
}

const maxDepth = 200

func (p *parser) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tLParen, "(", pos})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tRParen, ")", pos})
			i++
		case c == ',':
			p.toks = append(p.toks, token{tComma, ",", pos})
			i++
		case c == '=':
			p.toks = append(p.toks, token{tOp, "=", pos})
			i++
		case c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
				op += string(s[i+1])
			}
			if op == "!" {
				return &SyntaxError{Pos: pos, Msg: "unexpected \"!\": expected != or NOT"}
			}
			p.toks = append(p.toks, token{tOp, op, pos})
			i += len(op)
		case c == '\'':
			str, n, err := quoted(s[i:], '\'', pos)
			if err != nil {
				return err
			}
			p.toks = append(p.toks, token{tString, str, pos})
			i += n
		case c == '`' || c == '"':
			str, n, err := quoted(s[i:], c, pos)
			if err != nil {
				return err
			}
			if str == "" {
				return &SyntaxError{Pos: pos, Msg: "empty quoted identifier"}
			}
			p.toks = append(p.toks, token{tQuotedIdent, str, pos})
			i += n
		case (c == 'x' || c == 'X') && i+1 < len(s) && s[i+1] == '\'':
			str, n, err := quoted(s[i+1:], '\'', pos+1)
			if err != nil {
				return err
			}
			if _, err := hex.DecodeString(str); err != nil {
				return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("X'%s' is not hexadecimal: expected pairs of hex digits", str)}
			}
			p.toks = append(p.toks, token{tBinary, str, pos})
			i += n + 1
		case c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+':
			n := numberLen(s[i:])
			if n == 0 {
				return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected %q: expected a number", c)}
			}
			p.toks = append(p.toks, token{tNumber, s[i : i+n], pos})
			i += n
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] >= 0x80) {
				j++
			}
			p.toks = append(p.toks, token{tIdent, s[i:j], pos})
			i = j
		default:
			return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected %q", c)}
		}
	}
	p.toks = append(p.toks, token{tEOF, "", len(s) + 1})
	return nil
}

// quoted reads a quoted string at the start of s, the quote doubled inside
// it, and returns its contents and length.
func quoted(s string, q byte, pos int) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), i + 1, nil
	}
	return "", 0, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unterminated %c quote", q)}
}

// numberLen is the length of the number at the start of s: [+-]digits
// [.digits][e[+-]digits], or 0.
func numberLen(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxDepth {
		return p.errAt(p.peek(), "filter nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) or() (Predicate, error) {
	if err := p.enter(); err != nil {
		return Predicate{}, err
	}
	defer func() { p.depth-- }()
	first, err := p.and()
	if err != nil {
		return Predicate{}, err
	}
	terms := []Predicate{first}
	for p.peek().is("OR") {
		p.next()
		t, err := p.and()
		if err != nil {
			return Predicate{}, err
		}
		terms = append(terms, t)
	}
	return Or(terms...), nil
}

func (p *parser) and() (Predicate, error) {
	first, err := p.not()
	if err != nil {
		return Predicate{}, err
	}
	terms := []Predicate{first}
	for p.peek().is("AND") {
		p.next()
		t, err := p.not()
		if err != nil {
			return Predicate{}, err
		}
		terms = append(terms, t)
	}
	return And(terms...), nil
}

func (p *parser) not() (Predicate, error) {
	if p.peek().is("NOT") {
		p.next()
		if err := p.enter(); err != nil {
			return Predicate{}, err
		}
		defer func() { p.depth-- }()
		x, err := p.not()
		if err != nil {
			return Predicate{}, err
		}
		return Not(x), nil
	}
	return p.primary()
}

func (p *parser) primary() (Predicate, error) {
	t := p.next()
	switch {
	case t.kind == tLParen:
		x, err := p.or()
		if err != nil {
			return Predicate{}, err
		}
		if r := p.next(); r.kind != tRParen {
			return Predicate{}, p.errAt(r, "unexpected %s: expected ) to close the ( at position %d", r, t.pos)
		}
		return x, nil
	case t.is("TRUE"):
		return True(), nil
	case t.is("FALSE"):
		return False(), nil
	case t.kind == tQuotedIdent || t.kind == tIdent && keywords[strings.ToUpper(t.text)] == 0:
		return p.condition(t)
	}
	return Predicate{}, p.errAt(t, "unexpected %s: expected a column name, NOT or (", t)
}

// condition parses what follows a column name.
func (p *parser) condition(colTok token) (Predicate, error) {
	col, f, err := p.column(colTok)
	if err != nil {
		return Predicate{}, err
	}
	if f.Type.Root == spec.TypeBoolean {
		if n := p.peek(); n.kind == tEOF || n.kind == tRParen || n.is("AND") || n.is("OR") {
			return Equal(col, true), nil // a BOOLEAN column alone is a condition
		}
	}
	t := p.next()
	switch {
	case t.kind == tOp:
		lt := p.peek()
		v, err := p.literal(f)
		if err != nil {
			return Predicate{}, err
		}
		if v == nil {
			hint := ""
			switch t.text {
			case "=":
				hint = fmt.Sprintf(": write %s IS NULL", col)
			case "<>", "!=":
				hint = fmt.Sprintf(": write %s IS NOT NULL", col)
			}
			return Predicate{}, p.errAt(lt, "%s %s NULL is never true%s", col, t.text, hint)
		}
		op := map[string]Op{"=": OpEq, "<>": OpNe, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}[t.text]
		return p.check(leaf(op, col, v), f, lt)
	case t.is("IS"):
		op := OpIsNull
		if p.peek().is("NOT") {
			p.next()
			op = OpIsNotNull
		}
		if n := p.next(); !n.is("NULL") {
			return Predicate{}, p.errAt(n, "unexpected %s: expected NULL after IS", n)
		}
		return leaf(op, col), nil
	case t.is("NOT"):
		n := p.peek()
		if !n.is("IN") && !n.is("LIKE") && !n.is("BETWEEN") {
			return Predicate{}, p.errAt(n, "unexpected %s: expected IN, LIKE or BETWEEN after NOT", n)
		}
		x, err := p.condition(colTok)
		if err != nil {
			return Predicate{}, err
		}
		return Not(x), nil
	case t.is("IN"):
		return p.inList(col, f)
	case t.is("LIKE"):
		return p.like(col, f)
	case t.is("BETWEEN"):
		lt := p.peek()
		lo, err := p.literal(f)
		if err != nil {
			return Predicate{}, err
		}
		if a := p.next(); !a.is("AND") {
			return Predicate{}, p.errAt(a, "unexpected %s: expected AND in BETWEEN", a)
		}
		ht := p.peek()
		hi, err := p.literal(f)
		if err != nil {
			return Predicate{}, err
		}
		if lo == nil || hi == nil {
			return Predicate{}, p.errAt(lt, "BETWEEN NULL is never true")
		}
		l, err := p.check(GreaterOrEqual(col, lo), f, lt)
		if err != nil {
			return Predicate{}, err
		}
		h, err := p.check(LessOrEqual(col, hi), f, ht)
		if err != nil {
			return Predicate{}, err
		}
		return And(l, h), nil
	}
	return Predicate{}, p.errAt(t, "unexpected %s after column %s: expected a comparison (= <> < <= > >=), IN, IS, LIKE or BETWEEN", t, col)
}

// column resolves a column token.
func (p *parser) column(t token) (string, spec.DataField, error) {
	i, err := resolve(t.text, p.fields)
	if err != nil {
		return "", spec.DataField{}, &SyntaxError{Pos: t.pos, Msg: err.Error()}
	}
	return p.fields[i].Name, p.fields[i], nil
}

// check binds a leaf to validate its literal against the column and
// returns it with the literal converted to the column's type.
func (p *parser) check(pr Predicate, f spec.DataField, at token) (Predicate, error) {
	if _, err := bindLeaf(pr.Op, 0, f.Type, pr.Values); err != nil {
		return Predicate{}, &SyntaxError{Pos: at.pos, Msg: fmt.Sprintf("column %s: %v", quoteIdent(f.Name), err)}
	}
	for i, v := range pr.Values {
		if v == nil {
			continue
		}
		if c, err := coerce(f.Type, v); err == nil && c.exact {
			pr.Values[i] = c.v
		}
	}
	return pr, nil
}

// literal reads one literal: nil for NULL.
func (p *parser) literal(f spec.DataField) (any, error) {
	t := p.next()
	if t.is("DATE") || t.is("TIME") || t.is("TIMESTAMP") {
		// A typed literal: the column types it anyway.
		t = p.next()
		if t.kind != tString {
			return nil, p.errAt(t, "unexpected %s: expected a quoted date or time", t)
		}
	}
	switch {
	case t.kind == tString:
		return t.text, nil
	case t.kind == tBinary:
		b, _ := hex.DecodeString(t.text)
		return b, nil
	case t.kind == tNumber:
		if f.Type.Root == spec.TypeFloat || f.Type.Root == spec.TypeDouble {
			if v, err := strconv.ParseFloat(t.text, 64); err == nil { // keeps -0
				return v, nil
			}
		}
		d, ok := parseDecimal(t.text)
		if !ok {
			return nil, p.errAt(t, "%s is not a number", t)
		}
		return d, nil
	case t.is("NULL"):
		return nil, nil
	case t.is("TRUE"):
		return true, nil
	case t.is("FALSE"):
		return false, nil
	}
	return nil, p.errAt(t, "unexpected %s: expected a literal (a number, 'string', TRUE, FALSE, NULL or X'hex')", t)
}

func (p *parser) inList(col string, f spec.DataField) (Predicate, error) {
	if t := p.next(); t.kind != tLParen {
		return Predicate{}, p.errAt(t, "unexpected %s: expected ( after IN", t)
	}
	var vals []any
	var at []token
	for {
		at = append(at, p.peek())
		v, err := p.literal(f)
		if err != nil {
			return Predicate{}, err
		}
		vals = append(vals, v)
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return Predicate{}, p.errAt(t, "unexpected %s: expected , or ) in the IN list", t)
		}
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		if _, err := p.check(Equal(col, v), f, at[i]); err != nil {
			return Predicate{}, err
		}
		if c, err := coerce(f.Type, v); err == nil && c.exact {
			vals[i] = c.v
		}
	}
	return In(col, vals...), nil
}

// like reads a LIKE pattern: only 'prefix%' (or a pattern with no
// wildcard, which is equality).
func (p *parser) like(col string, f spec.DataField) (Predicate, error) {
	t := p.next()
	if t.kind != tString {
		return Predicate{}, p.errAt(t, "unexpected %s: expected a quoted pattern after LIKE", t)
	}
	if f.Type.Root != spec.TypeVarChar && f.Type.Root != spec.TypeChar {
		return Predicate{}, p.errAt(t, "LIKE needs a string column; %s is %s", quoteIdent(col), f.Type)
	}
	var prefix strings.Builder
	s := t.text
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return Predicate{}, p.errAt(t, "LIKE pattern %s ends in an escape", t)
			}
			i++
			prefix.WriteByte(s[i])
		case '_':
			return Predicate{}, p.errAt(t, "LIKE pattern %s: only prefix patterns like 'abc%%' are supported (_ matches one character; escape it as \\_)", t)
		case '%':
			if i != len(s)-1 {
				return Predicate{}, p.errAt(t, "LIKE pattern %s: only prefix patterns like 'abc%%' are supported (%% must come last; escape a literal one as \\%%)", t)
			}
			return StartsWith(col, prefix.String()), nil
		default:
			prefix.WriteByte(c)
		}
	}
	return Equal(col, prefix.String()), nil // no wildcard
}
