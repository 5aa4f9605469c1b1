package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors every backend returns (wrapped, with the path) so callers
// can test them with errors.Is.
var (
	// ErrNotFound: the object does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrExist: PutIfAbsent found the object already there.
	ErrExist = errors.New("storage: already exists")
	// ErrInvalidPath: the path is empty, absolute, has empty, "." or ".."
	// elements, or names a temporary file (".<name>.<random>.tmp").
	ErrInvalidPath = errors.New("storage: invalid path")
)

// FileInfo describes one stored object.
type FileInfo struct {
	Path    string // slash-separated, relative to the storage root
	Size    int64
	ModTime time.Time
	IsDir   bool // only in non-recursive listings
}

// Storage is the one narrow interface all table I/O goes through. Paths are
// slash-separated and relative to the backend's root; they never start with
// "/" and never contain "." or ".." elements.
type Storage interface {
	// Get returns the whole object.
	Get(ctx context.Context, path string) ([]byte, error)
	// GetRange returns length bytes starting at offset. A range that runs
	// past the end is an error wrapping io.ErrUnexpectedEOF.
	GetRange(ctx context.Context, path string, offset, length int64) ([]byte, error)
	// Put writes the object, replacing any previous one. Readers see either
	// the old or the new object, never a partial one.
	Put(ctx context.Context, path string, data []byte) error
	// PutIfAbsent writes the object only if nothing is at path; otherwise it
	// returns an error wrapping ErrExist and leaves the old object alone.
	PutIfAbsent(ctx context.Context, path string, data []byte) error
	// Create starts writing the object at path, for objects too large to
	// build in memory first. Nothing is visible at path until the writer's
	// Close publishes the whole object (replacing any previous one, as Put
	// does); Abort, or a failed Close, leaves nothing behind. The context
	// governs every request the writer makes.
	Create(ctx context.Context, path string) (ObjectWriter, error)
	// List returns what lies under the directory prefix ("" is the root),
	// sorted by path. Recursive lists every object below it; otherwise only
	// its immediate children, with sub-directories as entries whose IsDir is
	// set. A missing directory lists nothing.
	List(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, path string) error
	// Stat returns the object's size and time, or ErrNotFound.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// String names the backend and root for messages, e.g. "file:///tmp/wh".
	String() string
}

// ObjectWriter streams one object to storage (see Storage.Create). It is not
// safe for concurrent use.
type ObjectWriter interface {
	io.Writer
	// Close publishes the object. Readers see all of it or, if Close fails,
	// none of it; either way the writer is finished.
	Close() error
	// Abort discards what was written; nothing becomes visible. Abort after
	// Close or Abort does nothing, so it can be deferred.
	Abort()
}

// errWriterDone is returned by writes to a closed or aborted ObjectWriter.
var errWriterDone = errors.New("storage: object writer already closed or aborted")
