package spec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
)

// Serialized forms (the bytes a DV index file frames with a size and a CRC):
//
//	32-bit: int32 BE magic 1581511376 | RoaringBitmap portable format
//	64-bit: int32 LE magic 1681511377 | int64 LE n | n × (uint32 LE key | RoaringBitmap portable format)
//
// Java runs run-length optimisation before serializing either kind, and its
// 64-bit form writes one bitmap for every key from 0 to the largest, empty
// ones included. The portable format is little-endian throughout:
// https://github.com/RoaringBitmap/RoaringFormatSpec.

// Constants of the RoaringBitmap portable format.
const (
	roaringCookieNoRun  = 12346
	roaringCookieRun    = 12347
	roaringNoOffsetRuns = 4    // with runs, offsets are written only for >= 4 containers
	roaringMaxArray     = 4096 // larger containers are bitmaps
	roaringBitmapBytes  = 8192
)

// emptyRoaring is how Java and Go serialize an empty RoaringBitmap.
var emptyRoaring = []byte{0x3a, 0x30, 0, 0, 0, 0, 0, 0}

// EncodeDeletionVector returns the serialized bytes of dv: the magic number
// followed by the bitmap, as Java's serializeTo writes them between the size
// and the CRC. Like Java, it run-optimises dv's bitmaps in place first, so it
// must not run concurrently with other use of dv.
func EncodeDeletionVector(dv *DeletionVector) ([]byte, error) {
	if dv.Kind() == DVBitmap32 {
		bm := dv.bm
		if bm == nil {
			bm = roaring.New()
		}
		bm.RunOptimize()
		var buf bytes.Buffer
		buf.Grow(4 + int(bm.GetSerializedSizeInBytes()))
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(DVMagic32)))
		if _, err := bm.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("encoding deletion vector: %w", err)
		}
		return buf.Bytes(), nil
	}

	// Size everything first: Java refuses vectors whose framed form
	// (size + bytes + CRC) would exceed 2 GiB, and so do we, before
	// allocating.
	size := uint64(4 + 8)
	size += uint64(dv.width) * (4 + uint64(len(emptyRoaring)))
	for _, b := range dv.buckets {
		b.bm.RunOptimize()
		size += b.bm.GetSerializedSizeInBytes() - uint64(len(emptyRoaring))
	}
	if size+8 > math.MaxInt32 {
		return nil, fmt.Errorf("deletion vector of %d bytes exceeds 2 GiB", size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(DVMagic64)))
	buf.Write(binary.LittleEndian.AppendUint64(nil, uint64(dv.width)))
	next := 0 // index into dv.buckets
	var key [4]byte
	for k := uint32(0); k < dv.width; k++ {
		binary.LittleEndian.PutUint32(key[:], k)
		buf.Write(key[:])
		if next < len(dv.buckets) && dv.buckets[next].key == k {
			if _, err := dv.buckets[next].bm.WriteTo(buf); err != nil {
				return nil, fmt.Errorf("encoding deletion vector: %w", err)
			}
			next++
			continue
		}
		buf.Write(emptyRoaring)
	}
	return buf.Bytes(), nil
}

// DecodeDeletionVector parses the serialized bytes of one deletion vector
// (magic number and bitmap, without the index file's size and CRC). The kind
// comes from the magic number. The result does not alias b. Malformed input,
// including trailing bytes, yields an error wrapping ErrCorrupt.
func DecodeDeletionVector(b []byte) (*DeletionVector, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: deletion vector of %d bytes has no magic number", ErrCorrupt, len(b))
	}
	switch {
	case int32(binary.BigEndian.Uint32(b)) == DVMagic32:
		bm, n, err := decodeRoaring32(b[4:])
		if err != nil {
			return nil, fmt.Errorf("%w: 32-bit deletion vector: %w", ErrCorrupt, err)
		}
		if 4+n != len(b) {
			return nil, fmt.Errorf("%w: 32-bit deletion vector has %d trailing bytes", ErrCorrupt, len(b)-4-n)
		}
		return &DeletionVector{kind: DVBitmap32, bm: bm}, nil
	case int32(binary.LittleEndian.Uint32(b)) == DVMagic64:
		dv, err := decodeBitmap64(b[4:])
		if err != nil {
			return nil, fmt.Errorf("%w: 64-bit deletion vector: %w", ErrCorrupt, err)
		}
		return dv, nil
	}
	return nil, fmt.Errorf("%w: deletion vector magic %#08x is neither %d (BE) nor %d (LE)",
		ErrCorrupt, binary.BigEndian.Uint32(b), DVMagic32, DVMagic64)
}

// decodeBitmap64 parses the body of a 64-bit vector, enforcing Java's
// checks: a count in [0, MaxInt32] and keys ascending in [0, MaxInt32-1].
func decodeBitmap64(b []byte) (*DeletionVector, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated bitmap count")
	}
	count := binary.LittleEndian.Uint64(b)
	if count > math.MaxInt32 {
		return nil, fmt.Errorf("bitmap count %d out of range", count)
	}
	// Each bitmap takes at least 12 bytes, which bounds the loop and the
	// allocation by the input size.
	if count > uint64(len(b)-8)/12 {
		return nil, fmt.Errorf("bitmap count %d exceeds the %d bytes that follow", count, len(b)-8)
	}
	b = b[8:]
	dv := &DeletionVector{kind: DVBitmap64}
	last := int64(-1)
	for i := uint64(0); i < count; i++ {
		if len(b) < 4 {
			return nil, fmt.Errorf("truncated key of bitmap %d", i)
		}
		key := binary.LittleEndian.Uint32(b)
		if key > math.MaxInt32-1 {
			return nil, fmt.Errorf("bitmap key %d out of range", key)
		}
		if int64(key) <= last {
			return nil, fmt.Errorf("bitmap key %d does not ascend after %d", key, last)
		}
		last = int64(key)
		// Java writes an empty bitmap for every key below the largest; skip
		// them without allocating, as there may be millions.
		if len(b) >= 4+len(emptyRoaring) && bytes.Equal(b[4:4+len(emptyRoaring)], emptyRoaring) {
			b = b[4+len(emptyRoaring):]
			continue
		}
		bm, n, err := decodeRoaring32(b[4:])
		if err != nil {
			return nil, fmt.Errorf("bitmap %d (key %d): %w", i, key, err)
		}
		b = b[4+n:]
		// Empty bitmaps only widen the vector; width alone reproduces them.
		if !bm.IsEmpty() {
			dv.buckets = append(dv.buckets, dvBucket{key: key, bm: bm})
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(b))
	}
	// Java fills the gaps below the largest key with empty bitmaps.
	dv.width = uint32(last + 1)
	return dv, nil
}

// decodeRoaring32 validates one RoaringBitmap in portable format at the start
// of b and returns it with its length. The Go library reads without checking
// (unsorted keys or values, wrong cardinalities, overlapping runs), and its
// Validate is quadratic in runs, so the checks are done here in one pass.
func decodeRoaring32(b []byte) (*roaring.Bitmap, int, error) {
	n, err := roaring32Len(b)
	if err != nil {
		return nil, 0, err
	}
	bm := roaring.New()
	if _, err := bm.ReadFrom(bytes.NewReader(b[:n])); err != nil {
		return nil, 0, err
	}
	return bm, n, nil
}

// roaring32Len checks that b starts with a well-formed RoaringBitmap and
// returns its serialized length.
func roaring32Len(b []byte) (int, error) {
	r := byteReader{b: b}
	cookie, ok := r.u32()
	if !ok {
		return 0, fmt.Errorf("truncated roaring cookie")
	}
	var size int
	var runFlags []byte
	switch {
	case cookie&0xffff == roaringCookieRun:
		size = int(cookie>>16) + 1
		if runFlags, ok = r.next((size + 7) / 8); !ok {
			return 0, fmt.Errorf("truncated roaring run flags")
		}
	case cookie == roaringCookieNoRun:
		s, ok := r.u32()
		if !ok {
			return 0, fmt.Errorf("truncated roaring container count")
		}
		if s > 1<<16 {
			return 0, fmt.Errorf("roaring container count %d exceeds 65536", s)
		}
		size = int(s)
	default:
		return 0, fmt.Errorf("bad roaring cookie %#08x", cookie)
	}
	header, ok := r.next(4 * size)
	if !ok {
		return 0, fmt.Errorf("truncated roaring header of %d containers", size)
	}
	var offsets []byte
	if runFlags == nil || size >= roaringNoOffsetRuns {
		if offsets, ok = r.next(4 * size); !ok {
			return 0, fmt.Errorf("truncated roaring offsets")
		}
	}
	lastKey := -1
	for i := 0; i < size; i++ {
		key := int(binary.LittleEndian.Uint16(header[4*i:]))
		card := int(binary.LittleEndian.Uint16(header[4*i+2:])) + 1
		if key <= lastKey {
			return 0, fmt.Errorf("roaring container key %d does not ascend after %d", key, lastKey)
		}
		lastKey = key
		if offsets != nil && int(binary.LittleEndian.Uint32(offsets[4*i:])) != r.off {
			return 0, fmt.Errorf("roaring container %d offset %d, want %d",
				i, binary.LittleEndian.Uint32(offsets[4*i:]), r.off)
		}
		var err error
		switch {
		case runFlags != nil && runFlags[i/8]&(1<<(i%8)) != 0:
			err = checkRunContainer(&r, card)
		case card > roaringMaxArray:
			err = checkBitmapContainer(&r, card)
		default:
			err = checkArrayContainer(&r, card)
		}
		if err != nil {
			return 0, fmt.Errorf("roaring container %d (key %d): %w", i, key, err)
		}
	}
	return r.off, nil
}

func checkRunContainer(r *byteReader, card int) error {
	nr, ok := r.u16()
	if !ok {
		return fmt.Errorf("truncated run count")
	}
	if nr == 0 {
		return fmt.Errorf("run container without runs")
	}
	runs, ok := r.next(4 * int(nr))
	if !ok {
		return fmt.Errorf("truncated %d runs", nr)
	}
	next, total := 0, 0 // next is one past the end of the previous run
	for j := 0; j < int(nr); j++ {
		start := int(binary.LittleEndian.Uint16(runs[4*j:]))
		length := int(binary.LittleEndian.Uint16(runs[4*j+2:])) + 1
		// Runs are maximal, as both Roaring libraries require: touching
		// runs would make equal sets compare unequal.
		if j > 0 && start <= next {
			return fmt.Errorf("run %d at %d overlaps, touches or is out of order", j, start)
		}
		if start+length > 1<<16 {
			return fmt.Errorf("run %d at %d of length %d passes 65535", j, start, length)
		}
		next = start + length
		total += length
	}
	if total != card {
		return fmt.Errorf("runs hold %d values, header says %d", total, card)
	}
	return nil
}

func checkBitmapContainer(r *byteReader, card int) error {
	words, ok := r.next(roaringBitmapBytes)
	if !ok {
		return fmt.Errorf("truncated bitmap container")
	}
	n := 0
	for j := 0; j < roaringBitmapBytes; j += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(words[j:]))
	}
	if n != card {
		return fmt.Errorf("bitmap container holds %d values, header says %d", n, card)
	}
	return nil
}

func checkArrayContainer(r *byteReader, card int) error {
	vals, ok := r.next(2 * card)
	if !ok {
		return fmt.Errorf("truncated array container of %d values", card)
	}
	prev := -1
	for j := 0; j < card; j++ {
		v := int(binary.LittleEndian.Uint16(vals[2*j:]))
		if v <= prev {
			return fmt.Errorf("array container value %d does not ascend after %d", v, prev)
		}
		prev = v
	}
	return nil
}

// byteReader reads little-endian values from a byte slice.
type byteReader struct {
	b   []byte
	off int
}

func (r *byteReader) next(n int) ([]byte, bool) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, false
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, true
}

func (r *byteReader) u16() (uint16, bool) {
	s, ok := r.next(2)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint16(s), true
}

func (r *byteReader) u32() (uint32, bool) {
	s, ok := r.next(4)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(s), true
}
