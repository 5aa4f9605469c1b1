package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The SQL type grammar accepted here is Paimon's DataTypeJsonParser grammar
// (keywords are case-insensitive; CHAR/VARCHAR/BINARY/VARBINARY default to
// length 1, DECIMAL to (10, 0), TIME to precision 0, TIMESTAMP and
// TIMESTAMP_LTZ to 6; INTEGER, NUMERIC, DEC, DOUBLE PRECISION, "... WITHOUT
// TIME ZONE", an explicit NULL and the suffix forms "INT ARRAY" and
// "INT MULTISET" are accepted) extended, for ParseType and ParseColumns only,
// with the bracketed composite forms ARRAY<T>, MULTISET<T>, MAP<K, V> and
// ROW<name T ['comment'], ...> (ROW(...) too). Type strings inside schema JSON
// keep Java's restriction: composites there must be JSON objects.

// maxTypeDepth bounds type nesting so hostile input cannot exhaust the
// stack; real schemas nest a handful of levels.
const maxTypeDepth = 100

// ParseError reports a malformed type or column list. It unwraps to
// ErrInvalidType, or to ErrUnsupportedType for a type Strata does not know.
type ParseError struct {
	Input string // the text being parsed
	Pos   int    // 1-based character position of the offending token
	Msg   string
	Err   error // ErrInvalidType or ErrUnsupportedType
}

// Error renders the message with its position and the input.
func (e *ParseError) Error() string {
	return fmt.Sprintf("spec: %s at position %d in %q", e.Msg, e.Pos, e.Input)
}

// Unwrap returns the sentinel the error belongs to.
func (e *ParseError) Unwrap() error { return e.Err }

type sqlTokKind uint8

const (
	tokEOF sqlTokKind = iota
	tokLT
	tokGT
	tokLParen
	tokRParen
	tokComma
	tokDot
	tokString // 'text' with '' as an escaped quote
	tokQuoted // `name` with `` as an escaped backtick
	tokInt
	tokWord // keyword or plain identifier
)

type sqlTok struct {
	kind  sqlTokKind
	text  string // unescaped text for strings, identifiers and words
	upper string // upper-cased text of a word
	pos   int    // byte offset of the token's first character
}

func (t sqlTok) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return fmt.Sprintf("string '%s'", t.text)
	case tokQuoted:
		return fmt.Sprintf("identifier `%s`", t.text)
	case tokInt:
		return "number " + t.text
	case tokWord:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("'%s'", t.text)
}

var sqlPunctuation = map[rune]sqlTokKind{'<': tokLT, '>': tokGT, '(': tokLParen, ')': tokRParen, ',': tokComma, '.': tokDot}

func isSQLDelimiter(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("<>(),.'`", r)
}

type sqlParser struct {
	src       string
	toks      []sqlTok
	i         int
	composite bool // whether ARRAY<..>, MAP<..>, MULTISET<..> and ROW<..> are allowed
}

func (p *sqlParser) errAt(pos int, sentinel error, format string, args ...any) error {
	return &ParseError{
		Input: p.src,
		Pos:   utf8.RuneCountInString(p.src[:min(pos, len(p.src))]) + 1,
		Msg:   fmt.Sprintf(format, args...),
		Err:   sentinel,
	}
}

func (p *sqlParser) errTok(t sqlTok, format string, args ...any) error {
	return p.errAt(t.pos, ErrInvalidType, format, args...)
}

func newSQLParser(src string, composite bool) (*sqlParser, error) {
	p := &sqlParser{src: src, composite: composite}
	// Names end up in JSON, which cannot carry invalid UTF-8.
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, p.errAt(i, ErrInvalidType, "invalid UTF-8")
	}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case sqlPunctuation[r] != 0:
			p.toks = append(p.toks, sqlTok{kind: sqlPunctuation[r], text: string(r), pos: i})
			i++
		case r == '\'' || r == '`':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == byte(r) {
					if j+1 < len(src) && src[j+1] == byte(r) {
						b.WriteByte(byte(r))
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				what := "string literal"
				if r == '`' {
					what = "quoted identifier"
				}
				return nil, p.errAt(i, ErrInvalidType, "unterminated %s", what)
			}
			kind := tokString
			if r == '`' {
				kind = tokQuoted
			}
			p.toks = append(p.toks, sqlTok{kind: kind, text: b.String(), pos: i})
			i = j
		case r >= '0' && r <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			p.toks = append(p.toks, sqlTok{kind: tokInt, text: src[i:j], pos: i})
			i = j
		default:
			j := i
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if isSQLDelimiter(r2) {
					break
				}
				j += s2
			}
			w := src[i:j]
			p.toks = append(p.toks, sqlTok{kind: tokWord, text: w, upper: strings.ToUpper(w), pos: i})
			i = j
		}
	}
	p.toks = append(p.toks, sqlTok{kind: tokEOF, pos: len(src)})
	return p, nil
}

func (p *sqlParser) peek() sqlTok { return p.toks[p.i] }

func (p *sqlParser) peekAt(k int) sqlTok {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *sqlParser) next() sqlTok {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *sqlParser) isWord(k int, upper string) bool {
	t := p.peekAt(k)
	return t.kind == tokWord && t.upper == upper
}

func (p *sqlParser) expect(kind sqlTokKind, what string) (sqlTok, error) {
	t := p.next()
	if t.kind != kind {
		return t, p.errTok(t, "expected %s but found %s", what, t.describe())
	}
	return t, nil
}

func (p *sqlParser) expectWord(upper string) error {
	t := p.next()
	if t.kind != tokWord || t.upper != upper {
		return p.errTok(t, "expected %s but found %s", upper, t.describe())
	}
	return nil
}

func (p *sqlParser) expectEOF() error {
	if t := p.peek(); t.kind != tokEOF {
		return p.errTok(t, "unexpected %s", t.describe())
	}
	return nil
}

// integer reads an int literal that must fit a Java int.
func (p *sqlParser) integer(what string) (int, sqlTok, error) {
	t, err := p.expect(tokInt, what)
	if err != nil {
		return 0, t, err
	}
	v, err := strconv.ParseInt(t.text, 10, 32)
	if err != nil {
		return 0, t, p.errTok(t, "invalid integer value %s", t.text)
	}
	return int(v), t, nil
}

// optParam reads an optional "(n)".
func (p *sqlParser) optParam(def int, what string) (int, sqlTok, error) {
	if p.peek().kind != tokLParen {
		return def, p.peek(), nil
	}
	p.next()
	v, t, err := p.integer(what)
	if err != nil {
		return 0, t, err
	}
	if _, err := p.expect(tokRParen, "')'"); err != nil {
		return 0, t, err
	}
	return v, t, nil
}

// nullability reads an optional "NOT NULL" or "NULL" and returns whether the
// type admits nulls.
func (p *sqlParser) nullability() bool {
	if p.isWord(0, "NOT") && p.isWord(1, "NULL") {
		p.i += 2
		return false
	}
	if p.isWord(0, "NULL") {
		p.i++
	}
	return true
}

func (p *sqlParser) typeWithNullability(depth int) (DataType, error) {
	if depth > maxTypeDepth {
		return DataType{}, p.errTok(p.peek(), "type nested deeper than %d levels", maxTypeDepth)
	}
	t, err := p.baseType(depth)
	if err != nil {
		return DataType{}, err
	}
	t.Nullable = p.nullability()
	// Suffix notation, one level only as in Java: "INT ARRAY", "INT MULTISET".
	if p.isWord(0, "ARRAY") || p.isWord(0, "MULTISET") {
		if depth+1 > maxTypeDepth {
			return DataType{}, p.errTok(p.peek(), "type nested deeper than %d levels", maxTypeDepth)
		}
		root := TypeArray
		if p.next().upper == "MULTISET" {
			root = TypeMultiset
		}
		elem := t
		t = DataType{Root: root, Elem: &elem}
		t.Nullable = p.nullability()
	}
	return t, nil
}

// unsupportedTypeNames are types Java knows but Strata does not.
var unsupportedTypeNames = map[string]bool{
	"VARIANT": true, "BLOB": true, "GEOMETRY": true, "GEOGRAPHY": true,
	"INTERVAL": true, "RAW": true, "LEGACY": true,
}

func (p *sqlParser) baseType(depth int) (DataType, error) {
	tok := p.next()
	if tok.kind != tokWord {
		return DataType{}, p.errTok(tok, "expected a type but found %s", tok.describe())
	}
	switch tok.upper {
	case "BOOLEAN":
		return DataType{Root: TypeBoolean}, nil
	case "TINYINT":
		return DataType{Root: TypeTinyInt}, nil
	case "SMALLINT":
		return DataType{Root: TypeSmallInt}, nil
	case "INT", "INTEGER":
		return DataType{Root: TypeInt}, nil
	case "BIGINT":
		return DataType{Root: TypeBigInt}, nil
	case "FLOAT":
		return DataType{Root: TypeFloat}, nil
	case "DOUBLE":
		if p.isWord(0, "PRECISION") {
			p.next()
		}
		return DataType{Root: TypeDouble}, nil
	case "DATE":
		return DataType{Root: TypeDate}, nil
	case "STRING":
		return DataType{Root: TypeVarChar, Length: MaxVarLength}, nil
	case "BYTES":
		return DataType{Root: TypeVarBinary, Length: MaxVarLength}, nil
	case "CHAR", "VARCHAR", "BINARY", "VARBINARY":
		n, at, err := p.optParam(1, "a length")
		if err != nil {
			return DataType{}, err
		}
		root := map[string]TypeRoot{"CHAR": TypeChar, "VARCHAR": TypeVarChar, "BINARY": TypeBinary, "VARBINARY": TypeVarBinary}[tok.upper]
		t := DataType{Root: root, Length: n}
		return t, p.checkType(t, at)
	case "DECIMAL", "NUMERIC", "DEC":
		t := DataType{Root: TypeDecimal, Precision: 10}
		at := p.peek()
		if at.kind == tokLParen {
			p.next()
			var err error
			if t.Precision, at, err = p.integer("a precision"); err != nil {
				return DataType{}, err
			}
			if p.peek().kind == tokComma {
				p.next()
				if t.Scale, at, err = p.integer("a scale"); err != nil {
					return DataType{}, err
				}
			}
			if _, err := p.expect(tokRParen, "')'"); err != nil {
				return DataType{}, err
			}
		}
		return t, p.checkType(t, at)
	case "TIME":
		prec, at, err := p.optParam(0, "a precision")
		if err != nil {
			return DataType{}, err
		}
		if p.isWord(0, "WITHOUT") {
			if err := p.timeZoneSuffix(); err != nil {
				return DataType{}, err
			}
		}
		t := DataType{Root: TypeTime, Precision: prec}
		return t, p.checkType(t, at)
	case "TIMESTAMP":
		prec, at, err := p.optParam(6, "a precision")
		if err != nil {
			return DataType{}, err
		}
		t := DataType{Root: TypeTimestamp, Precision: prec}
		switch {
		case p.isWord(0, "WITHOUT"):
			if err := p.timeZoneSuffix(); err != nil {
				return DataType{}, err
			}
		case p.isWord(0, "WITH"):
			p.next()
			// Java reads a bare "WITH" as a plain TIMESTAMP; only
			// "WITH LOCAL TIME ZONE" changes the type.
			if p.isWord(0, "LOCAL") {
				p.next()
				if err := p.expectWord("TIME"); err != nil {
					return DataType{}, err
				}
				if err := p.expectWord("ZONE"); err != nil {
					return DataType{}, err
				}
				t.Root = TypeTimestampLTZ
			}
		}
		return t, p.checkType(t, at)
	case "TIMESTAMP_LTZ":
		prec, at, err := p.optParam(6, "a precision")
		if err != nil {
			return DataType{}, err
		}
		t := DataType{Root: TypeTimestampLTZ, Precision: prec}
		return t, p.checkType(t, at)
	case "VECTOR":
		if _, err := p.expect(tokLT, "'<'"); err != nil {
			return DataType{}, err
		}
		elemTok := p.peek()
		elem, err := p.typeWithNullability(depth + 1)
		if err != nil {
			return DataType{}, err
		}
		if _, err := p.expect(tokComma, "','"); err != nil {
			return DataType{}, err
		}
		n, at, err := p.integer("a vector length")
		if err != nil {
			return DataType{}, err
		}
		if _, err := p.expect(tokGT, "'>'"); err != nil {
			return DataType{}, err
		}
		if !validVectorElement(elem.Root) {
			return DataType{}, p.errTok(elemTok, "invalid vector element type %s", elem)
		}
		t := DataType{Root: TypeVector, Elem: &elem, Length: n}
		return t, p.checkType(t, at)
	case "ARRAY", "MULTISET", "MAP", "ROW":
		if !p.composite {
			return DataType{}, p.errTok(tok, "%s must be written as a JSON object, not a type string", tok.upper)
		}
		return p.compositeType(tok, depth)
	}
	if unsupportedTypeNames[tok.upper] {
		return DataType{}, p.errAt(tok.pos, ErrUnsupportedType, "unsupported type %s", tok.upper)
	}
	return DataType{}, p.errAt(tok.pos, ErrUnsupportedType, "unknown type %s", tok.describe())
}

// timeZoneSuffix consumes "WITHOUT TIME ZONE".
func (p *sqlParser) timeZoneSuffix() error {
	for _, w := range []string{"WITHOUT", "TIME", "ZONE"} {
		if err := p.expectWord(w); err != nil {
			return err
		}
	}
	return nil
}

func (p *sqlParser) checkType(t DataType, at sqlTok) error {
	if err := checkTypeParams(t); err != nil {
		return p.errTok(at, "%s", err.Error())
	}
	return nil
}

func (p *sqlParser) compositeType(tok sqlTok, depth int) (DataType, error) {
	open := p.next()
	closeKind := tokGT
	switch {
	case open.kind == tokLT:
	case open.kind == tokLParen && tok.upper == "ROW":
		closeKind = tokRParen
	default:
		return DataType{}, p.errTok(open, "expected '<' after %s but found %s", tok.upper, open.describe())
	}
	closeWhat := map[sqlTokKind]string{tokGT: "'>'", tokRParen: "')'"}[closeKind]
	var t DataType
	switch tok.upper {
	case "ARRAY", "MULTISET":
		elem, err := p.typeWithNullability(depth + 1)
		if err != nil {
			return DataType{}, err
		}
		t = DataType{Root: TypeArray, Elem: &elem}
		if tok.upper == "MULTISET" {
			t.Root = TypeMultiset
		}
	case "MAP":
		k, err := p.typeWithNullability(depth + 1)
		if err != nil {
			return DataType{}, err
		}
		if _, err := p.expect(tokComma, "','"); err != nil {
			return DataType{}, err
		}
		v, err := p.typeWithNullability(depth + 1)
		if err != nil {
			return DataType{}, err
		}
		t = DataType{Root: TypeMap, Key: &k, Value: &v}
	case "ROW":
		t = DataType{Root: TypeRow, Fields: []DataField{}}
		if p.peek().kind == closeKind {
			break
		}
		seen := map[string]bool{}
		for {
			f, nameTok, err := p.fieldDef(depth+1, true)
			if err != nil {
				return DataType{}, err
			}
			if seen[f.Name] {
				return DataType{}, p.errTok(nameTok, "duplicate field name %q", f.Name)
			}
			seen[f.Name] = true
			t.Fields = append(t.Fields, f)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if _, err := p.expect(closeKind, closeWhat); err != nil {
		return DataType{}, err
	}
	return t, nil
}

// fieldDef reads "name type [COMMENT 'text']"; inRow also allows the Flink
// form "name type 'text'".
func (p *sqlParser) fieldDef(depth int, inRow bool) (DataField, sqlTok, error) {
	nameTok := p.next()
	if nameTok.kind != tokWord && nameTok.kind != tokQuoted {
		return DataField{}, nameTok, p.errTok(nameTok, "expected a column name but found %s", nameTok.describe())
	}
	if strings.TrimSpace(nameTok.text) == "" {
		return DataField{}, nameTok, p.errTok(nameTok, "a field name must not be blank")
	}
	typ, err := p.typeWithNullability(depth)
	if err != nil {
		return DataField{}, nameTok, err
	}
	f := DataField{Name: nameTok.text, Type: typ}
	switch {
	case p.isWord(0, "COMMENT"):
		p.next()
		s, err := p.expect(tokString, "a quoted comment")
		if err != nil {
			return DataField{}, nameTok, err
		}
		f.Description = &s.text
	case inRow && p.peek().kind == tokString:
		s := p.next()
		f.Description = &s.text
	}
	return f, nameTok, nil
}

// ParseType parses one SQL type such as "MAP<STRING, ARRAY<INT NOT NULL>>" or
// "DECIMAL(10, 2) NOT NULL". Fields of nested ROW types get ids in the order
// Paimon's ReassignFieldId gives them, starting at 0.
func ParseType(s string) (DataType, error) {
	p, err := newSQLParser(s, true)
	if err != nil {
		return DataType{}, err
	}
	t, err := p.typeWithNullability(0)
	if err != nil {
		return DataType{}, err
	}
	if err := p.expectEOF(); err != nil {
		return DataType{}, err
	}
	next := -1
	return reassignFieldIDs(t, &next), nil
}

// parseAtomicType parses a type string found in JSON at the given nesting
// depth, where Java accepts only non-composite types (plus VECTOR and the
// suffix ARRAY/MULTISET forms).
func parseAtomicType(s string, depth int) (DataType, error) {
	p, err := newSQLParser(s, false)
	if err != nil {
		return DataType{}, err
	}
	t, err := p.typeWithNullability(depth)
	if err != nil {
		return DataType{}, err
	}
	return t, p.expectEOF()
}

// ParseColumns parses a comma-separated column list such as
// "id INT NOT NULL, name STRING COMMENT 'user name', r ROW<a INT, b STRING>".
// Names may be quoted with backticks (a doubled backtick escapes one). Field ids are assigned
// as Paimon's Schema.Builder does: each top-level column takes the next id
// before the fields nested in its type are numbered. HighestFieldID gives the
// value a schema records for the result.
func ParseColumns(s string) ([]DataField, error) {
	p, err := newSQLParser(s, true)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokEOF {
		return nil, p.errTok(p.peek(), "expected a column definition")
	}
	var fields []DataField
	seen := map[string]bool{}
	next := -1
	for {
		f, nameTok, err := p.fieldDef(0, false)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, p.errTok(nameTok, "duplicate column name %q", f.Name)
		}
		seen[f.Name] = true
		next++
		f.ID = next
		f.Type = reassignFieldIDs(f.Type, &next)
		fields = append(fields, f)
		t := p.next()
		if t.kind == tokEOF {
			return fields, nil
		}
		if t.kind != tokComma {
			return nil, p.errTok(t, "expected ',' or end of input but found %s", t.describe())
		}
	}
}

// reassignFieldIDs renumbers the ROW fields nested in t from *next on, in the
// order of Paimon's ReassignFieldId: a nested field's own type is numbered
// before the field takes its id (Java evaluates the field's type argument
// before RowType.Builder.field increments the counter).
func reassignFieldIDs(t DataType, next *int) DataType {
	switch t.Root {
	case TypeArray, TypeMultiset, TypeVector:
		if t.Elem != nil {
			e := reassignFieldIDs(*t.Elem, next)
			t.Elem = &e
		}
	case TypeMap:
		if t.Key != nil {
			k := reassignFieldIDs(*t.Key, next)
			t.Key = &k
		}
		if t.Value != nil {
			v := reassignFieldIDs(*t.Value, next)
			t.Value = &v
		}
	case TypeRow:
		fields := make([]DataField, len(t.Fields))
		for i, f := range t.Fields {
			f.Type = reassignFieldIDs(f.Type, next)
			*next++
			f.ID = *next
			fields[i] = f
		}
		t.Fields = fields
	}
	return t
}

// systemFieldIDStart is where Paimon's reserved field ids begin
// (Integer.MAX_VALUE / 2); they never count towards highestFieldId.
const systemFieldIDStart = math.MaxInt32 / 2

// HighestFieldID returns the largest field id among fields and the ROW fields
// nested in their types, ignoring Paimon's system ids, or -1 when there is
// none (Java's RowType.currentHighestFieldId).
func HighestFieldID(fields []DataField) int {
	highest := -1
	var visit func(fs []DataField)
	var visitType func(t *DataType)
	visitType = func(t *DataType) {
		if t == nil {
			return
		}
		visit(t.Fields)
		visitType(t.Elem)
		visitType(t.Key)
		visitType(t.Value)
	}
	visit = func(fs []DataField) {
		for i := range fs {
			if id := fs[i].ID; id < systemFieldIDStart && id > highest {
				highest = id
			}
			visitType(&fs[i].Type)
		}
	}
	visit(fields)
	return highest
}
