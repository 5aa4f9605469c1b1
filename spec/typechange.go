package spec

import "fmt"

// integerRank orders the integer types by width.
var integerRank = map[TypeRoot]int{TypeTinyInt: 1, TypeSmallInt: 2, TypeInt: 3, TypeBigInt: 4}

// integerDigits is the most decimal digits a value of each integer type has.
var integerDigits = map[TypeRoot]int{TypeTinyInt: 3, TypeSmallInt: 5, TypeInt: 10, TypeBigInt: 19}

// CheckTypeChange reports whether a column of type from may become a column
// of type to (nullability aside: see UpdateColumnNullability) with its old
// data files still readable, each value cast by CastValue. It allows the
// changes Paimon's DataTypeCasts allows (implicit ones always, explicit ones
// when allowExplicit, the default unless disable-explicit-type-casting)
// that lose no information and that Strata reads exactly as Java does:
//
//   - integers to wider integers, FLOAT or DOUBLE, or to a DECIMAL with
//     room for all their digits; FLOAT to DOUBLE; DECIMAL to FLOAT, DOUBLE
//     or a DECIMAL with at least its integer digits and scale;
//   - CHAR, VARCHAR, BINARY and VARBINARY to a VARCHAR (VARBINARY) at least
//     as long;
//   - TIMESTAMP and TIMESTAMP_LTZ to a higher precision of the same type;
//   - explicitly: BOOLEAN, numbers and DATE to STRING, DATE to TIMESTAMP.
//
// Everything else is refused with an error wrapping ErrInvalidSchema,
// among it changes Paimon allows but that lose data (narrowing, shorter
// strings), that depend on the reader's time zone (TIMESTAMP to
// TIMESTAMP_LTZ), whose text differs between engines (TIMESTAMP to
// STRING), and any change inside ARRAY, MAP, MULTISET, ROW or VECTOR.
func CheckTypeChange(from, to DataType, allowExplicit bool) error {
	if from.WithNullable(true).Equal(to.WithNullable(true)) {
		return nil
	}
	refuse := func(why string, args ...any) error {
		return fmt.Errorf("%w: type %s cannot change to %s: %s", ErrInvalidSchema, from, to, fmt.Sprintf(why, args...))
	}
	if isNestedRoot(from.Root) || isNestedRoot(to.Root) {
		return refuse("nested types cannot change, except their nullability")
	}
	switch to.Root {
	case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt:
		if r, ok := integerRank[from.Root]; ok && r <= integerRank[to.Root] {
			return nil
		}
		return refuse("only a narrower integer type widens to %s", to.WithNullable(true))
	case TypeFloat:
		if _, ok := integerRank[from.Root]; ok || from.Root == TypeDecimal {
			return nil
		}
		return refuse("only integers and DECIMAL widen to FLOAT")
	case TypeDouble:
		if _, ok := integerRank[from.Root]; ok || from.Root == TypeFloat || from.Root == TypeDecimal {
			return nil
		}
		return refuse("only numbers widen to DOUBLE")
	case TypeDecimal:
		return checkDecimalChange(from, to, refuse)
	case TypeVarChar:
		return checkVarCharChange(from, to, allowExplicit, refuse)
	case TypeVarBinary:
		if (from.Root == TypeBinary || from.Root == TypeVarBinary) && to.Length >= from.Length {
			return nil
		}
		return refuse("only BINARY or VARBINARY of at most length %d widens to it", to.Length)
	case TypeTimestamp, TypeTimestampLTZ:
		if from.Root == to.Root && to.Precision >= from.Precision {
			return nil
		}
		if from.Root == TypeDate && to.Root == TypeTimestamp && allowExplicit {
			return nil
		}
		if from.Root == TypeTimestamp || from.Root == TypeTimestampLTZ {
			return refuse("the precision may only grow, and TIMESTAMP and TIMESTAMP_LTZ values would shift by the reader's time zone")
		}
		return refuse("only a lower precision of the same type, or DATE to TIMESTAMP, can be read as %s", to.WithNullable(true))
	}
	return refuse("%s columns cannot change type (only their nullability and comment)", from.WithNullable(true))
}

func checkDecimalChange(from, to DataType, refuse func(string, ...any) error) error {
	if d, ok := integerDigits[from.Root]; ok {
		if to.Precision-to.Scale >= d {
			return nil
		}
		return refuse("%s values have up to %d digits, DECIMAL(%d, %d) holds %d before the point", from.WithNullable(true), d, to.Precision, to.Scale, to.Precision-to.Scale)
	}
	if from.Root != TypeDecimal {
		return refuse("only integers and DECIMAL widen to DECIMAL")
	}
	if to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale {
		return nil
	}
	return refuse("a DECIMAL may only gain digits: the scale and the digits before the point must not shrink")
}

func checkVarCharChange(from, to DataType, allowExplicit bool, refuse func(string, ...any) error) error {
	switch from.Root {
	case TypeChar, TypeVarChar:
		if to.Length >= from.Length {
			return nil
		}
		return refuse("strings would be cut to %d characters", to.Length)
	case TypeBoolean, TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble, TypeDecimal, TypeDate:
		if to.Length != MaxVarLength {
			return refuse("values become text only as STRING (a shorter VARCHAR could cut them)")
		}
		if !allowExplicit {
			return refuse("an explicit cast, and disable-explicit-type-casting is true")
		}
		return nil
	}
	return refuse("%s values are not read back as text the way Java reads them", from.WithNullable(true))
}
