package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DefaultPartitionName is partition.default-name's default: the directory
// value of a null or blank partition value.
const DefaultPartitionName = "__DEFAULT_PARTITION__"

// PartitionValueString renders one partition value for a directory name as
// Java's InternalRowPartitionComputer does. With legacy naming
// (partition.legacy-name, the default) it is Java's toString of the internal
// value: a DATE is its epoch day, a TIME its millisecond of day. ok is false
// for a null or blank value, which takes the default partition name.
func PartitionValueString(t DataType, v any, legacy bool) (s string, ok bool, err error) {
	if v == nil {
		return "", false, nil
	}
	switch t.Root {
	case TypeBoolean:
		s = strconv.FormatBool(v.(bool))
	case TypeTinyInt:
		s = strconv.Itoa(int(v.(int8)))
	case TypeSmallInt:
		s = strconv.Itoa(int(v.(int16)))
	case TypeInt:
		s = strconv.Itoa(int(v.(int32)))
	case TypeBigInt:
		s = strconv.FormatInt(v.(int64), 10)
	case TypeFloat:
		s = JavaFloatString(float64(v.(float32)), 32)
	case TypeDouble:
		s = JavaFloatString(v.(float64), 64)
	case TypeDecimal:
		s = v.(Decimal).String()
	case TypeChar, TypeVarChar:
		s = v.(string)
	case TypeDate:
		if legacy {
			s = strconv.Itoa(int(v.(Date)))
		} else {
			s = v.(Date).String()
		}
	case TypeTime:
		if legacy {
			s = strconv.Itoa(int(v.(Time)))
		} else {
			s = javaTimeString(v.(Time), t.Precision)
		}
	case TypeTimestamp, TypeTimestampLTZ:
		ts := v.(Timestamp)
		if legacy {
			s = javaLocalDateTime(ts.Time())
		} else {
			s = ts.Time().Format("2006-01-02 15:04:05")
			nanos := ts.Time().Nanosecond()
			if nanos != 0 || t.Precision > 0 {
				frac := strings.TrimRight(fmt.Sprintf("%09d", nanos), "0")
				for len(frac) < t.Precision {
					frac += "0"
				}
				if frac != "" {
					s += "." + frac
				}
			}
		}
	default:
		return "", false, fmt.Errorf("%w: %s cannot be a partition column", ErrSchemaMismatch, t)
	}
	if strings.TrimFunc(s, javaIsWhitespace) == "" {
		return "", false, nil
	}
	return s, true, nil
}

// javaTimeString is Java's DateTimeUtils.formatTimestampMillis for a time of
// day: HH:mm:ss, then for precision > 0 a '.' and the millisecond digits up
// to the last non-zero one (at least one, at most precision).
func javaTimeString(t Time, precision int) string {
	ms := int(t)
	s := fmt.Sprintf("%02d:%02d:%02d", ms/3600000, ms/60000%60, ms/1000%60)
	if precision <= 0 {
		return s
	}
	frac := fmt.Sprintf("%03d", ms%1000)[:min(3, precision)]
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		frac = "0"
	}
	return s + "." + frac
}

// javaIsWhitespace is Java's Character.isWhitespace: Unicode space
// separators except the non-breaking ones, and the ASCII controls \t \n
// \v \f \r and 0x1C-0x1F.
func javaIsWhitespace(r rune) bool {
	switch r {
	case '\u00a0', '\u2007', '\u202f':
		return false
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	}
	return unicode.Is(unicode.Zs, r) || r == '\u2028' || r == '\u2029'
}

// javaLocalDateTime is java.time.LocalDateTime.toString.
func javaLocalDateTime(t time.Time) string {
	s := t.Format("2006-01-02T15:04")
	sec, nano := t.Second(), t.Nanosecond()
	if sec == 0 && nano == 0 {
		return s
	}
	s += fmt.Sprintf(":%02d", sec)
	switch {
	case nano == 0:
	case nano%1_000_000 == 0:
		s += fmt.Sprintf(".%03d", nano/1_000_000)
	case nano%1_000 == 0:
		s += fmt.Sprintf(".%06d", nano/1_000)
	default:
		s += fmt.Sprintf(".%09d", nano)
	}
	return s
}

// JavaFloatString is Java's Float.toString / Double.toString: plain
// notation with at least one fractional digit for 1e-3 <= |v| < 1e7,
// computerized scientific notation ("1.0E10") otherwise.
func JavaFloatString(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(v)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, bits) // e.g. 1E+10, 1.5E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// EscapePathName escapes a partition key or value for a directory name as
// Paimon's PartitionPathUtils.escapePathName does.
func EscapePathName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{}[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PartitionPath renders a partition's directory, "k1=v1/k2=v2", from its
// values (in partition-key order).
func PartitionPath(fields []DataField, values Row, defaultName string, legacy bool) (string, error) {
	if defaultName == "" {
		defaultName = DefaultPartitionName
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		s, ok, err := PartitionValueString(f.Type, values[i], legacy)
		if err != nil {
			return "", fmt.Errorf("partition column %s: %w", f.Name, err)
		}
		if !ok {
			s = defaultName
		}
		parts[i] = EscapePathName(f.Name) + "=" + EscapePathName(s)
	}
	return strings.Join(parts, "/"), nil
}
