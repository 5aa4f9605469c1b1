package avroio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/stratalake/strata/spec"
	"github.com/twmb/avro"
	"github.com/twmb/avro/ocf"
)

// ErrUnsupported marks an Avro file Strata will not read: a codec it lacks,
// or a field whose Avro encoding is not the one Paimon writes for the
// field's Paimon type.
var ErrUnsupported = errors.New("unsupported avro data file")

// MaxBlockBytes bounds one data block, compressed or not. Java's Avro
// writer flushes a block every 64 KiB or so (DataFileWriter's sync
// interval); the cap only stops corrupt sizes from allocating memory.
const MaxBlockBytes = 64 << 20

var magic = []byte{'O', 'b', 'j', 1}

// File is an open Avro object container file. It is safe for concurrent
// use as long as the io.ReaderAt is.
type File struct {
	r        io.ReaderAt
	size     int64
	schema   *avro.SchemaNode
	codec    string
	sync     [16]byte
	dataOff  int64 // offset of the first data block
	fieldIdx map[string]int
}

// Open reads the header of an Avro object container file of the given
// size. Bytes that are not such a file fail with an error wrapping
// spec.ErrCorrupt, a codec other than null, deflate, snappy and zstandard
// with ErrUnsupported.
func Open(r io.ReaderAt, size int64) (*File, error) {
	cr := &countingReader{r: bufio.NewReader(io.NewSectionReader(r, 0, size))}
	var m [4]byte
	if _, err := io.ReadFull(cr, m[:]); err != nil || !bytes.Equal(m[:], magic) {
		return nil, fmt.Errorf("%w: not an Avro object container file (no Obj\\x01 magic)", spec.ErrCorrupt)
	}
	meta, err := readMetadata(cr, size)
	if err != nil {
		return nil, err
	}
	f := &File{r: r, size: size, codec: "null"}
	if c, ok := meta["avro.codec"]; ok && len(c) > 0 {
		f.codec = string(c)
	}
	if err := checkCodec(f.codec); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(cr, f.sync[:]); err != nil {
		return nil, fmt.Errorf("%w: header: no sync marker", spec.ErrCorrupt)
	}
	f.dataOff = cr.n
	js, ok := meta["avro.schema"]
	if !ok {
		return nil, fmt.Errorf("%w: header has no avro.schema", spec.ErrCorrupt)
	}
	s, err := avro.Parse(string(js))
	if err != nil {
		return nil, fmt.Errorf("%w: header schema: %w", spec.ErrCorrupt, err)
	}
	f.schema = s.Root().ExpandReferences()
	if f.schema.Type != "record" {
		return nil, fmt.Errorf("%w: file schema is %s, not a record", ErrUnsupported, f.schema.Type)
	}
	f.fieldIdx = make(map[string]int, len(f.schema.Fields))
	for i, fd := range f.schema.Fields {
		f.fieldIdx[fd.Name] = i
	}
	return f, nil
}

// Columns returns the names of the file's top-level fields, in file order.
func (f *File) Columns() []string {
	out := make([]string, len(f.schema.Fields))
	for i, fd := range f.schema.Fields {
		out[i] = fd.Name
	}
	return out
}

// Codec returns the file's compression codec name.
func (f *File) Codec() string { return f.codec }

// ReadRows returns the file's records projected onto fields: one value per
// requested field, found by name among the file's top-level fields and
// decoded as the field's Paimon type (pass the fields of the schema the
// file was written with). A field the file lacks reads as null.
//
// The sequence yields (nil, err) once and stops when a field's encoding is
// not Paimon's for its type (ErrUnsupported) or the data is corrupt
// (spec.ErrCorrupt). The iterator may be run more than once.
func (f *File) ReadRows(fields []spec.DataField) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		rec, err := f.plan(fields)
		if err != nil {
			yield(nil, err)
			return
		}
		codec, err := newCodec(f.codec)
		if err != nil {
			yield(nil, err)
			return
		}
		defer codec.Close()
		cr := &countingReader{r: bufio.NewReader(io.NewSectionReader(f.r, f.dataOff, f.size-f.dataOff))}
		for block := 0; ; block++ {
			data, count, err := f.nextBlock(cr, codec)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("avro block %d: %w", block, err))
				return
			}
			d := &decoder{b: data}
			for i := int64(0); i < count; i++ {
				row := make(spec.Row, len(fields))
				if err := rec.decodeInto(d, row); err != nil {
					yield(nil, fmt.Errorf("avro block %d, record %d: %w", block, i, err))
					return
				}
				if !yield(row, nil) {
					return
				}
			}
			if d.off != len(d.b) {
				yield(nil, fmt.Errorf("%w: avro block %d: %d bytes after its %d records", spec.ErrCorrupt, block, len(d.b)-d.off, count))
				return
			}
		}
	}
}

// nextBlock reads one data block: its record count and decompressed
// bytes. It returns io.EOF at the clean end of the file.
func (f *File) nextBlock(cr *countingReader, codec ocf.Codec) ([]byte, int64, error) {
	count, err := readLong(cr)
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, err
	}
	n, err := readLong(cr)
	if err != nil {
		return nil, 0, err
	}
	if count < 0 || n < 0 || n > MaxBlockBytes || n > f.size {
		return nil, 0, fmt.Errorf("%w: block of %d records in %d bytes", spec.ErrCorrupt, count, n)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(cr, raw); err != nil {
		return nil, 0, fmt.Errorf("%w: truncated block: %w", spec.ErrCorrupt, err)
	}
	var sync [16]byte
	if _, err := io.ReadFull(cr, sync[:]); err != nil || sync != f.sync {
		return nil, 0, fmt.Errorf("%w: block not followed by the file's sync marker", spec.ErrCorrupt)
	}
	data, err := decompress(codec, raw)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s block: %w", spec.ErrCorrupt, f.codec, err)
	}
	// Every record Paimon writes takes at least one byte.
	if count > int64(len(data)) {
		return nil, 0, fmt.Errorf("%w: block claims %d records in %d bytes", spec.ErrCorrupt, count, len(data))
	}
	return data, count, nil
}

func decompress(c ocf.Codec, raw []byte) ([]byte, error) {
	if b, ok := c.(ocf.BoundedDecompressor); ok {
		return b.DecompressBounded(raw, MaxBlockBytes)
	}
	return c.Decompress(raw)
}

// newCodec returns a fresh codec for the header's avro.codec name.
func newCodec(name string) (ocf.Codec, error) {
	switch name {
	case "null":
		return nullCodec{}, nil
	case "deflate":
		return ocf.DeflateCodec(-1), nil
	case "snappy":
		return ocf.SnappyCodec(), nil
	case "zstandard":
		return ocf.ZstdCodec(nil, nil)
	}
	return nil, checkCodec(name)
}

// checkCodec reports whether newCodec knows name, without building the
// codec (zstandard's holds an encoder and a decoder until closed).
func checkCodec(name string) error {
	switch name {
	case "null", "deflate", "snappy", "zstandard":
		return nil
	}
	return fmt.Errorf("%w: codec %q (Strata reads null, deflate, snappy and zstandard)", ErrUnsupported, name)
}

type nullCodec struct{}

func (nullCodec) Name() string                          { return "null" }
func (nullCodec) Compress(src []byte) ([]byte, error)   { return src, nil }
func (nullCodec) Decompress(src []byte) ([]byte, error) { return src, nil }
func (nullCodec) Close() error                          { return nil }

// readMetadata reads the header's map<bytes>.
func readMetadata(cr *countingReader, size int64) (map[string][]byte, error) {
	meta := map[string][]byte{}
	for {
		n, err := readLong(cr)
		if err != nil {
			return nil, fmt.Errorf("%w: header metadata: %w", spec.ErrCorrupt, noEOF(err))
		}
		if n == 0 {
			return meta, nil
		}
		if n < 0 {
			n = -n
			if _, err := readLong(cr); err != nil { // block size in bytes
				return nil, fmt.Errorf("%w: header metadata: %w", spec.ErrCorrupt, noEOF(err))
			}
		}
		if n > size {
			return nil, fmt.Errorf("%w: header metadata of %d entries", spec.ErrCorrupt, n)
		}
		for ; n > 0; n-- {
			k, err := readBytes(cr, size)
			if err != nil {
				return nil, err
			}
			v, err := readBytes(cr, size)
			if err != nil {
				return nil, err
			}
			meta[string(k)] = v
		}
	}
}

func readBytes(cr *countingReader, max int64) ([]byte, error) {
	n, err := readLong(cr)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", spec.ErrCorrupt, noEOF(err))
	}
	if n < 0 || n > max-cr.n {
		return nil, fmt.Errorf("%w: header: string of %d bytes", spec.ErrCorrupt, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(cr, b); err != nil {
		return nil, fmt.Errorf("%w: header: %w", spec.ErrCorrupt, noEOF(err))
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// readLong reads a zig-zag varint long; io.EOF only before its first byte.
func readLong(br io.ByteReader) (int64, error) {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		b, err := br.ReadByte()
		if err != nil {
			if shift > 0 {
				return 0, fmt.Errorf("%w: truncated varint", spec.ErrCorrupt)
			}
			return 0, err
		}
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, fmt.Errorf("%w: varint longer than 10 bytes", spec.ErrCorrupt)
}
