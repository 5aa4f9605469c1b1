package avroio

import (
	"fmt"
	"math"
	"math/big"

	"github.com/stratalake/strata/spec"
	"github.com/twmb/avro"
)

// decFn decodes one value.
type decFn func(d *decoder) (any, error)

// recordPlan decodes a record: each Avro field in file order is either
// decoded into output slot out[i] or skipped.
type recordPlan struct {
	decs []decFn // per Avro field; nil to skip
	skip []decFn // per Avro field
	out  []int   // per Avro field: output index, -1 to skip
	nout int
}

func (p *recordPlan) decodeInto(d *decoder, row []any) error {
	for i, dec := range p.decs {
		if dec == nil {
			if _, err := p.skip[i](d); err != nil {
				return err
			}
			continue
		}
		v, err := dec(d)
		if err != nil {
			return err
		}
		row[p.out[i]] = v
	}
	return nil
}

// plan checks the requested fields against the file's schema and builds
// their decoders.
func (f *File) plan(fields []spec.DataField) (*recordPlan, error) {
	return buildRecord(f.schema, fields, "")
}

func buildRecord(n *avro.SchemaNode, fields []spec.DataField, path string) (*recordPlan, error) {
	p := &recordPlan{
		decs: make([]decFn, len(n.Fields)),
		skip: make([]decFn, len(n.Fields)),
		out:  make([]int, len(n.Fields)),
		nout: len(fields),
	}
	for i := range n.Fields {
		p.out[i] = -1
		s, err := skipper(&n.Fields[i].Type)
		if err != nil {
			return nil, fmt.Errorf("field %s%s: %w", path, n.Fields[i].Name, err)
		}
		p.skip[i] = s
	}
	for j, f := range fields {
		for i := range n.Fields {
			if n.Fields[i].Name != f.Name || p.out[i] >= 0 {
				continue
			}
			dec, err := build(&n.Fields[i].Type, f.Type, path+f.Name)
			if err != nil {
				return nil, err
			}
			p.decs[i], p.out[i] = dec, j
			break
		}
	}
	return p, nil
}

// mismatch reports a field whose Avro encoding is not Paimon's for its type.
func mismatch(path string, t spec.DataType, n *avro.SchemaNode) error {
	enc := n.Type
	if n.LogicalType != "" {
		enc += " (" + n.LogicalType + ")"
	}
	return fmt.Errorf("%w: field %s of type %s is stored as Avro %s, not as Paimon writes that type",
		ErrUnsupported, path, t.String(), enc)
}

// build returns the decoder of a value of Paimon type t stored as n.
func build(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	if n.Type == "union" {
		return buildUnion(n, t, path)
	}
	want, lt := "", ""
	switch t.Root {
	case spec.TypeBoolean:
		want = "boolean"
	case spec.TypeTinyInt, spec.TypeSmallInt, spec.TypeInt:
		want = "int"
	case spec.TypeBigInt:
		want = "long"
	case spec.TypeFloat:
		want = "float"
	case spec.TypeDouble:
		want = "double"
	case spec.TypeChar, spec.TypeVarChar:
		want = "string"
	case spec.TypeBinary, spec.TypeVarBinary:
		want = "bytes"
	case spec.TypeDecimal:
		want, lt = "bytes", "decimal"
	case spec.TypeDate:
		want, lt = "int", "date"
	case spec.TypeTime:
		want, lt = "int", "time-millis"
	case spec.TypeTimestamp, spec.TypeTimestampLTZ:
		return buildTimestamp(n, t, path)
	case spec.TypeArray, spec.TypeVector:
		return buildArray(n, t, path)
	case spec.TypeMap, spec.TypeMultiset:
		return buildMap(n, t, path)
	case spec.TypeRow:
		if n.Type != "record" {
			return nil, mismatch(path, t, n)
		}
		rp, err := buildRecord(n, t.Fields, path+".")
		if err != nil {
			return nil, err
		}
		return func(d *decoder) (any, error) {
			row := make(spec.Row, rp.nout)
			return row, rp.decodeInto(d, row)
		}, nil
	default:
		return nil, fmt.Errorf("%w: field %s has type %s, which Strata does not read from Avro", ErrUnsupported, path, t.String())
	}
	if n.Type != want || n.LogicalType != lt {
		return nil, mismatch(path, t, n)
	}
	return buildPrimitive(n, t, path)
}

func buildUnion(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	if len(n.Branches) != 2 || (n.Branches[0].Type == "null") == (n.Branches[1].Type == "null") {
		return nil, mismatch(path, t, n)
	}
	null := int64(0)
	if n.Branches[1].Type == "null" {
		null = 1
	}
	inner, err := build(&n.Branches[1-null], t, path)
	if err != nil {
		return nil, err
	}
	return func(d *decoder) (any, error) {
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		switch i {
		case null:
			return nil, nil
		case 1 - null:
			return inner(d)
		}
		return nil, fmt.Errorf("%w: union branch %d", spec.ErrCorrupt, i)
	}, nil
}

func buildPrimitive(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	switch t.Root {
	case spec.TypeBoolean:
		return func(d *decoder) (any, error) { return d.boolean() }, nil
	case spec.TypeTinyInt:
		return intDec(math.MinInt8, math.MaxInt8, func(v int32) any { return int8(v) }), nil
	case spec.TypeSmallInt:
		return intDec(math.MinInt16, math.MaxInt16, func(v int32) any { return int16(v) }), nil
	case spec.TypeInt:
		return func(d *decoder) (any, error) { return d.int() }, nil
	case spec.TypeDate:
		return func(d *decoder) (any, error) { v, err := d.int(); return spec.Date(v), err }, nil
	case spec.TypeTime:
		if t.Precision > 3 {
			return nil, fmt.Errorf("%w: field %s has type %s (Paimon's Avro format keeps TIME to milliseconds)", ErrUnsupported, path, t.String())
		}
		return intDec(0, 86_399_999, func(v int32) any { return spec.Time(v) }), nil
	case spec.TypeBigInt:
		return func(d *decoder) (any, error) { return d.long() }, nil
	case spec.TypeFloat:
		return func(d *decoder) (any, error) { return d.float() }, nil
	case spec.TypeDouble:
		return func(d *decoder) (any, error) { return d.double() }, nil
	case spec.TypeChar, spec.TypeVarChar:
		return func(d *decoder) (any, error) { b, err := d.bytes(); return string(b), err }, nil
	case spec.TypeBinary, spec.TypeVarBinary:
		return func(d *decoder) (any, error) { return d.bytes() }, nil
	case spec.TypeDecimal:
		if n.Scale != t.Scale || n.Precision != t.Precision {
			return nil, fmt.Errorf("%w: field %s of type %s is stored as Avro decimal(%d, %d)", ErrUnsupported, path, t.String(), n.Precision, n.Scale)
		}
		return decimalDec(t), nil
	}
	return nil, mismatch(path, t, n)
}

// intDec decodes an Avro int that must lie in [lo, hi].
func intDec(lo, hi int32, conv func(int32) any) decFn {
	return func(d *decoder) (any, error) {
		v, err := d.int()
		if err != nil {
			return nil, err
		}
		if v < lo || v > hi {
			return nil, fmt.Errorf("%w: %d out of range [%d, %d]", spec.ErrCorrupt, v, lo, hi)
		}
		return conv(v), nil
	}
}

// decimalDec decodes the big-endian two's complement unscaled value.
func decimalDec(t spec.DataType) decFn {
	// The largest unscaled value of precision p has at most this many bytes.
	maxLen := t.Precision/2 + 2
	return func(d *decoder) (any, error) {
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || len(b) > maxLen {
			return nil, fmt.Errorf("%w: %d-byte unscaled value for %s", spec.ErrCorrupt, len(b), t.String())
		}
		u := new(big.Int).SetBytes(b)
		if b[0]&0x80 != 0 {
			u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		if len(u.Text(10)) > t.Precision+1 || u.Sign() >= 0 && len(u.Text(10)) > t.Precision {
			return nil, fmt.Errorf("%w: unscaled %s exceeds %s", spec.ErrCorrupt, u.Text(10), t.String())
		}
		return spec.Decimal{Unscaled: u, Scale: t.Scale}, nil
	}
}

func buildTimestamp(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	if t.Precision > 6 {
		return nil, fmt.Errorf("%w: field %s has type %s (Paimon's Avro format keeps timestamps to microseconds)", ErrUnsupported, path, t.String())
	}
	if n.Type != "long" {
		return nil, mismatch(path, t, n)
	}
	switch n.LogicalType {
	case "timestamp-millis", "local-timestamp-millis":
		return func(d *decoder) (any, error) {
			ms, err := d.long()
			return spec.Timestamp{Millis: ms}, err
		}, nil
	case "timestamp-micros", "local-timestamp-micros":
		return func(d *decoder) (any, error) {
			us, err := d.long()
			ms, rem := us/1000, us%1000
			if rem < 0 {
				ms, rem = ms-1, rem+1000
			}
			return spec.Timestamp{Millis: ms, NanoOfMilli: int32(rem) * 1000}, err
		}, nil
	}
	return nil, mismatch(path, t, n)
}

func buildArray(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	if n.Type != "array" || n.Items == nil || t.Elem == nil {
		return nil, mismatch(path, t, n)
	}
	elem, err := build(n.Items, *t.Elem, path+"[]")
	if err != nil {
		return nil, err
	}
	return func(d *decoder) (any, error) {
		out := []any{}
		for {
			c, err := d.blockCount()
			if err != nil || c == 0 {
				return out, err
			}
			for ; c > 0; c-- {
				v, err := elem(d)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
	}, nil
}

// mapTypes returns the key and value types of a MAP or MULTISET (whose
// counts Paimon writes as nullable INT values).
func mapTypes(t spec.DataType) (k, v spec.DataType, ok bool) {
	if t.Root == spec.TypeMultiset {
		if t.Elem == nil {
			return k, v, false
		}
		return *t.Elem, spec.IntType, true
	}
	if t.Key == nil || t.Value == nil {
		return k, v, false
	}
	return *t.Key, *t.Value, true
}

func buildMap(n *avro.SchemaNode, t spec.DataType, path string) (decFn, error) {
	kt, vt, ok := mapTypes(t)
	if !ok {
		return nil, mismatch(path, t, n)
	}
	var key, val decFn
	var err error
	stringKeys := kt.Root == spec.TypeChar || kt.Root == spec.TypeVarChar
	switch {
	case stringKeys && n.Type == "map" && n.Values != nil:
		key, _ = buildPrimitive(n, kt, path)
		if val, err = build(n.Values, vt, path+"{}"); err != nil {
			return nil, err
		}
	case !stringKeys && n.Type == "array" && n.Items != nil && n.Items.Type == "record" &&
		len(n.Items.Fields) == 2 && n.Items.Fields[0].Name == "key" && n.Items.Fields[1].Name == "value":
		if key, err = build(&n.Items.Fields[0].Type, kt, path+".key"); err != nil {
			return nil, err
		}
		if val, err = build(&n.Items.Fields[1].Type, vt, path+".value"); err != nil {
			return nil, err
		}
	default:
		return nil, mismatch(path, t, n)
	}
	return func(d *decoder) (any, error) {
		m := spec.Map{Keys: []any{}, Values: []any{}}
		for {
			c, err := d.blockCount()
			if err != nil || c == 0 {
				return m, err
			}
			for ; c > 0; c-- {
				k, err := key(d)
				if err != nil {
					return nil, err
				}
				v, err := val(d)
				if err != nil {
					return nil, err
				}
				m.Keys, m.Values = append(m.Keys, k), append(m.Values, v)
			}
		}
	}, nil
}
