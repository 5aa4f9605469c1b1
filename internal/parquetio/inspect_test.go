package parquetio

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Helpers that look into written files with arrow-go's reader, independent
// of this package's reader.

func arrowOpen(t testing.TB, data []byte) *file.Reader {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go cannot open the file: %v", err)
	}
	return r
}

func arrowOpenPath(t testing.TB, path string) *file.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return arrowOpen(t, data)
}

// describeSchema renders every schema element of a file with all that its
// footer says: name, repetition, physical type and length, converted and
// logical type, decimal metadata, field id.
func describeSchema(r *file.Reader) string {
	var b strings.Builder
	var walk func(n schema.Node, indent string)
	walk = func(n schema.Node, indent string) {
		fmt.Fprintf(&b, "%s%s rep=%s id=%d converted=%s logical=%s", indent, n.Name(), n.RepetitionType(), n.FieldID(), n.ConvertedType(), n.LogicalType())
		switch n := n.(type) {
		case *schema.PrimitiveNode:
			fmt.Fprintf(&b, " phys=%s len=%d dec=%+v\n", n.PhysicalType(), n.TypeLength(), n.DecimalMetadata())
		case *schema.GroupNode:
			b.WriteString(" {\n")
			for i := range n.NumFields() {
				walk(n.Field(i), indent+"  ")
			}
			b.WriteString(indent + "}\n")
		}
	}
	walk(r.MetaData().Schema.Root(), "")
	return b.String()
}
