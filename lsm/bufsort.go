package lsm

import (
	"bytes"
	"cmp"
	"slices"
)

// sortEntries orders ents by key, then sequence number. A flush sorts the
// whole write buffer (hundreds of thousands of records), where a
// comparison sort was a tenth of a write-only writer's CPU: so the
// entries are radix-sorted on their eight-byte key prefixes, least
// significant byte first, skipping the bytes every prefix shares (keys of
// a ten-million key space differ in three), and only runs of equal
// prefixes (duplicates, or longer keys sharing their first eight bytes)
// are then compared whole. tmp is scratch of len(ents) or more; the sorted
// entries are returned, in ents or in tmp.
func sortEntries(ents, tmp []bufEntry, key func(*bufEntry) []byte) []bufEntry {
	if len(ents) < 2 {
		return ents
	}
	and, or := ^uint64(0), uint64(0)
	for i := range ents {
		and &= ents[i].prefix
		or |= ents[i].prefix
	}
	varying := and ^ or // bits set in some prefixes but not all
	src, dst := ents, tmp[:len(ents)]
	var counts [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		if (varying>>shift)&0xff == 0 {
			continue
		}
		clear(counts[:])
		for i := range src {
			counts[byte(src[i].prefix>>shift)]++
		}
		at := 0
		for d, c := range counts {
			counts[d] = at
			at += c
		}
		for i := range src {
			d := byte(src[i].prefix >> shift)
			dst[counts[d]] = src[i]
			counts[d]++
		}
		src, dst = dst, src
	}
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j].prefix == src[i].prefix {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(src[i:j], func(x, y bufEntry) int {
				if c := bytes.Compare(key(&x), key(&y)); c != 0 {
					return c
				}
				return cmp.Compare(x.seq, y.seq)
			})
		}
		i = j
	}
	return src
}
