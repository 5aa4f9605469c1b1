package textrow

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/stratalake/strata/spec"
)

// This file renders values: appendJSON for the JSON encoder and nested
// values everywhere, appendText for CSV cells, map keys and table cells.
// Values must have the Go type the value model gives their type; anything
// else is an error, never a panic.

func mismatch(v any, t *spec.DataType) error {
	return errorf("a %T cannot hold %s", v, typeName(t))
}

// appendJSON appends v, of type t, as JSON.
func appendJSON(dst []byte, v any, t *spec.DataType) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch t.Root {
	case spec.TypeBoolean, spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt:
		return appendText(dst, v, t)
	case spec.TypeFloat, spec.TypeDouble:
		f, bits, ok := floatOf(v, t)
		if !ok {
			return dst, mismatch(v, t)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, '"')
			dst = appendSpecialFloat(dst, f)
			return append(dst, '"'), nil
		}
		return appendFloat(dst, f, bits), nil
	case spec.TypeChar, spec.TypeVarChar:
		s, ok := v.(string)
		if !ok {
			return dst, mismatch(v, t)
		}
		return appendJSONString(dst, s), nil
	case spec.TypeDecimal, spec.TypeBinary, spec.TypeVarBinary, spec.TypeDate, spec.TypeTime,
		spec.TypeTimestamp, spec.TypeTimestampLTZ:
		// Their text forms never need escaping.
		var err error
		dst = append(dst, '"')
		dst, err = appendText(dst, v, t)
		return append(dst, '"'), err
	case spec.TypeArray, spec.TypeVector:
		a, ok := v.([]any)
		if !ok || t.Elem == nil {
			return dst, mismatch(v, t)
		}
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e, t.Elem); err != nil {
				return dst, inField(err, indexStep(i))
			}
		}
		return append(dst, ']'), nil
	case spec.TypeMap, spec.TypeMultiset:
		m, ok := v.(spec.Map)
		kt, vt := t.Key, t.Value
		if t.Root == spec.TypeMultiset {
			kt, vt = t.Elem, &multisetCount
		}
		if !ok || kt == nil || vt == nil {
			return dst, mismatch(v, t)
		}
		if len(m.Keys) != len(m.Values) {
			return dst, errorf("map has %d keys and %d values", len(m.Keys), len(m.Values))
		}
		dst = append(dst, '{')
		var key []byte
		for i, k := range m.Keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if k == nil {
				key = append(key[:0], "null"...)
			} else if key, err = appendText(key[:0], k, kt); err != nil {
				return dst, inField(err, indexStep(i))
			}
			dst = appendJSONString(dst, string(key))
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, m.Values[i], vt); err != nil {
				return dst, inField(err, keyStep(key))
			}
		}
		return append(dst, '}'), nil
	case spec.TypeRow:
		r, ok := v.(spec.Row)
		if !ok {
			return dst, mismatch(v, t)
		}
		if len(r) != len(t.Fields) {
			return dst, errorf("row has %d values for %d fields", len(r), len(t.Fields))
		}
		dst = append(dst, '{')
		for i := range t.Fields {
			f := &t.Fields[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f.Name)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, r[i], &f.Type); err != nil {
				return dst, inField(err, "."+f.Name)
			}
		}
		return append(dst, '}'), nil
	}
	return dst, errorf("unsupported type %s", typeName(t))
}

// appendText appends the text form of a non-null v: what a CSV cell or a
// map key holds. Nested values are JSON.
func appendText(dst []byte, v any, t *spec.DataType) ([]byte, error) {
	var ok bool
	switch t.Root {
	case spec.TypeBoolean:
		var b bool
		if b, ok = v.(bool); ok {
			return strconv.AppendBool(dst, b), nil
		}
	case spec.TypeTinyInt:
		var n int8
		if n, ok = v.(int8); ok {
			return strconv.AppendInt(dst, int64(n), 10), nil
		}
	case spec.TypeSmallInt:
		var n int16
		if n, ok = v.(int16); ok {
			return strconv.AppendInt(dst, int64(n), 10), nil
		}
	case spec.TypeInt:
		var n int32
		if n, ok = v.(int32); ok {
			return strconv.AppendInt(dst, int64(n), 10), nil
		}
	case spec.TypeBigInt:
		var n int64
		if n, ok = v.(int64); ok {
			return strconv.AppendInt(dst, n, 10), nil
		}
	case spec.TypeFloat, spec.TypeDouble:
		var f float64
		var bits int
		if f, bits, ok = floatOf(v, t); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return appendSpecialFloat(dst, f), nil
			}
			return appendFloat(dst, f, bits), nil
		}
	case spec.TypeDecimal:
		var d spec.Decimal
		if d, ok = v.(spec.Decimal); ok {
			return append(dst, d.String()...), nil
		}
	case spec.TypeChar, spec.TypeVarChar:
		var s string
		if s, ok = v.(string); ok {
			return append(dst, s...), nil
		}
	case spec.TypeBinary, spec.TypeVarBinary:
		var b []byte
		if b, ok = v.([]byte); ok {
			return base64.StdEncoding.AppendEncode(dst, b), nil
		}
	case spec.TypeDate:
		var d spec.Date
		if d, ok = v.(spec.Date); ok {
			return appendDate(dst, int64(d)), nil
		}
	case spec.TypeTime:
		var tm spec.Time
		if tm, ok = v.(spec.Time); ok {
			if dst, ok = appendTime(dst, tm); !ok {
				return dst, errorf("TIME of %d ms is outside the day", tm)
			}
			return dst, nil
		}
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		var ts spec.Timestamp
		if ts, ok = v.(spec.Timestamp); ok {
			if t.Root == spec.TypeTimestampLTZ {
				dst, ok = appendInstant(dst, ts, t.Precision)
			} else {
				dst, ok = appendTimestamp(dst, ts)
			}
			if !ok {
				return dst, errorf("timestamp nano-of-millisecond %d is out of range", ts.NanoOfMilli)
			}
			return dst, nil
		}
	default:
		return appendJSON(dst, v, t)
	}
	return dst, mismatch(v, t)
}

// appendKeyText is appendText for values this package built itself, which
// always fit their type; null renders as "null".
func appendKeyText(dst []byte, v any, t *spec.DataType) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	dst, _ = appendText(dst, v, t)
	return dst
}

func floatOf(v any, t *spec.DataType) (float64, int, bool) {
	if t.Root == spec.TypeFloat {
		f, ok := v.(float32)
		return float64(f), 32, ok
	}
	f, ok := v.(float64)
	return f, 64, ok
}

func appendSpecialFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case f > 0:
		return append(dst, "Infinity"...)
	}
	return append(dst, "-Infinity"...)
}

// appendFloat formats a finite float as encoding/json does: the shortest
// representation that reads back exactly, exponent form only for very small
// or large magnitudes.
func appendFloat(dst []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Unlike encoding/json it
// leaves <, > and & alone; like it, invalid UTF-8 becomes U+FFFD and U+2028
// and U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
