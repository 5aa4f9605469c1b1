package spec

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1 h": time.Hour, "30min": 30 * time.Minute, "2 M": 2 * time.Minute,
		" 5 Seconds ": 5 * time.Second, "100": 100 * time.Millisecond, "3µs": 3 * time.Microsecond,
		"4 nanos": 4, "1 days": 24 * time.Hour, "0s": 0,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1.5h", "5 weeks", "1d2h", "99999999999999999999s", "200000d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestTagDefaultTimeRetainedOption(t *testing.T) {
	o, err := ParseOptions(map[string]string{OptTagDefaultTimeRetained: "12 h"})
	if err != nil || o.TagDefaultTimeRetained == nil || *o.TagDefaultTimeRetained != 12*time.Hour {
		t.Fatalf("%v %v", err, o.TagDefaultTimeRetained)
	}
	if o, _ := ParseOptions(nil); o.TagDefaultTimeRetained != nil {
		t.Errorf("unset: %v", *o.TagDefaultTimeRetained)
	}
	if _, err := ParseOptions(map[string]string{OptTagDefaultTimeRetained: "soon"}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("bad value: %v", err)
	}
}
