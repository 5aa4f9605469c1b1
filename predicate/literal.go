package predicate

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/stratalake/strata/spec"
)

// coerced is a literal converted for a column: v in the column's value
// model when exact, otherwise dec, an exact number outside the column's
// domain (2.5 for an INT, 1.005 for a DECIMAL(5, 2), 300 for a TINYINT,
// a timestamp finer than the column's unit) that normalize turns into an
// equivalent comparison.
type coerced struct {
	v     any
	exact bool
	dec   spec.Decimal
}

func mismatch(t spec.DataType, v any, want string) error {
	return fmt.Errorf("%w: %s needs %s, not %s", spec.ErrSchemaMismatch, t, want, describe(v))
}

// describe names a literal for errors: its SQL form and, for Go values, its
// type.
func describe(v any) string {
	switch v.(type) {
	case string:
		return "the string " + Literal(v)
	case bool:
		return "the boolean " + Literal(v)
	case spec.Decimal:
		return "the number " + Literal(v)
	}
	return fmt.Sprintf("%s (%T)", Literal(v), v)
}

// coerce converts literal v (not nil) to a value of type t.
func coerce(t spec.DataType, v any) (coerced, error) {
	exact := func(x any) (coerced, error) { return coerced{v: x, exact: true}, nil }
	switch t.Root {
	case spec.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return exact(x)
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return exact(b)
			}
		}
		return coerced{}, mismatch(t, v, "TRUE or FALSE")
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt, spec.TypeDecimal:
		d, ok := toDecimal(v)
		if !ok {
			return coerced{}, mismatch(t, v, "a number")
		}
		if x, ok := fitNumber(t, d); ok {
			return exact(x)
		}
		return coerced{dec: d}, nil
	case spec.TypeFloat, spec.TypeDouble:
		f, ok := toFloat(v)
		if !ok {
			return coerced{}, mismatch(t, v, "a number")
		}
		if t.Root == spec.TypeFloat {
			return exact(float32(f))
		}
		return exact(f)
	case spec.TypeChar, spec.TypeVarChar:
		if s, ok := v.(string); ok {
			return exact(s)
		}
		return coerced{}, mismatch(t, v, "a string (quote it: '...')")
	case spec.TypeBinary, spec.TypeVarBinary:
		switch x := v.(type) {
		case []byte:
			return exact(x)
		case string:
			return exact([]byte(x))
		}
		return coerced{}, mismatch(t, v, "a binary (X'0a1b') or a string")
	case spec.TypeDate:
		switch x := v.(type) {
		case spec.Date:
			return exact(x)
		case time.Time:
			y, m, d := x.Date()
			return exact(spec.Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400))
		case string:
			if tm, err := time.Parse("2006-01-02", strings.TrimSpace(x)); err == nil {
				return exact(spec.Date(tm.Unix() / 86400))
			}
		}
		return coerced{}, mismatch(t, v, "a date like '2024-01-31'")
	case spec.TypeTime:
		switch x := v.(type) {
		case spec.Time:
			return exact(x)
		case string:
			if ms, ok := parseClock(x); ok {
				return exact(spec.Time(ms))
			}
		}
		return coerced{}, mismatch(t, v, "a time like '12:30:00.250'")
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		ts, ok := toTimestamp(v)
		if !ok {
			return coerced{}, mismatch(t, v, "a timestamp like '2024-01-31 12:30:00' or a date")
		}
		scale := timestampScale(t)
		if ts.NanoOfMilli%int32(pow10i(9-scale)) == 0 {
			return exact(ts)
		}
		ns := new(big.Int).Mul(big.NewInt(ts.Millis), big.NewInt(1e6))
		ns.Add(ns, big.NewInt(int64(ts.NanoOfMilli)))
		return coerced{dec: spec.Decimal{Unscaled: ns, Scale: 9}}, nil
	}
	return coerced{}, fmt.Errorf("%w: no literal fits a %s column", spec.ErrSchemaMismatch, t)
}

// timestampScale is the number of fractional second digits a timestamp
// column stores (its Arrow and Parquet unit): 3, 6 or 9.
func timestampScale(t spec.DataType) int {
	switch {
	case t.Precision <= 3:
		return 3
	case t.Precision <= 6:
		return 6
	}
	return 9
}

func pow10i(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// toDecimal converts a numeric literal exactly.
func toDecimal(v any) (spec.Decimal, bool) {
	switch x := v.(type) {
	case int:
		return spec.NewDecimal(int64(x), 0), true
	case int8:
		return spec.NewDecimal(int64(x), 0), true
	case int16:
		return spec.NewDecimal(int64(x), 0), true
	case int32:
		return spec.NewDecimal(int64(x), 0), true
	case int64:
		return spec.NewDecimal(x, 0), true
	case uint:
		return spec.Decimal{Unscaled: new(big.Int).SetUint64(uint64(x))}, true
	case uint8:
		return spec.NewDecimal(int64(x), 0), true
	case uint16:
		return spec.NewDecimal(int64(x), 0), true
	case uint32:
		return spec.NewDecimal(int64(x), 0), true
	case uint64:
		return spec.Decimal{Unscaled: new(big.Int).SetUint64(x)}, true
	case float32:
		return floatDecimal(strconv.FormatFloat(float64(x), 'f', -1, 32), float64(x))
	case float64:
		return floatDecimal(strconv.FormatFloat(x, 'f', -1, 64), x)
	case spec.Decimal:
		if x.Unscaled == nil {
			return spec.Decimal{Unscaled: new(big.Int), Scale: x.Scale}, true
		}
		return x, true
	}
	return spec.Decimal{}, false
}

func floatDecimal(s string, f float64) (spec.Decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return spec.Decimal{}, false
	}
	return parseDecimal(s)
}

// parseDecimal reads [+-]digits[.digits][e[+-]digits] exactly.
func parseDecimal(s string) (spec.Decimal, bool) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return spec.Decimal{}, false
		}
		mant, exp = s[:i], e
	}
	scale := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	if mant == "" || mant == "+" || mant == "-" {
		return spec.Decimal{}, false
	}
	u, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return spec.Decimal{}, false
	}
	return spec.Decimal{Unscaled: u, Scale: scale - exp}, true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case string:
		// NaN and infinities have no numeric literal.
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "nan":
			return math.NaN(), true
		case "inf", "+inf", "infinity", "+infinity":
			return math.Inf(1), true
		case "-inf", "-infinity":
			return math.Inf(-1), true
		}
		return 0, false
	}
	d, ok := toDecimal(v)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(d.String(), 64)
	return f, err == nil || math.IsInf(f, 0)
}

// domain is the set of values of an integer, decimal or timestamp column as
// integers: unscaled values at scale within [lo, hi].
func domain(t spec.DataType) (scale int, lo, hi *big.Int) {
	switch t.Root {
	case spec.TypeTinyInt:
		return 0, big.NewInt(math.MinInt8), big.NewInt(math.MaxInt8)
	case spec.TypeSmallInt:
		return 0, big.NewInt(math.MinInt16), big.NewInt(math.MaxInt16)
	case spec.TypeInt:
		return 0, big.NewInt(math.MinInt32), big.NewInt(math.MaxInt32)
	case spec.TypeBigInt:
		return 0, big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	case spec.TypeDecimal:
		m := new(big.Int).Sub(pow10(t.Precision), big.NewInt(1))
		return t.Scale, new(big.Int).Neg(m), m
	}
	// Timestamps: the column's unit, within int64.
	return timestampScale(t), big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
}

// scaled returns d × 10^scale rounded down and up, and whether that is
// exact.
func scaled(d spec.Decimal, scale int) (floor, ceil *big.Int, exact bool) {
	u := d.Unscaled
	if scale >= d.Scale {
		k := new(big.Int).Mul(u, pow10(scale-d.Scale))
		return k, k, true
	}
	q, m := new(big.Int).DivMod(u, pow10(d.Scale-scale), new(big.Int)) // Euclidean: floor for a positive divisor
	if m.Sign() == 0 {
		return q, q, true
	}
	return q, new(big.Int).Add(q, big.NewInt(1)), false
}

// fitNumber converts d to a value of integer or decimal type t when it is
// exactly one.
func fitNumber(t spec.DataType, d spec.Decimal) (any, bool) {
	scale, lo, hi := domain(t)
	k, _, exact := scaled(d, scale)
	if !exact || k.Cmp(lo) < 0 || k.Cmp(hi) > 0 {
		return nil, false
	}
	return fromUnscaled(t, k), true
}

// fromUnscaled is the value of type t whose unscaled form (see domain) is
// k, which must be in the domain.
func fromUnscaled(t spec.DataType, k *big.Int) any {
	switch t.Root {
	case spec.TypeTinyInt:
		return int8(k.Int64())
	case spec.TypeSmallInt:
		return int16(k.Int64())
	case spec.TypeInt:
		return int32(k.Int64())
	case spec.TypeBigInt:
		return k.Int64()
	case spec.TypeDecimal:
		return spec.Decimal{Unscaled: new(big.Int).Set(k), Scale: t.Scale}
	}
	ns := new(big.Int).Mul(k, pow10(9-timestampScale(t)))
	ms, nano := new(big.Int).DivMod(ns, big.NewInt(1e6), new(big.Int))
	return spec.Timestamp{Millis: ms.Int64(), NanoOfMilli: int32(nano.Int64())}
}

// normalize rewrites col op d, where d is a number outside the domain of
// col's type, into an equivalent leaf on the domain: x < 2.5 on an INT is
// x <= 2, x = 2.5 is FALSE, x <> 2.5 is x IS NOT NULL, x < 300 on a
// TINYINT is x IS NOT NULL.
func normalize(op Op, col int, t spec.DataType, d spec.Decimal) *node {
	scale, lo, hi := domain(t)
	floor, ceil, exact := scaled(d, scale)
	leafAt := func(op Op, k *big.Int) *node { return &node{op: op, col: col, val: fromUnscaled(t, k)} }
	all, none := &node{op: OpIsNotNull, col: col}, &node{op: OpFalse}
	switch op {
	case OpEq, OpNe:
		if exact && floor.Cmp(lo) >= 0 && floor.Cmp(hi) <= 0 {
			return leafAt(op, floor)
		}
		if op == OpEq {
			return none
		}
		return all
	case OpLt, OpLe:
		if !exact || op == OpLe { // x < 2.5 and x <= 2.5 are x <= 2
			switch {
			case floor.Cmp(lo) < 0:
				return none
			case floor.Cmp(hi) >= 0:
				return all
			}
			return leafAt(OpLe, floor)
		}
		switch {
		case floor.Cmp(lo) <= 0:
			return none
		case floor.Cmp(hi) > 0:
			return all
		}
		return leafAt(OpLt, floor)
	case OpGt, OpGe:
		if !exact || op == OpGe { // x > 2.5 and x >= 2.5 are x >= 3
			switch {
			case ceil.Cmp(hi) > 0:
				return none
			case ceil.Cmp(lo) <= 0:
				return all
			}
			return leafAt(OpGe, ceil)
		}
		switch {
		case ceil.Cmp(hi) >= 0:
			return none
		case ceil.Cmp(lo) < 0:
			return all
		}
		return leafAt(OpGt, ceil)
	}
	return none
}

// toTimestamp converts a timestamp literal: a spec.Timestamp, a time.Time
// (its UTC reading), a spec.Date (midnight) or a string
// 'YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]][Z]'.
func toTimestamp(v any) (spec.Timestamp, bool) {
	switch x := v.(type) {
	case spec.Timestamp:
		return x, true
	case time.Time:
		return spec.TimestampFromTime(x), true
	case spec.Date:
		return spec.Timestamp{Millis: int64(x) * 86_400_000}, true
	case string:
		s := strings.TrimSuffix(strings.TrimSpace(x), "Z")
		s = strings.Replace(s, " ", "T", 1)
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return spec.TimestampFromTime(tm), true
			}
		}
	}
	return spec.Timestamp{}, false
}

// parseClock reads HH:MM[:SS[.fff]] as milliseconds of the day.
func parseClock(s string) (int32, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"15:04:05.999", "15:04"} {
		if tm, err := time.Parse(layout, s); err == nil {
			if tm.Nanosecond()%1e6 != 0 {
				return 0, false
			}
			return int32(tm.Hour()*3600000 + tm.Minute()*60000 + tm.Second()*1000 + tm.Nanosecond()/1e6), true
		}
	}
	return 0, false
}
