package spec

import (
	"errors"
	"testing"
)

// Java writes consumer files with Jackson's pretty printer
// (JsonSerdeUtil.toJson); the bytes below are that layout. Reading is as
// lenient as Jackson (a number in a string, a fraction truncated).
func TestConsumerGolden(t *testing.T) {
	golden := "{\n  \"nextSnapshot\" : 12\n}"
	if got := string(EncodeConsumer(&Consumer{NextSnapshot: 12})); got != golden {
		t.Fatalf("EncodeConsumer = %q, want %q", got, golden)
	}
	for _, in := range []string{golden, `{"nextSnapshot":12}`, `{"nextSnapshot": 12, "future": [1, {"a": null}]}`} {
		c, err := DecodeConsumer([]byte(in))
		if err != nil || c.NextSnapshot != 12 {
			t.Fatalf("DecodeConsumer(%q) = %+v, %v", in, c, err)
		}
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"nextSnapshot": 0}`, `{"nextSnapshot": -3}`, `{"nextSnapshot": 12`} {
		if c, err := DecodeConsumer([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeConsumer(%q) = %+v, %v; want ErrCorrupt", bad, c, err)
		}
	}
}

func FuzzDecodeConsumer(f *testing.F) {
	f.Add([]byte("{\n  \"nextSnapshot\" : 12\n}"))
	f.Add([]byte(`{"nextSnapshot": 9223372036854775807}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConsumer(data)
		if err != nil {
			return
		}
		back, err := DecodeConsumer(EncodeConsumer(c))
		if err != nil || back.NextSnapshot != c.NextSnapshot || c.NextSnapshot < 1 {
			t.Fatalf("%q: %+v does not round-trip: %+v %v", data, c, back, err)
		}
	})
}
