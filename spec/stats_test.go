package spec

import (
	"bytes"
	"strings"
	"testing"
)

// For the rows Java wrote in the global-index fixture's second file (ids 3
// and 4), the stats must be the bytes Java stored.
func TestStatsMatchJava(t *testing.T) {
	types := []DataType{IntType.NotNull(), StringType, StringType}
	modes := []StatsMode{DefaultStatsMode, DefaultStatsMode, DefaultStatsMode}
	c := NewStatsCollector(types, modes)
	c.Add(Row{int32(3), "name-3", "odd"})
	c.Add(Row{int32(4), "name-4", "even"})
	st, cols, err := c.Result([]string{"id", "name", "category"})
	if err != nil {
		t.Fatal(err)
	}
	if cols != nil {
		t.Fatalf("cols = %v, want nil", *cols)
	}
	want := unhex(t, "00000003 0000000000000000 0300000000000000 6e616d652d330086 6576656e00000084")
	if !bytes.Equal(st.MinValues, want) {
		t.Fatalf("min %x\nwant %x", st.MinValues, want)
	}
	if len(st.NullCounts) != 3 || *st.NullCounts[1] != 0 {
		t.Fatal(st.NullCounts)
	}
}

func TestStatsTruncate(t *testing.T) {
	m := StatsMode{Kind: StatsTruncate, Truncate: 4}
	c := NewStatsCollector([]DataType{StringType, BytesType, StringType}, []StatsMode{m, m, {Kind: StatsNone}})
	c.Add(Row{"abcdef", []byte{1, 2, 0xff, 0xff, 9}, "x"})
	c.Add(Row{nil, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, "y"})
	if c.min[0] != "abcd" || c.max[0] != "abce" {
		t.Fatalf("string min/max %v %v", c.min[0], c.max[0])
	}
	if !bytes.Equal(c.min[1].([]byte), []byte{1, 2, 0xff, 0xff}) {
		t.Fatalf("bytes min %x", c.min[1])
	}
	// No upper bound exists for ff ff ff ff ff truncated to 4: stats fail.
	if !c.failed[1] {
		t.Fatal("expected failed max")
	}
	st, cols, err := c.Result([]string{"s", "b", "n"})
	if err != nil {
		t.Fatal(err)
	}
	if cols == nil || strings.Join(*cols, ",") != "s,b" || *st.NullCounts[0] != 1 {
		t.Fatalf("cols %v nulls %v", cols, st.NullCounts)
	}
	if _, err := ParseStatsMode("truncate(x)"); err == nil {
		t.Fatal("bad mode accepted")
	}
	if m, _ := ParseStatsMode("Truncate(16)"); m != DefaultStatsMode {
		t.Fatal(m)
	}
}
