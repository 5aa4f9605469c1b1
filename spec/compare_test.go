package spec

import (
	"math"
	"testing"
)

// Values compare as Paimon's key comparator orders them; values of
// different types order by type name instead of panicking, in both
// directions.
func TestCompareValues(t *testing.T) {
	for _, c := range []struct {
		a, b any
		want int
	}{
		{nil, nil, 0}, {nil, int32(1), -1}, {int32(1), nil, 1},
		{false, true, -1}, {true, true, 0},
		{int8(-1), int8(2), -1}, {int64(5), int64(5), 0}, {Date(3), Date(2), 1},
		{math.Copysign(0, -1), 0.0, -1}, {math.NaN(), math.Inf(1), 1}, {float32(1), float32(2), -1},
		{"b", "a", 1}, {[]byte{0xff}, []byte{0x01}, 1},
		{Row{int32(1), "a"}, Row{int32(1), "b"}, -1}, {[]any{int32(1)}, []any{int32(1), int32(0)}, -1},
		{Map{Keys: []any{"k"}, Values: []any{int32(1)}}, Map{Keys: []any{"k"}, Values: []any{int32(2)}}, -1},
		// Mismatched types: ordered by Go type name ("int32" < "int64" < "string").
		{int32(1), int64(1), -1}, {int64(1), int32(1), 1}, {"a", int32(9), 1}, {true, int32(1), -1},
		{Row{int32(1)}, Row{"x"}, -1}, {3.0, float32(3), 1}, {[]byte("a"), "a", -1},
		{struct{}{}, struct{}{}, 0},
	} {
		if got := CompareValues(c.a, c.b); got != c.want {
			t.Errorf("CompareValues(%#v, %#v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
