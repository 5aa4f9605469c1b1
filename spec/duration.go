package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the unit labels Paimon's duration options accept
// (TimeUtils.parseDuration), lower case; a number without a unit is in
// milliseconds.
var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"min": time.Minute, "m": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"µs": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
}

// ParseDuration reads a duration as Paimon's options write them: digits,
// then optionally spaces and a unit ("1 h", "30min", "7d", "500": 500 ms).
// Durations past about 292 years (time.Duration's range) are refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("duration %q: want a number, then a unit (d, h, min, s, ms, µs, ns)", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	unit := time.Millisecond
	if label := strings.ToLower(strings.TrimSpace(t[i:])); label != "" {
		u, ok := durationUnits[label]
		if !ok {
			return 0, fmt.Errorf("duration %q: unknown unit %q (want d, h, min, s, ms, µs or ns)", s, label)
		}
		unit = u
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("duration %q: too long", s)
	}
	return time.Duration(n) * unit, nil
}
