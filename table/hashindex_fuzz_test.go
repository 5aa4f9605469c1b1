package table

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stratalake/strata/spec"
)

// A HASH index file cut by a multiple of four bytes still decodes as
// hashes; its index manifest entry's row count tells (before, such a file
// loaded with keys missing, and the writer and lookups routed those keys
// to new buckets).
func TestHashIndexRowCountChecked(t *testing.T) {
	data := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 7), 9)
	if hs, err := decodeHashIndex(data, 2); err != nil || len(hs) != 2 || hs[0] != 7 || hs[1] != 9 {
		t.Fatalf("decodeHashIndex = %v, %v", hs, err)
	}
	for _, n := range []int64{1, 3} {
		if _, err := decodeHashIndex(data, n); !errors.Is(err, spec.ErrCorrupt) {
			t.Fatalf("8 bytes with row count %d: %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := decodeHashIndex(data[:7], 2); !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("7 bytes: %v, want ErrCorrupt", err)
	}
}

// FuzzDecodeHashIndex: any bytes and row count decode to exactly that many
// hashes, which encode back to the bytes, or fail with ErrCorrupt.
func FuzzDecodeHashIndex(f *testing.F) {
	f.Add([]byte{0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe}, int64(2))
	f.Add([]byte{}, int64(0))
	f.Add([]byte{1, 2, 3}, int64(1))
	f.Fuzz(func(t *testing.T, data []byte, rowCount int64) {
		hs, err := decodeHashIndex(data, rowCount)
		if err != nil {
			if !errors.Is(err, spec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if int64(len(hs)) != rowCount {
			t.Fatalf("%d hashes, row count %d", len(hs), rowCount)
		}
		var back []byte
		for _, h := range hs {
			back = binary.BigEndian.AppendUint32(back, uint32(h))
		}
		if string(back) != string(data) {
			t.Fatal("hashes do not encode back to the file")
		}
	})
}
