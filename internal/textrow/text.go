package textrow

import (
	"encoding/base64"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stratalake/strata/spec"
)

// This file parses the text form of values: CSV cells, map keys and JSON
// strings standing for non-string types. Parsers work on []byte so that the
// hot path does not allocate strings it throws away.

// parseText parses s as a value of type t. Null is the caller's business.
func parseText(s []byte, t *spec.DataType) (any, error) {
	switch t.Root {
	case spec.TypeBoolean:
		b, err := parseBool(s)
		if err != nil {
			return nil, err
		}
		return b, nil
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt:
		return parseInteger(s, t)
	case spec.TypeFloat, spec.TypeDouble:
		return parseFloat(s, t)
	case spec.TypeDecimal:
		return parseDecimal(s, t)
	case spec.TypeChar, spec.TypeVarChar:
		if !utf8.Valid(s) {
			return nil, errorf("invalid UTF-8 in %s value", typeName(t))
		}
		return checkString(string(s), t)
	case spec.TypeBinary, spec.TypeVarBinary:
		return parseBase64(s, t)
	case spec.TypeDate:
		d, err := parseDate(s)
		if err != nil {
			return nil, err
		}
		return d, nil
	case spec.TypeTime:
		tm, err := parseTime(s, t.Precision)
		if err != nil {
			return nil, err
		}
		return tm, nil
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, err := parseTimestamp(s, t)
		if err != nil {
			return nil, err
		}
		return ts, nil
	case spec.TypeArray, spec.TypeVector, spec.TypeMap, spec.TypeMultiset, spec.TypeRow:
		p := jsonParser{b: s}
		v, err := p.value(t)
		if err != nil {
			return nil, err
		}
		if p.skipWS(); p.i < len(p.b) {
			return nil, errorf("unexpected %s after %s value", p.what(), typeName(t))
		}
		return v, nil
	}
	return nil, errorf("unsupported type %s", typeName(t))
}

func parseBool(s []byte) (bool, error) {
	b, err := strconv.ParseBool(string(s))
	if err != nil {
		return false, errorf("invalid BOOLEAN %s", quoteFor(s))
	}
	return b, nil
}

// typeName renders t for messages, without NOT NULL.
func typeName(t *spec.DataType) string {
	return strings.TrimSuffix(t.String(), " NOT NULL")
}

// quoteFor quotes input for an error message, eliding the middle of long
// values.
func quoteFor(s []byte) string {
	if len(s) > 40 {
		return strconv.Quote(string(s[:20]) + "…" + string(s[len(s)-10:]))
	}
	return strconv.Quote(string(s))
}

// checkString enforces a CHAR/VARCHAR length, counted in characters.
func checkString(s string, t *spec.DataType) (any, error) {
	if t.Length > 0 && t.Length < spec.MaxVarLength && len(s) > t.Length &&
		utf8.RuneCountInString(s) > t.Length {
		return nil, errorf("string of %d characters is longer than %s", utf8.RuneCountInString(s), typeName(t))
	}
	return s, nil
}

// checkLength is checkString for bytes.
func checkLength(s []byte, t *spec.DataType) error {
	if t.Length > 0 && t.Length < spec.MaxVarLength && len(s) > t.Length &&
		utf8.RuneCount(s) > t.Length {
		return errorf("string of %d characters is longer than %s", utf8.RuneCount(s), typeName(t))
	}
	return nil
}

func parseBase64(s []byte, t *spec.DataType) (any, error) {
	b, err := appendBase64(nil, s, t)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// appendBase64 appends the bytes s encodes to dst[:0]; dst's capacity is
// reused when it suffices.
func appendBase64(dst, s []byte, t *spec.DataType) ([]byte, error) {
	// RawStdEncoding's bound is the larger and fits either decoding.
	if need := base64.RawStdEncoding.DecodedLen(len(s)); cap(dst) < need {
		dst = make([]byte, need)
	}
	dst = dst[:cap(dst)]
	n, err := base64.StdEncoding.Decode(dst, s)
	if err != nil {
		// Accept unpadded input too.
		if n, err = base64.RawStdEncoding.Decode(dst, s); err != nil {
			return nil, errorf("invalid base64 for %s: %s", typeName(t), quoteFor(s))
		}
	}
	if t.Length > 0 && t.Length < spec.MaxVarLength && n > t.Length {
		return nil, errorf("%d bytes are longer than %s", n, typeName(t))
	}
	return dst[:n], nil
}

// number is a decimal literal split into its parts: the value is
// ±(intPart frac) × 10^(exp-len(frac)).
type number struct {
	neg           bool
	intPart, frac []byte
	exp           int
}

// maxExp bounds exponents so that no input makes us build huge powers of 10.
const maxExp = 100000

// scanNumber parses [+-]?digits[.digits]([eE][+-]?digits)?, where either
// side of the point may be empty but not both.
func scanNumber(s []byte) (number, bool) {
	var n number
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		n.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n.intPart = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		n.frac = s[start:i]
	}
	if len(n.intPart)+len(n.frac) == 0 {
		return n, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			neg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return n, false
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
			if n.exp <= maxExp {
				n.exp = n.exp*10 + int(s[i]-'0')
			}
		}
		if neg {
			n.exp = -n.exp
		}
	}
	return n, i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scaled returns the digits of n at the given scale (value × 10^scale) with
// leading zeros removed, plus the number of zeros to append. It fails with
// lossy set when non-zero digits would be cut off.
func (n number) scaled(scale int) (digits []byte, zeros int, lossy bool) {
	var buf []byte
	if len(n.frac) == 0 {
		buf = n.intPart
	} else {
		buf = make([]byte, 0, len(n.intPart)+len(n.frac))
		buf = append(append(buf, n.intPart...), n.frac...)
	}
	for len(buf) > 0 && buf[0] == '0' {
		buf = buf[1:]
	}
	if len(buf) == 0 {
		return nil, 0, false
	}
	// buf × 10^(exp - len(frac)) × 10^scale = buf × 10^shift
	shift := n.exp - len(n.frac) + scale
	if shift >= 0 {
		return buf, shift, false
	}
	cut := -shift
	if cut >= len(buf) { // buf[0] is not '0', so something is lost
		return nil, 0, true
	}
	for _, c := range buf[len(buf)-cut:] {
		if c != '0' {
			return nil, 0, true
		}
	}
	return buf[:len(buf)-cut], 0, false
}

// integerRange gives the bounds of each integer type.
func integerRange(root spec.TypeRoot) (lo, hi int64) {
	switch root {
	case spec.TypeTinyInt:
		return math.MinInt8, math.MaxInt8
	case spec.TypeSmallInt:
		return math.MinInt16, math.MaxInt16
	case spec.TypeInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// boxInteger converts v to the Go type of t's root.
func boxInteger(v int64, root spec.TypeRoot) any {
	switch root {
	case spec.TypeTinyInt:
		return int8(v)
	case spec.TypeSmallInt:
		return int16(v)
	case spec.TypeInt:
		return int32(v)
	}
	return v
}

// parseInteger parses an integral number, in any notation whose value is an
// integer, and checks it against t's range.
func parseInteger(s []byte, t *spec.DataType) (any, error) {
	v, err := parseInt64(s, t)
	if err != nil {
		return nil, err
	}
	return boxInteger(v, t.Root), nil
}

// parseInt64 is parseInteger without the boxing, for the batch decoder.
func parseInt64(s []byte, t *spec.DataType) (int64, error) {
	lo, hi := integerRange(t.Root)
	// Fast path: plain digits that cannot overflow int64.
	if len(s) > 0 && len(s) <= 18 {
		i, neg := 0, false
		if s[0] == '-' || s[0] == '+' {
			neg, i = s[0] == '-', 1
		}
		if i < len(s) {
			var v int64
			for ; i < len(s) && isDigit(s[i]); i++ {
				v = v*10 + int64(s[i]-'0')
			}
			if i == len(s) {
				if neg {
					v = -v
				}
				if v < lo || v > hi {
					return 0, errorf("%s is out of range for %s", s, typeName(t))
				}
				return v, nil
			}
		}
	}
	n, ok := scanNumber(s)
	if !ok {
		return 0, errorf("invalid %s %s", typeName(t), quoteFor(s))
	}
	digits, zeros, lossy := n.scaled(0)
	if lossy {
		return 0, errorf("%s is not an integer (%s)", s, typeName(t))
	}
	if len(digits)+zeros > 19 {
		return 0, errorf("%s is out of range for %s", quoteFor(s), typeName(t))
	}
	var u uint64
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	for ; zeros > 0; zeros-- {
		u *= 10
	}
	// 19 digits fit in a uint64; the checks below keep the sign right.
	var v int64
	switch {
	case !n.neg && u <= uint64(hi):
		v = int64(u)
	case n.neg && u <= uint64(-(lo+1))+1:
		v = -int64(u-1) - 1
	default:
		return 0, errorf("%s is out of range for %s", quoteFor(s), typeName(t))
	}
	return v, nil
}

func parseFloat(s []byte, t *spec.DataType) (any, error) {
	f, err := parseFloat64(s, t)
	switch {
	case err != nil:
		return nil, err
	case t.Root == spec.TypeFloat:
		return float32(f), nil
	}
	return f, nil
}

// parseFloat64 is parseFloat without the boxing: a FLOAT comes back
// rounded to float32 precision, as a float64.
func parseFloat64(s []byte, t *spec.DataType) (float64, error) {
	bits := 64
	if t.Root == spec.TypeFloat {
		bits = 32
	}
	var f float64
	switch string(s) {
	case "NaN":
		f = math.NaN()
	case "Infinity", "+Infinity":
		f = math.Inf(1)
	case "-Infinity":
		f = math.Inf(-1)
	default:
		// strconv accepts more (hex, underscores, "inf"); keep to decimal.
		if _, ok := scanNumber(s); !ok {
			return 0, errorf("invalid %s %s", typeName(t), quoteFor(s))
		}
		var err error
		if f, err = strconv.ParseFloat(string(s), bits); err != nil {
			return 0, errorf("%s is out of range for %s", quoteFor(s), typeName(t))
		}
	}
	return f, nil
}

// parseDecimal parses s exactly at t's scale and checks its precision.
func parseDecimal(s []byte, t *spec.DataType) (any, error) {
	v, small, err := parseDecimal64(s, t)
	switch {
	case err != nil:
		return nil, err
	case small:
		return spec.Decimal{Unscaled: big.NewInt(v), Scale: t.Scale}, nil
	}
	n, _ := scanNumber(s)
	digits, zeros, lossy := n.scaled(t.Scale)
	if lossy {
		return nil, errorf("%s has more than %d fractional digits (%s)", quoteFor(s), t.Scale, typeName(t))
	}
	if t.Precision > 0 && len(digits)+zeros > t.Precision {
		return nil, errorf("%s does not fit %s", quoteFor(s), typeName(t))
	}
	u := new(big.Int)
	u.SetString(string(digits), 10)
	if zeros > 0 {
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(zeros)), nil))
	}
	if n.neg {
		u.Neg(u)
	}
	return spec.Decimal{Unscaled: u, Scale: t.Scale}, nil
}

// parseDecimal64 parses s at t's scale as parseDecimal does, without
// allocating: it returns the unscaled value when it has at most 18 digits
// (small), and small false for a valid value that needs more, which
// parseDecimal then builds as a big.Int.
func parseDecimal64(s []byte, t *spec.DataType) (v int64, small bool, err error) {
	n, ok := scanNumber(s)
	if !ok {
		return 0, false, errorf("invalid %s %s", typeName(t), quoteFor(s))
	}
	// The digits are intPart then frac, read as one string; lead counts
	// the leading zeros.
	all := len(n.intPart) + len(n.frac)
	digit := func(i int) byte {
		if i < len(n.intPart) {
			return n.intPart[i]
		}
		return n.frac[i-len(n.intPart)]
	}
	lead := 0
	for lead < all && digit(lead) == '0' {
		lead++
	}
	sig := all - lead
	// value × 10^scale = digits × 10^shift
	shift := n.exp - len(n.frac) + t.Scale
	end := all // digits kept: [lead, end)
	if sig > 0 && shift < 0 {
		cut := -shift
		if cut >= sig {
			return 0, false, errorf("%s has more than %d fractional digits (%s)", quoteFor(s), t.Scale, typeName(t))
		}
		for i := all - cut; i < all; i++ {
			if digit(i) != '0' {
				return 0, false, errorf("%s has more than %d fractional digits (%s)", quoteFor(s), t.Scale, typeName(t))
			}
		}
		end, shift = all-cut, 0
	}
	width := end - lead
	if sig == 0 {
		width, shift = 0, 0
	}
	if width+shift > 18 {
		return 0, false, nil
	}
	if t.Precision > 0 && width+shift > t.Precision {
		return 0, false, errorf("%s does not fit %s", quoteFor(s), typeName(t))
	}
	for i := lead; i < end && sig > 0; i++ {
		v = v*10 + int64(digit(i)-'0')
	}
	for ; shift > 0; shift-- {
		v *= 10
	}
	if n.neg {
		v = -v
	}
	return v, true, nil
}
