package parquetio

import (
	"fmt"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// Fields derives Paimon fields from the file's Parquet schema the way Java's
// ParquetSchemaConverter.convertToPaimonRowType does. The mapping loses what
// Parquet does not record: VECTOR reads back as ARRAY, CHAR/VARCHAR(n) as
// STRING, BINARY/VARBINARY(n) as BYTES, TIME as TIME(0), and a MAP key as
// nullable. A node without a field id gets id 0.
func (f *File) Fields() ([]spec.DataField, error) {
	out := make([]spec.DataField, 0, len(f.root.children))
	for _, c := range f.root.children {
		if c.rep == format.Repeated {
			return nil, bareRepeated(c.name())
		}
		fd, err := paimonField(c)
		if err != nil {
			return nil, err
		}
		out = append(out, fd)
	}
	return out, nil
}

func paimonField(n *fnode) (spec.DataField, error) {
	t, err := paimonType(n)
	if err != nil {
		return spec.DataField{}, err
	}
	id, _ := n.e.FieldID.Get()
	return spec.DataField{ID: int(id), Name: n.name(), Type: t}, nil
}

func paimonType(n *fnode) (spec.DataType, error) {
	var t spec.DataType
	e := n.e
	lt := e.LogicalType.Value
	conv, hasConv := e.ConvertedType.Get()
	unsupported := func() (spec.DataType, error) {
		return spec.DataType{}, fmt.Errorf("%w: column %q: Parquet type %s (%s) has no Paimon type", spec.ErrSchemaMismatch, e.Name, e.Type.V, annotation(*e))
	}
	decimal := func() (spec.DataType, bool) {
		if d, ok := lt.(*format.DecimalType); ok {
			return spec.DecimalType(int(d.Precision), int(d.Scale)), true
		}
		if hasConv && conv == deprecated.Decimal {
			return spec.DecimalType(int(e.Precision.V), int(e.Scale.V)), true
		}
		return spec.DataType{}, false
	}
	switch {
	case n.leaf():
		switch phys, _ := e.Type.Get(); phys {
		case format.Boolean:
			t = spec.BooleanType
		case format.Float:
			t = spec.FloatType
		case format.Double:
			t = spec.DoubleType
		case format.ByteArray:
			t = spec.BytesType
			if _, ok := lt.(*format.StringType); ok || hasConv && conv == deprecated.UTF8 {
				t = spec.StringType
			} else if d, ok := decimal(); ok {
				t = d
			}
		case format.Int32:
			t = spec.IntType
			if d, ok := decimal(); ok {
				t = d
			} else if it, ok := lt.(*format.IntType); ok {
				switch it.BitWidth {
				case 8:
					t = spec.TinyIntType
				case 16:
					t = spec.SmallIntType
				}
			} else if _, ok := lt.(*format.DateType); ok || hasConv && conv == deprecated.Date {
				t = spec.DateType
			} else if _, ok := lt.(*format.TimeType); ok || hasConv && conv == deprecated.TimeMillis {
				t = spec.DataType{Root: spec.TypeTime, Nullable: true}
			} else if hasConv && conv == deprecated.Int8 {
				t = spec.TinyIntType
			} else if hasConv && conv == deprecated.Int16 {
				t = spec.SmallIntType
			}
		case format.Int64:
			t = spec.BigIntType
			if d, ok := decimal(); ok {
				t = d
			} else if ts, ok := lt.(*format.TimestampType); ok {
				p := 9
				switch ts.Unit.Value.(type) {
				case *format.MilliSeconds:
					p = 3
				case *format.MicroSeconds:
					p = 6
				}
				t = spec.TimestampType(p)
				if ts.IsAdjustedToUTC {
					t.Root = spec.TypeTimestampLTZ
				}
			}
		case format.Int96:
			t = spec.TimestampType(9)
		case format.FixedLenByteArray:
			d, ok := decimal()
			if !ok {
				return unsupported()
			}
			t = d
		default:
			return unsupported()
		}
	case isList(n):
		elem, _, err := listElement(n)
		if err != nil {
			return spec.DataType{}, err
		}
		et, err := paimonType(elem)
		if err != nil {
			return spec.DataType{}, err
		}
		t = spec.DataType{Root: spec.TypeArray, Nullable: true, Elem: &et}
	case isMap(n):
		key, value, _, err := mapKeyValue(n)
		if err != nil {
			return spec.DataType{}, err
		}
		if value == nil {
			return unsupported()
		}
		kt, err := paimonType(key)
		if err != nil {
			return spec.DataType{}, err
		}
		kt.Nullable = true // Parquet cannot say; Java makes keys nullable
		vt, err := paimonType(value)
		if err != nil {
			return spec.DataType{}, err
		}
		t = spec.DataType{Root: spec.TypeMap, Nullable: true, Key: &kt, Value: &vt}
	default:
		t = spec.RowType()
		for _, c := range n.children {
			if c.rep == format.Repeated {
				return spec.DataType{}, bareRepeated(c.name())
			}
			fd, err := paimonField(c)
			if err != nil {
				return spec.DataType{}, err
			}
			t.Fields = append(t.Fields, fd)
		}
	}
	if t.Root == spec.TypeDecimal && (t.Precision < 1 || t.Precision > maxDecimalPrecision || t.Scale < 0 || t.Scale > t.Precision) {
		return unsupported()
	}
	// A repeated node is a two-level list's element and is never null.
	t.Nullable = n.rep == format.Optional
	return t, nil
}
