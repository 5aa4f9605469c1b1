package spec

import (
	"fmt"
	"strings"
)

// TypeRoot names the family of a Paimon data type.
type TypeRoot uint8

// The Paimon type roots Strata understands.
const (
	TypeBoolean TypeRoot = iota + 1
	TypeTinyInt
	TypeSmallInt
	TypeInt
	TypeBigInt
	TypeFloat
	TypeDouble
	TypeDecimal
	TypeChar
	TypeVarChar
	TypeBinary
	TypeVarBinary
	TypeDate
	TypeTime
	TypeTimestamp
	TypeTimestampLTZ
	TypeArray
	TypeMap
	TypeMultiset
	TypeRow
	TypeVector
)

// MaxVarLength is the length Paimon uses for STRING and BYTES
// (VARCHAR/VARBINARY of Integer.MAX_VALUE).
const MaxVarLength = 2147483647

// DataType is a Paimon logical type. Only the fields that matter for Root are
// set: Length for CHAR/VARCHAR/BINARY/VARBINARY/VECTOR, Precision and Scale for
// DECIMAL, Precision for TIME/TIMESTAMP, Elem for ARRAY/MULTISET/VECTOR, Key and
// Value for MAP, Fields for ROW.
type DataType struct {
	Root      TypeRoot
	Nullable  bool
	Length    int
	Precision int
	Scale     int
	Elem      *DataType
	Key       *DataType
	Value     *DataType
	Fields    []DataField
}

// DataField is a named, id-carrying column of a ROW type or a table schema.
type DataField struct {
	ID           int
	Name         string
	Type         DataType
	Description  *string
	DefaultValue *string
}

// Convenience constructors for common types; all are nullable.
var (
	BooleanType  = DataType{Root: TypeBoolean, Nullable: true}
	TinyIntType  = DataType{Root: TypeTinyInt, Nullable: true}
	SmallIntType = DataType{Root: TypeSmallInt, Nullable: true}
	IntType      = DataType{Root: TypeInt, Nullable: true}
	BigIntType   = DataType{Root: TypeBigInt, Nullable: true}
	FloatType    = DataType{Root: TypeFloat, Nullable: true}
	DoubleType   = DataType{Root: TypeDouble, Nullable: true}
	StringType   = DataType{Root: TypeVarChar, Nullable: true, Length: MaxVarLength}
	BytesType    = DataType{Root: TypeVarBinary, Nullable: true, Length: MaxVarLength}
	DateType     = DataType{Root: TypeDate, Nullable: true}
)

// DecimalType returns DECIMAL(p, s).
func DecimalType(p, s int) DataType {
	return DataType{Root: TypeDecimal, Nullable: true, Precision: p, Scale: s}
}

// TimestampType returns TIMESTAMP(p).
func TimestampType(p int) DataType {
	return DataType{Root: TypeTimestamp, Nullable: true, Precision: p}
}

// NotNull returns a copy of t that does not admit nulls.
func (t DataType) NotNull() DataType { t.Nullable = false; return t }

// WithNullable returns a copy of t with the given nullability.
func (t DataType) WithNullable(n bool) DataType { t.Nullable = n; return t }

// IsFixedLength reports whether values of t fit entirely in an 8-byte
// BinaryRow slot (Paimon's BinaryRow.isInFixedLengthPart).
func (t DataType) IsFixedLength() bool {
	switch t.Root {
	case TypeBoolean, TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat,
		TypeDouble, TypeDate, TypeTime:
		return true
	case TypeDecimal:
		return t.Precision <= 18
	case TypeTimestamp, TypeTimestampLTZ:
		return t.Precision <= 3
	}
	return false
}

// Equal reports whether two types are identical, nested field ids and names
// included.
func (t DataType) Equal(o DataType) bool {
	return t.String() == o.String() && fieldIDsEqual(t, o)
}

func fieldIDsEqual(a, b DataType) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].ID != b.Fields[i].ID || !fieldIDsEqual(a.Fields[i].Type, b.Fields[i].Type) {
			return false
		}
	}
	for _, p := range [][2]*DataType{{a.Elem, b.Elem}, {a.Key, b.Key}, {a.Value, b.Value}} {
		if p[0] != nil && p[1] != nil && !fieldIDsEqual(*p[0], *p[1]) {
			return false
		}
	}
	return true
}

// String renders t in Paimon's SQL form, e.g. "DECIMAL(10, 2) NOT NULL" or
// "ARRAY<INT>".
func (t DataType) String() string {
	var b strings.Builder
	t.writeSQL(&b)
	return b.String()
}

func (t DataType) writeSQL(b *strings.Builder) {
	switch t.Root {
	case TypeBoolean:
		b.WriteString("BOOLEAN")
	case TypeTinyInt:
		b.WriteString("TINYINT")
	case TypeSmallInt:
		b.WriteString("SMALLINT")
	case TypeInt:
		b.WriteString("INT")
	case TypeBigInt:
		b.WriteString("BIGINT")
	case TypeFloat:
		b.WriteString("FLOAT")
	case TypeDouble:
		b.WriteString("DOUBLE")
	case TypeDecimal:
		fmt.Fprintf(b, "DECIMAL(%d, %d)", t.Precision, t.Scale)
	case TypeChar:
		fmt.Fprintf(b, "CHAR(%d)", t.Length)
	case TypeVarChar:
		if t.Length == MaxVarLength {
			b.WriteString("STRING")
		} else {
			fmt.Fprintf(b, "VARCHAR(%d)", t.Length)
		}
	case TypeBinary:
		fmt.Fprintf(b, "BINARY(%d)", t.Length)
	case TypeVarBinary:
		if t.Length == MaxVarLength {
			b.WriteString("BYTES")
		} else {
			fmt.Fprintf(b, "VARBINARY(%d)", t.Length)
		}
	case TypeDate:
		b.WriteString("DATE")
	case TypeTime:
		fmt.Fprintf(b, "TIME(%d)", t.Precision)
	case TypeTimestamp:
		fmt.Fprintf(b, "TIMESTAMP(%d)", t.Precision)
	case TypeTimestampLTZ:
		fmt.Fprintf(b, "TIMESTAMP(%d) WITH LOCAL TIME ZONE", t.Precision)
	case TypeArray, TypeMultiset:
		if t.Root == TypeArray {
			b.WriteString("ARRAY<")
		} else {
			b.WriteString("MULTISET<")
		}
		if t.Elem != nil {
			t.Elem.writeSQL(b)
		}
		b.WriteString(">")
	case TypeVector:
		b.WriteString("VECTOR<")
		if t.Elem != nil {
			t.Elem.writeSQL(b)
		}
		fmt.Fprintf(b, ", %d>", t.Length)
	case TypeMap:
		b.WriteString("MAP<")
		if t.Key != nil {
			t.Key.writeSQL(b)
		}
		b.WriteString(", ")
		if t.Value != nil {
			t.Value.writeSQL(b)
		}
		b.WriteString(">")
	case TypeRow:
		b.WriteString("ROW<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + f.Name + "` ")
			f.Type.writeSQL(b)
		}
		b.WriteString(">")
	default:
		fmt.Fprintf(b, "UNKNOWN(%d)", t.Root)
	}
	if !t.Nullable {
		b.WriteString(" NOT NULL")
	}
}

// RowType is the ROW type of the given fields.
func RowType(fields ...DataField) DataType {
	return DataType{Root: TypeRow, Nullable: true, Fields: fields}
}
