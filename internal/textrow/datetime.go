package textrow

import (
	"github.com/stratalake/strata/spec"
)

// Dates and times are parsed and printed by hand: time.Parse allocates,
// accepts neither a space for the T nor Java's signed years, and the write
// path cares about speed. Calendar arithmetic is proleptic Gregorian, as
// java.time's.

const (
	msPerDay   = 86400000
	maxTSDays  = 106751991165 // int64 milliseconds hold these days, a day and an 18h offset
	maxYearDig = 9
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits2 reads two decimal digits at s[i].
func digits2(s []byte, i int) (int64, bool) {
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, false
	}
	return int64(s[i]-'0')*10 + int64(s[i+1]-'0'), true
}

// parseYMD parses [+-]YYYY-MM-DD (four to nine year digits) at the start of
// s and returns the epoch day and the rest.
func parseYMD(s []byte) (int64, []byte, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, i = s[0] == '-', 1
	}
	start := i
	var y int64
	for i < len(s) && isDigit(s[i]) && i-start < maxYearDig {
		y = y*10 + int64(s[i]-'0')
		i++
	}
	if i-start < 4 || i >= len(s) || s[i] != '-' {
		return 0, nil, false
	}
	if neg {
		y = -y
	}
	m, ok1 := digits2(s, i+1)
	if !ok1 || i+3 >= len(s) || s[i+3] != '-' {
		return 0, nil, false
	}
	d, ok2 := digits2(s, i+4)
	if !ok2 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, nil, false
	}
	return daysFromCivil(y, m, d), s[i+6:], true
}

// parseClock parses HH:MM[:SS[.fffffffff]] at the start of s, returning the
// nanoseconds of the day, the fraction digits and the rest.
func parseClock(s []byte) (ns int64, frac, rest []byte, ok bool) {
	h, ok1 := digits2(s, 0)
	if !ok1 || len(s) < 5 || s[2] != ':' {
		return 0, nil, nil, false
	}
	m, ok2 := digits2(s, 3)
	if !ok2 || h > 23 || m > 59 {
		return 0, nil, nil, false
	}
	i := 5
	var sec int64
	if i < len(s) && s[i] == ':' {
		var ok3 bool
		if sec, ok3 = digits2(s, i+1); !ok3 || sec > 59 {
			return 0, nil, nil, false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			start := i + 1
			for i = start; i < len(s) && isDigit(s[i]); i++ {
			}
			frac = s[start:i]
			if len(frac) == 0 || len(frac) > 9 {
				return 0, nil, nil, false
			}
		}
	}
	var nano int64
	for k := 0; k < 9; k++ {
		nano *= 10
		if k < len(frac) {
			nano += int64(frac[k] - '0')
		}
	}
	return ((h*60+m)*60+sec)*1e9 + nano, frac, s[i:], true
}

// fracFits reports whether the fraction digits beyond keep are all zero.
func fracFits(frac []byte, keep int) bool {
	for i := max(keep, 0); i < len(frac); i++ {
		if frac[i] != '0' {
			return false
		}
	}
	return true
}

func parseDate(s []byte) (spec.Date, error) {
	days, rest, ok := parseYMD(s)
	if !ok || len(rest) != 0 {
		return 0, errorf("invalid DATE %s (want YYYY-MM-DD)", quoteFor(s))
	}
	if days < -1<<31 || days > 1<<31-1 {
		return 0, errorf("DATE %s is out of range", quoteFor(s))
	}
	return spec.Date(days), nil
}

// parseTime parses a TIME(p); Strata keeps milliseconds, so finer digits
// must be zero as well as those beyond p.
func parseTime(s []byte, precision int) (spec.Time, error) {
	ns, frac, rest, ok := parseClock(s)
	if !ok || len(rest) != 0 {
		return 0, errorf("invalid TIME %s (want HH:MM:SS[.fff])", quoteFor(s))
	}
	if !fracFits(frac, min(precision, 3)) {
		return 0, errorf("TIME %s has more fractional digits than TIME(%d) keeps", quoteFor(s), min(precision, 3))
	}
	return spec.Time(ns / 1e6), nil
}

// parseTimestamp parses a TIMESTAMP(p) or, with a zone, a
// TIMESTAMP_LTZ(p).
func parseTimestamp(s []byte, t *spec.DataType) (spec.Timestamp, error) {
	ltz := t.Root == spec.TypeTimestampLTZ
	bad := func() (spec.Timestamp, error) {
		if ltz {
			return spec.Timestamp{}, errorf("invalid %s %s (want YYYY-MM-DDTHH:MM:SS[.fffffffff][Z|±HH:MM])", typeName(t), quoteFor(s))
		}
		return spec.Timestamp{}, errorf("invalid %s %s (want YYYY-MM-DDTHH:MM:SS[.fffffffff])", typeName(t), quoteFor(s))
	}
	days, rest, ok := parseYMD(s)
	if !ok {
		return bad()
	}
	var ns int64
	var frac []byte
	if len(rest) > 0 && (rest[0] == 'T' || rest[0] == 't' || rest[0] == ' ') {
		if ns, frac, rest, ok = parseClock(rest[1:]); !ok {
			return bad()
		}
	}
	var offsetSec int64
	if len(rest) > 0 {
		if !ltz {
			return bad()
		}
		if offsetSec, ok = parseOffset(rest); !ok {
			return bad()
		}
	}
	if !fracFits(frac, t.Precision) {
		return spec.Timestamp{}, errorf("%s has more fractional digits than %s keeps", quoteFor(s), typeName(t))
	}
	if days < -maxTSDays || days > maxTSDays {
		return spec.Timestamp{}, errorf("%s %s is out of range", typeName(t), quoteFor(s))
	}
	ms := days*msPerDay + ns/1e6 - offsetSec*1000
	return spec.Timestamp{Millis: ms, NanoOfMilli: int32(ns % 1e6)}, nil
}

// parseOffset parses Z or ±HH[[:]MM] into seconds east of UTC.
func parseOffset(s []byte) (int64, bool) {
	if len(s) == 1 && (s[0] == 'Z' || s[0] == 'z') {
		return 0, true
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	h, ok := digits2(s, 1)
	if !ok || h > 18 {
		return 0, false
	}
	var m int64
	switch rest := s[3:]; {
	case len(rest) == 0:
	case len(rest) == 3 && rest[0] == ':':
		m, ok = digits2(rest, 1)
	case len(rest) == 2:
		m, ok = digits2(rest, 0)
	default:
		ok = false
	}
	if !ok || m > 59 {
		return 0, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// appendDate writes an epoch day as java.time's LocalDate.toString does.
func appendDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	switch {
	case y > 9999:
		dst = append(dst, '+')
		dst = appendUint(dst, uint64(y))
	case y < 0:
		dst = append(dst, '-')
		if -y < 1000 {
			dst = appendPad(dst, uint64(-y), 4)
		} else {
			dst = appendUint(dst, uint64(-y))
		}
	default:
		dst = appendPad(dst, uint64(y), 4)
	}
	dst = append(dst, '-')
	dst = appendPad(dst, uint64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, uint64(d), 2)
}

// appendClock writes HH:MM:SS and, unless zero, the fraction of nanoseconds
// of the day with trailing zeros trimmed.
func appendClock(dst []byte, ns int64) []byte {
	sec := ns / 1e9
	dst = appendPad(dst, uint64(sec/3600), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, uint64(sec/60%60), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, uint64(sec%60), 2)
	if frac := ns % 1e9; frac != 0 {
		dst = append(dst, '.')
		n := len(dst)
		dst = appendPad(dst, uint64(frac), 9)
		for dst[len(dst)-1] == '0' && len(dst) > n+1 {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// appendTime writes a TIME as HH:MM:SS[.fff] (spec.Time.String's form).
func appendTime(dst []byte, t spec.Time) ([]byte, bool) {
	if t < 0 || t >= msPerDay {
		return dst, false
	}
	sec := int64(t) / 1000
	dst = appendPad(dst, uint64(sec/3600), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, uint64(sec/60%60), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, uint64(sec%60), 2)
	if ms := int64(t) % 1000; ms != 0 {
		dst = append(dst, '.')
		dst = appendPad(dst, uint64(ms), 3)
	}
	return dst, true
}

// appendTimestamp writes YYYY-MM-DDTHH:MM:SS[.fffffffff], trimmed.
func appendTimestamp(dst []byte, ts spec.Timestamp) ([]byte, bool) {
	if ts.NanoOfMilli < 0 || ts.NanoOfMilli >= 1e6 {
		return dst, false
	}
	days := floorDiv(ts.Millis, msPerDay)
	msOfDay := ts.Millis - days*msPerDay
	dst = appendDate(dst, days)
	dst = append(dst, 'T')
	return appendClock(dst, msOfDay*1e6+int64(ts.NanoOfMilli)), true
}

// appendInstant writes a TIMESTAMP_LTZ(precision) as an instant in UTC:
// YYYY-MM-DDTHH:MM:SS, exactly precision fractional digits (more only if
// the value holds finer non-zero digits, so nothing is lost), then Z.
func appendInstant(dst []byte, ts spec.Timestamp, precision int) ([]byte, bool) {
	if ts.NanoOfMilli < 0 || ts.NanoOfMilli >= 1e6 {
		return dst, false
	}
	days := floorDiv(ts.Millis, msPerDay)
	nsOfDay := (ts.Millis-days*msPerDay)*1e6 + int64(ts.NanoOfMilli)
	dst = appendDate(dst, days)
	dst = append(dst, 'T')
	dst = appendClock(dst, nsOfDay-nsOfDay%1e9)
	frac := nsOfDay % 1e9
	digits := min(max(precision, 0), 9)
	for digits < 9 && frac%pow10(9-digits) != 0 {
		digits++
	}
	if digits > 0 {
		dst = append(dst, '.')
		dst = appendPad(dst, uint64(frac/pow10(9-digits)), digits)
	}
	return append(dst, 'Z'), true
}

// pow10 returns 10^n for 0 ≤ n ≤ 18.
func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

func appendUint(dst []byte, v uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// appendPad writes v with at least width digits.
func appendPad(dst []byte, v uint64, width int) []byte {
	var b [20]byte
	i := len(b)
	for v > 0 || len(b)-i < width {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[i:]...)
}
