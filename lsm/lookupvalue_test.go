package lsm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stratalake/strata/spec"
)

// A lookup value round-trips its record and position, and its bytes are
// fixed (golden): sequence number, varint position, BinaryRow with kind.
func TestLookupValueRoundTrip(t *testing.T) {
	types := []spec.DataType{spec.BigIntType.NotNull(), spec.StringType, spec.DoubleType}
	kv := &KeyValue{Key: spec.Row{int64(7)}, Seq: 300, Kind: spec.RowKindUpdateAfter, Value: spec.Row{int64(7), "ab", nil}}
	b, err := appendLookupValue(nil, types, kv, 130)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", b[:10]); got != "000000000000012c8201" {
		t.Fatalf("header bytes %s", got)
	}
	p, err := DecodeLookupValue(types, kv.Key, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pos != 130 || p.KV.Seq != 300 || p.KV.Kind != kv.Kind || spec.CompareRows(p.KV.Value, kv.Value) != 0 {
		t.Fatalf("decoded %+v at %d, want %+v at 130", p.KV, p.Pos, kv)
	}
	for _, bad := range [][]byte{nil, b[:8], b[:9]} {
		if _, err := DecodeLookupValue(types, kv.Key, bad); err == nil {
			t.Fatalf("decoded %x without error", bad)
		}
	}
	if _, err := DecodeLookupValue(types, kv.Key, b[:4]); !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("short value: %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeLookupValue(f *testing.F) {
	types := []spec.DataType{spec.BigIntType.NotNull(), spec.StringType}
	b, _ := appendLookupValue(nil, types, &KeyValue{Seq: 1, Value: spec.Row{int64(1), "x"}}, 3)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeLookupValue(types, spec.Row{int64(1)}, data)
	})
}
