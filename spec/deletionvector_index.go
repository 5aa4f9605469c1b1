package spec

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// A deletion-vector index file (index type DELETION_VECTORS) is
//
//	byte version (1) | per vector: int32 BE size | size bytes | int32 BE CRC32 (IEEE) of those bytes
//
// where the bytes are EncodeDeletionVector's. The index manifest locates each
// vector with a DeletionVectorMeta, whose Offset is that of the size int and
// whose Length depends on the kind, because Java's DeletionFileWriter records
// what serializeTo returns:
//
//	32-bit: Length = size (magic and bitmap only)
//	64-bit: Length = size + 8 (the size int and the CRC included)
//
// Java's reader checks the size against Length with the same rule and skips
// the CRC; ReadDeletionVector verifies it.

// DVIndexVersion is the version byte that starts a deletion-vector index file.
const DVIndexVersion byte = 1

// DVIndexType is the index type of deletion-vector index files in the index
// manifest.
const DVIndexType = "DELETION_VECTORS"

// DeletionVectorMeta locates one data file's deletion vector in an index
// file: the _DELETIONS_VECTORS_RANGES record of an index manifest entry
// (f0, f1, f2, _CARDINALITY).
type DeletionVectorMeta struct {
	// DataFile is the name of the data file the vector applies to.
	DataFile string
	// Offset is the position of the vector's size int in the index file.
	Offset int32
	// Length is the vector's size for 32-bit vectors and its size plus 8
	// (size int and CRC) for 64-bit ones.
	Length int32
	// Cardinality is the number of deleted rows; nil in metadata written
	// before Paimon recorded it.
	Cardinality *int64
}

// DVIndexEntry is one data file's deletion vector to write to an index file.
type DVIndexEntry struct {
	// DataFile is the name of the data file the vector applies to.
	DataFile string
	// DV holds the data file's deleted positions; its kind decides the
	// format and the meaning of the recorded Length.
	DV *DeletionVector
}

// EncodeDVIndexFile writes the given vectors, in order, as one index file and
// returns its bytes with the metadata Java's DeletionFileWriter would record
// for each. No entries gives the one-byte file Java writes to supersede an
// older index. Data file names must be unique; vectors are run-optimised in
// place as EncodeDeletionVector describes.
func EncodeDVIndexFile(entries []DVIndexEntry) ([]byte, []DeletionVectorMeta, error) {
	data := []byte{DVIndexVersion}
	metas := make([]DeletionVectorMeta, 0, len(entries))
	seen := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		if e.DV == nil {
			return nil, nil, fmt.Errorf("nil deletion vector for data file %q", e.DataFile)
		}
		if _, dup := seen[e.DataFile]; dup {
			return nil, nil, fmt.Errorf("data file %q appears twice in a deletion-vector index", e.DataFile)
		}
		seen[e.DataFile] = struct{}{}
		body, err := EncodeDeletionVector(e.DV)
		if err != nil {
			return nil, nil, fmt.Errorf("deletion vector of %q: %w", e.DataFile, err)
		}
		// Offsets are int32 in the manifest; Java's writer would silently
		// wrap past 2 GiB, we refuse.
		if int64(len(data))+int64(len(body))+8 > math.MaxInt32 {
			return nil, nil, fmt.Errorf("deletion-vector index file exceeds 2 GiB at data file %q", e.DataFile)
		}
		offset := int32(len(data))
		length := int32(len(body))
		if e.DV.Kind() == DVBitmap64 {
			length += 8
		}
		data = binary.BigEndian.AppendUint32(data, uint32(len(body)))
		data = append(data, body...)
		data = binary.BigEndian.AppendUint32(data, crc32.ChecksumIEEE(body))
		card := e.DV.Cardinality()
		metas = append(metas, DeletionVectorMeta{
			DataFile:    e.DataFile,
			Offset:      offset,
			Length:      length,
			Cardinality: &card,
		})
	}
	return data, metas, nil
}

// ReadDeletionVector decodes the vector meta locates in an index file's
// bytes. It checks the version byte, the size against meta.Length (by the
// kind's rule), the CRC and, when recorded, the cardinality; any mismatch
// yields an error wrapping ErrCorrupt. The result does not alias file.
func ReadDeletionVector(file []byte, meta DeletionVectorMeta) (*DeletionVector, error) {
	if len(file) == 0 || file[0] != DVIndexVersion {
		return nil, fmt.Errorf("%w: deletion-vector index file does not start with version %d", ErrCorrupt, DVIndexVersion)
	}
	off := int64(meta.Offset)
	if off < 1 || off+4 > int64(len(file)) {
		return nil, fmt.Errorf("%w: deletion vector of %q at offset %d lies outside the %d-byte index file",
			ErrCorrupt, meta.DataFile, meta.Offset, len(file))
	}
	size := int64(int32(binary.BigEndian.Uint32(file[off:])))
	if size < 4 || off+4+size+4 > int64(len(file)) {
		return nil, fmt.Errorf("%w: deletion vector of %q at offset %d has size %d, beyond the %d-byte index file",
			ErrCorrupt, meta.DataFile, meta.Offset, size, len(file))
	}
	body := file[off+4 : off+4+size]
	want := int64(meta.Length)
	if int32(binary.LittleEndian.Uint32(body)) == DVMagic64 {
		want -= 8
	}
	if size != want {
		return nil, fmt.Errorf("%w: deletion vector of %q has size %d, its metadata says length %d",
			ErrCorrupt, meta.DataFile, size, meta.Length)
	}
	crc := binary.BigEndian.Uint32(file[off+4+size:])
	if got := crc32.ChecksumIEEE(body); got != crc {
		return nil, fmt.Errorf("%w: deletion vector of %q has CRC %#08x, stored %#08x",
			ErrCorrupt, meta.DataFile, got, crc)
	}
	dv, err := DecodeDeletionVector(body)
	if err != nil {
		return nil, fmt.Errorf("deletion vector of %q: %w", meta.DataFile, err)
	}
	if meta.Cardinality != nil && *meta.Cardinality != dv.Cardinality() {
		return nil, fmt.Errorf("%w: deletion vector of %q holds %d positions, its metadata says %d",
			ErrCorrupt, meta.DataFile, dv.Cardinality(), *meta.Cardinality)
	}
	return dv, nil
}

// ReadDVIndexFile decodes every vector metas locate in an index file, keyed
// by data file name.
func ReadDVIndexFile(file []byte, metas []DeletionVectorMeta) (map[string]*DeletionVector, error) {
	out := make(map[string]*DeletionVector, len(metas))
	for _, m := range metas {
		dv, err := ReadDeletionVector(file, m)
		if err != nil {
			return nil, err
		}
		out[m.DataFile] = dv
	}
	return out, nil
}
