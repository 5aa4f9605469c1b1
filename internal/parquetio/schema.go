package parquetio

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/stratalake/strata/spec"
)

// Names of the fixed inner nodes of LIST and MAP groups
// (ParquetSchemaConverter and parquet-mr's ConversionPatterns).
const (
	listRepeatedName = "list"
	listElementName  = "element"
	mapRepeatedName  = "key_value"
	mapKeyName       = "key"
	mapValueName     = "value"
)

// maxDecimalPrecision is Paimon's DecimalType.MAX_PRECISION.
const maxDecimalPrecision = 38

// noID marks a node without a field id (arrow-go writes ids from 0 up).
const noID = -1

// Schema returns the Parquet schema Java Paimon writes for rows of the given
// fields, like ParquetSchemaConverter.convertToParquetMessageType: root
// message "paimon_schema", every field node carrying its Paimon field id (0
// included), nested list elements and map keys/values the ids of
// SpecialFields, and Paimon's type mapping.
func Schema(fields []spec.DataField) (*schema.Schema, error) {
	nodes := make(schema.FieldList, 0, len(fields))
	for _, f := range fields {
		n, err := convertField(f.Name, f.Type, int32(f.ID), 0, int32(f.ID))
		if err != nil {
			return nil, fmt.Errorf("parquetio: column %q: %w", f.Name, err)
		}
		nodes = append(nodes, n)
	}
	root, err := schema.NewGroupNode(RootName, parquet.Repetitions.Required, nodes, noID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", spec.ErrSchemaMismatch, err)
	}
	return schema.NewSchema(root), nil
}

// SchemaString renders the Parquet schema Java writes for fields in
// parquet-mr's MessageType.toString form, field ids included, e.g.
// "message paimon_schema {\n  required int32 id = 0;\n}\n".
func SchemaString(fields []spec.DataField) (string, error) {
	s, err := Schema(fields)
	if err != nil {
		return "", err
	}
	return formatNode(s.Root()), nil
}

// convertField mirrors ParquetSchemaConverter.convertToParquetType: the node
// takes id, and nested list elements and map keys/values take ids derived
// from fieldID and depth; Java derives them from the top field's id at every
// depth (withId overrides only the node's own).
func convertField(name string, t spec.DataType, fieldID int32, depth int, id int32) (schema.Node, error) {
	rep := parquet.Repetitions.Required
	if t.Nullable {
		rep = parquet.Repetitions.Optional
	}
	wrap := func(n schema.Node, err error) (schema.Node, error) {
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", spec.ErrSchemaMismatch, t, err)
		}
		return n, nil
	}
	plain := func(phys parquet.Type) (schema.Node, error) {
		return wrap(schema.NewPrimitiveNode(name, rep, phys, id, -1))
	}
	logical := func(lt schema.LogicalType, phys parquet.Type, length int) (schema.Node, error) {
		return wrap(schema.NewPrimitiveNodeLogical(name, rep, lt, phys, length, id))
	}
	switch t.Root {
	case spec.TypeBoolean:
		return plain(parquet.Types.Boolean)
	case spec.TypeTinyInt:
		return logical(schema.NewIntLogicalType(8, true), parquet.Types.Int32, -1)
	case spec.TypeSmallInt:
		return logical(schema.NewIntLogicalType(16, true), parquet.Types.Int32, -1)
	case spec.TypeInt:
		return plain(parquet.Types.Int32)
	case spec.TypeBigInt:
		return plain(parquet.Types.Int64)
	case spec.TypeFloat:
		return plain(parquet.Types.Float)
	case spec.TypeDouble:
		return plain(parquet.Types.Double)
	case spec.TypeDecimal:
		p, s := t.Precision, t.Scale
		if p < 1 || p > maxDecimalPrecision || s < 0 || s > p {
			return nil, fmt.Errorf("%w: invalid %s", spec.ErrSchemaMismatch, t)
		}
		lt := schema.NewDecimalLogicalType(int32(p), int32(s))
		switch {
		case p <= 9:
			return logical(lt, parquet.Types.Int32, -1)
		case p <= 18:
			return logical(lt, parquet.Types.Int64, -1)
		}
		return logical(lt, parquet.Types.FixedLenByteArray, decimalBytes(p))
	case spec.TypeChar, spec.TypeVarChar:
		return logical(schema.StringLogicalType{}, parquet.Types.ByteArray, -1)
	case spec.TypeBinary, spec.TypeVarBinary:
		return plain(parquet.Types.ByteArray)
	case spec.TypeDate:
		return logical(schema.DateLogicalType{}, parquet.Types.Int32, -1)
	case spec.TypeTime:
		// Java writes TIME of any precision as INT32 millis, adjustedToUTC=true.
		return logical(schema.NewTimeLogicalType(true, schema.TimeUnitMillis), parquet.Types.Int32, -1)
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		utc := t.Root == spec.TypeTimestampLTZ
		switch p := t.Precision; {
		case p < 0 || p > 9:
			return nil, fmt.Errorf("%w: invalid %s", spec.ErrSchemaMismatch, t)
		case p <= 3:
			// parquet-mr writes the TIMESTAMP_* converted type whether or
			// not the value is adjusted to UTC: "Force" does the same.
			return logical(schema.NewTimestampLogicalTypeForce(utc, schema.TimeUnitMillis), parquet.Types.Int64, -1)
		case p <= 6:
			return logical(schema.NewTimestampLogicalTypeForce(utc, schema.TimeUnitMicros), parquet.Types.Int64, -1)
		}
		// INT96 without annotation, as Java's createTimestampWithLogicalType.
		return plain(parquet.Types.Int96)
	case spec.TypeArray, spec.TypeVector:
		// VECTOR<T, n> is stored exactly like ARRAY<T>; only the writer checks
		// the length.
		if t.Elem == nil {
			return nil, fmt.Errorf("%w: %s without element type", spec.ErrSchemaMismatch, t)
		}
		elem, err := convertField(listElementName, *t.Elem, fieldID, depth+1, int32(ArrayElementFieldID(int(fieldID), depth+1)))
		if err != nil {
			return nil, err
		}
		list, err := schema.NewGroupNode(listRepeatedName, parquet.Repetitions.Repeated, schema.FieldList{elem}, noID)
		if err != nil {
			return wrap(nil, err)
		}
		return wrap(schema.NewGroupNodeLogical(name, rep, schema.FieldList{list}, schema.NewListLogicalType(), id))
	case spec.TypeMap, spec.TypeMultiset:
		var keyType, valueType spec.DataType
		if t.Root == spec.TypeMap {
			if t.Key == nil || t.Value == nil {
				return nil, fmt.Errorf("%w: %s without key or value type", spec.ErrSchemaMismatch, t)
			}
			keyType, valueType = *t.Key, *t.Value
		} else {
			if t.Elem == nil {
				return nil, fmt.Errorf("%w: %s without element type", spec.ErrSchemaMismatch, t)
			}
			keyType, valueType = *t.Elem, spec.IntType.NotNull()
		}
		// Parquet map keys cannot be null; Java forces the key NOT NULL.
		key, err := convertField(mapKeyName, keyType.NotNull(), fieldID, depth+1, int32(MapKeyFieldID(int(fieldID), depth+1)))
		if err != nil {
			return nil, err
		}
		value, err := convertField(mapValueName, valueType, fieldID, depth+1, int32(MapValueFieldID(int(fieldID), depth+1)))
		if err != nil {
			return nil, err
		}
		kv, err := schema.NewGroupNode(mapRepeatedName, parquet.Repetitions.Repeated, schema.FieldList{key, value}, noID)
		if err != nil {
			return wrap(nil, err)
		}
		return wrap(schema.NewGroupNodeLogical(name, rep, schema.FieldList{kv}, schema.MapLogicalType{}, id))
	case spec.TypeRow:
		if len(t.Fields) == 0 {
			return nil, fmt.Errorf("%w: ROW without fields cannot be stored in Parquet", spec.ErrSchemaMismatch)
		}
		children := make(schema.FieldList, 0, len(t.Fields))
		for _, f := range t.Fields {
			// Row fields keep their own ids and restart at depth 0, as in Java.
			c, err := convertField(f.Name, f.Type, int32(f.ID), 0, int32(f.ID))
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			children = append(children, c)
		}
		return wrap(schema.NewGroupNode(name, rep, children, id))
	}
	return nil, fmt.Errorf("%w: unsupported type %s", spec.ErrSchemaMismatch, t)
}

// decimalBytes is the FIXED_LEN_BYTE_ARRAY width Java uses for a decimal of
// the given precision (computeMinBytesForDecimalPrecision): the fewest bytes
// whose signed range holds 10^precision.
func decimalBytes(precision int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	n := 1
	for limit.BitLen() > 8*n-1 {
		n++
	}
	return n
}

// formatNode renders a Parquet schema like parquet-mr's MessageType.toString.
func formatNode(root schema.Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "message %s {\n", root.Name())
	var walk func(g *schema.GroupNode, indent string)
	walk = func(g *schema.GroupNode, indent string) {
		for i := range g.NumFields() {
			n := g.Field(i)
			b.WriteString(indent + strings.ToLower(n.RepetitionType().String()) + " ")
			p, leaf := n.(*schema.PrimitiveNode)
			if leaf {
				name := strings.ToLower(p.PhysicalType().String())
				switch p.PhysicalType() {
				case parquet.Types.ByteArray:
					name = "binary"
				case parquet.Types.FixedLenByteArray:
					name = fmt.Sprintf("fixed_len_byte_array(%d)", p.TypeLength())
				}
				b.WriteString(name + " " + n.Name())
			} else {
				b.WriteString("group " + n.Name())
			}
			if a := nodeAnnotation(n); a != "" {
				b.WriteString(" (" + a + ")")
			}
			if id := n.FieldID(); id >= 0 {
				fmt.Fprintf(&b, " = %d", id)
			}
			if leaf {
				b.WriteString(";\n")
				continue
			}
			b.WriteString(" {\n")
			walk(n.(*schema.GroupNode), indent+"  ")
			b.WriteString(indent + "}\n")
		}
	}
	walk(root.(*schema.GroupNode), "  ")
	b.WriteString("}\n")
	return b.String()
}

// nodeAnnotation renders a node's logical type, falling back to its
// converted type, the way parquet-mr prints them.
func nodeAnnotation(n schema.Node) string {
	unit := func(u schema.TimeUnitType) string {
		switch u {
		case schema.TimeUnitMillis:
			return "MILLIS"
		case schema.TimeUnitMicros:
			return "MICROS"
		}
		return "NANOS"
	}
	switch lt := n.LogicalType().(type) {
	case schema.StringLogicalType:
		return "STRING"
	case schema.ListLogicalType:
		return "LIST"
	case schema.MapLogicalType:
		return "MAP"
	case schema.DateLogicalType:
		return "DATE"
	case schema.DecimalLogicalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", lt.Precision(), lt.Scale())
	case schema.IntLogicalType:
		return fmt.Sprintf("INTEGER(%d,%t)", lt.BitWidth(), lt.IsSigned())
	case schema.TimeLogicalType:
		return fmt.Sprintf("TIME(%s,%t)", unit(lt.TimeUnit()), lt.IsAdjustedToUTC())
	case schema.TimestampLogicalType:
		return fmt.Sprintf("TIMESTAMP(%s,%t)", unit(lt.TimeUnit()), lt.IsAdjustedToUTC())
	case nil, schema.NoLogicalType:
	default:
		return lt.String()
	}
	if c := n.ConvertedType(); c != schema.ConvertedTypes.None {
		return strings.ToUpper(c.String())
	}
	return ""
}
