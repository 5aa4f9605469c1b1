package spec

import (
	"fmt"
	"math"
	"time"
)

// durationUnits are the unit labels of Paimon's TimeUtils.parseDuration,
// each also in the plural where Paimon allows it.
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

// ParseDuration reads a duration as Paimon's options write them
// (TimeUtils.parseDuration): a non-negative whole number, optional spaces,
// and a unit label in any case: d/day, h/hour, min/m/minute, s/sec/second,
// ms/milli/millisecond, µs/micro/microsecond, ns/nano/nanosecond (plurals
// with s); a bare number is milliseconds. "7d", "1 h", "30min".
func ParseDuration(text string) (time.Duration, error) {
	n, label, err := numberAndUnit(text, "duration")
	if err != nil {
		return 0, err
	}
	unit := time.Millisecond
	if label != "" {
		u, ok := durationUnits[label]
		if !ok {
			return 0, fmt.Errorf("duration %q: unknown unit %q (want d, h, min, s, ms, µs or ns)", text, label)
		}
		unit = u
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("duration %q: beyond %v", text, time.Duration(math.MaxInt64))
	}
	return time.Duration(n) * unit, nil
}

// optDuration parses a duration option; nil when unset.
func (p *optionParser) optDuration(key string) *time.Duration {
	k, v, ok := p.lookup(key)
	if !ok {
		return nil
	}
	d, err := ParseDuration(v)
	if err != nil {
		p.fail(optionError(k, v, fmt.Errorf("%w; want a duration such as \"7d\" or \"12 h\"", err)))
		return nil
	}
	return &d
}
