package spec

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/avro/ocf"
)

// avroCursor reads Avro binary values from a buffer the decoder owns and
// never changes: strings and byte slices it returns alias that buffer, so a
// manifest decodes into a few allocations instead of one per value. The
// first error sticks; callers check err once per row.
type avroCursor struct {
	buf []byte
	off int
	err error
}

var errAvroShort = errors.New("avro: value runs past the end of its block")

func (c *avroCursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.off = len(c.buf)
}

// int reads a zigzag varint of at most 5 bytes, as Avro's int.
func (c *avroCursor) int() int32 {
	var u uint32
	for i := 0; i < 5; i++ {
		if c.off >= len(c.buf) {
			c.fail(errAvroShort)
			return 0
		}
		b := c.buf[c.off]
		c.off++
		if i == 4 && b > 0x0f {
			c.fail(errors.New("avro: int overflows 32 bits"))
			return 0
		}
		u |= uint32(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			break
		}
	}
	return int32(u>>1) ^ -int32(u&1)
}

// long reads a zigzag varint of at most 10 bytes, as Avro's long.
func (c *avroCursor) long() int64 {
	if c.off < len(c.buf) && c.buf[c.off] < 0x80 {
		u := uint64(c.buf[c.off])
		c.off++
		return int64(u>>1) ^ -int64(u&1)
	}
	var u uint64
	for i := 0; i < 10; i++ {
		if c.off >= len(c.buf) {
			c.fail(errAvroShort)
			return 0
		}
		b := c.buf[c.off]
		c.off++
		if i == 9 && b > 0x01 {
			c.fail(errors.New("avro: long overflows 64 bits"))
			return 0
		}
		u |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1)
}

// bytes returns the next bytes value as a capacity-limited view of the
// buffer (so an append by a caller copies instead of overwriting the next
// value); it is never nil, as the generic decoder's is not.
func (c *avroCursor) bytes() []byte {
	n := c.long()
	if n < 0 || n > int64(len(c.buf)-c.off) {
		c.fail(fmt.Errorf("avro: bytes length %d with %d bytes left", n, len(c.buf)-c.off))
		return []byte{}
	}
	end := c.off + int(n)
	b := c.buf[c.off:end:end]
	c.off = end
	return b
}

// string returns the next string value; it aliases the immutable buffer.
func (c *avroCursor) string() string {
	b := c.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// present reads the branch of a ["null", T] union: false for null.
func (c *avroCursor) present() bool {
	switch c.long() {
	case 0:
		return false
	case 1:
		return true
	}
	c.fail(errors.New("avro: union branch out of range"))
	return false
}

// arrayBlock reads an array or map block header: the number of items in the
// block, 0 at the end. Each item takes at least minItemBytes, which bounds
// the count by what is left.
func (c *avroCursor) arrayBlock(minItemBytes int) int {
	n := c.long()
	if n < 0 {
		n = -n
		c.long() // the block's byte size
	}
	// n > left/minItemBytes, not n*minItemBytes > left: a count near 2^62
	// overflowed the product, passed, and had the caller loop 2^62 times.
	if n < 0 || n > int64(len(c.buf)-c.off)/int64(max(minItemBytes, 1)) {
		c.fail(fmt.Errorf("avro: array block of %d items with %d bytes left", n, len(c.buf)-c.off))
		return 0
	}
	return int(n)
}

// ocfFile is an Avro object container file split into its parts.
type ocfFile struct {
	schema string
	codec  string
	sync   []byte
	rest   []byte // the data blocks
}

var ocfMagic = []byte{'O', 'b', 'j', 1}

// parseOCF reads an object container file's header.
func parseOCF(data []byte) (ocfFile, error) {
	var f ocfFile
	if !bytes.HasPrefix(data, ocfMagic) {
		return f, errors.New("avro: not an object container file")
	}
	c := avroCursor{buf: data, off: len(ocfMagic)}
	var hasSchema bool
	f.codec = "null"
	for {
		n := c.arrayBlock(2)
		if n == 0 {
			break
		}
		for ; n > 0; n-- {
			k, v := c.string(), c.bytes()
			switch k {
			case "avro.schema":
				f.schema, hasSchema = string(v), true
			case "avro.codec":
				f.codec = string(v)
			}
		}
	}
	if c.err != nil {
		return f, c.err
	}
	if !hasSchema {
		return f, errors.New("avro: no avro.schema in header")
	}
	if len(data)-c.off < 16 {
		return f, errAvroShort
	}
	f.sync = data[c.off : c.off+16]
	f.rest = data[c.off+16:]
	return f, nil
}

// maxOCFBlock bounds one block, compressed or not, as the generic reader's
// defaults do.
const maxOCFBlock = 64 << 20

// ocfBlock is one decompressed data block and its record count.
type ocfBlock struct {
	data  []byte
	count int
}

// blocks returns the file's non-empty data blocks, each decompressed into a
// buffer of its own, and their total record count (bounded by their size).
func (f ocfFile) blocks() ([]ocfBlock, int, error) {
	var decompress func([]byte) ([]byte, error)
	switch f.codec {
	case "null", "":
	case "deflate":
		decompress = func(b []byte) ([]byte, error) {
			return ocf.DeflateCodec(-1).(ocf.BoundedDecompressor).DecompressBounded(b, maxOCFBlock)
		}
	case "snappy":
		decompress = func(b []byte) ([]byte, error) {
			return ocf.SnappyCodec().(ocf.BoundedDecompressor).DecompressBounded(b, maxOCFBlock)
		}
	case "zstandard":
		// The decoder alone: the generic codec builds an encoder too.
		z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxOCFBlock))
		if err != nil {
			return nil, 0, err
		}
		defer z.Close()
		decompress = func(b []byte) ([]byte, error) { return z.DecodeAll(b, nil) }
	default:
		return nil, 0, fmt.Errorf("avro: unknown codec %q", f.codec)
	}
	var out []ocfBlock
	total := 0
	c := avroCursor{buf: f.rest}
	for c.off < len(c.buf) {
		count, size := c.long(), c.long()
		if c.err != nil {
			return nil, 0, c.err
		}
		if count < 0 || size < 0 || size > maxOCFBlock || size > int64(len(c.buf)-c.off)-16 {
			return nil, 0, fmt.Errorf("avro: block of %d records, %d bytes, with %d bytes left", count, size, len(c.buf)-c.off)
		}
		raw := c.buf[c.off : c.off+int(size)]
		c.off += int(size)
		if !bytes.Equal(c.buf[c.off:c.off+16], f.sync) {
			return nil, 0, errors.New("avro: sync marker mismatch")
		}
		c.off += 16
		if count == 0 {
			continue
		}
		var block []byte
		if decompress == nil {
			// Values alias the block: copy it so that they never alias the
			// caller's data.
			block = bytes.Clone(raw)
		} else {
			var err error
			if block, err = decompress(raw); err != nil {
				return nil, 0, fmt.Errorf("avro: decompress block: %w", err)
			}
		}
		// Every row takes at least one byte.
		if count > int64(len(block)) {
			return nil, 0, fmt.Errorf("avro: block claims %d records in %d bytes", count, len(block))
		}
		out = append(out, ocfBlock{block, int(count)})
		total += int(count)
	}
	return out, total, nil
}
