package lsm

import (
	"fmt"
	"strings"

	"github.com/stratalake/strata/spec"
)

// Per-field option suffixes (fields.<name>.<suffix>) and related keys, as
// Paimon's CoreOptions spells them.
const (
	optFieldsPrefix           = "fields."
	sufAggFunction            = ".aggregate-function"
	sufIgnoreRetract          = ".ignore-retract"
	sufDistinct               = ".distinct"
	sufListAggDelimiter       = ".list-agg-delimiter"
	aggPrimaryKey             = "primary-key"
	aggLastValue              = "last_value"
	aggLastNonNullValue       = "last_non_null_value"
	aggFirstNonNullValueAlias = "first_not_null_value"
)

// FieldAggregator folds the values of one column across the records of a
// key (Java's FieldAggregator). The accumulator starts as nil for each key;
// Reset clears any per-key state (first_value remembers whether it has seen
// a value). Implementations never modify their arguments.
type FieldAggregator interface {
	// Name is the function identifier as configured, e.g. "sum".
	Name() string
	// Agg folds a newer value into the accumulator.
	Agg(acc, in any) (any, error)
	// AggReversed folds in a value that is older than the accumulator, as
	// partial-update does for a sequence group that did not advance.
	AggReversed(acc, in any) (any, error)
	// Retract withdraws a value; functions that cannot return an error
	// wrapping ErrRetractUnsupported.
	Retract(acc, in any) (any, error)
	// Reset starts a new key.
	Reset()
}

type aggFn func(acc, in any) (any, error)

// fieldAgg implements FieldAggregator with closures, so stateful functions
// keep their state per instance and no aggregator shares anything.
type fieldAgg struct {
	name     string
	field    string // column name, for errors
	agg      aggFn
	reversed aggFn  // nil: agg with the arguments swapped
	retract  aggFn  // nil: retraction unsupported
	reset    func() // nil: stateless
}

func (a *fieldAgg) Name() string                 { return a.name }
func (a *fieldAgg) Agg(acc, in any) (any, error) { return a.agg(acc, in) }

func (a *fieldAgg) AggReversed(acc, in any) (any, error) {
	if a.reversed != nil {
		return a.reversed(acc, in)
	}
	return a.agg(in, acc)
}

func (a *fieldAgg) Retract(acc, in any) (any, error) {
	if a.retract == nil {
		return nil, retractUnsupported(a.name, a.field)
	}
	return a.retract(acc, in)
}

func (a *fieldAgg) Reset() {
	if a.reset != nil {
		a.reset()
	}
}

// NewFieldAggregator returns aggregate function fn (a Paimon identifier such
// as sum, listagg or first_not_null_value) for one column, configured by
// the column's fields.<name>.* options. With fields.<name>.ignore-retract the
// function keeps its accumulator on retraction. Errors wrap
// spec.ErrInvalidSchema and name the option.
func NewFieldAggregator(fn string, field spec.DataField, opts spec.Options) (FieldAggregator, error) {
	return newFieldAggregator(fn, optFieldsPrefix+field.Name+sufAggFunction, field, opts)
}

// newFieldAggregator is NewFieldAggregator with the option that named fn,
// for error messages.
func newFieldAggregator(fn, optKey string, field spec.DataField, opts spec.Options) (*fieldAgg, error) {
	removeOnDelete := opts.AggregationRemoveRecordOnDelete
	ignoreKey := optFieldsPrefix + field.Name + sufIgnoreRetract
	ignoreRetract, err := rawBool(opts, ignoreKey, false)
	if err != nil {
		return nil, err
	}
	a, err := buildAggregator(fn, optKey, field, opts)
	if err != nil {
		return nil, err
	}
	if removeOnDelete && ignoreRetract {
		return nil, optionErr(ignoreKey, "%s and %s have conflicting behavior so should not be enabled at the same time.",
			spec.OptAggregationRemoveOnDelete, ignoreKey)
	}
	a.field = field.Name
	if ignoreRetract {
		// Java's wrapper does not forward aggReversed, so the default
		// argument swap applies even where the inner function overrides it.
		a.reversed = nil
		a.retract = func(acc, _ any) (any, error) { return acc, nil }
	}
	return a, nil
}

func buildAggregator(fn, optKey string, field spec.DataField, opts spec.Options) (*fieldAgg, error) {
	t := field.Type
	typeErr := func(format string, args ...any) error { return optionErr(optKey, format, args...) }
	switch fn {
	case aggPrimaryKey:
		same := func(_, in any) (any, error) { return in, nil }
		return &fieldAgg{name: fn, agg: same, retract: same}, nil
	case aggLastValue:
		return &fieldAgg{name: fn,
			agg:     func(_, in any) (any, error) { return in, nil },
			retract: func(_, _ any) (any, error) { return nil, nil }}, nil
	case aggLastNonNullValue:
		return &fieldAgg{name: fn,
			agg: func(acc, in any) (any, error) { return nonNull(in, acc), nil },
			retract: func(acc, in any) (any, error) {
				if in != nil {
					return nil, nil
				}
				return acc, nil
			}}, nil
	case "first_value":
		return firstValue(fn, false), nil
	case "first_non_null_value", aggFirstNonNullValueAlias:
		return firstValue(fn, true), nil
	case "sum", "product":
		if !isNumeric(t) {
			return nil, typeErr("Data type for %s column must be 'NumericType' but was '%s'.", fn, t)
		}
		if fn == "sum" {
			return sumAggregator(t), nil
		}
		return productAggregator(t), nil
	case "max", "min":
		if !isComparable(t) {
			return nil, typeErr("Data type for %s column '%s' must be comparable but was '%s'.", fn, field.Name, t)
		}
		return minMaxAggregator(fn), nil
	case "bool_and", "bool_or":
		if t.Root != spec.TypeBoolean {
			what := "and"
			if fn == "bool_or" {
				what = "or"
			}
			return nil, typeErr("Data type for bool %s column must be 'BooleanType' but was '%s'.", what, t)
		}
		and := fn == "bool_and"
		return &fieldAgg{name: fn, agg: func(acc, in any) (any, error) {
			if acc == nil || in == nil {
				return nonNull(acc, in), nil
			}
			x, y, err := both[bool](acc, in)
			if err != nil {
				return nil, err
			}
			if and {
				return x && y, nil
			}
			return x || y, nil
		}}, nil
	case "listagg":
		if t.Root != spec.TypeVarChar {
			return nil, typeErr("Data type for list agg column must be 'VarCharType' but was '%s'.", t)
		}
		if t.Length != spec.MaxVarLength {
			return nil, typeErr("Data type for list agg column must be STRING (unbounded VARCHAR), but was VARCHAR(%d).", t.Length)
		}
		return listaggAggregator(field.Name, opts)
	case "collect":
		if t.Root != spec.TypeArray || t.Elem == nil {
			return nil, typeErr("Data type for collect column must be 'Array' but was '%s'.", t)
		}
		return collectAggregator(field.Name, *t.Elem, opts)
	case "merge_map":
		if t.Root != spec.TypeMap || t.Key == nil {
			return nil, typeErr("Data type for merge map column must be 'MAP' but was '%s'", t)
		}
		return mergeMapAggregator(*t.Key), nil
	case "rbm32":
		if t.Root != spec.TypeVarBinary {
			return nil, typeErr("Data type for roaring bitmap column must be 'VarBinaryType' but was '%s'.", t)
		}
		return rbm32Aggregator(), nil
	case "rbm64", "hll_sketch", "theta_sketch", "nested_update", "nested_partial_update", "merge_map_with_keytime":
		return nil, optionErr(optKey, "aggregate function %s is not supported by Strata yet; want one of %s", fn, supportedAggFunctions)
	}
	return nil, optionErr(optKey, "Use unsupported aggregation: %s or spell aggregate function incorrectly! (want one of %s)",
		fn, supportedAggFunctions)
}

// supportedAggFunctions lists the aggregate functions buildAggregator
// implements, for error messages.
const supportedAggFunctions = "sum, product, max, min, last_value, last_non_null_value, first_value, " +
	"first_non_null_value, listagg, bool_and, bool_or, collect, merge_map, rbm32"

// nonNull returns a unless it is nil, else b.
func nonNull(a, b any) any {
	if a != nil {
		return a
	}
	return b
}

// both asserts that two non-null values have Go type T.
func both[T any](a, b any) (T, T, error) {
	x, ok1 := a.(T)
	y, ok2 := b.(T)
	if !ok1 || !ok2 {
		var zero T
		return zero, zero, fmt.Errorf("%w: values %T and %T do not match the column type %T", ErrMergeFailed, a, b, zero)
	}
	return x, y, nil
}

// firstValue is first_value (first call wins, even a null) or, with
// skipNull, first_non_null_value. The flag lives in the closure so that
// Reset can clear it per key.
func firstValue(name string, skipNull bool) *fieldAgg {
	initialized := false
	return &fieldAgg{name: name,
		agg: func(acc, in any) (any, error) {
			if !initialized && (!skipNull || in != nil) {
				initialized = true
				return in, nil
			}
			return acc, nil
		},
		reset: func() { initialized = false }}
}

func minMaxAggregator(name string) *fieldAgg {
	isMax := name == "max"
	return &fieldAgg{name: name, agg: func(acc, in any) (any, error) {
		if acc == nil || in == nil {
			return nonNull(acc, in), nil
		}
		if err := sameType(acc, in); err != nil {
			return nil, err
		}
		less := spec.CompareValues(acc, in) < 0
		// Ties keep the accumulator for max and take the input for min, as
		// Java's "acc < in" test does in both functions.
		if isMax == less {
			return in, nil
		}
		return acc, nil
	}}
}

func sameType(a, b any) error {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Errorf("%w: values %T and %T do not have the same type", ErrMergeFailed, a, b)
	}
	return nil
}

func isNumeric(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt, spec.TypeBigInt,
		spec.TypeFloat, spec.TypeDouble, spec.TypeDecimal:
		return true
	}
	return false
}

// isComparable mirrors Java's TypeCheckUtils.isComparable for the types
// Strata has: everything but the constructed types.
func isComparable(t spec.DataType) bool {
	switch t.Root {
	case spec.TypeArray, spec.TypeMap, spec.TypeMultiset, spec.TypeRow, spec.TypeVector:
		return false
	}
	return true
}

// javaIsWhitespace is Java's Character.isWhitespace for one UTF-16 unit:
// space, line and paragraph separators other than the no-break spaces, plus
// the ASCII controls \t \n \v \f \r and U+001C..U+001F. Go's unicode.IsSpace
// differs (it counts U+0085 and U+00A0, not U+001C..U+001F).
func javaIsWhitespace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r >= 0x1C && r <= 0x20:
		return true
	case r == 0x1680, r >= 0x2000 && r <= 0x2006, r >= 0x2008 && r <= 0x200A,
		r == 0x2028, r == 0x2029, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// javaIsBlank is Paimon's StringUtils.isBlank on a decoded string.
func javaIsBlank(s string) bool {
	for _, r := range s {
		if !javaIsWhitespace(r) {
			return false
		}
	}
	return true
}

// listaggAggregator concatenates strings with a delimiter, skipping blank
// inputs; with distinct it appends only the input's tokens not yet present.
func listaggAggregator(field string, opts spec.Options) (*fieldAgg, error) {
	delim, ok := rawString(opts, optFieldsPrefix+field+sufListAggDelimiter)
	if !ok {
		delim = ","
	}
	distinct, err := rawBool(opts, optFieldsPrefix+field+sufDistinct, false)
	if err != nil {
		return nil, err
	}
	return &fieldAgg{name: "listagg", agg: func(acc, in any) (any, error) {
		if in == nil {
			return acc, nil
		}
		s, ok := in.(string)
		if !ok {
			return nil, fmt.Errorf("%w: listagg value %T is not a string", ErrMergeFailed, in)
		}
		if javaIsBlank(s) {
			return acc, nil
		}
		if acc == nil {
			return in, nil
		}
		a, ok := acc.(string)
		if !ok {
			return nil, fmt.Errorf("%w: listagg value %T is not a string", ErrMergeFailed, acc)
		}
		if javaIsBlank(a) {
			return in, nil
		}
		if !distinct {
			return a + delim + s, nil
		}
		seen := map[string]bool{}
		for _, tok := range splitWholeSeparator(a, delim) {
			seen[tok] = true
		}
		var b strings.Builder
		b.WriteString(a)
		for _, tok := range splitWholeSeparator(s, delim) {
			if javaIsBlank(tok) || seen[tok] {
				continue
			}
			seen[tok] = true
			b.WriteString(delim)
			b.WriteString(tok)
		}
		return b.String(), nil
	}}, nil
}

// splitWholeSeparator is Paimon's BinaryStringUtils
// .splitByWholeSeparatorPreserveAllTokens: empty input gives no tokens, an
// empty separator means a single space, and empty tokens are kept.
func splitWholeSeparator(s, sep string) []string {
	if s == "" {
		return nil
	}
	if sep == "" {
		sep = " "
	}
	return strings.Split(s, sep)
}
