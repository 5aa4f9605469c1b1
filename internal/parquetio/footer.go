package parquetio

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/thrift/lib/go/thrift"

	"github.com/stratalake/strata/spec"
)

// footerReadSize is how much of a file's end readFooter reads at once.
const footerReadSize = 64 << 10

// readFooter reads and decodes the footer of a Parquet file of the given
// size. arrow-go sizes its schema tree by each element's num_children
// before it checks them against the elements there are, so a damaged
// count asks for gigabytes and the runtime dies out of memory, which no
// recover catches: the counts are checked first, on the encoded footer.
func (c *File) readFooter(r io.ReaderAt, size int64) (*metadata.FileMetaData, error) {
	// One read of the file's end holds most footers (one request on S3).
	tail := make([]byte, min(size-4, footerReadSize))
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return nil, fmt.Errorf("reading the footer: %w", c.decodeErr(context.Background(), err))
	}
	if string(tail[len(tail)-4:]) != "PAR1" {
		return nil, fmt.Errorf("%w: no Parquet magic at the end of the file", spec.ErrCorrupt)
	}
	n := int64(binary.LittleEndian.Uint32(tail[len(tail)-8:]))
	if n <= 0 || n > size-12 {
		return nil, fmt.Errorf("%w: a footer of %d bytes in a file of %d", spec.ErrCorrupt, n, size)
	}
	var footer []byte
	if n <= int64(len(tail))-8 {
		footer = tail[int64(len(tail))-8-n : len(tail)-8]
	} else {
		footer = make([]byte, n)
		if _, err := r.ReadAt(footer, size-8-n); err != nil {
			return nil, fmt.Errorf("reading the footer: %w", c.decodeErr(context.Background(), err))
		}
	}
	if err := checkSchemaCounts(footer); err != nil {
		return nil, fmt.Errorf("%w: footer: %w", spec.ErrCorrupt, err)
	}
	var md *metadata.FileMetaData
	err := guard("decoding the footer", func() (err error) {
		md, err = metadata.NewFileMetaData(footer, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", spec.ErrCorrupt, err)
	}
	return md, nil
}

// checkSchemaCounts walks the Thrift compact encoding of a FileMetaData
// (field 2: the schema, a list of SchemaElement, whose field 5 is
// num_children) and refuses a list or a child count larger than the
// footer could hold: every element takes at least one byte.
func checkSchemaCounts(footer []byte) error {
	ctx := context.Background()
	buf := thrift.NewTMemoryBufferLen(len(footer))
	buf.Write(footer)
	p := thrift.NewTCompactProtocolConf(buf, &thrift.TConfiguration{MaxMessageSize: int32(len(footer)) + 1})
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			return nil
		}
		if id != 2 || typ != thrift.LIST {
			if err := p.Skip(ctx, typ); err != nil {
				return err
			}
			continue
		}
		_, elems, err := p.ReadListBegin(ctx)
		if err != nil {
			return err
		}
		if elems < 0 || elems > len(footer) {
			return fmt.Errorf("a schema of %d elements in %d bytes", elems, len(footer))
		}
		for range elems {
			if err := checkElement(ctx, p, elems); err != nil {
				return err
			}
		}
		return nil // the schema is all that needs checking
	}
}

// checkElement reads one SchemaElement, refusing a num_children beyond
// the elements there are.
func checkElement(ctx context.Context, p thrift.TProtocol, elems int) error {
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			return p.ReadStructEnd(ctx)
		}
		if id == 5 && typ == thrift.I32 {
			n, err := p.ReadI32(ctx)
			if err != nil {
				return err
			}
			if n < 0 || int(n) >= elems {
				return fmt.Errorf("a schema element with %d children among %d elements", n, elems)
			}
			continue
		}
		if err := p.Skip(ctx, typ); err != nil {
			return err
		}
	}
}
