package parquetio

import (
	"fmt"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
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

type nodeKind uint8

const (
	kindLeaf nodeKind = iota
	kindRow
	kindList
	kindMap
	kindRepeated // the "list" / "key_value" group between a LIST/MAP and its children
)

// pnode is one node of the Parquet schema of a Paimon row type, carrying
// exactly what Java writes into the footer's SchemaElement plus the
// parquet-go type used to encode a leaf's values.
type pnode struct {
	name     string
	rep      format.FieldRepetitionType
	id       int32
	hasID    bool
	kind     nodeKind
	dt       spec.DataType // Paimon type; zero for kindRepeated
	children []*pnode

	// Leaf only.
	phys      format.Type
	logical   format.LogicalType
	converted *deprecated.ConvertedType
	length    int32 // FIXED_LEN_BYTE_ARRAY width
	ptype     parquet.Type
}

func convertedType(c deprecated.ConvertedType) *deprecated.ConvertedType { return &c }

// buildSchema maps a Paimon row type to its Parquet message, like Java's
// ParquetSchemaConverter.convertToParquetMessageType.
func buildSchema(fields []spec.DataField) (*pnode, error) {
	root := &pnode{name: RootName, kind: kindRow, dt: spec.RowType(fields...)}
	for _, f := range fields {
		c, err := convertField(f.Name, f.Type, int32(f.ID), 0)
		if err != nil {
			return nil, fmt.Errorf("parquetio: column %q: %w", f.Name, err)
		}
		root.children = append(root.children, c)
	}
	if err := checkLimits(root); err != nil {
		return nil, err
	}
	return root, nil
}

// convertField mirrors ParquetSchemaConverter.convertToParquetType: the node
// takes fieldID, and nested list elements and map keys/values take ids derived
// from fieldID and depth.
func convertField(name string, t spec.DataType, fieldID int32, depth int) (*pnode, error) {
	n := &pnode{name: name, id: fieldID, hasID: true, dt: t, rep: format.Required}
	if t.Nullable {
		n.rep = format.Optional
	}
	leaf := func(phys format.Type, ptype parquet.Type) (*pnode, error) {
		n.kind, n.phys, n.ptype = kindLeaf, phys, ptype
		return n, nil
	}
	switch t.Root {
	case spec.TypeBoolean:
		return leaf(format.Boolean, parquet.BooleanType)
	case spec.TypeTinyInt, spec.TypeSmallInt:
		bits := 8
		n.converted = convertedType(deprecated.Int8)
		if t.Root == spec.TypeSmallInt {
			bits = 16
			n.converted = convertedType(deprecated.Int16)
		}
		n.logical.Value = &format.IntType{BitWidth: int8(bits), IsSigned: true}
		return leaf(format.Int32, parquet.Int(bits).Type())
	case spec.TypeInt:
		return leaf(format.Int32, parquet.Int32Type)
	case spec.TypeBigInt:
		return leaf(format.Int64, parquet.Int64Type)
	case spec.TypeFloat:
		return leaf(format.Float, parquet.FloatType)
	case spec.TypeDouble:
		return leaf(format.Double, parquet.DoubleType)
	case spec.TypeDecimal:
		p, s := t.Precision, t.Scale
		if p < 1 || p > maxDecimalPrecision || s < 0 || s > p {
			return nil, fmt.Errorf("%w: invalid %s", spec.ErrSchemaMismatch, t)
		}
		n.converted = convertedType(deprecated.Decimal)
		n.logical.Value = &format.DecimalType{Scale: int32(s), Precision: int32(p)}
		switch {
		case p <= 9:
			return leaf(format.Int32, parquet.Decimal(s, p, parquet.Int32Type).Type())
		case p <= 18:
			return leaf(format.Int64, parquet.Decimal(s, p, parquet.Int64Type).Type())
		default:
			n.length = int32(decimalBytes(p))
			ft := parquet.FixedLenByteArrayType(int(n.length))
			return leaf(format.FixedLenByteArray, parquet.Decimal(s, p, ft).Type())
		}
	case spec.TypeChar, spec.TypeVarChar:
		n.converted = convertedType(deprecated.UTF8)
		n.logical.Value = &format.StringType{}
		return leaf(format.ByteArray, parquet.String().Type())
	case spec.TypeBinary, spec.TypeVarBinary:
		return leaf(format.ByteArray, parquet.ByteArrayType)
	case spec.TypeDate:
		n.converted = convertedType(deprecated.Date)
		n.logical.Value = &format.DateType{}
		return leaf(format.Int32, parquet.Date().Type())
	case spec.TypeTime:
		// Java writes TIME of any precision as INT32 millis, adjustedToUTC=true.
		n.converted = convertedType(deprecated.TimeMillis)
		n.logical.Value = &format.TimeType{IsAdjustedToUTC: true, Unit: format.TimeUnit{Value: &format.MilliSeconds{}}}
		return leaf(format.Int32, parquet.TimeAdjusted(parquet.Millisecond, true).Type())
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		utc := t.Root == spec.TypeTimestampLTZ
		switch p := t.Precision; {
		case p < 0 || p > 9:
			return nil, fmt.Errorf("%w: invalid %s", spec.ErrSchemaMismatch, t)
		case p <= 3:
			n.converted = convertedType(deprecated.TimestampMillis)
			n.logical.Value = &format.TimestampType{IsAdjustedToUTC: utc, Unit: format.TimeUnit{Value: &format.MilliSeconds{}}}
			return leaf(format.Int64, parquet.TimestampAdjusted(parquet.Millisecond, utc).Type())
		case p <= 6:
			n.converted = convertedType(deprecated.TimestampMicros)
			n.logical.Value = &format.TimestampType{IsAdjustedToUTC: utc, Unit: format.TimeUnit{Value: &format.MicroSeconds{}}}
			return leaf(format.Int64, parquet.TimestampAdjusted(parquet.Microsecond, utc).Type())
		default:
			// INT96 without annotation, as Java's createTimestampWithLogicalType.
			return leaf(format.Int96, parquet.Int96Type)
		}
	case spec.TypeArray, spec.TypeVector:
		// VECTOR<T, n> is stored exactly like ARRAY<T>; only the writer checks
		// the length.
		if t.Elem == nil {
			return nil, fmt.Errorf("%w: %s without element type", spec.ErrSchemaMismatch, t)
		}
		elem, err := convertField(listElementName, *t.Elem, fieldID, depth+1)
		if err != nil {
			return nil, err
		}
		elem.id = int32(ArrayElementFieldID(int(fieldID), depth+1))
		n.kind = kindList
		n.converted = convertedType(deprecated.List)
		n.logical.Value = &format.ListType{}
		n.children = []*pnode{{name: listRepeatedName, rep: format.Repeated, kind: kindRepeated, children: []*pnode{elem}}}
		return n, nil
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
		key, err := convertField(mapKeyName, keyType.NotNull(), fieldID, depth+1)
		if err != nil {
			return nil, err
		}
		key.id = int32(MapKeyFieldID(int(fieldID), depth+1))
		value, err := convertField(mapValueName, valueType, fieldID, depth+1)
		if err != nil {
			return nil, err
		}
		value.id = int32(MapValueFieldID(int(fieldID), depth+1))
		n.kind = kindMap
		n.converted = convertedType(deprecated.Map)
		n.logical.Value = &format.MapType{}
		n.children = []*pnode{{name: mapRepeatedName, rep: format.Repeated, kind: kindRepeated, children: []*pnode{key, value}}}
		return n, nil
	case spec.TypeRow:
		n.kind = kindRow
		for _, f := range t.Fields {
			// Row fields keep their own ids and restart at depth 0, as in Java.
			c, err := convertField(f.Name, f.Type, int32(f.ID), 0)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			n.children = append(n.children, c)
		}
		if len(n.children) == 0 {
			return nil, fmt.Errorf("%w: ROW without fields cannot be stored in Parquet", spec.ErrSchemaMismatch)
		}
		return n, nil
	}
	return nil, fmt.Errorf("%w: unsupported type %s", spec.ErrSchemaMismatch, t)
}

// decimalBytes is the FIXED_LEN_BYTE_ARRAY width Java uses for a decimal of
// the given precision (computeMinBytesForDecimalPrecision): the fewest bytes
// whose signed range holds 10^precision.
func decimalBytes(precision int) int {
	n := 1
	for bitsFor10Pow(precision) > 8*n-1 {
		n++
	}
	return n
}

// bitsFor10Pow returns the number of bits of 10^p - 1, i.e. the smallest b
// with 2^b >= 10^p.
func bitsFor10Pow(p int) int {
	v := pow10(p)
	v.Sub(v, bigOne)
	return v.BitLen()
}

// checkLimits rejects schemas parquet-go cannot represent (levels are bytes,
// column indexes 16-bit).
func checkLimits(root *pnode) error {
	cols := 0
	var walk func(n *pnode, def, rep int) error
	walk = func(n *pnode, def, rep int) error {
		if n.rep != format.Required {
			def++
		}
		if n.rep == format.Repeated {
			rep++
		}
		if def > parquet.MaxDefinitionLevel || rep > parquet.MaxRepetitionLevel {
			return fmt.Errorf("%w: column %q nests too deeply for Parquet", spec.ErrSchemaMismatch, n.name)
		}
		if n.kind == kindLeaf {
			cols++
			return nil
		}
		for _, c := range n.children {
			if err := walk(c, def, rep); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range root.children {
		if err := walk(c, 0, 0); err != nil {
			return err
		}
	}
	if cols > parquet.MaxColumnIndex {
		return fmt.Errorf("%w: %d leaf columns exceed the Parquet writer's limit", spec.ErrSchemaMismatch, cols)
	}
	return nil
}

// Schema returns the Parquet schema Java Paimon writes for a row of the
// given fields: root message "paimon_schema", every node carrying its field
// id, and Paimon's type mapping (see ParquetSchemaConverter).
//
// The returned schema is what the Writer hands to parquet-go. parquet-go
// serializes a field id of 0 as "no id" and annotates plain INT32/INT64, so
// the Writer replaces the footer's schema with the exact Java form; use
// SchemaString to see that form.
func Schema(fields []spec.DataField) (*parquet.Schema, error) {
	root, err := buildSchema(fields)
	if err != nil {
		return nil, err
	}
	return parquet.NewSchema(RootName, root.parquetNode(false)), nil
}

// SchemaString renders the Parquet schema Java writes for fields in
// parquet-mr's MessageType.toString form, field ids included, e.g.
// "message paimon_schema {\n  required int32 id = 0;\n}\n".
func SchemaString(fields []spec.DataField) (string, error) {
	root, err := buildSchema(fields)
	if err != nil {
		return "", err
	}
	return formatSchema(root.elements()), nil
}

// dictionaryEncoded reports whether the writer dictionary-encodes a leaf. Java
// tries a dictionary on every column and falls back to PLAIN when it does not
// pay off; parquet-go has no such heuristic, so only the types that usually
// repeat get one (the fallback to PLAIN past a size cap still applies).
func (n *pnode) dictionaryEncoded() bool {
	switch n.dt.Root {
	case spec.TypeChar, spec.TypeVarChar, spec.TypeBinary, spec.TypeVarBinary,
		spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeDate, spec.TypeDecimal:
		return true
	}
	return false
}

// parquetNode converts n to a parquet-go node. Groups keep their children in
// schema order (parquet.Group would sort them by name).
func (n *pnode) parquetNode(dict bool) parquet.Node {
	var node parquet.Node
	if n.kind == kindLeaf {
		node = parquet.Leaf(n.ptype)
		switch {
		case dict && n.dictionaryEncoded():
			node = parquet.Encoded(node, &parquet.RLEDictionary)
		case n.ptype.Kind() == parquet.ByteArray:
			// PLAIN, as Java's writer (parquet-mr, writer version 1)
			// does. parquet-go's default for BYTE_ARRAY is
			// DELTA_LENGTH_BYTE_ARRAY, which Java Paimon's vectorized
			// reader decodes wrongly whenever a page holds a null or
			// outlasts one read batch (it looks lengths up by output row,
			// not by value): strings and bytes come out shifted.
			node = parquet.Encoded(node, &parquet.Plain)
		}
	} else {
		g := &groupNode{name: n.name}
		switch n.kind {
		case kindList:
			g.typ = parquet.List(parquet.Leaf(parquet.Int32Type)).Type()
		case kindMap:
			g.typ = parquet.Map(parquet.String(), parquet.Leaf(parquet.Int32Type)).Type()
		default:
			g.typ = parquet.Group{}.Type()
		}
		for _, c := range n.children {
			g.fields = append(g.fields, &groupField{Node: c.parquetNode(dict), name: c.name})
		}
		node = g
	}
	switch n.rep {
	case format.Optional:
		node = parquet.Optional(node)
	case format.Repeated:
		node = parquet.Repeated(node)
	default:
		node = parquet.Required(node)
	}
	if n.hasID {
		node = parquet.FieldID(node, int(n.id))
	}
	return node
}

// groupNode is a parquet-go group node whose fields keep their order.
type groupNode struct {
	name   string
	typ    parquet.Type
	fields []parquet.Field
}

func (g *groupNode) ID() int                     { return 0 }
func (g *groupNode) String() string              { return "group " + g.name }
func (g *groupNode) Type() parquet.Type          { return g.typ }
func (g *groupNode) Optional() bool              { return false }
func (g *groupNode) Repeated() bool              { return false }
func (g *groupNode) Required() bool              { return true }
func (g *groupNode) Leaf() bool                  { return false }
func (g *groupNode) Fields() []parquet.Field     { return g.fields }
func (g *groupNode) Encoding() encoding.Encoding { return nil }
func (g *groupNode) Compression() compress.Codec { return nil }
func (g *groupNode) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }

type groupField struct {
	parquet.Node
	name string
}

func (f *groupField) Name() string { return f.name }

// Value is part of parquet.Field; Strata never maps Go structs onto these
// nodes, so there is no Go value to return.
func (f *groupField) Value(reflect.Value) reflect.Value { return reflect.Value{} }
