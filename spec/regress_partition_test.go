package spec

import "testing"

// Java's TimeToStringCastRule = DateTimeUtils.formatTimestampMillis(ms, precision):
// digits stop at the first zero remainder, at most `precision` of them, and
// a '.' plus one digit even for whole seconds when precision > 0.
func TestTimePartitionNonLegacy(t *testing.T) {
	cases := []struct {
		prec int
		ms   int32
		want string
	}{
		{3, 12*3600000 + 500, "p=12%3A00%3A00.5"},
		{3, 12*3600000 + 120, "p=12%3A00%3A00.12"},
		{3, 12 * 3600000, "p=12%3A00%3A00.0"},
		{0, 12*3600000 + 500, "p=12%3A00%3A00"},
	}
	for _, c := range cases {
		typ := DataType{Root: TypeTime, Precision: c.prec, Nullable: true}
		got, err := PartitionPath([]DataField{{Name: "p", Type: typ}}, Row{Time(c.ms)}, "", false)
		if err != nil || got != c.want {
			t.Errorf("TIME(%d) %d: got %q (%v), Java %q", c.prec, c.ms, got, err, c.want)
		}
	}
}

// Java's isWhitespace: a non-breaking space is a value, not a blank.
func TestPartitionBlankIsJavaWhitespace(t *testing.T) {
	got, _ := PartitionPath([]DataField{{Name: "p", Type: StringType}}, Row{"\u00a0"}, "", true)
	if got != "p=\u00a0" {
		t.Errorf("NBSP: %q", got)
	}
	got, _ = PartitionPath([]DataField{{Name: "p", Type: StringType}}, Row{" \t\u001f"}, "", true)
	if got != "p=__DEFAULT_PARTITION__" {
		t.Errorf("blank: %q", got)
	}
}
