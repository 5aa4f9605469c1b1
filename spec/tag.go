package spec

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tag is one tag/tag-<name> file (Java's Tag): a copy of the snapshot it
// names, so the tag stays readable after the snapshot file expires, and,
// for a tag created with a retention, when it was created and how long it
// is kept. Java writes the two tag fields only when a retention is given
// (older readers cannot parse them), and always both.
type Tag struct {
	Snapshot
	// CreateTime is tagCreateTime, Java's LocalDateTime.now() when the tag
	// was made: a wall-clock time without zone, read and written in
	// time.Local, as the JVM does in its default zone.
	CreateTime *time.Time
	// TimeRetained is tagTimeRetained; Paimon's tag expiry drops the tag
	// once CreateTime+TimeRetained has passed. A retention beyond
	// time.Duration's range (about 292 years) is read as the largest
	// Duration.
	TimeRetained *time.Duration
}

// EncodeTag renders t as Java's Tag.toJson does: the snapshot's members as
// EncodeSnapshot writes them, then tagCreateTime (Jackson's array form
// [y, M, d, H, m] with the seconds only when seconds or nanoseconds are not
// zero, and the nanoseconds only when not zero) and tagTimeRetained (decimal
// seconds, Jackson's BigDecimal text: 5.000000000, 0.0, 1.23E-7), each
// only when set. Without either it is byte for byte EncodeSnapshot.
func EncodeTag(t *Tag) []byte {
	w := &jsonWriter{pretty: true}
	w.beginObject()
	writeSnapshotMembers(w, &t.Snapshot)
	if t.CreateTime != nil {
		w.name("tagCreateTime")
		writeLocalDateTime(w, *t.CreateTime)
	}
	if t.TimeRetained != nil {
		w.name("tagTimeRetained")
		w.beforeValue()
		w.buf = appendJacksonDuration(w.buf, *t.TimeRetained)
	}
	w.endObject()
	return w.buf
}

// DecodeTag parses a tag file as Jackson binds Java's Tag: the snapshot
// members as DecodeSnapshot reads them (unknown members ignored), then
// tagCreateTime as an array [y, M, d, H, m(, s(, nanos))] or an ISO-8601
// local date-time string (an empty array or null is no time), and
// tagTimeRetained as a number of seconds or an ISO-8601 duration string
// ("PT5S"). Malformed input, impossible dates included, gives an error
// wrapping ErrCorrupt.
func DecodeTag(data []byte) (*Tag, error) {
	root, err := parseJSONObject(data, "tag")
	if err != nil {
		return nil, err
	}
	s, err := decodeSnapshotObject(root, "tag")
	if err != nil {
		return nil, err
	}
	t := &Tag{Snapshot: *s}
	if t.CreateTime, err = decodeLocalDateTime(root.get("tagCreateTime")); err != nil {
		return nil, corruptErr("tag tagCreateTime", err)
	}
	if t.TimeRetained, err = decodeJacksonDuration(root.get("tagTimeRetained")); err != nil {
		return nil, corruptErr("tag tagTimeRetained", err)
	}
	return t, nil
}

// writeLocalDateTime writes Jackson's array form of a LocalDateTime, the
// wall clock of t in time.Local.
func writeLocalDateTime(w *jsonWriter, t time.Time) {
	t = t.In(time.Local)
	w.beginArray()
	for _, v := range []int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute()} {
		w.int(int64(v))
	}
	if t.Second() != 0 || t.Nanosecond() != 0 {
		w.int(int64(t.Second()))
	}
	if t.Nanosecond() != 0 {
		w.int(int64(t.Nanosecond()))
	}
	w.endArray()
}

// Java's LocalDateTime year range.
const maxLocalYear = 999_999_999

// decodeLocalDateTime reads Jackson's LocalDateTime forms. Unlike Jackson,
// it takes only integers in the array (Jackson truncates a fractional
// second, for one).
func decodeLocalDateTime(n *jsonNode) (*time.Time, error) {
	switch {
	case n.isNull():
		return nil, nil
	case n.kind == jsonString:
		t, err := parseLocalDateTime(n.s)
		if err != nil {
			return nil, err
		}
		return &t, nil
	case n.kind != jsonArray:
		return nil, fmt.Errorf("want an array or a string, found %s", n.kindName())
	case len(n.arr) == 0:
		return nil, nil
	case len(n.arr) < 5 || len(n.arr) > 7:
		return nil, fmt.Errorf("want 5 to 7 numbers [y, M, d, H, m, s, nanos], found %d values", len(n.arr))
	}
	var f [7]int64
	for i, e := range n.arr {
		if e.kind != jsonNumber {
			return nil, fmt.Errorf("element %d: want an integer, found %s", i, e.kindName())
		}
		v, err := strconv.ParseInt(e.s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("element %d: want an integer, found %s", i, e.s)
		}
		f[i] = v
	}
	limits := [7]struct {
		name     string
		min, max int64
	}{{"year", -maxLocalYear, maxLocalYear}, {"month", 1, 12}, {"day", 1, 31}, {"hour", 0, 23},
		{"minute", 0, 59}, {"second", 0, 59}, {"nanosecond", 0, 999_999_999}}
	for i, l := range limits {
		if f[i] < l.min || f[i] > l.max {
			return nil, fmt.Errorf("%s %d out of range [%d, %d]", l.name, f[i], l.min, l.max)
		}
	}
	// time.Date moves February 30 on to March; checked in UTC, where no
	// daylight-saving gap moves the hour.
	if u := time.Date(int(f[0]), time.Month(f[1]), int(f[2]), 0, 0, 0, 0, time.UTC); u.Day() != int(f[2]) {
		return nil, fmt.Errorf("no day %d in %d-%02d", f[2], f[0], f[1])
	}
	t := time.Date(int(f[0]), time.Month(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), time.Local)
	return &t, nil
}

// parseLocalDateTime reads ISO-8601 yyyy-MM-ddTHH:mm[:ss[.fraction]], with
// the trailing Z Jackson tolerates.
func parseLocalDateTime(s string) (time.Time, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.Local)
	if err != nil {
		var err2 error
		if t, err2 = time.ParseInLocation("2006-01-02T15:04", s, time.Local); err2 != nil {
			return time.Time{}, fmt.Errorf("not an ISO-8601 local date-time: %q", s)
		}
	}
	return t, nil
}

// appendJacksonDuration writes d as Jackson's DurationSerializer does: the
// exact decimal number of seconds with nine fraction digits, printed by
// BigDecimal.toString, which switches to E notation below 10^-6 (1E-9,
// 1.23E-7); zero is 0.0.
func appendJacksonDuration(b []byte, d time.Duration) []byte {
	if d == 0 {
		return append(b, "0.0"...)
	}
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = uint64(-d) // -MinInt64 wraps to itself, whose uint64 is right
	}
	digits := strconv.FormatUint(u, 10)
	if exp := len(digits) - 10; exp < -6 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'E')
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if len(digits) <= 9 {
		digits = strings.Repeat("0", 10-len(digits)) + digits
	}
	b = append(b, digits[:len(digits)-9]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-9:]...)
}

// decodeJacksonDuration reads a Duration as Jackson does: a number of
// seconds (fraction digits beyond nanoseconds truncated) or an ISO-8601
// duration string; an empty string is no duration. Jackson reads a negative
// fractional number a second too high (-1.5 as -0.5); this reads it as
// written. Values beyond time.Duration's range are clamped to it.
func decodeJacksonDuration(n *jsonNode) (*time.Duration, error) {
	var d time.Duration
	switch {
	case n.isNull():
		return nil, nil
	case n.kind == jsonNumber:
		var err error
		if d, err = decimalSecondsToDuration(n.s); err != nil {
			return nil, err
		}
	case n.kind == jsonString:
		s := strings.TrimSpace(n.s)
		if s == "" {
			return nil, nil
		}
		var err error
		if d, err = parseISODuration(s); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("want a number or a string, found %s", n.kindName())
	}
	return &d, nil
}

// decimalSecondsToDuration converts a JSON number literal of seconds to a
// Duration exactly (truncating below a nanosecond, clamping beyond range),
// without floating point and without big arithmetic a hostile exponent
// could blow up.
func decimalSecondsToDuration(lit string) (time.Duration, error) {
	s := lit
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			e = math.MaxInt32 // beyond any bound below; the sign decides
			if strings.HasPrefix(s[i+1:], "-") {
				e = math.MinInt32
			}
		}
		exp, s = e, s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return 0, fmt.Errorf("not a number: %q", lit)
	}
	// value = digits × 10^shift nanoseconds
	digits := strings.TrimLeft(intPart+frac, "0")
	shift := int64(exp) - int64(len(frac)) + 9
	switch {
	case digits == "":
		return 0, nil
	case shift < 0:
		if -shift >= int64(len(digits)) {
			return 0, nil
		}
		digits, shift = digits[:int64(len(digits))+shift], 0
	}
	if int64(len(digits))+shift > 19 {
		return clampDuration(neg), nil
	}
	digits += strings.Repeat("0", int(shift))
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return clampDuration(neg), nil
	}
	if neg {
		v = -v
	}
	return time.Duration(v), nil
}

func clampDuration(neg bool) time.Duration {
	if neg {
		return math.MinInt64
	}
	return math.MaxInt64
}

// isoDuration is java.time.Duration.parse's grammar: PnDTnHnMn.nS, each
// part optional but at least one present, signs allowed on the whole and on
// each number.
var isoDuration = regexp.MustCompile(`(?i)^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?)([0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$`)

// parseISODuration reads an ISO-8601 duration as Java's Duration.parse
// does, clamping beyond time.Duration's range.
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s[len(s)-1] == 'T' || s[len(s)-1] == 't' || (m[2] == "" && m[3] == "") {
		return 0, fmt.Errorf("not an ISO-8601 duration: %q", s)
	}
	total := new(big.Int)
	for _, u := range []struct {
		text string
		unit int64
	}{{m[2], 86400e9}, {m[4], 3600e9}, {m[5], 60e9}, {m[6] + m[7], 1e9}} {
		if u.text == "" || u.text == "+" || u.text == "-" {
			continue
		}
		v, ok := new(big.Int).SetString(strings.TrimPrefix(u.text, "+"), 10)
		if !ok {
			return 0, fmt.Errorf("not an ISO-8601 duration: %q", s)
		}
		total.Add(total, v.Mul(v, big.NewInt(u.unit)))
	}
	if m[8] != "" {
		f, _ := strconv.ParseInt((m[8] + "000000000")[:9], 10, 64)
		if m[6] == "-" {
			f = -f
		}
		total.Add(total, big.NewInt(f))
	}
	if m[1] == "-" {
		total.Neg(total)
	}
	if !total.IsInt64() {
		return clampDuration(total.Sign() < 0), nil
	}
	return time.Duration(total.Int64()), nil
}
