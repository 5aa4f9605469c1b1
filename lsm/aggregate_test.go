package lsm

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/stratalake/strata/spec"
)

// The expected values below were printed by a JVM (OpenJDK 17) running
// Paimon's MurmurHashUtils, java.util.HashSet/HashMap and BigDecimal.

func TestMurmurBytesMatchesBinaryStringHash(t *testing.T) {
	for s, want := range map[string]int32{
		"": 142593372, "a": 1485273170, "ab": -97053317, "abc": 1322437556, "abcd": -396302900,
		"hello": -1008564952, "héllo wörld": -281075962, "user1": 130348247, "b": 1905031361,
	} {
		if got := murmurBytes([]byte(s)); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
	// Whole words hash as Paimon's BinaryRow hash does.
	b := []byte("abcdefgh")
	if murmurBytes(b) != spec.HashBinaryRow(b) {
		t.Errorf("murmurBytes and HashBinaryRow disagree on aligned input")
	}
}

func TestJavaHashSetOrder(t *testing.T) {
	set := func(vals ...any) string {
		m := newJavaHashMap(0)
		for _, v := range vals {
			m.put(v, nil)
		}
		return formatValue(m.keysInOrder())
	}
	ints := func(vs ...int32) []any {
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = v
		}
		return out
	}
	var big []any
	for i := int32(30); i > 0; i-- {
		big = append(big, i*7)
	}
	var collide []any
	for i := int32(0); i < 9; i++ {
		collide = append(collide, i*16)
	}
	for _, c := range []struct {
		got, want string
	}{
		{set("b", "a", "user2", "user1", "c", "x", "y", "z"), "[user2,user1,x,z,a,y,c,b]"},
		{set(ints(20, 3, 17, -1, 16, 100000)...), "[-1,16,17,100000,3,20]"},
		{set(collide...), "[0,32,64,96,128,16,48,80,112]"},
		{set(big...), "[196,133,70,7,203,140,77,14,210,147,84,21,154,91,28,161,98,35,168,105,42,175,112,49,182,119,56,189,126,63]"},
		{set(int64(5), int64(1)<<40, int64(-7), int64(3)), "[1099511627776,3,5,-7]"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	m := newJavaHashMap(0)
	m.put(int32(33), "x")
	m.put(int32(1), "a")
	m.put(int32(17), "b")
	if got := formatValue(m.toMap()); got != "{33:x,1:a,17:b}" {
		t.Errorf("map order %s", got)
	}
}

func TestJavaHashCodes(t *testing.T) {
	dec := func(s string, scale int) spec.Decimal {
		u, _ := new(big.Int).SetString(s, 10)
		return spec.Decimal{Unscaled: u, Scale: scale}
	}
	for _, c := range []struct {
		v    any
		want int32
	}{
		{dec("125", 2), 3877},
		{dec("-125", 2), -3873},
		{dec("12345678901234567890123456789012", 2), -1747325893},
		{dec("0", 2), 2},
		{float32(0.1), 1036831949},
		{float64(-2.5), -1073479680},
		{true, 1231},
	} {
		if got, ok := javaHash(c.v); !ok || got != c.want {
			t.Errorf("hash(%v) = %d, %v; want %d", c.v, got, ok, c.want)
		}
	}
	for r, want := range map[rune]bool{0x1c: true, 0xa0: false, 0x2007: false, 0x3000: true, 0x85: false, 0x180e: false, 0x2000: true} {
		if javaIsWhitespace(r) != want {
			t.Errorf("isWhitespace(%U) != %v", r, want)
		}
	}
}

// Aggregators never modify their arguments: results may alias inputs that
// callers still hold.
func TestAggregatorsDoNotModifyInputs(t *testing.T) {
	arr := spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &spec.IntType}
	mp := spec.DataType{Root: spec.TypeMap, Nullable: true, Key: &spec.IntType, Value: &spec.StringType}
	for _, c := range []struct {
		fn      string
		t       spec.DataType
		acc, in any
	}{
		{"collect", arr, []any{int32(1), int32(2)}, []any{int32(2)}},
		{"merge_map", mp, spec.Map{Keys: []any{int32(1)}, Values: []any{"a"}}, spec.Map{Keys: []any{int32(1)}, Values: []any{"b"}}},
	} {
		a, err := NewFieldAggregator(c.fn, spec.DataField{Name: "f", Type: c.t}, spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		before := fmt.Sprint(c.acc, c.in)
		if _, err := a.Agg(c.acc, c.in); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Retract(c.acc, c.in); err != nil {
			t.Fatal(err)
		}
		if after := fmt.Sprint(c.acc, c.in); after != before {
			t.Errorf("%s modified its inputs: %s -> %s", c.fn, before, after)
		}
	}
}
