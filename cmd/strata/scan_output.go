package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/table"
)

// binaryFormat reports whether scan writes format from Arrow record
// batches rather than text rows.
func binaryFormat(format string) bool { return format == "parquet" || format == "arrow" }

// scanOutput is where scan writes: stdout, or --output, written under a
// temporary name in the same directory and renamed when complete, so a
// failed or interrupted scan leaves no partial file behind.
type scanOutput struct {
	w    *bufio.Writer // over f or stdout; not an io.Closer, so writers cannot close f
	f    *os.File      // nil for stdout
	path string
}

// openScanOutput opens the output for format: path, else stdout, which
// Parquet never uses and Arrow only when it is not a terminal.
func openScanOutput(stdout io.Writer, path, format string) (*scanOutput, error) {
	if path == "" {
		switch {
		case format == "parquet":
			return nil, usagef("--format parquet needs --output FILE")
		case format == "arrow" && isTerminal(stdout):
			return nil, usagef("--format arrow writes binary Arrow IPC: pass --output FILE or redirect stdout")
		}
		return &scanOutput{w: bufio.NewWriterSize(stdout, 1<<20)}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 is for secrets
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("--output: %w", err)
	}
	return &scanOutput{w: bufio.NewWriterSize(f, 1<<20), f: f, path: path}, nil
}

// commit flushes the output, and closes the file and gives it its name.
func (o *scanOutput) commit() error {
	err := o.w.Flush()
	if o.f == nil {
		return err
	}
	if err == nil {
		err = o.f.Close()
	}
	if err != nil {
		o.abort()
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}

// abort drops the unfinished file.
func (o *scanOutput) abort() {
	if o.f != nil {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// batchWriter writes record batches in a binary format; Close ends the
// stream or file.
type batchWriter interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

// newBatchWriter starts format on w for batches of schema: an Arrow IPC
// stream, or a Parquet file through arrow-go's pqarrow, the Parquet engine
// of Strata's read path.
func newBatchWriter(format string, w io.Writer, schema *arrow.Schema) (batchWriter, error) {
	if format == "arrow" {
		return ipc.NewWriter(w, ipc.WithSchema(schema)), nil
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCreatedBy(parquetio.CreatedBy), parquet.WithMaxRowGroupLength(1<<40))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("parquet output: %w", err)
	}
	return &parquetWriter{fw: fw, rowGroupSize: parquetio.DefaultRowGroupSize}, nil
}

// parquetWriter buffers batches into row groups of about rowGroupSize
// compressed bytes (Paimon's parquet.block.size), rather than one row
// group per batch.
type parquetWriter struct {
	fw           *pqarrow.FileWriter
	rowGroupSize int64
}

func (p *parquetWriter) Write(rec arrow.RecordBatch) error {
	if err := p.fw.WriteBuffered(rec); err != nil {
		return err
	}
	if p.fw.RowGroupTotalCompressedBytes() >= p.rowGroupSize {
		return p.fw.NewBufferedRowGroupChecked()
	}
	return nil
}

func (p *parquetWriter) Close() error { return p.fw.Close() }

// writeBatches streams the scan's record batches to out in format, at most
// limit rows (0: all): the read stops once it has them. It returns the
// rows written.
func writeBatches(ctx context.Context, s *table.Scan, format string, out io.Writer, limit int64, p *progressBar) (int64, error) {
	schema, batches, err := s.ToArrowRecords(ctx)
	if err != nil {
		return 0, err
	}
	bw, err := newBatchWriter(format, out, schema)
	if err != nil {
		return 0, err
	}
	var n int64
	for rec, err := range batches {
		if err != nil {
			return n, errors.Join(err, bw.Close())
		}
		if limit > 0 && n+rec.NumRows() > limit {
			cut := rec.NewSlice(0, limit-n)
			rec.Release()
			rec = cut
		}
		err = bw.Write(rec)
		n += rec.NumRows()
		p.add(rec.NumRows())
		rec.Release()
		if err != nil {
			return n, errors.Join(fmt.Errorf("%s output: %w", format, err), bw.Close())
		}
		if limit > 0 && n >= limit {
			break
		}
	}
	if err := bw.Close(); err != nil {
		return n, fmt.Errorf("%s output: %w", format, err)
	}
	return n, nil
}
