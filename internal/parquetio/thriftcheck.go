package parquetio

import (
	"errors"
	"fmt"
)

// Thrift compact-protocol type codes.
const (
	tcBoolTrue  = 1
	tcBoolFalse = 2
	tcByte      = 3
	tcI16       = 4
	tcI32       = 5
	tcI64       = 6
	tcDouble    = 7
	tcBinary    = 8
	tcList      = 9
	tcSet       = 10
	tcMap       = 11
	tcStruct    = 12
)

// maxThriftDepth bounds struct nesting; real footers nest about six deep.
const maxThriftDepth = 64

var errThriftTruncated = errors.New("truncated thrift data")

// checkThrift walks one compact-protocol struct and verifies every length
// and element count against the bytes that remain. parquet-go's decoder
// allocates from those counts before reading, so a footer that passes this
// check cannot make it allocate more than a small multiple of its size.
func checkThrift(b []byte) error {
	_, err := thriftStructLen(b)
	return err
}

// thriftStructLen checks the compact-protocol struct at the start of b like
// checkThrift and returns how many bytes it takes.
func thriftStructLen(b []byte) (int, error) {
	c := thriftChecker{b: b}
	if err := c.structure(0); err != nil {
		return 0, err
	}
	return c.pos, nil
}

type thriftChecker struct {
	b   []byte
	pos int
}

func (c *thriftChecker) byte1() (byte, error) {
	if c.pos >= len(c.b) {
		return 0, errThriftTruncated
	}
	v := c.b[c.pos]
	c.pos++
	return v, nil
}

func (c *thriftChecker) varint() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		b, err := c.byte1()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("thrift varint too long")
}

func (c *thriftChecker) skip(n uint64) error {
	if n > uint64(len(c.b)-c.pos) {
		return errThriftTruncated
	}
	c.pos += int(n)
	return nil
}

func (c *thriftChecker) structure(depth int) error {
	if depth > maxThriftDepth {
		return errors.New("thrift structs nest too deeply")
	}
	for {
		h, err := c.byte1()
		if err != nil {
			return err
		}
		if h == 0 {
			return nil
		}
		if h>>4 == 0 {
			if _, err := c.varint(); err != nil { // explicit field id
				return err
			}
		}
		t := h & 0x0f
		if t == tcBoolTrue || t == tcBoolFalse {
			continue // the value lives in the header
		}
		if err := c.value(t, depth); err != nil {
			return err
		}
	}
}

func (c *thriftChecker) value(t byte, depth int) error {
	switch t {
	case tcBoolTrue, tcBoolFalse, tcByte:
		return c.skip(1)
	case tcI16, tcI32, tcI64:
		_, err := c.varint()
		return err
	case tcDouble:
		return c.skip(8)
	case tcBinary:
		n, err := c.varint()
		if err != nil {
			return err
		}
		return c.skip(n)
	case tcList, tcSet:
		h, err := c.byte1()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = c.varint(); err != nil {
				return err
			}
		}
		// Every element takes at least one byte.
		if n > uint64(len(c.b)-c.pos) {
			return errThriftTruncated
		}
		et := h & 0x0f
		for range n {
			if err := c.value(et, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tcMap:
		n, err := c.varint()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n > uint64(len(c.b)-c.pos)/2 {
			return errThriftTruncated
		}
		kv, err := c.byte1()
		if err != nil {
			return err
		}
		for range n {
			if err := c.value(kv>>4, depth+1); err != nil {
				return err
			}
			if err := c.value(kv&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tcStruct:
		return c.structure(depth + 1)
	}
	return fmt.Errorf("unknown thrift type %d", t)
}
