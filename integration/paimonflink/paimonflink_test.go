package paimonflink

import (
	"slices"
	"testing"
)

func TestProfiles(t *testing.T) {
	for _, c := range []struct {
		env  string
		want []string
	}{
		{"", []string{""}},
		{"default", []string{""}},
		{"default, flink-1.20", []string{"", "flink-1.20"}},
		{"flink-1.20,", []string{"flink-1.20"}},
	} {
		t.Setenv(ProfilesEnv, c.env)
		if got := Profiles(); !slices.Equal(got, c.want) {
			t.Errorf("%s=%q: profiles %q, want %q", ProfilesEnv, c.env, got, c.want)
		}
	}
}

func TestLines(t *testing.T) {
	if got := lines("a\n\nb\n"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("lines: %q", got)
	}
	if got := lines(""); got != nil {
		t.Fatalf("lines of nothing: %q", got)
	}
}
