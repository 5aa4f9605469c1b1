package avroio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/stratalake/strata/spec"
)

// decoder reads Avro binary values from one decompressed block.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if d.off >= len(d.b) {
			return 0, fmt.Errorf("%w: truncated varint", spec.ErrCorrupt)
		}
		c := d.b[d.off]
		d.off++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, fmt.Errorf("%w: varint longer than 10 bytes", spec.ErrCorrupt)
}

func (d *decoder) int() (int32, error) {
	v, err := d.long()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%w: int %d out of range", spec.ErrCorrupt, v)
	}
	return int32(v), nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.off {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d left", spec.ErrCorrupt, n, len(d.b)-d.off)
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b, nil
}

// bytes reads length-prefixed bytes, copied out of the block.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.long()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(len(d.b)-d.off) {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d left", spec.ErrCorrupt, n, len(d.b)-d.off)
	}
	b, err := d.take(int(n))
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

func (d *decoder) boolean() (bool, error) {
	b, err := d.take(1)
	if err != nil {
		return false, err
	}
	switch b[0] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("%w: boolean byte %d", spec.ErrCorrupt, b[0])
}

func (d *decoder) float() (float32, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
}

func (d *decoder) double() (float64, error) {
	b, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// blockCount reads the item count of an array or map block (a negative
// count is followed by the block's byte size). Every item Paimon writes
// takes at least one byte, so a count beyond the bytes left is corrupt.
func (d *decoder) blockCount() (int, error) {
	n, err := d.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, fmt.Errorf("%w: block count %d", spec.ErrCorrupt, n)
		}
		n = -n
		if _, err := d.long(); err != nil {
			return 0, err
		}
	}
	if n > int64(len(d.b)-d.off) {
		return 0, fmt.Errorf("%w: block of %d items with %d bytes left", spec.ErrCorrupt, n, len(d.b)-d.off)
	}
	return int(n), nil
}

var errCorruptBranch = fmt.Errorf("%w: bad union branch", spec.ErrCorrupt)
