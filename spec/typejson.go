package spec

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the type codecs; test them with errors.Is.
var (
	// ErrUnsupportedType marks a type Paimon has but Strata does not
	// implement (VARIANT, BLOB, GEOMETRY, ...) or a name no one knows.
	ErrUnsupportedType = errors.New("unsupported data type")
	// ErrInvalidType marks a malformed type: bad syntax, a length or
	// precision out of range, a missing element type, duplicate ROW fields.
	ErrInvalidType = errors.New("invalid data type")
)

// validVectorElement reports whether Paimon's VectorType accepts elements of
// root r.
func validVectorElement(r TypeRoot) bool {
	switch r {
	case TypeBoolean, TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble:
		return true
	}
	return false
}

// checkTypeParams applies the range checks of Java's type constructors to t
// itself (not to nested types).
func checkTypeParams(t DataType) error {
	switch t.Root {
	case TypeBoolean, TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeFloat, TypeDouble, TypeDate:
	case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
		if t.Length < 1 || t.Length > MaxVarLength {
			return fmt.Errorf("length of %s must be between 1 and %d, got %d", rootName(t.Root), MaxVarLength, t.Length)
		}
	case TypeDecimal:
		if t.Precision < 1 || t.Precision > 38 {
			return fmt.Errorf("decimal precision must be between 1 and 38, got %d", t.Precision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("decimal scale must be between 0 and the precision %d, got %d", t.Precision, t.Scale)
		}
	case TypeTime, TypeTimestamp, TypeTimestampLTZ:
		if t.Precision < 0 || t.Precision > 9 {
			return fmt.Errorf("%s precision must be between 0 and 9, got %d", rootName(t.Root), t.Precision)
		}
	case TypeArray, TypeMultiset:
		if t.Elem == nil {
			return fmt.Errorf("%s has no element type", rootName(t.Root))
		}
	case TypeVector:
		if t.Elem == nil {
			return errors.New("VECTOR has no element type")
		}
		if !validVectorElement(t.Elem.Root) {
			return fmt.Errorf("invalid vector element type %s", t.Elem)
		}
		if t.Length < 1 || t.Length > MaxVarLength {
			return fmt.Errorf("vector length must be between 1 and %d, got %d", MaxVarLength, t.Length)
		}
	case TypeMap:
		if t.Key == nil || t.Value == nil {
			return errors.New("MAP needs a key and a value type")
		}
	case TypeRow:
		seen := make(map[string]bool, len(t.Fields))
		for _, f := range t.Fields {
			if strings.TrimSpace(f.Name) == "" {
				return errors.New("field names must contain at least one non-whitespace character")
			}
			if seen[f.Name] {
				return fmt.Errorf("field names must be unique, %q is repeated", f.Name)
			}
			seen[f.Name] = true
		}
	default:
		return fmt.Errorf("%w: type root %d", ErrUnsupportedType, t.Root)
	}
	return nil
}

func rootName(r TypeRoot) string {
	switch r {
	case TypeChar:
		return "CHAR"
	case TypeVarChar:
		return "VARCHAR"
	case TypeBinary:
		return "BINARY"
	case TypeVarBinary:
		return "VARBINARY"
	case TypeTime:
		return "TIME"
	case TypeTimestamp:
		return "TIMESTAMP"
	case TypeTimestampLTZ:
		return "TIMESTAMP WITH LOCAL TIME ZONE"
	case TypeArray:
		return "ARRAY"
	case TypeMultiset:
		return "MULTISET"
	case TypeMap:
		return "MAP"
	case TypeRow:
		return "ROW"
	case TypeVector:
		return "VECTOR"
	}
	return fmt.Sprintf("type root %d", r)
}

// Validate checks t and every type nested in it against Paimon's rules
// (lengths, precisions, vector elements, unique non-blank ROW field names).
// The error wraps ErrInvalidType, or ErrUnsupportedType for an unknown root.
func (t DataType) Validate() error {
	return validateTypeDepth(t, 0)
}

func validateTypeDepth(t DataType, depth int) error {
	if depth > maxTypeDepth {
		return fmt.Errorf("%w: nested deeper than %d levels", ErrInvalidType, maxTypeDepth)
	}
	if err := checkTypeParams(t); err != nil {
		if errors.Is(err, ErrUnsupportedType) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", ErrInvalidType, t, err)
	}
	for _, c := range []*DataType{t.Elem, t.Key, t.Value} {
		if c != nil {
			if err := validateTypeDepth(*c, depth+1); err != nil {
				return err
			}
		}
	}
	for _, f := range t.Fields {
		if err := validateTypeDepth(f.Type, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func notNullSuffix(name string, nullable bool) string {
	if nullable {
		return name
	}
	return name + " NOT NULL"
}

// writeTypeJSON writes t in Paimon's JSON form (DataType.serializeJson):
// atomic types as their SQL string, composites as objects whose "type"
// member carries the nullability. It writes whatever t holds; callers that
// need a valid document check t first.
func writeTypeJSON(w *jsonWriter, t DataType) {
	switch t.Root {
	case TypeArray, TypeMultiset:
		w.beginObject()
		w.strField("type", notNullSuffix(rootName(t.Root), t.Nullable))
		w.name("element")
		writeOptTypeJSON(w, t.Elem)
		w.endObject()
	case TypeVector:
		w.beginObject()
		w.strField("type", notNullSuffix("VECTOR", t.Nullable))
		w.name("element")
		writeOptTypeJSON(w, t.Elem)
		w.intField("length", int64(t.Length))
		w.endObject()
	case TypeMap:
		w.beginObject()
		w.strField("type", notNullSuffix("MAP", t.Nullable))
		w.name("key")
		writeOptTypeJSON(w, t.Key)
		w.name("value")
		writeOptTypeJSON(w, t.Value)
		w.endObject()
	case TypeRow:
		w.beginObject()
		w.strField("type", notNullSuffix("ROW", t.Nullable))
		w.name("fields")
		writeFieldsJSON(w, t.Fields)
		w.endObject()
	default:
		w.str(t.String())
	}
}

func writeOptTypeJSON(w *jsonWriter, t *DataType) {
	if t == nil {
		w.null()
		return
	}
	writeTypeJSON(w, *t)
}

func writeFieldsJSON(w *jsonWriter, fields []DataField) {
	w.beginArray()
	for _, f := range fields {
		writeFieldJSON(w, f)
	}
	w.endArray()
}

// writeFieldJSON writes {"id","name","type","description"?,"defaultValue"?}.
func writeFieldJSON(w *jsonWriter, f DataField) {
	w.beginObject()
	w.intField("id", int64(f.ID))
	w.strField("name", f.Name)
	w.name("type")
	writeTypeJSON(w, f.Type)
	if f.Description != nil {
		w.strField("description", *f.Description)
	}
	if f.DefaultValue != nil {
		w.strField("defaultValue", *f.DefaultValue)
	}
	w.endObject()
}

// MarshalJSON renders t in Paimon's flat JSON form, e.g. "INT NOT NULL" or
// {"type":"ARRAY","element":"STRING"}. Invalid types are an error.
func (t DataType) MarshalJSON() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	w := &jsonWriter{}
	writeTypeJSON(w, t)
	return w.buf, nil
}

// UnmarshalJSON parses any type Paimon's DataTypeJsonParser accepts, except
// the ones Strata lacks (ErrUnsupportedType). ROW
// fields without ids are numbered from 0 in document order, as Java does; a
// field with an id after one without is an error ("partial field id").
func (t *DataType) UnmarshalJSON(data []byte) error {
	n, err := parseJSONTree(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidType, err)
	}
	if n.kind == jsonNull { // like encoding/json, null leaves t alone
		return nil
	}
	next := -1
	v, err := parseTypeNode(n, &next, 0)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalJSON renders f as {"id":..,"name":..,"type":..} plus "description"
// and "defaultValue" when set.
func (f DataField) MarshalJSON() ([]byte, error) {
	if err := f.Type.Validate(); err != nil {
		return nil, err
	}
	w := &jsonWriter{}
	writeFieldJSON(w, f)
	return w.buf, nil
}

// UnmarshalJSON parses a field object. As in a schema file, the field and
// every nested ROW field must carry an id.
func (f *DataField) UnmarshalJSON(data []byte) error {
	n, err := parseJSONTree(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidType, err)
	}
	if n.kind == jsonNull {
		return nil
	}
	v, err := parseFieldNode(n, nil, 0)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func typeErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidType}, args...)...)
}

// parseTypeNode turns one JSON type into a DataType. next is the counter for
// ROW fields without ids (-1 before the first); nil means ids are required,
// as when Java reads a schema file.
func parseTypeNode(n *jsonNode, next *int, depth int) (DataType, error) {
	if depth > maxTypeDepth {
		return DataType{}, typeErrorf("type nested deeper than %d levels", maxTypeDepth)
	}
	if n == nil {
		return DataType{}, typeErrorf("missing type")
	}
	switch n.kind {
	case jsonString:
		return parseAtomicType(n.s, depth)
	case jsonObject:
	default:
		return DataType{}, typeErrorf("a type must be a string or an object, found %s", n.kindName())
	}
	tn := n.get("type")
	if tn.isNull() || tn.kind == jsonObject || tn.kind == jsonArray {
		return DataType{}, typeErrorf("composite type object has no \"type\" string")
	}
	// Java tests prefixes and looks for "NOT NULL" anywhere; matching
	// without regard to case only widens what is accepted.
	name := strings.ToUpper(strings.TrimSpace(tn.asText()))
	nullable := !strings.Contains(name, "NOT NULL")
	child := func(key string) (*DataType, error) {
		c := n.get(key)
		if c.isNull() {
			return nil, typeErrorf("%q type has no %q", tn.asText(), key)
		}
		v, err := parseTypeNode(c, next, depth+1)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
	var t DataType
	switch {
	case strings.HasPrefix(name, "ARRAY"), strings.HasPrefix(name, "MULTISET"):
		elem, err := child("element")
		if err != nil {
			return DataType{}, err
		}
		t = DataType{Root: TypeArray, Elem: elem}
		if strings.HasPrefix(name, "MULTISET") {
			t.Root = TypeMultiset
		}
	case strings.HasPrefix(name, "VECTOR"):
		elem, err := child("element")
		if err != nil {
			return DataType{}, err
		}
		ln := n.get("length")
		if ln.isNull() {
			return DataType{}, typeErrorf("VECTOR type has no \"length\"")
		}
		length, err := ln.asInt64(32)
		if err != nil {
			return DataType{}, typeErrorf("VECTOR length: %v", err)
		}
		t = DataType{Root: TypeVector, Elem: elem, Length: int(length)}
	case strings.HasPrefix(name, "MAP"):
		k, err := child("key")
		if err != nil {
			return DataType{}, err
		}
		v, err := child("value")
		if err != nil {
			return DataType{}, err
		}
		t = DataType{Root: TypeMap, Key: k, Value: v}
	case strings.HasPrefix(name, "ROW"):
		fa := n.get("fields")
		if fa == nil || fa.kind != jsonArray {
			return DataType{}, typeErrorf("ROW type has no \"fields\" array")
		}
		t = DataType{Root: TypeRow, Fields: make([]DataField, 0, len(fa.arr))}
		for _, fn := range fa.arr {
			f, err := parseFieldNode(fn, next, depth+1)
			if err != nil {
				return DataType{}, err
			}
			t.Fields = append(t.Fields, f)
		}
	default:
		return DataType{}, fmt.Errorf("%w: cannot parse composite type %q", ErrUnsupportedType, tn.asText())
	}
	t.Nullable = nullable
	if err := checkTypeParams(t); err != nil {
		return DataType{}, typeErrorf("%v", err)
	}
	return t, nil
}

// parseFieldNode reads one DataField object (Java's parseDataField).
func parseFieldNode(n *jsonNode, next *int, depth int) (DataField, error) {
	if n == nil || n.kind != jsonObject {
		return DataField{}, typeErrorf("a field must be an object, found %s", n.kindName())
	}
	var f DataField
	if idn := n.get("id"); idn != nil {
		// Java allows explicit ids only while no id has been generated.
		if next != nil && *next != -1 {
			return DataField{}, typeErrorf("partial field id is not allowed")
		}
		id, err := idn.asInt64(32)
		if err != nil {
			return DataField{}, typeErrorf("field id: %v", err)
		}
		f.ID = int(id)
	} else {
		if next == nil {
			return DataField{}, typeErrorf("field has no id")
		}
		*next++
		f.ID = *next
	}
	nn := n.get("name")
	if nn == nil || nn.kind == jsonObject || nn.kind == jsonArray {
		return DataField{}, typeErrorf("field %d has no name", f.ID)
	}
	f.Name = nn.asText()
	typ, err := parseTypeNode(n.get("type"), next, depth)
	if err != nil {
		return DataField{}, fmt.Errorf("field %q: %w", f.Name, err)
	}
	f.Type = typ
	// Java reads an explicit null as the text "null"; treating it as absent
	// keeps round trips faithful to what Java itself ever writes.
	if d := n.get("description"); !d.isNull() {
		s := d.asText()
		f.Description = &s
	}
	if d := n.get("defaultValue"); !d.isNull() {
		s := d.asText()
		f.DefaultValue = &s
	}
	return f, nil
}
