package parquetio

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// File is an open Parquet file. It is safe for concurrent use as long as the
// io.ReaderAt is.
type File struct {
	pf     *parquet.File
	cache  *chunkCache
	elems  []schemaElement
	root   *fnode
	leaves []*fnode // by column index
}

// fnode is one node of a file's Parquet schema with its levels.
type fnode struct {
	e        *schemaElement
	rep      format.FieldRepetitionType
	children []*fnode
	def      int // definition level of a present value
	repLevel int // repetition level, counting this node if repeated
	col      int // leaf column index, -1 for groups
}

func (n *fnode) name() string { return n.e.Name }
func (n *fnode) leaf() bool   { return n.col >= 0 }

// Open reads the footer of a Parquet file of the given size. Files that are
// not Parquet, are truncated or are corrupt fail with an error wrapping
// spec.ErrCorrupt.
func Open(r io.ReaderAt, size int64) (*File, error) {
	footer, err := readFooter(r, size)
	if err != nil {
		return nil, err
	}
	var elems []schemaElement
	if err := guard("decoding footer", func() error {
		var err error
		elems, err = decodeSchema(footer)
		return err
	}); err != nil {
		return nil, err
	}
	root, leaves, err := buildFileTree(elems)
	if err != nil {
		return nil, err
	}
	cache := &chunkCache{base: r}
	var pf *parquet.File
	if err := guard("opening file", func() error {
		var err error
		pf, err = parquet.OpenFile(cache, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		return err
	}); err != nil {
		if errors.Is(err, spec.ErrCorrupt) {
			return nil, err
		}
		// The footer was read and checked above; what parquet-go still
		// rejects is its content.
		return nil, fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
	}
	if got := len(pf.Schema().Columns()); got != len(leaves) {
		return nil, fmt.Errorf("%w: schema has %d leaf columns, parquet-go sees %d", spec.ErrCorrupt, len(leaves), got)
	}
	if err := checkRowGroups(pf, len(leaves), size); err != nil {
		return nil, err
	}
	return &File{pf: pf, cache: cache, elems: elems, root: root, leaves: leaves}, nil
}

// checkRowGroups validates the row-group metadata the reader relies on.
func checkRowGroups(pf *parquet.File, ncols int, size int64) error {
	md := pf.Metadata()
	var total int64
	for i, rg := range md.RowGroups {
		if len(rg.Columns) != ncols {
			return fmt.Errorf("%w: row group %d has %d column chunks, schema has %d columns", spec.ErrCorrupt, i, len(rg.Columns), ncols)
		}
		if rg.NumRows < 0 {
			return fmt.Errorf("%w: row group %d has %d rows", spec.ErrCorrupt, i, rg.NumRows)
		}
		for j, c := range rg.Columns {
			m := c.MetaData
			start := chunkStart(&m)
			if start < 0 || m.TotalCompressedSize < 0 || start > size || m.TotalCompressedSize > size-start {
				return fmt.Errorf("%w: row group %d column %d lies outside the file", spec.ErrCorrupt, i, j)
			}
			if !supportedCodec(m.Codec) {
				return fmt.Errorf("%w: row group %d column %d uses unsupported compression %s", spec.ErrCorrupt, i, j, m.Codec)
			}
			if c.FilePath != "" || c.CryptoMetadata.Value != nil {
				return fmt.Errorf("%w: row group %d column %d is external or encrypted", spec.ErrCorrupt, i, j)
			}
		}
		total += rg.NumRows
	}
	if len(pf.RowGroups()) != len(md.RowGroups) {
		return fmt.Errorf("%w: row group count mismatch", spec.ErrCorrupt)
	}
	if total != md.NumRows {
		return fmt.Errorf("%w: footer counts %d rows, row groups hold %d", spec.ErrCorrupt, md.NumRows, total)
	}
	return nil
}

// guard runs a parquet-go call and turns a panic on malformed input into an
// error. parquet-go validates less than it could; this is the last resort.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", spec.ErrCorrupt, what, r)
		}
	}()
	return f()
}

// buildFileTree rebuilds the schema tree from flattened elements and
// lists its leaves in file column order.
func buildFileTree(elems []schemaElement) (*fnode, []*fnode, error) {
	var leaves []*fnode
	i := 1
	var build func(e *schemaElement, def, rep int) (*fnode, error)
	build = func(e *schemaElement, def, rep int) (*fnode, error) {
		n := &fnode{e: e, col: -1}
		n.rep, _ = e.RepetitionType.Get()
		switch n.rep {
		case format.Required:
		case format.Optional:
			def++
		case format.Repeated:
			def++
			rep++
		default:
			return nil, fmt.Errorf("%w: column %q has repetition %d", spec.ErrCorrupt, e.Name, n.rep)
		}
		if def > parquet.MaxDefinitionLevel || rep > parquet.MaxRepetitionLevel {
			return nil, fmt.Errorf("%w: column %q nests too deeply", spec.ErrCorrupt, e.Name)
		}
		n.def, n.repLevel = def, rep
		if _, leaf := e.Type.Get(); leaf {
			if e.NumChildren.V > 0 {
				return nil, fmt.Errorf("%w: leaf %q has children", spec.ErrCorrupt, e.Name)
			}
			n.col = len(leaves)
			leaves = append(leaves, n)
			return n, nil
		}
		k := int(e.NumChildren.V)
		if k <= 0 || k > len(elems)-i {
			return nil, fmt.Errorf("%w: group %q claims %d children", spec.ErrCorrupt, e.Name, k)
		}
		for range k {
			if i >= len(elems) {
				return nil, fmt.Errorf("%w: group %q has fewer children than it claims", spec.ErrCorrupt, e.Name)
			}
			c := &elems[i]
			i++
			child, err := build(c, def, rep)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, child)
		}
		return n, nil
	}
	rootElem := &elems[0]
	if _, leaf := rootElem.Type.Get(); leaf {
		return nil, nil, fmt.Errorf("%w: schema root is a leaf", spec.ErrCorrupt)
	}
	root := &fnode{e: rootElem, col: -1}
	k := int(rootElem.NumChildren.V)
	if k <= 0 || k > len(elems)-1 {
		return nil, nil, fmt.Errorf("%w: schema root claims %d children", spec.ErrCorrupt, k)
	}
	for range k {
		if i >= len(elems) {
			return nil, nil, fmt.Errorf("%w: schema root has fewer children than it claims", spec.ErrCorrupt)
		}
		c := &elems[i]
		i++
		child, err := build(c, 0, 0)
		if err != nil {
			return nil, nil, err
		}
		root.children = append(root.children, child)
	}
	if i != len(elems) {
		return nil, nil, fmt.Errorf("%w: schema has %d elements outside the tree", spec.ErrCorrupt, len(elems)-i)
	}
	return root, leaves, nil
}

// NumRows returns the number of rows in the file.
func (f *File) NumRows() int64 { return f.pf.NumRows() }

// NumRowGroups returns the number of row groups in the file.
func (f *File) NumRowGroups() int { return len(f.pf.RowGroups()) }

// Columns returns the names of the file's top-level columns, in file order.
func (f *File) Columns() []string {
	out := make([]string, len(f.root.children))
	for i, c := range f.root.children {
		out[i] = c.name()
	}
	return out
}

// SchemaString renders the file's schema like SchemaString, so a file can be
// compared with the schema Java would write for some fields.
func (f *File) SchemaString() string { return formatSchema(f.elems) }

// ReadRows returns the file's rows projected onto fields: each row holds one
// value per requested field, found by column name (as Java's reader does;
// pass the names of the schema the file was written with) and converted to
// the field's type. A field the file lacks reads as null, and so does a
// nested ROW field the file lacks. Only the columns of the requested fields
// are read, so asking for fewer fields is faster.
//
// The sequence yields (nil, err) once and stops when the request does not fit
// the file (spec.ErrSchemaMismatch) or the data is corrupt (spec.ErrCorrupt).
// The iterator may be run more than once.
func (f *File) ReadRows(fields []spec.DataField) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		plan, err := f.plan(fields)
		if err != nil {
			yield(nil, err)
			return
		}
		for i := range f.pf.RowGroups() {
			ok, err := f.readRowGroup(i, plan, yield)
			if err != nil {
				yield(nil, fmt.Errorf("parquetio: row group %d: %w", i, err))
				return
			}
			if !ok {
				return
			}
		}
	}
}

// rnode is the read plan of one node: which file node feeds it and how its
// values become Go values.
type rnode struct {
	kind     nodeKind
	path     string
	optional bool
	def      int // definition level of a present value
	pdef     int // definition level when the parent is present
	rep      int // list/map: repetition level of the repeated group
	col      int // leaf column
	dec      leafDec
	scale    int
	pkind    parquet.Kind
	children []*rnode // row: read children; list: element; map: key, value
	out      []int    // row: output position of each child, -1 to drop
	nout     int      // row: number of output fields
	leaves   []int    // read leaf columns under this node, in order
}

type readPlan struct {
	fields []*rnode // nil for a field the file lacks
	probe  *rnode   // read and dropped when no requested field is stored
	cols   []int    // every column read
}

func (f *File) plan(fields []spec.DataField) (*readPlan, error) {
	p := &readPlan{fields: make([]*rnode, len(fields))}
	for i, fd := range fields {
		fn := findChild(f.root, fd.Name)
		if fn == nil {
			continue
		}
		if fn.rep == format.Repeated {
			return nil, bareRepeated(fd.Name)
		}
		n, err := planNode(fn, fd.Type, fd.Name)
		if err != nil {
			return nil, err
		}
		p.fields[i] = n
		p.cols = append(p.cols, n.leaves...)
	}
	if len(p.cols) == 0 {
		// Count rows from the data rather than trusting the footer alone.
		p.probe = planProbe(f.root.children[0], f.root.children[0].name())
		p.cols = p.probe.leaves
	}
	return p, nil
}

func findChild(n *fnode, name string) *fnode {
	for _, c := range n.children {
		if c.name() == name {
			return c
		}
	}
	return nil
}

func isList(f *fnode) bool {
	if _, ok := f.e.LogicalType.Value.(*format.ListType); ok {
		return true
	}
	c, ok := f.e.ConvertedType.Get()
	return ok && c == deprecated.List
}

func isMap(f *fnode) bool {
	if _, ok := f.e.LogicalType.Value.(*format.MapType); ok {
		return true
	}
	c, ok := f.e.ConvertedType.Get()
	return ok && (c == deprecated.Map || c == deprecated.MapKeyValue)
}

// planNode plans reading file node f as type t.
func planNode(f *fnode, t spec.DataType, path string) (*rnode, error) {
	n := &rnode{path: path, optional: f.rep == format.Optional, def: f.def, pdef: f.def}
	if n.optional {
		n.pdef--
	}
	mismatch := func(what string) error {
		return fmt.Errorf("%w: column %s: file has %s, cannot read it as %s", spec.ErrSchemaMismatch, path, what, t)
	}
	switch t.Root {
	case spec.TypeArray, spec.TypeVector:
		if f.leaf() || isMap(f) || t.Elem == nil {
			return nil, mismatch("no list")
		}
		elem, rep, err := listElement(f)
		if err != nil {
			return nil, err
		}
		child, err := planNode(elem, *t.Elem, path+".element")
		if err != nil {
			return nil, err
		}
		n.kind, n.rep, n.children = kindList, rep, []*rnode{child}
	case spec.TypeMap, spec.TypeMultiset:
		if f.leaf() || isList(f) {
			return nil, mismatch("no map")
		}
		key, value, rep, err := mapKeyValue(f)
		if err != nil {
			return nil, err
		}
		var kt, vt spec.DataType
		if t.Root == spec.TypeMap {
			if t.Key == nil || t.Value == nil {
				return nil, mismatch("a map")
			}
			kt, vt = *t.Key, *t.Value
		} else {
			if t.Elem == nil {
				return nil, mismatch("a map")
			}
			kt, vt = *t.Elem, spec.IntType.NotNull()
		}
		kn, err := planNode(key, kt, path+".key")
		if err != nil {
			return nil, err
		}
		n.kind, n.rep, n.children = kindMap, rep, []*rnode{kn}
		if value != nil {
			vn, err := planNode(value, vt, path+".value")
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, vn)
		}
	case spec.TypeRow:
		if f.leaf() || isList(f) || isMap(f) {
			return nil, mismatch("no plain group")
		}
		n.kind, n.nout = kindRow, len(t.Fields)
		for i, fd := range t.Fields {
			c := findChild(f, fd.Name)
			if c == nil {
				continue
			}
			if c.rep == format.Repeated {
				return nil, bareRepeated(path + "." + fd.Name)
			}
			cn, err := planNode(c, fd.Type, path+"."+fd.Name)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
			n.out = append(n.out, i)
		}
		if len(n.children) == 0 {
			// Nothing requested is stored; read one column to learn which
			// rows are null.
			n.children = []*rnode{planProbe(f.children[0], path)}
			n.out = []int{-1}
		}
	default:
		if !f.leaf() {
			return nil, mismatch("a group")
		}
		dec, scale, err := planLeaf(f.e, t)
		if err != nil {
			return nil, err
		}
		n.kind, n.col, n.dec, n.scale, n.pkind = kindLeaf, f.col, dec, scale, physKind(f.e)
		n.leaves = []int{f.col}
	}
	for _, c := range n.children {
		n.leaves = append(n.leaves, c.leaves...)
	}
	return n, nil
}

// bareRepeated rejects a repeated field outside a LIST or MAP group, which
// neither Paimon nor the Parquet spec's current layout produces.
func bareRepeated(path string) error {
	return fmt.Errorf("%w: column %s is a bare repeated field", spec.ErrSchemaMismatch, path)
}

// planProbe plans reading f for its structure only.
func planProbe(f *fnode, path string) *rnode {
	n := &rnode{path: path, optional: f.rep == format.Optional, def: f.def, pdef: f.def}
	if n.optional {
		n.pdef--
	}
	switch {
	case f.leaf():
		n.kind, n.col, n.dec = kindLeaf, f.col, decSkip
		n.leaves = []int{f.col}
		return n
	case isList(f):
		if elem, rep, err := listElement(f); err == nil {
			n.kind, n.rep, n.children = kindList, rep, []*rnode{planProbe(elem, path)}
			n.leaves = n.children[0].leaves
			return n
		}
	case isMap(f):
		if key, _, rep, err := mapKeyValue(f); err == nil {
			n.kind, n.rep, n.children = kindMap, rep, []*rnode{planProbe(key, path)}
			n.leaves = n.children[0].leaves
			return n
		}
	}
	n.kind = kindRow
	n.children = []*rnode{planProbe(f.children[0], path)}
	n.out = []int{-1}
	n.leaves = n.children[0].leaves
	return n
}

// listElement finds the element of a LIST group, following the Parquet
// spec's backward-compatibility rules for two-level lists. It returns the
// element node and the repetition level of the repeated node.
func listElement(f *fnode) (*fnode, int, error) {
	if len(f.children) != 1 || f.children[0].rep != format.Repeated {
		return nil, 0, fmt.Errorf("%w: list %q does not have exactly one repeated child", spec.ErrSchemaMismatch, f.name())
	}
	r := f.children[0]
	if r.leaf() || len(r.children) != 1 || r.name() == "array" || r.name() == f.name()+"_tuple" {
		return r, r.repLevel, nil
	}
	elem := r.children[0]
	if elem.rep == format.Repeated {
		return nil, 0, fmt.Errorf("%w: list %q has a repeated element", spec.ErrSchemaMismatch, f.name())
	}
	return elem, r.repLevel, nil
}

// mapKeyValue finds the key and value of a MAP group; value is nil for a
// key-only map.
func mapKeyValue(f *fnode) (key, value *fnode, rep int, err error) {
	if len(f.children) != 1 || f.children[0].rep != format.Repeated || f.children[0].leaf() {
		return nil, nil, 0, fmt.Errorf("%w: map %q does not have exactly one repeated group child", spec.ErrSchemaMismatch, f.name())
	}
	kv := f.children[0]
	key, value = findChild(kv, mapKeyName), findChild(kv, mapValueName)
	if key == nil {
		key = kv.children[0]
		if len(kv.children) > 1 {
			value = kv.children[1]
		}
	}
	for _, c := range []*fnode{key, value} {
		if c != nil && c.rep == format.Repeated {
			return nil, nil, 0, fmt.Errorf("%w: map %q has a repeated key or value", spec.ErrSchemaMismatch, f.name())
		}
	}
	return key, value, kv.repLevel, nil
}
