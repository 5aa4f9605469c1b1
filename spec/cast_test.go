package spec

import (
	"errors"
	"fmt"
	"testing"
)

func TestCastValue(t *testing.T) {
	cases := []struct {
		v        any
		from, to DataType
		want     string
	}{
		{int32(7), IntType, BigIntType, "7"},
		{int8(-3), TinyIntType, DoubleType, "-3"},
		{float32(1.5), FloatType, DoubleType, "1.5"},
		{int64(42), BigIntType, DecimalType(10, 2), "42.00"},
		{NewDecimal(12345, 3), DecimalType(10, 3), DecimalType(10, 2), "12.35"},
		{NewDecimal(-12345, 3), DecimalType(10, 3), DecimalType(10, 2), "-12.35"},
		{NewDecimal(12344, 3), DecimalType(10, 3), DecimalType(10, 2), "12.34"},
		{int32(5), IntType, StringType, "5"},
		{2.0, DoubleType, StringType, "2.0"},
		{Date(1), DateType, TimestampType(3), "1970-01-02T00:00:00"},
		{nil, IntType, BigIntType, "<nil>"},
	}
	for _, c := range cases {
		got, err := CastValue(c.v, c.from, c.to)
		if err != nil {
			t.Errorf("%v %s→%s: %v", c.v, c.from, c.to, err)
			continue
		}
		if s := fmtValue(got); s != c.want {
			t.Errorf("%v %s→%s: %s, want %s", c.v, c.from, c.to, s, c.want)
		}
	}
	if _, err := CastValue("x", StringType, IntType); !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("string to int: %v", err)
	}
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case Decimal:
		return x.String()
	case Timestamp:
		return x.String()
	}
	return sprint(v)
}

func sprint(v any) string { return fmt.Sprint(v) }
