package storage

import (
	"context"
	"fmt"
	"io"
)

// ReaderAt is an io.ReaderAt over one object, issuing a GetRange per ReadAt,
// for readers such as Parquet's that seek around a file of known size.
//
// It holds the context it was created with because io.ReaderAt has no
// context parameter; create one per operation rather than keeping it around.
type ReaderAt struct {
	ctx  context.Context
	s    Storage
	path string
	size int64
}

var _ io.ReaderAt = (*ReaderAt)(nil)

// NewReaderAt returns a ReaderAt over the object at path, whose size the
// caller already knows (from a listing, a manifest, or Stat). Reads are
// clipped to size; a wrong size shows up as read errors.
func NewReaderAt(ctx context.Context, s Storage, path string, size int64) *ReaderAt {
	return &ReaderAt{ctx: ctx, s: s, path: path, size: size}
}

// OpenReaderAt stats the object and returns a ReaderAt over it.
func OpenReaderAt(ctx context.Context, s Storage, path string) (*ReaderAt, error) {
	fi, err := s.Stat(ctx, path)
	if err != nil {
		return nil, err
	}
	return NewReaderAt(ctx, s, path, fi.Size), nil
}

// Size returns the object size the ReaderAt was created with.
func (r *ReaderAt) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt: it reads len(p) bytes at off, or up to the
// end of the object and then returns io.EOF.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("storage: read-at %s: negative offset %d", r.path, off)
	}
	if off >= r.size {
		if len(p) == 0 && off == r.size {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := int64(len(p))
	if rest := r.size - off; n > rest {
		n = rest
	}
	if n == 0 {
		return 0, nil
	}
	data, err := r.s.GetRange(r.ctx, r.path, off, n)
	if err != nil {
		return 0, err
	}
	copy(p, data)
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}
