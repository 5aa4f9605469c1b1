package spec

import (
	"fmt"
	"math/big"
	"time"
)

// Values are held in plain Go types, one per type root:
//
//	BOOLEAN bool            TINYINT int8      SMALLINT int16     INT int32
//	BIGINT int64            FLOAT float32     DOUBLE float64     DECIMAL Decimal
//	CHAR/VARCHAR string     BINARY/VARBINARY []byte
//	DATE Date               TIME Time         TIMESTAMP/_LTZ Timestamp
//	ARRAY/VECTOR []any      MAP/MULTISET Map  ROW Row
//
// A null is a nil any. A MULTISET<T> is a Map from T to INT counts, as Paimon
// stores it.

// Row is one row of values in column order.
type Row []any

// RowKind is the change kind of a record (Paimon's RowKind byte).
type RowKind byte

// The four row kinds, with Paimon's byte values.
const (
	RowKindInsert       RowKind = 0 // +I
	RowKindUpdateBefore RowKind = 1 // -U
	RowKindUpdateAfter  RowKind = 2 // +U
	RowKindDelete       RowKind = 3 // -D
)

// IsRetract reports whether k withdraws a previous row (-U or -D).
func (k RowKind) IsRetract() bool { return k == RowKindUpdateBefore || k == RowKindDelete }

// String returns Paimon's short form: +I, -U, +U or -D.
func (k RowKind) String() string {
	switch k {
	case RowKindInsert:
		return "+I"
	case RowKindUpdateBefore:
		return "-U"
	case RowKindUpdateAfter:
		return "+U"
	case RowKindDelete:
		return "-D"
	}
	return fmt.Sprintf("RowKind(%d)", byte(k))
}

// ParseRowKind parses +I, -U, +U or -D.
func ParseRowKind(s string) (RowKind, error) {
	switch s {
	case "+I":
		return RowKindInsert, nil
	case "-U":
		return RowKindUpdateBefore, nil
	case "+U":
		return RowKindUpdateAfter, nil
	case "-D":
		return RowKindDelete, nil
	}
	return 0, fmt.Errorf("unknown row kind %q (want +I, -U, +U or -D)", s)
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int
}

// NewDecimal returns unscaled × 10^-scale.
func NewDecimal(unscaled int64, scale int) Decimal {
	return Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// String renders d like Java's BigDecimal.toPlainString.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	s := d.Unscaled.String()
	if d.Scale <= 0 {
		for i := 0; i < -d.Scale; i++ {
			s += "0"
		}
		return s
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	for len(s) <= d.Scale {
		s = "0" + s
	}
	s = s[:len(s)-d.Scale] + "." + s[len(s)-d.Scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// Cmp compares two decimals of the same scale.
func (d Decimal) Cmp(o Decimal) int {
	a, b := d.Unscaled, o.Unscaled
	if a == nil {
		a = new(big.Int)
	}
	if b == nil {
		b = new(big.Int)
	}
	if d.Scale == o.Scale {
		return a.Cmp(b)
	}
	// Rescale the one with the smaller scale.
	x, y := new(big.Int).Set(a), new(big.Int).Set(b)
	if d.Scale < o.Scale {
		x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(o.Scale-d.Scale)), nil))
	} else {
		y.Mul(y, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-o.Scale)), nil))
	}
	return x.Cmp(y)
}

// Date is a calendar date as days since 1970-01-01.
type Date int32

// String renders the date as YYYY-MM-DD.
func (d Date) String() string {
	return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02")
}

// Time is a time of day in milliseconds.
type Time int32

// String renders the time as HH:MM:SS[.fff].
func (t Time) String() string {
	ms := int(t)
	s := fmt.Sprintf("%02d:%02d:%02d", ms/3600000, ms/60000%60, ms/1000%60)
	if ms%1000 != 0 {
		s += fmt.Sprintf(".%03d", ms%1000)
	}
	return s
}

// Timestamp is Paimon's Timestamp: milliseconds since the epoch plus the
// nanoseconds within that millisecond. For TIMESTAMP (without zone) the value
// is a wall-clock reading encoded as if it were UTC.
type Timestamp struct {
	Millis      int64
	NanoOfMilli int32
}

// TimestampFromTime converts t (its UTC reading) to a Timestamp.
func TimestampFromTime(t time.Time) Timestamp {
	ns := t.UnixNano()
	ms := ns / 1e6
	nano := ns % 1e6
	if nano < 0 {
		ms--
		nano += 1e6
	}
	return Timestamp{Millis: ms, NanoOfMilli: int32(nano)}
}

// Time returns the timestamp as a UTC time.
func (ts Timestamp) Time() time.Time {
	return time.UnixMilli(ts.Millis).UTC().Add(time.Duration(ts.NanoOfMilli))
}

// Micros returns the timestamp in microseconds since the epoch.
func (ts Timestamp) Micros() int64 { return ts.Millis*1000 + int64(ts.NanoOfMilli)/1000 }

// Compare orders two timestamps.
func (ts Timestamp) Compare(o Timestamp) int {
	switch {
	case ts.Millis < o.Millis:
		return -1
	case ts.Millis > o.Millis:
		return 1
	case ts.NanoOfMilli < o.NanoOfMilli:
		return -1
	case ts.NanoOfMilli > o.NanoOfMilli:
		return 1
	}
	return 0
}

// String renders the timestamp as ISO-8601 without zone, e.g.
// 2024-01-31T12:00:00.123.
func (ts Timestamp) String() string {
	t := ts.Time()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	s := t.Format("2006-01-02T15:04:05.000000000")
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// Map is a MAP (or MULTISET) value: parallel key and value slices.
type Map struct {
	Keys   []any
	Values []any
}
