package spec

import (
	"fmt"
	"math/big"
	"strconv"
)

// CastValue converts a value read under one column type to another, for
// files written before a column's type was changed (ALTER COLUMN TYPE). It
// covers the changes Paimon allows without rewriting data: widening of
// integers and floats, integers to decimals and floats, decimal precision
// and scale, lengths of strings and binaries, anything to STRING, and DATE
// to TIMESTAMP. Other changes are an error wrapping ErrSchemaMismatch.
func CastValue(v any, from, to DataType) (any, error) {
	if v == nil || from.Root == to.Root && from.Equal(to) {
		return v, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%w: cannot read %s data as %s", ErrSchemaMismatch, from, to)
	}
	asInt := func() (int64, bool) {
		switch x := v.(type) {
		case int8:
			return int64(x), true
		case int16:
			return int64(x), true
		case int32:
			return int64(x), true
		case int64:
			return x, true
		}
		return 0, false
	}
	switch to.Root {
	case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt:
		n, ok := asInt()
		if !ok {
			return bad()
		}
		switch to.Root {
		case TypeTinyInt:
			return int8(n), nil
		case TypeSmallInt:
			return int16(n), nil
		case TypeInt:
			return int32(n), nil
		}
		return n, nil
	case TypeFloat, TypeDouble:
		var f float64
		if n, ok := asInt(); ok {
			f = float64(n)
		} else if x, ok := v.(float32); ok {
			f = float64(x)
		} else if x, ok := v.(float64); ok {
			f = x
		} else if d, ok := v.(Decimal); ok {
			f, _ = new(big.Float).Quo(new(big.Float).SetInt(d.Unscaled), new(big.Float).SetInt(pow10(d.Scale))).Float64()
		} else {
			return bad()
		}
		if to.Root == TypeFloat {
			return float32(f), nil
		}
		return f, nil
	case TypeDecimal:
		var d Decimal
		if n, ok := asInt(); ok {
			d = NewDecimal(n, 0)
		} else if x, ok := v.(Decimal); ok {
			d = x
		} else {
			return bad()
		}
		return d.Rescale(to.Scale), nil
	case TypeChar, TypeVarChar:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		case float32:
			return JavaFloatString(float64(x), 32), nil
		case float64:
			return JavaFloatString(x, 64), nil
		case Decimal, Date, Time, Timestamp:
			return fmt.Sprint(x), nil
		}
		if n, ok := asInt(); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return bad()
	case TypeBinary, TypeVarBinary:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		return bad()
	case TypeTimestamp, TypeTimestampLTZ:
		switch x := v.(type) {
		case Timestamp:
			return x, nil
		case Date:
			return Timestamp{Millis: int64(x) * 86_400_000}, nil
		}
		return bad()
	}
	return bad()
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// Rescale returns d with the given scale, rounding half up when digits are
// dropped (Java's BigDecimal.setScale(s, HALF_UP)).
func (d Decimal) Rescale(scale int) Decimal {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	switch {
	case scale == d.Scale:
		return d
	case scale > d.Scale:
		return Decimal{Unscaled: new(big.Int).Mul(u, pow10(scale-d.Scale)), Scale: scale}
	}
	div := pow10(d.Scale - scale)
	q, r := new(big.Int).QuoRem(u, div, new(big.Int))
	// Round half away from zero.
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(div) >= 0 {
		if u.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Decimal{Unscaled: q, Scale: scale}
}
