package parquetio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stratalake/strata/spec"
)

// This file holds the footer helpers of the parquet-go read path (reader.go,
// decode.go, fileschema.go); they leave with it.

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

// schemaOnly decodes just the schema of a footer; thrift skips the rest.
type schemaOnly struct {
	Schema []schemaElement `thrift:"2,optional"`
}

// footerTail is the fixed end of a Parquet file: footer length and magic.
const footerTail = 8

var magic = []byte("PAR1")

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

// nodeKind classifies the nodes of a read plan.
type nodeKind uint8

const (
	kindLeaf nodeKind = iota
	kindRow
	kindList
	kindMap
)

// Constants of Java's INT96 timestamp encoding (ParquetRowDataWriter).
const (
	julianEpochOffsetDays = 2_440_588
	millisPerDay          = 86_400_000
	nanosPerMilli         = 1_000_000
)

var bigOne = big.NewInt(1)
