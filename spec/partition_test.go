package spec

import (
	"testing"
	"time"
)

// Directory names as Java's InternalRowPartitionComputer and
// PartitionPathUtils make them (notes §4.2–4.3 of paimon-commit.md).
func TestPartitionPath(t *testing.T) {
	ts := TimestampFromTime(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	tsSec := TimestampFromTime(time.Date(2024, 1, 1, 12, 0, 5, 120_000_000, time.UTC))
	cases := []struct {
		t      DataType
		v      any
		legacy bool
		want   string
	}{
		{StringType, "cn", true, "p=cn"},
		{StringType, "a/b:c=d?e", true, "p=a%2Fb%3Ac%3Dd%3Fe"},
		{StringType, "x#y%z'w*\"{}[]^\\", true, "p=x%23y%25z%27w%2A%22%7B%7D%5B%5D%5E%5C"},
		{StringType, "tab\there é,-.", true, "p=tab%09here é,-."},
		{StringType, "  ", true, "p=__DEFAULT_PARTITION__"},
		{StringType, nil, true, "p=__DEFAULT_PARTITION__"},
		{IntType, int32(-7), true, "p=-7"},
		{DateType, Date(19723), true, "p=19723"},
		{DateType, Date(19723), false, "p=2024-01-01"},
		{TimestampType(3), ts, true, "p=2024-01-01T12%3A00"},
		{TimestampType(3), tsSec, true, "p=2024-01-01T12%3A00%3A05.120"},
		{TimestampType(3), tsSec, false, "p=2024-01-01 12%3A00%3A05.120"},
		{DoubleType, 1.0, true, "p=1.0"},
		{DoubleType, 1e10, true, "p=1.0E10"},
		{DoubleType, 0.0001, true, "p=1.0E-4"},
		{FloatType, float32(2.5), true, "p=2.5"},
		{DecimalType(10, 2), NewDecimal(12345, 2), true, "p=123.45"},
		{BooleanType, true, true, "p=true"},
	}
	for _, c := range cases {
		got, err := PartitionPath([]DataField{{Name: "p", Type: c.t}}, Row{c.v}, "", c.legacy)
		if err != nil || got != c.want {
			t.Errorf("%s %v legacy=%v: got %q (%v), want %q", c.t, c.v, c.legacy, got, err, c.want)
		}
	}
	got, _ := PartitionPath([]DataField{{Name: "dt", Type: StringType}, {Name: "h", Type: IntType}}, Row{"2024-01-01", int32(3)}, "", true)
	if got != "dt=2024-01-01/h=3" {
		t.Errorf("two levels: %q", got)
	}
}
