package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"strings"

	"github.com/stratalake/strata/internal/avroio"
	"github.com/stratalake/strata/internal/parquetio"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// Request says which file to read and how to shape its records.
type Request struct {
	Dir        string // bucket directory
	File       *spec.DataFileMeta
	FileSchema *spec.TableSchema // the schema at File.SchemaID
	// ReadFields are the value columns to return, from the read schema;
	// they are matched to the file's columns by field id. Columns the file
	// lacks read as null.
	ReadFields []spec.DataField
	// KeyIndex locates each trimmed primary-key column among ReadFields.
	KeyIndex []int
	// DV, when set, drops the rows it marks deleted.
	DV *spec.DeletionVector
}

// ErrUnsupportedFormat is returned for a data file Strata cannot read: an
// ORC file (Paimon tables may hold ORC, Avro or Parquet files, per
// file.format, named with that format's extension), or an Avro file with a
// field or codec Strata does not read from Avro.
var ErrUnsupportedFormat = errors.New("unsupported data file format")

// rowFile is an open data file of either format Strata reads.
type rowFile interface {
	ReadRows(fields []spec.DataField) iter.Seq2[spec.Row, error]
}

// openDataFile opens the data file at p by the format its extension names
// (Paimon's DataFilePathFactory puts the format last in a data file's
// name): Parquet or Avro; ORC and others are refused.
func openDataFile(ctx context.Context, fs storage.Storage, p string, meta *spec.DataFileMeta) (rowFile, error) {
	ra, size, ext, err := openAt(ctx, fs, p, meta)
	if err != nil {
		return nil, err
	}
	if ext == "avro" {
		f, err := avroio.Open(ra, size)
		if err != nil {
			return nil, avroErr(err)
		}
		return avroFile{f}, nil
	}
	return parquetio.Open(ra, size)
}

// openAt returns the data file at p as an io.ReaderAt, its size, and its
// format from its extension (Paimon's DataFilePathFactory puts the format
// last in a data file's name): parquet or avro; ORC and others are refused.
func openAt(ctx context.Context, fs storage.Storage, p string, meta *spec.DataFileMeta) (io.ReaderAt, int64, string, error) {
	ext := "parquet"
	if i := strings.LastIndexByte(meta.FileName, '.'); i >= 0 {
		ext = strings.ToLower(meta.FileName[i+1:])
	}
	if ext != "parquet" && ext != "avro" {
		return nil, 0, "", fmt.Errorf("%w %q: Strata reads only Parquet and Avro data files (the table's file.format, or the format it had when the file was written, is %s)",
			ErrUnsupportedFormat, ext, ext)
	}
	size := meta.FileSize
	if size <= 0 {
		fi, err := fs.Stat(ctx, p)
		if err != nil {
			return nil, 0, "", err
		}
		size = fi.Size
	}
	return storage.NewReaderAt(ctx, fs, p, size), size, ext, nil
}

// avroFile marks the errors of an Avro file's unsupported fields as
// ErrUnsupportedFormat too.
type avroFile struct{ f *avroio.File }

func (a avroFile) ReadRows(fields []spec.DataField) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		for row, err := range a.f.ReadRows(fields) {
			if !yield(row, avroErr(err)) || err != nil {
				return
			}
		}
	}
}

func avroErr(err error) error {
	if errors.Is(err, avroio.ErrUnsupported) {
		return fmt.Errorf("%w \"avro\": %w", ErrUnsupportedFormat, err)
	}
	return err
}

// ReadKeyValues streams the records of one data file in file order (sorted
// by key for level files).
func ReadKeyValues(ctx context.Context, fs storage.Storage, req Request) iter.Seq2[*spec.KeyValue, error] {
	return func(yield func(*spec.KeyValue, error) bool) {
		for p, err := range ReadPositioned(ctx, fs, req) {
			if !yield(p.KV, err) || err != nil {
				return
			}
		}
	}
}

// ReadPositioned is ReadKeyValues with each record's row position.
func ReadPositioned(ctx context.Context, fs storage.Storage, req Request) iter.Seq2[spec.PositionedKV, error] {
	return func(yield func(spec.PositionedKV, error) bool) {
		p := path.Join(req.Dir, req.File.FileName)
		fail := func(err error) { yield(spec.PositionedKV{}, fmt.Errorf("read %s: %w", p, err)) }
		f, err := openDataFile(ctx, fs, p, req.File)
		if err != nil {
			fail(err)
			return
		}
		cols, casts := fileColumns(req.FileSchema, req.ReadFields, parquetio.SystemFields()...)
		pos := int64(-1)
		for row, err := range f.ReadRows(cols) {
			if err != nil {
				fail(err)
				return
			}
			pos++
			if req.DV != nil && req.DV.IsDeleted(pos) {
				continue
			}
			seq, ok1 := row[0].(int64)
			kind, ok2 := row[1].(int8)
			if !ok1 || !ok2 || kind < 0 || kind > 3 {
				fail(fmt.Errorf("%w: row %d has bad system columns (%v, %v)", spec.ErrCorrupt, pos, row[0], row[1]))
				return
			}
			value := row[2:]
			for _, j := range casts {
				if row[j], err = spec.CastValue(row[j], cols[j].Type, req.ReadFields[j-2].Type); err != nil {
					fail(fmt.Errorf("column %s: %w", req.ReadFields[j-2].Name, err))
					return
				}
			}
			key := make(spec.Row, len(req.KeyIndex))
			for i, j := range req.KeyIndex {
				key[i] = value[j]
			}
			kv := &spec.KeyValue{Key: key, Seq: seq, Kind: spec.RowKind(kind), Value: value, Level: req.File.Level}
			if !yield(spec.PositionedKV{KV: kv, Pos: pos}, nil) {
				return
			}
		}
	}
}

// ReadAppendRows streams the rows of an append-only (no primary key) data
// file: the table columns only, matched to ReadFields by field id as for
// key-value files. Rows DV marks deleted are skipped.
func ReadAppendRows(ctx context.Context, fs storage.Storage, req Request) iter.Seq2[spec.Row, error] {
	return func(yield func(spec.Row, error) bool) {
		p := path.Join(req.Dir, req.File.FileName)
		fail := func(err error) { yield(nil, fmt.Errorf("read %s: %w", p, err)) }
		f, err := openDataFile(ctx, fs, p, req.File)
		if err != nil {
			fail(err)
			return
		}
		cols, casts := fileColumns(req.FileSchema, req.ReadFields)
		pos := int64(-1)
		for row, err := range f.ReadRows(cols) {
			if err != nil {
				fail(err)
				return
			}
			pos++
			if req.DV != nil && req.DV.IsDeleted(pos) {
				continue
			}
			for _, j := range casts {
				if row[j], err = spec.CastValue(row[j], cols[j].Type, req.ReadFields[j].Type); err != nil {
					fail(fmt.Errorf("column %s: %w", req.ReadFields[j].Name, err))
					return
				}
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}
