package spec

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1 h": time.Hour, "1h": time.Hour, "30 min": 30 * time.Minute, "7d": 7 * 24 * time.Hour,
		"500": 500 * time.Millisecond, " 2 Seconds ": 2 * time.Second, "10 ms": 10 * time.Millisecond,
		"3µs": 3 * time.Microsecond, "4 nanos": 4, "0 s": 0, "5 m": 5 * time.Minute, "2 days": 48 * time.Hour,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "h", "-1 h", "1.5 h", "1 fortnight", "99999999999999 d", "1 h 2 min"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1 h", "500", "7d", "x", "92233720368547758070 ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d)
		}
	})
}
