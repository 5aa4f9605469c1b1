package lsm

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
)

// sortEntries orders entries as the comparison it replaced: by whole key,
// then sequence number, whatever the keys' lengths and shared prefixes.
func TestSortEntriesModel(t *testing.T) {
	rng := columnarRNG(t)
	for round := range 300 {
		n := rng.IntN(2000)
		var arena []byte
		ents := make([]bufEntry, n)
		for i := range ents {
			// Keys of 0-12 bytes over a small alphabet, so prefixes,
			// whole keys and lengths often tie; some vary in one byte
			// only, as the integers of a small key space do.
			var k []byte
			switch rng.IntN(3) {
			case 0:
				k = binary.BigEndian.AppendUint64(nil, 1<<40+uint64(rng.IntN(300)))
			default:
				k = make([]byte, rng.IntN(13))
				for j := range k {
					k[j] = byte(rng.IntN(3)) * 0x7f
				}
			}
			var p [8]byte
			copy(p[:], k)
			ents[i] = bufEntry{prefix: binary.BigEndian.Uint64(p[:]), seq: int64(rng.IntN(50)), off: uint32(len(arena)),
				klen: uint32(len(k)), row: uint32(i)}
			arena = append(arena, k...)
		}
		key := func(e *bufEntry) []byte { return arena[e.off : e.off+e.klen] }
		want := slices.Clone(ents)
		slices.SortStableFunc(want, func(x, y bufEntry) int {
			if c := bytes.Compare(key(&x), key(&y)); c != 0 {
				return c
			}
			return cmp.Compare(x.seq, y.seq)
		})
		got := sortEntries(ents, make([]bufEntry, n), key)
		for i := range want {
			// Entries equal in key and sequence number (never in a
			// buffer, whose numbers are distinct) may come in any order.
			if !bytes.Equal(key(&got[i]), key(&want[i])) || got[i].seq != want[i].seq {
				t.Fatalf("round %d, %d entries: entry %d is key %x seq %d, want key %x seq %d", round, n, i,
					key(&got[i]), got[i].seq, key(&want[i]), want[i].seq)
			}
		}
	}
}

// BenchmarkSortEntries sorts a flush's entries: BIGINT keys of a ten-million
// key space, in arrival order.
func BenchmarkSortEntries(b *testing.B) {
	for _, n := range []int{100_000, 500_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := columnarRNG(b)
			arena := make([]byte, 0, 8*n)
			ents := make([]bufEntry, n)
			for i := range ents {
				k := binary.BigEndian.AppendUint64(nil, 1<<63+uint64(rng.IntN(10_000_000)))
				ents[i] = bufEntry{prefix: binary.BigEndian.Uint64(k), seq: int64(i), off: uint32(len(arena)), klen: 8}
				arena = append(arena, k...)
			}
			key := func(e *bufEntry) []byte { return arena[e.off : e.off+e.klen] }
			work, tmp := make([]bufEntry, n), make([]bufEntry, n)
			for b.Loop() {
				copy(work, ents)
				sortEntries(work, tmp, key)
			}
		})
	}
}
