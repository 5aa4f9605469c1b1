package lsm

import (
	"fmt"
	"math"
	"math/big"

	"github.com/stratalake/strata/spec"
)

// maxCompactPrecision is the largest DECIMAL precision Java keeps in a long.
const maxCompactPrecision = 18

// sumAggregator is sum: null-skipping exact addition (integer overflow is an
// error, as Java's ArithmeticException), retraction by subtraction, and a
// retraction into a null accumulator yields the negated input.
func sumAggregator(t spec.DataType) *fieldAgg {
	return &fieldAgg{name: "sum",
		agg: func(acc, in any) (any, error) {
			if acc == nil || in == nil {
				return nonNull(acc, in), nil
			}
			return arith(t, '+', acc, in)
		},
		retract: func(acc, in any) (any, error) {
			if in == nil {
				return acc, nil
			}
			if acc == nil {
				return negate(t, in)
			}
			return arith(t, '-', acc, in)
		}}
}

// productAggregator is product: null-skipping exact multiplication, and
// retraction by division that leaves a null accumulator null.
func productAggregator(t spec.DataType) *fieldAgg {
	return &fieldAgg{name: "product",
		agg: func(acc, in any) (any, error) {
			if acc == nil || in == nil {
				return nonNull(acc, in), nil
			}
			return arith(t, '*', acc, in)
		},
		retract: func(acc, in any) (any, error) {
			if acc == nil || in == nil {
				return acc, nil
			}
			return arith(t, '/', acc, in)
		}}
}

func overflow(kind string, a any, op rune, b any) error {
	return fmt.Errorf("%w: %s overflow: %v %c %v", ErrMergeFailed, kind, a, op, b)
}

func divByZero() error { return fmt.Errorf("%w: / by zero", ErrMergeFailed) }

// arith applies op (+ - * /) to two non-null values of one numeric type with
// Java's semantics: exact for the integer types, IEEE for floats, and
// Paimon's Decimal rules (result at the column's precision and scale).
func arith(t spec.DataType, op rune, a, b any) (any, error) {
	switch x := a.(type) {
	case int8:
		y, ok := b.(int8)
		if !ok {
			return nil, mismatch(a, b)
		}
		r, err := smallArith(int64(x), int64(y), op, math.MinInt8, math.MaxInt8, "byte")
		if err != nil {
			return nil, err
		}
		return int8(r), nil
	case int16:
		y, ok := b.(int16)
		if !ok {
			return nil, mismatch(a, b)
		}
		r, err := smallArith(int64(x), int64(y), op, math.MinInt16, math.MaxInt16, "short")
		if err != nil {
			return nil, err
		}
		return int16(r), nil
	case int32:
		y, ok := b.(int32)
		if !ok {
			return nil, mismatch(a, b)
		}
		r, err := smallArith(int64(x), int64(y), op, math.MinInt32, math.MaxInt32, "int")
		if err != nil {
			return nil, err
		}
		return int32(r), nil
	case int64:
		y, ok := b.(int64)
		if !ok {
			return nil, mismatch(a, b)
		}
		return longArith(x, y, op)
	case float32:
		y, ok := b.(float32)
		if !ok {
			return nil, mismatch(a, b)
		}
		switch op {
		case '+':
			return x + y, nil
		case '-':
			return x - y, nil
		case '*':
			return x * y, nil
		}
		return x / y, nil
	case float64:
		y, ok := b.(float64)
		if !ok {
			return nil, mismatch(a, b)
		}
		switch op {
		case '+':
			return x + y, nil
		case '-':
			return x - y, nil
		case '*':
			return x * y, nil
		}
		return x / y, nil
	case spec.Decimal:
		y, ok := b.(spec.Decimal)
		if !ok {
			return nil, mismatch(a, b)
		}
		return decimalArith(x, y, op, t.Precision, t.Scale)
	}
	return nil, fmt.Errorf("%w: type %s is not supported by numeric aggregation (value %T)", ErrMergeFailed, t, a)
}

func mismatch(a, b any) error {
	return fmt.Errorf("%w: values %T and %T do not have the same type", ErrMergeFailed, a, b)
}

// smallArith computes in 64 bits, which cannot overflow for 32-bit inputs,
// and range-checks the result.
func smallArith(x, y int64, op rune, lo, hi int64, kind string) (int64, error) {
	var r int64
	switch op {
	case '+':
		r = x + y
	case '-':
		r = x - y
	case '*':
		r = x * y
	default:
		if y == 0 {
			return 0, divByZero()
		}
		r = x / y
	}
	if r < lo || r > hi {
		if kind == "int" {
			return 0, overflow(kind, x, op, y)
		}
		// Java reports the widened result for byte and short.
		return 0, fmt.Errorf("%w = %d", overflow(kind, x, op, y), r)
	}
	return r, nil
}

func longArith(x, y int64, op rune) (any, error) {
	switch op {
	case '+':
		r := x + y
		if (x >= 0) == (y >= 0) && (r >= 0) != (x >= 0) {
			return nil, overflow("long", x, op, y)
		}
		return r, nil
	case '-':
		r := x - y
		if (x >= 0) != (y >= 0) && (r >= 0) != (x >= 0) {
			return nil, overflow("long", x, op, y)
		}
		return r, nil
	case '*':
		p := new(big.Int).Mul(big.NewInt(x), big.NewInt(y))
		if !p.IsInt64() {
			return nil, overflow("long", x, op, y)
		}
		return p.Int64(), nil
	}
	if y == 0 {
		return nil, divByZero()
	}
	if x == math.MinInt64 && y == -1 {
		return nil, overflow("long", x, op, y)
	}
	return x / y, nil
}

// negate is sum's retraction into a null accumulator.
func negate(t spec.DataType, v any) (any, error) {
	switch x := v.(type) {
	case int8:
		if x == math.MinInt8 {
			return nil, fmt.Errorf("%w: byte overflow: -%d", ErrMergeFailed, x)
		}
		return -x, nil
	case int16:
		if x == math.MinInt16 {
			return nil, fmt.Errorf("%w: short overflow: -%d", ErrMergeFailed, x)
		}
		return -x, nil
	case int32:
		if x == math.MinInt32 {
			return nil, fmt.Errorf("%w: int overflow: -%d", ErrMergeFailed, x)
		}
		return -x, nil
	case int64:
		if x == math.MinInt64 {
			return nil, fmt.Errorf("%w: long overflow: -%d", ErrMergeFailed, x)
		}
		return -x, nil
	case float32:
		return -x, nil
	case float64:
		return -x, nil
	case spec.Decimal:
		return fromBigDecimal(new(big.Int).Neg(unscaled(x)), x.Scale, t.Precision, t.Scale), nil
	}
	return nil, fmt.Errorf("%w: type %s is not supported by numeric aggregation (value %T)", ErrMergeFailed, t, v)
}

func unscaled(d spec.Decimal) *big.Int {
	if d.Unscaled == nil {
		return new(big.Int)
	}
	return d.Unscaled
}

// decimalArith follows Paimon's DecimalUtils and FieldProductAgg. Addition
// and subtraction of compact decimals (precision <= 18) stay in a long and,
// like Java, are not checked against the precision; otherwise the exact
// result is rounded HALF_UP to the column scale and becomes null when it
// needs more digits than the precision allows. Division is BigDecimal's
// exact divide, which fails on a non-terminating quotient.
func decimalArith(x, y spec.Decimal, op rune, precision, scale int) (any, error) {
	ux, uy := unscaled(x), unscaled(y)
	if (op == '+' || op == '-') && precision <= maxCompactPrecision && x.Scale == y.Scale &&
		ux.IsInt64() && uy.IsInt64() {
		if r, err := longArith(ux.Int64(), uy.Int64(), op); err == nil {
			return spec.Decimal{Unscaled: big.NewInt(r.(int64)), Scale: scale}, nil
		}
	}
	switch op {
	case '+', '-':
		s := max(x.Scale, y.Scale)
		a, b := rescaleUp(ux, x.Scale, s), rescaleUp(uy, y.Scale, s)
		if op == '+' {
			return fromBigDecimal(new(big.Int).Add(a, b), s, precision, scale), nil
		}
		return fromBigDecimal(new(big.Int).Sub(a, b), s, precision, scale), nil
	case '*':
		return fromBigDecimal(new(big.Int).Mul(ux, uy), x.Scale+y.Scale, precision, scale), nil
	}
	if uy.Sign() == 0 {
		if ux.Sign() == 0 {
			return nil, fmt.Errorf("%w: Division undefined", ErrMergeFailed)
		}
		return nil, fmt.Errorf("%w: Division by zero", ErrMergeFailed)
	}
	// x/y = (ux * 10^y.Scale) / (uy * 10^x.Scale); it is a finite decimal
	// only if the reduced denominator has no prime factor but 2 and 5.
	q := new(big.Rat).SetFrac(rescaleUp(ux, 0, y.Scale), rescaleUp(uy, 0, x.Scale))
	d := new(big.Int).Set(q.Denom())
	for _, p := range []int64{2, 5} {
		bp := big.NewInt(p)
		m := new(big.Int)
		for {
			quo, rem := new(big.Int).QuoRem(d, bp, m)
			if rem.Sign() != 0 {
				break
			}
			d = quo
		}
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return nil, fmt.Errorf("%w: Non-terminating decimal expansion; no exact representable decimal result.", ErrMergeFailed)
	}
	n := rescaleUp(q.Num(), 0, scale)
	return checkPrecision(divHalfUp(n, q.Denom()), scale, precision), nil
}

// rescaleUp multiplies u (at scale from) to scale to >= from.
func rescaleUp(u *big.Int, from, to int) *big.Int {
	if to <= from {
		return new(big.Int).Set(u)
	}
	return new(big.Int).Mul(u, pow10(to-from))
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// divHalfUp divides rounding half away from zero (Java's HALF_UP).
func divHalfUp(n, d *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	if r.Sign() == 0 {
		return q
	}
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(new(big.Int).Abs(d)) >= 0 {
		if (n.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// fromBigDecimal is Paimon's Decimal.fromBigDecimal: the value u×10^-from is
// rounded HALF_UP to scale, and is null when its digits exceed precision.
func fromBigDecimal(u *big.Int, from, precision, scale int) any {
	var r *big.Int
	if scale >= from {
		r = rescaleUp(u, from, scale)
	} else {
		r = divHalfUp(u, pow10(from-scale))
	}
	return checkPrecision(r, scale, precision)
}

func checkPrecision(u *big.Int, scale, precision int) any {
	digits := len(new(big.Int).Abs(u).String()) // BigDecimal.precision: 0 has one digit
	if digits > precision {
		return nil
	}
	return spec.Decimal{Unscaled: u, Scale: scale}
}
