package lsm

import (
	"encoding/binary"
	"fmt"

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

// decodeLookupValue inverts appendLookupValue for the record of key.
func decodeLookupValue(valueTypes []spec.DataType, key spec.Row, b []byte) (PositionedKV, error) {
	if len(b) < 9 {
		return PositionedKV{}, fmt.Errorf("%w: lookup value of %d bytes", spec.ErrCorrupt, len(b))
	}
	seq := int64(binary.BigEndian.Uint64(b))
	pos, n := binary.Uvarint(b[8:])
	if n <= 0 {
		return PositionedKV{}, fmt.Errorf("%w: lookup value position", spec.ErrCorrupt)
	}
	row, kind, err := spec.DecodeBinaryRow(valueTypes, b[8+n:])
	if err != nil {
		return PositionedKV{}, fmt.Errorf("lookup value: %w", err)
	}
	return PositionedKV{KV: &KeyValue{Key: key, Seq: seq, Kind: kind, Value: row}, Pos: int64(pos)}, nil
}
