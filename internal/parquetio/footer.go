package parquetio

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// schemaElement is format.SchemaElement with an optional field id: parquet-go
// declares field_id as a plain int32 and so drops an id of 0.
type schemaElement struct {
	Type           thrift.Null[format.Type]                `thrift:"1,optional"`
	TypeLength     thrift.Null[int32]                      `thrift:"2,optional"`
	RepetitionType thrift.Null[format.FieldRepetitionType] `thrift:"3,optional"`
	Name           string                                  `thrift:"4,required"`
	NumChildren    thrift.Null[int32]                      `thrift:"5,optional"`
	ConvertedType  thrift.Null[deprecated.ConvertedType]   `thrift:"6,optional"`
	Scale          thrift.Null[int32]                      `thrift:"7,optional"`
	Precision      thrift.Null[int32]                      `thrift:"8,optional"`
	FieldID        thrift.Null[int32]                      `thrift:"9,optional"`
	LogicalType    format.LogicalType                      `thrift:"10,optional"`
}

// fileMetaData is format.FileMetaData with our schemaElement. The encryption
// fields are left out: Strata neither writes nor reads encrypted files.
type fileMetaData struct {
	Version          int32                `thrift:"1,required"`
	Schema           []schemaElement      `thrift:"2,required"`
	NumRows          int64                `thrift:"3,required"`
	RowGroups        []format.RowGroup    `thrift:"4,required"`
	KeyValueMetadata []format.KeyValue    `thrift:"5,optional"`
	CreatedBy        string               `thrift:"6,optional"`
	ColumnOrders     []format.ColumnOrder `thrift:"7,optional"`
}

// schemaOnly decodes just the schema of a footer; thrift skips the rest.
type schemaOnly struct {
	Schema []schemaElement `thrift:"2,optional"`
}

// elements flattens the tree into footer schema elements, depth first, the
// way parquet-mr's ParquetMetadataConverter.toParquetSchema does.
func (n *pnode) elements() []schemaElement {
	var out []schemaElement
	var walk func(n *pnode, root bool)
	walk = func(n *pnode, root bool) {
		e := schemaElement{Name: n.name}
		if !root {
			e.RepetitionType = thrift.New(n.rep)
		}
		if n.hasID && !root {
			e.FieldID = thrift.New(n.id)
		}
		if n.converted != nil {
			e.ConvertedType = thrift.New(*n.converted)
		}
		e.LogicalType = n.logical
		if n.kind == kindLeaf {
			e.Type = thrift.New(n.phys)
			if n.length > 0 {
				e.TypeLength = thrift.New(n.length)
			}
			if d, ok := n.logical.Value.(*format.DecimalType); ok {
				e.Scale = thrift.New(d.Scale)
				e.Precision = thrift.New(d.Precision)
			}
		} else {
			e.NumChildren = thrift.New(int32(len(n.children)))
		}
		out = append(out, e)
		for _, c := range n.children {
			walk(c, false)
		}
	}
	walk(n, true)
	return out
}

// footerTail is the fixed end of a Parquet file: footer length and magic.
const footerTail = 8

var magic = []byte("PAR1")

// patchFooter rewrites the tail parquet-go wrote from file offset tailStart
// on (pages still buffered, page indexes, footer, length, magic): the
// footer's schema becomes elems and its created_by createdBy, and the column
// indexes of the leaf columns noIndex are cut out, the other page indexes
// moving up to stay contiguous as readers expect.
func patchFooter(tail []byte, tailStart int64, elems []schemaElement, noIndex []int, createdBy string) ([]byte, error) {
	if len(tail) < footerTail || string(tail[len(tail)-4:]) != string(magic) {
		return nil, fmt.Errorf("parquetio: parquet-go wrote an unexpected file tail")
	}
	n := int(binary.LittleEndian.Uint32(tail[len(tail)-footerTail:]))
	start := len(tail) - footerTail - n
	if n < 0 || start < 0 {
		return nil, fmt.Errorf("parquetio: parquet-go wrote a footer longer than its tail")
	}
	var md fileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), tail[start:len(tail)-footerTail], &md); err != nil {
		return nil, fmt.Errorf("parquetio: decoding parquet-go footer: %w", err)
	}
	if len(md.Schema) != len(elems) {
		return nil, fmt.Errorf("parquetio: parquet-go wrote %d schema elements, want %d", len(md.Schema), len(elems))
	}
	for i := range elems {
		if md.Schema[i].Name != elems[i].Name {
			return nil, fmt.Errorf("parquetio: parquet-go schema element %d is %q, want %q", i, md.Schema[i].Name, elems[i].Name)
		}
	}
	md.Schema = elems
	md.CreatedBy = createdBy
	// parquet-mr writes version 1, and so do we: the pages are v1 pages.
	md.Version = 1
	out, err := rewritePageIndexes(tail[:start], tailStart, &md, noIndex)
	if err != nil {
		return nil, err
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return nil, fmt.Errorf("parquetio: encoding footer: %w", err)
	}
	out = append(out, footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, magic...), nil
}

// rewritePageIndexes copies body (the tail before the footer) leaving out
// the column indexes of the columns drop, and points md at the new offsets.
// parquet-go writes all page indexes after the last row group, column
// indexes first, so they all lie in body.
func rewritePageIndexes(body []byte, bodyStart int64, md *fileMetaData, drop []int) ([]byte, error) {
	first := bodyStart + int64(len(body))
	for i := range md.RowGroups {
		for j := range md.RowGroups[i].Columns {
			c := &md.RowGroups[i].Columns[j]
			if c.ColumnIndexLength > 0 && slices.Contains(drop, j) {
				c.ColumnIndexOffset, c.ColumnIndexLength = 0, 0
			}
			for _, r := range []struct {
				off *int64
				n   int32
			}{{&c.ColumnIndexOffset, c.ColumnIndexLength}, {&c.OffsetIndexOffset, c.OffsetIndexLength}} {
				if r.n <= 0 {
					continue
				}
				if *r.off < bodyStart || *r.off+int64(r.n) > bodyStart+int64(len(body)) {
					return nil, fmt.Errorf("parquetio: page index at %d lies outside the footer section", *r.off)
				}
				first = min(first, *r.off)
			}
		}
	}
	out := append([]byte(nil), body[:first-bodyStart]...)
	// Column indexes first, then offset indexes, each in row group and
	// column order, as parquet-go and parquet-mr lay them out.
	for pass := range 2 {
		for i := range md.RowGroups {
			for j := range md.RowGroups[i].Columns {
				c := &md.RowGroups[i].Columns[j]
				off, n := &c.ColumnIndexOffset, c.ColumnIndexLength
				if pass == 1 {
					off, n = &c.OffsetIndexOffset, c.OffsetIndexLength
				}
				if n <= 0 {
					continue
				}
				from := *off - bodyStart
				*off = bodyStart + int64(len(out))
				out = append(out, body[from:from+int64(n)]...)
			}
		}
	}
	return out, nil
}

// readFooter reads and checks the footer of a Parquet file and returns its
// raw bytes. It validates the framing and the thrift structure before any
// decoder allocates from lengths found in the file.
func readFooter(r io.ReaderAt, size int64) ([]byte, error) {
	if size < int64(len(magic)+footerTail) {
		return nil, fmt.Errorf("%w: parquet file of %d bytes is too short", spec.ErrCorrupt, size)
	}
	var head [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("parquetio: reading file header: %w", err)
	}
	if string(head[:]) != string(magic) {
		return nil, fmt.Errorf("%w: missing PAR1 magic at start of parquet file", spec.ErrCorrupt)
	}
	var tail [footerTail]byte
	if _, err := r.ReadAt(tail[:], size-footerTail); err != nil {
		return nil, fmt.Errorf("parquetio: reading file tail: %w", err)
	}
	if string(tail[4:]) == "PARE" {
		return nil, fmt.Errorf("%w: encrypted parquet files are not supported", spec.ErrCorrupt)
	}
	if string(tail[4:]) != string(magic) {
		return nil, fmt.Errorf("%w: missing PAR1 magic at end of parquet file", spec.ErrCorrupt)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n == 0 || n > size-int64(len(magic)+footerTail) {
		return nil, fmt.Errorf("%w: parquet footer length %d does not fit a file of %d bytes", spec.ErrCorrupt, n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-footerTail-n); err != nil {
		return nil, fmt.Errorf("parquetio: reading footer: %w", err)
	}
	if err := checkThrift(footer); err != nil {
		return nil, fmt.Errorf("%w: parquet footer: %v", spec.ErrCorrupt, err)
	}
	return footer, nil
}

// decodeSchema decodes the schema elements of a checked footer.
func decodeSchema(footer []byte) ([]schemaElement, error) {
	var s schemaOnly
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), footer, &s); err != nil {
		return nil, fmt.Errorf("%w: parquet footer schema: %v", spec.ErrCorrupt, err)
	}
	if len(s.Schema) == 0 {
		return nil, fmt.Errorf("%w: parquet footer has no schema", spec.ErrCorrupt)
	}
	return s.Schema, nil
}

// formatSchema renders schema elements like parquet-mr's MessageType.toString.
func formatSchema(elems []schemaElement) string {
	var b strings.Builder
	if len(elems) == 0 {
		return ""
	}
	fmt.Fprintf(&b, "message %s {\n", elems[0].Name)
	i := 1
	var walk func(n int, indent string)
	walk = func(n int, indent string) {
		for ; n > 0 && i < len(elems); n-- {
			e := elems[i]
			i++
			rep := "required"
			if v, ok := e.RepetitionType.Get(); ok {
				rep = strings.ToLower(v.String())
			}
			b.WriteString(indent + rep + " ")
			if t, ok := e.Type.Get(); ok {
				name := strings.ToLower(t.String())
				switch t {
				case format.ByteArray:
					name = "binary"
				case format.FixedLenByteArray:
					name = fmt.Sprintf("fixed_len_byte_array(%d)", e.TypeLength.V)
				}
				b.WriteString(name + " " + e.Name)
			} else {
				b.WriteString("group " + e.Name)
			}
			if a := annotation(e); a != "" {
				b.WriteString(" (" + a + ")")
			}
			if id, ok := e.FieldID.Get(); ok {
				fmt.Fprintf(&b, " = %d", id)
			}
			if _, leaf := e.Type.Get(); leaf {
				b.WriteString(";\n")
				continue
			}
			b.WriteString(" {\n")
			walk(int(e.NumChildren.V), indent+"  ")
			b.WriteString(indent + "}\n")
		}
	}
	walk(int(elems[0].NumChildren.V), "  ")
	b.WriteString("}\n")
	return b.String()
}

// annotation renders a schema element's logical type, falling back to its
// converted type, the way parquet-mr prints them.
func annotation(e schemaElement) string {
	switch lt := e.LogicalType.Value.(type) {
	case nil:
	case *format.StringType:
		return "STRING"
	case *format.ListType:
		return "LIST"
	case *format.MapType:
		return "MAP"
	case *format.DateType:
		return "DATE"
	case *format.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", lt.Precision, lt.Scale)
	case *format.IntType:
		return fmt.Sprintf("INTEGER(%d,%t)", lt.BitWidth, lt.IsSigned)
	case *format.TimeType:
		return fmt.Sprintf("TIME(%s,%t)", &lt.Unit, lt.IsAdjustedToUTC)
	case *format.TimestampType:
		return fmt.Sprintf("TIMESTAMP(%s,%t)", &lt.Unit, lt.IsAdjustedToUTC)
	default:
		return fmt.Sprint(lt)
	}
	if c, ok := e.ConvertedType.Get(); ok {
		// parquet-format's ConvertedType names, by value.
		names := [...]string{
			"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE",
			"TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
			"UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32",
			"INT_64", "JSON", "BSON", "INTERVAL",
		}
		if c >= 0 && int(c) < len(names) {
			return names[c]
		}
		return fmt.Sprintf("CONVERTED(%d)", c)
	}
	return ""
}
