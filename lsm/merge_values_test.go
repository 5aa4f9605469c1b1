package lsm

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// Text form of values for the merge scripts (see merge_datadriven_test.go).

func isSpace(r rune) bool { return r == ' ' || r == '\t' }

// splitTop splits s at separator runes that are outside double-quoted
// strings and brackets, dropping empty pieces only for whitespace.
func splitTop(s string, sep func(rune) bool) ([]string, error) {
	var out []string
	depth, start := 0, 0
	inQuote, esc := false, false
	ws := sep(' ')
	flush := func(end int) {
		p := s[start:end]
		if !ws || strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimSpace(p))
		}
	}
	for i, r := range s {
		switch {
		case inQuote:
			switch {
			case esc:
				esc = false
			case r == '\\':
				esc = true
			case r == '"':
				inQuote = false
			}
		case r == '"':
			inQuote = true
		case r == '[' || r == '{' || r == '(':
			depth++
		case r == ']' || r == '}' || r == ')':
			depth--
		case depth == 0 && sep(r):
			flush(i)
			start = i + len(string(r))
		}
	}
	if inQuote || depth != 0 {
		return nil, fmt.Errorf("unbalanced quotes or brackets in %q", s)
	}
	flush(len(s))
	return out, nil
}

func parseValue(tok string, t spec.DataType) (any, error) {
	if tok == "null" {
		return nil, nil
	}
	bad := func(err error) (any, error) { return nil, fmt.Errorf("%q is not a %s: %v", tok, t, err) }
	switch t.Root {
	case spec.TypeBoolean:
		v, err := strconv.ParseBool(tok)
		if err != nil {
			return bad(err)
		}
		return v, nil
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt:
		size := map[spec.TypeRoot]int{spec.TypeTinyInt: 8, spec.TypeSmallInt: 16, spec.TypeInt: 32, spec.TypeBigInt: 64}[t.Root]
		v, err := strconv.ParseInt(tok, 10, size)
		if err != nil {
			return bad(err)
		}
		switch size {
		case 8:
			return int8(v), nil
		case 16:
			return int16(v), nil
		case 32:
			return int32(v), nil
		}
		return v, nil
	case spec.TypeFloat:
		v, err := strconv.ParseFloat(tok, 32)
		if err != nil {
			return bad(err)
		}
		return float32(v), nil
	case spec.TypeDouble:
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return bad(err)
		}
		return v, nil
	case spec.TypeDecimal:
		r, ok := new(big.Rat).SetString(tok)
		if !ok {
			return bad(fmt.Errorf("not a number"))
		}
		r.Mul(r, new(big.Rat).SetInt(pow10(t.Scale)))
		if !r.IsInt() {
			return bad(fmt.Errorf("more than %d decimals", t.Scale))
		}
		return spec.Decimal{Unscaled: new(big.Int).Set(r.Num()), Scale: t.Scale}, nil
	case spec.TypeChar, spec.TypeVarChar:
		if strings.HasPrefix(tok, `"`) {
			s, err := strconv.Unquote(tok)
			if err != nil {
				return bad(err)
			}
			return s, nil
		}
		return tok, nil
	case spec.TypeBinary, spec.TypeVarBinary:
		b, err := hex.DecodeString(strings.TrimPrefix(tok, "0x"))
		if err != nil {
			return bad(err)
		}
		return b, nil
	case spec.TypeDate:
		d, err := time.Parse("2006-01-02", tok)
		if err != nil {
			return bad(err)
		}
		return spec.Date(d.Unix() / 86400), nil
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, err := time.Parse("2006-01-02T15:04:05.999999999", tok)
		if err != nil {
			return bad(err)
		}
		return spec.TimestampFromTime(ts), nil
	case spec.TypeArray:
		parts, err := splitInner(tok, "[]")
		if err != nil {
			return bad(err)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			if out[i], err = parseValue(p, *t.Elem); err != nil {
				return nil, err
			}
		}
		return out, nil
	case spec.TypeMap:
		parts, err := splitInner(tok, "{}")
		if err != nil {
			return bad(err)
		}
		m := spec.Map{Keys: []any{}, Values: []any{}}
		for _, p := range parts {
			kv, err := splitTop(p, func(r rune) bool { return r == ':' })
			if err != nil || len(kv) != 2 {
				return bad(fmt.Errorf("entry %q is not key:value", p))
			}
			k, err := parseValue(kv[0], *t.Key)
			if err != nil {
				return nil, err
			}
			v, err := parseValue(kv[1], *t.Value)
			if err != nil {
				return nil, err
			}
			m.Keys, m.Values = append(m.Keys, k), append(m.Values, v)
		}
		return m, nil
	case spec.TypeRow:
		parts, err := splitInner(tok, "()")
		if err != nil {
			return bad(err)
		}
		if len(parts) != len(t.Fields) {
			return bad(fmt.Errorf("want %d fields", len(t.Fields)))
		}
		row := make(spec.Row, len(parts))
		for i, p := range parts {
			if row[i], err = parseValue(p, t.Fields[i].Type); err != nil {
				return nil, err
			}
		}
		return row, nil
	}
	return bad(fmt.Errorf("type not supported by the scripts"))
}

// splitInner strips the brackets of a composite value and splits its
// elements at top-level commas.
func splitInner(tok, brackets string) ([]string, error) {
	if len(tok) < 2 || tok[0] != brackets[0] || tok[len(tok)-1] != brackets[1] {
		return nil, fmt.Errorf("want %c...%c", brackets[0], brackets[1])
	}
	inner := tok[1 : len(tok)-1]
	if strings.TrimSpace(inner) == "" {
		return nil, nil
	}
	return splitTop(inner, func(r rune) bool { return r == ',' })
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == "" || x == "null" || strings.ContainsAny(x, " \t\r\n\"\\[]{}(),:@") || !strconv.IsPrint([]rune(x)[0]) ||
			strings.IndexFunc(x, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
			return strconv.Quote(x)
		}
		return x
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case spec.Row:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "(" + strings.Join(parts, ",") + ")"
	case spec.Map:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = formatValue(x.Keys[i]) + ":" + formatValue(x.Values[i])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func formatFloat(f float64, size int) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Sprint(f)
	}
	if f == 0 && math.Signbit(f) {
		return "-0"
	}
	return strconv.FormatFloat(f, 'g', -1, size)
}
