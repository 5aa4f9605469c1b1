package parquetio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// Bounds on what one page may claim. parquet-go allocates from page headers
// and compressed-stream headers before it decodes anything, so a corrupt
// header could make it allocate gigabytes; real pages (parquet-mr cuts them
// at 1 MiB or 20,000 rows) stay far below these.
const (
	maxPageBytes  = 256 << 20
	maxPageValues = 1 << 24
)

// supportedCodec reports whether the reader decodes pages of codec c. LZ4
// (whose Hadoop framing parquet-go does not read), LZ4_RAW, BROTLI and LZO
// are refused: parquet-go's LZ4 decoder grows its buffer without bound on bad
// input, and Paimon writes none of them by default.
func supportedCodec(c format.CompressionCodec) bool {
	switch c {
	case format.Uncompressed, format.Snappy, format.Gzip, format.Zstd:
		return true
	}
	return false
}

// chunkStart is where parquet-go starts reading a column chunk.
func chunkStart(m *format.ColumnMetaData) int64 {
	if m.DictionaryPageOffset != 0 {
		return m.DictionaryPageOffset
	}
	return m.DataPageOffset
}

// checkChunk validates every page header of a column chunk held in memory:
// sizes within the chunk and the bounds above, value counts that add up to
// the row group's rows, and compressed streams that do not promise more
// bytes than allowed.
func checkChunk(buf []byte, codec format.CompressionCodec, numRows int64, repeated bool) error {
	var values int64
	for pos := 0; pos < len(buf); {
		n, err := thriftStructLen(buf[pos:])
		if err != nil {
			return fmt.Errorf("page header at %d: %w", pos, err)
		}
		var h format.PageHeader
		if err := thrift.Unmarshal(new(thrift.CompactProtocol), buf[pos:pos+n], &h); err != nil {
			return fmt.Errorf("page header at %d: %w", pos, err)
		}
		pos += n
		if h.CompressedPageSize < 0 || int(h.CompressedPageSize) > len(buf)-pos {
			return fmt.Errorf("page at %d claims %d bytes, %d remain", pos, h.CompressedPageSize, len(buf)-pos)
		}
		if h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
			return fmt.Errorf("page at %d claims %d uncompressed bytes", pos, h.UncompressedPageSize)
		}
		data := buf[pos : pos+int(h.CompressedPageSize)]
		pos += int(h.CompressedPageSize)
		var count int32
		compressed := true
		switch h.Type {
		case format.DataPage:
			if !h.DataPageHeader.Valid {
				return errors.New("data page without header")
			}
			count = h.DataPageHeader.V.NumValues
			values += int64(count)
		case format.DataPageV2:
			v := h.DataPageHeaderV2
			if !v.Valid {
				return errors.New("data page v2 without header")
			}
			count = v.V.NumValues
			levels := int64(v.V.RepetitionLevelsByteLength) + int64(v.V.DefinitionLevelsByteLength)
			if v.V.RepetitionLevelsByteLength < 0 || v.V.DefinitionLevelsByteLength < 0 || levels > int64(len(data)) ||
				v.V.NumNulls < 0 || v.V.NumNulls > count || v.V.NumRows < 0 || v.V.NumRows > count {
				return errors.New("inconsistent data page v2 header")
			}
			data = data[levels:]
			compressed = !v.V.IsCompressed.Valid || v.V.IsCompressed.V
			values += int64(count)
		case format.DictionaryPage:
			if !h.DictionaryPageHeader.Valid {
				return errors.New("dictionary page without header")
			}
			count = h.DictionaryPageHeader.V.NumValues
		case format.IndexPage:
			continue
		default:
			return fmt.Errorf("unknown page type %d", h.Type)
		}
		if count < 0 || count > maxPageValues {
			return fmt.Errorf("page claims %d values", count)
		}
		if compressed {
			if err := checkCompressed(codec, data); err != nil {
				return err
			}
		}
	}
	if values < numRows || !repeated && values != numRows {
		return fmt.Errorf("pages hold %d values for %d rows", values, numRows)
	}
	return nil
}

// checkCompressed bounds the output a compressed page promises.
func checkCompressed(codec format.CompressionCodec, data []byte) error {
	switch codec {
	case format.Snappy:
		n, k := binary.Uvarint(data)
		if k <= 0 || n > maxPageBytes {
			return errors.New("snappy page promises too much output")
		}
	case format.Zstd:
		if _, err := zstdBound(data); err != nil {
			return fmt.Errorf("zstd page: %w", err)
		}
	}
	return nil
}

// zstdBound walks the frames and block headers of a zstd stream and returns
// an upper bound of its decompressed size, failing when the bound, a declared
// content size or a window size exceeds maxPageBytes.
func zstdBound(b []byte) (int64, error) {
	var total int64
	for len(b) > 0 {
		if len(b) < 4 {
			return 0, errThriftTruncated
		}
		m := binary.LittleEndian.Uint32(b)
		if m&0xfffffff0 == 0x184d2a50 { // skippable frame
			if len(b) < 8 {
				return 0, errThriftTruncated
			}
			n := uint64(binary.LittleEndian.Uint32(b[4:]))
			if n > uint64(len(b)-8) {
				return 0, errThriftTruncated
			}
			b = b[8+n:]
			continue
		}
		if m != 0xfd2fb528 || len(b) < 5 {
			return 0, errors.New("bad frame magic")
		}
		fhd := b[4]
		b = b[5:]
		if fhd&0x08 != 0 {
			return 0, errors.New("reserved frame header bit set")
		}
		single := fhd&0x20 != 0
		if !single {
			if len(b) < 1 {
				return 0, errThriftTruncated
			}
			exp, mantissa := uint64(b[0]>>3), uint64(b[0]&7)
			base := uint64(1) << (10 + exp)
			if base+base/8*mantissa > maxPageBytes {
				return 0, errors.New("window too large")
			}
			b = b[1:]
		}
		dictLen := [4]int{0, 1, 2, 4}[fhd&3]
		fcsLen := [4]int{0, 2, 4, 8}[fhd>>6]
		if fcsLen == 0 && single {
			fcsLen = 1
		}
		if len(b) < dictLen+fcsLen {
			return 0, errThriftTruncated
		}
		b = b[dictLen:]
		var fcs uint64
		for i := fcsLen - 1; i >= 0; i-- {
			fcs = fcs<<8 | uint64(b[i])
		}
		if fcsLen == 2 {
			fcs += 256
		}
		if fcs > maxPageBytes {
			return 0, errors.New("declared content too large")
		}
		b = b[fcsLen:]
		for last := false; !last; {
			if len(b) < 3 {
				return 0, errThriftTruncated
			}
			h := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			b = b[3:]
			last = h&1 != 0
			size := int64(h >> 3)
			switch (h >> 1) & 3 {
			case 0: // raw
				total += size
			case 1: // RLE: one byte repeated size times
				total += size
				size = 1
			case 2: // compressed: at most one 128 KiB block out
				total += 128 << 10
			default:
				return 0, errors.New("reserved block type")
			}
			if size > int64(len(b)) {
				return 0, errThriftTruncated
			}
			b = b[size:]
			if total > maxPageBytes {
				return 0, errors.New("stream too large")
			}
		}
		if fhd&0x04 != 0 { // content checksum
			if len(b) < 4 {
				return 0, errThriftTruncated
			}
			b = b[4:]
		}
	}
	return total, nil
}

// chunkCache is the io.ReaderAt parquet-go reads through. The reader loads a
// column chunk, checks its pages with checkChunk, and parks it here, so
// parquet-go decodes exactly the bytes that were checked and the chunk is
// fetched from storage in one read. Other reads pass through.
type chunkCache struct {
	base   io.ReaderAt
	mu     sync.Mutex
	chunks []*cachedChunk
}

type cachedChunk struct {
	off  int64
	data []byte
	refs int
}

func (c *chunkCache) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	for _, ch := range c.chunks {
		if off >= ch.off && off-ch.off <= int64(len(ch.data))-int64(len(p)) {
			data := ch.data[off-ch.off:]
			c.mu.Unlock()
			return copy(p, data), nil
		}
	}
	c.mu.Unlock()
	return c.base.ReadAt(p, off)
}

// load reads, checks and parks the chunk of column meta m.
func (c *chunkCache) load(m *format.ColumnMetaData, numRows int64, repeated bool) (*cachedChunk, error) {
	off, size := chunkStart(m), m.TotalCompressedSize
	c.mu.Lock()
	for _, ch := range c.chunks {
		if ch.off == off && int64(len(ch.data)) == size {
			ch.refs++
			c.mu.Unlock()
			return ch, nil
		}
	}
	c.mu.Unlock()
	data := make([]byte, size)
	if _, err := c.base.ReadAt(data, off); err != nil {
		return nil, fmt.Errorf("parquetio: reading column chunk: %w", err)
	}
	if err := checkChunk(data, m.Codec, numRows, repeated); err != nil {
		return nil, fmt.Errorf("%w: column %v: %v", spec.ErrCorrupt, m.PathInSchema, err)
	}
	ch := &cachedChunk{off: off, data: data, refs: 1}
	c.mu.Lock()
	c.chunks = append(c.chunks, ch)
	c.mu.Unlock()
	return ch, nil
}

// release unparks a chunk once its last reader is done.
func (c *chunkCache) release(ch *cachedChunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.refs--; ch.refs > 0 {
		return
	}
	for i, x := range c.chunks {
		if x == ch {
			c.chunks = append(c.chunks[:i], c.chunks[i+1:]...)
			return
		}
	}
}
