package lsm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/stratalake/strata/spec"
)

// Spiller moves a full write buffer to local disk as a sorted run, so that a
// writer can buffer more than memory holds before it writes level-0 files
// (Paimon's write-buffer-spillable). Records are stored as
// [int64 seq][byte kind][uint32 len][value BinaryRow], little-endian.
type Spiller struct {
	Dir        string // local directory for spill files
	ValueTypes []spec.DataType
	KeyIndex   []int
	MaxBytes   int64 // write-buffer-spill.max-disk-size; 0 is unlimited
}

type spillRun struct {
	path  string
	bytes int64
}

// Spill writes the buffered records, sorted, to a spill file and empties
// the in-memory part of the buffer. It reports false (spilling nothing)
// when the disk budget is used up; the caller then flushes instead.
func (b *Buffer) Spill(s *Spiller, ord *Ordering) (bool, error) {
	if len(b.kvs) == 0 {
		return true, nil
	}
	var used int64
	for _, r := range b.spilled {
		used += r.bytes
	}
	if s.MaxBytes > 0 && used >= s.MaxBytes {
		return false, nil
	}
	slices.SortFunc(b.kvs, ord.Compare) // seq makes the order total
	f, err := os.CreateTemp(s.Dir, "strata-spill-*")
	if err != nil {
		return false, fmt.Errorf("spill: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	var hdr [13]byte
	for _, kv := range b.kvs {
		row, err := spec.EncodeBinaryRow(s.ValueTypes, kv.Value, spec.RowKindInsert)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return false, err
		}
		binary.LittleEndian.PutUint64(hdr[0:], uint64(kv.Seq))
		hdr[8] = byte(kv.Kind)
		binary.LittleEndian.PutUint32(hdr[9:], uint32(len(row)))
		w.Write(hdr[:])
		w.Write(row)
		n += int64(len(hdr) + len(row))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return false, fmt.Errorf("spill: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return false, fmt.Errorf("spill: %w", err)
	}
	b.spilled = append(b.spilled, spillRun{path: f.Name(), bytes: n})
	b.spiller = s
	clear(b.kvs)
	b.kvs, b.bytes = b.kvs[:0], 0
	return true, nil
}

// SpilledRuns is the number of sorted runs on local disk.
func (b *Buffer) SpilledRuns() int { return len(b.spilled) }

// readSpill streams one spill file back.
func (s *Spiller) readSpill(path string) Run {
	return func(yield func(*KeyValue, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(nil, fmt.Errorf("spill: %w", err))
			return
		}
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<20)
		var hdr [13]byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				if err != io.EOF {
					yield(nil, fmt.Errorf("spill %s: %w", path, err))
				}
				return
			}
			row := make([]byte, binary.LittleEndian.Uint32(hdr[9:]))
			if _, err := io.ReadFull(r, row); err != nil {
				yield(nil, fmt.Errorf("spill %s: %w", path, err))
				return
			}
			value, _, err := spec.DecodeBinaryRow(s.ValueTypes, row)
			if err != nil {
				yield(nil, fmt.Errorf("spill %s: %w", path, err))
				return
			}
			key := make(spec.Row, len(s.KeyIndex))
			for i, j := range s.KeyIndex {
				key[i] = value[j]
			}
			kv := &KeyValue{Key: key, Seq: int64(binary.LittleEndian.Uint64(hdr[0:])), Kind: spec.RowKind(hdr[8]), Value: value, Level: -1}
			if !yield(kv, nil) {
				return
			}
		}
	}
}

// discardSpill removes the spill files.
func (b *Buffer) discardSpill() {
	for _, r := range b.spilled {
		os.Remove(r.path)
	}
	b.spilled = nil
}
