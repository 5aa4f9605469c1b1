package avroio

import (
	"fmt"

	"github.com/twmb/avro"
)

// skipper returns a function that reads past one value of schema n (fields
// the request does not ask for). It accepts any Avro schema.
func skipper(n *avro.SchemaNode) (decFn, error) {
	switch n.Type {
	case "null":
		return func(*decoder) (any, error) { return nil, nil }, nil
	case "boolean":
		return skipN(1), nil
	case "int", "long", "enum":
		return func(d *decoder) (any, error) { _, err := d.long(); return nil, err }, nil
	case "float":
		return skipN(4), nil
	case "double":
		return skipN(8), nil
	case "string", "bytes":
		return func(d *decoder) (any, error) {
			l, err := d.long()
			if err != nil {
				return nil, err
			}
			_, err = d.take(int(min(l, int64(len(d.b)+1))))
			return nil, err
		}, nil
	case "fixed":
		return skipN(n.Size), nil
	case "array", "map":
		return skipCollection(n)
	case "union":
		return skipUnion(n)
	case "record", "error":
		skips := make([]decFn, len(n.Fields))
		for i := range n.Fields {
			s, err := skipper(&n.Fields[i].Type)
			if err != nil {
				return nil, err
			}
			skips[i] = s
		}
		return func(d *decoder) (any, error) {
			for _, s := range skips {
				if _, err := s(d); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}, nil
	}
	return nil, fmt.Errorf("%w: Avro type %q (an unresolved name?)", ErrUnsupported, n.Type)
}

func skipN(n int) decFn {
	return func(d *decoder) (any, error) { _, err := d.take(n); return nil, err }
}

func skipCollection(n *avro.SchemaNode) (decFn, error) {
	var item decFn
	var err error
	if n.Type == "array" && n.Items != nil {
		item, err = skipper(n.Items)
	} else if n.Type == "map" && n.Values != nil {
		var v decFn
		if v, err = skipper(n.Values); err == nil {
			str, _ := skipper(&avro.SchemaNode{Type: "string"})
			item = func(d *decoder) (any, error) {
				if _, err := str(d); err != nil {
					return nil, err
				}
				return v(d)
			}
		}
	} else {
		err = fmt.Errorf("%w: %s without item type", ErrUnsupported, n.Type)
	}
	if err != nil {
		return nil, err
	}
	return func(d *decoder) (any, error) {
		for {
			c, err := d.blockCount()
			if err != nil || c == 0 {
				return nil, err
			}
			for ; c > 0; c-- {
				if _, err := item(d); err != nil {
					return nil, err
				}
			}
		}
	}, nil
}

func skipUnion(n *avro.SchemaNode) (decFn, error) {
	branches := make([]decFn, len(n.Branches))
	for i := range n.Branches {
		s, err := skipper(&n.Branches[i])
		if err != nil {
			return nil, err
		}
		branches[i] = s
	}
	return func(d *decoder) (any, error) {
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(branches)) {
			return nil, fmt.Errorf("union branch %d of %d: %w", i, len(branches), errCorruptBranch)
		}
		return branches[i](d)
	}, nil
}
