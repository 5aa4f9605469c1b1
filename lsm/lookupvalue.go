package lsm

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/stratalake/strata/spec"
)

// A local lookup file maps a key's order-preserving encoding to one record
// of a data file: its sequence number, row position and value. The value is
// a BinaryRow of the table's columns, whose header carries the row kind;
// the sequence number and position come first, as fixed-width and varint.
// Files are built without deletion vectors (the position is checked against
// the current ones when a key is found), so a cached file stays valid while
// the vectors change.

// appendLookupValue encodes kv found at pos.
func appendLookupValue(dst []byte, valueTypes []spec.DataType, kv *KeyValue, pos int64) ([]byte, error) {
	row, err := spec.EncodeBinaryRow(valueTypes, kv.Value, kv.Kind)
	if err != nil {
		return nil, err
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(kv.Seq))
	dst = binary.AppendUvarint(dst, uint64(pos))
	return append(dst, row...), nil
}

// LookupValue is a lookup file's value, parsed but not decoded.
type LookupValue struct {
	Seq int64
	Pos int64 // row position in the data file
	// Row is the record's value: a BinaryRow of the table's columns, whose
	// header byte is the record's kind.
	Row []byte
}

// Kind is the record's row kind.
func (v LookupValue) Kind() spec.RowKind { return spec.RowKind(v.Row[0]) }

// ParseLookupValue splits a value FindSorted found into its parts; Row
// aliases b.
func ParseLookupValue(b []byte) (LookupValue, error) {
	if len(b) < 9 {
		return LookupValue{}, fmt.Errorf("%w: lookup value of %d bytes", spec.ErrCorrupt, len(b))
	}
	seq := int64(binary.BigEndian.Uint64(b))
	pos, n := binary.Uvarint(b[8:])
	if n <= 0 || pos > math.MaxInt64 || len(b) == 8+n {
		return LookupValue{}, fmt.Errorf("%w: lookup value position", spec.ErrCorrupt)
	}
	return LookupValue{Seq: seq, Pos: int64(pos), Row: b[8+n:]}, nil
}

// DecodeLookupValue decodes a value FindSorted found as the record of key
// (a fresh KeyValue the caller may keep).
func DecodeLookupValue(valueTypes []spec.DataType, key spec.Row, b []byte) (spec.PositionedKV, error) {
	v, err := ParseLookupValue(b)
	if err != nil {
		return spec.PositionedKV{}, err
	}
	row, kind, err := spec.DecodeBinaryRow(valueTypes, v.Row)
	if err != nil {
		return spec.PositionedKV{}, fmt.Errorf("lookup value: %w", err)
	}
	return spec.PositionedKV{KV: &KeyValue{Key: key, Seq: v.Seq, Kind: kind, Value: row}, Pos: v.Pos}, nil
}
