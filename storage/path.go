package storage

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// opError is what every backend returns: the operation and path wrapped
// around the cause, so messages read "storage: get a/b: not found" while
// errors.Is still sees the sentinel.
type opError struct {
	op   string
	path string
	err  error
}

func (e *opError) Error() string {
	p := e.path
	if p == "" {
		p = `""`
	}
	// The sentinels already say "storage: "; don't say it twice.
	return "storage: " + e.op + " " + p + ": " + strings.TrimPrefix(e.err.Error(), "storage: ")
}

func (e *opError) Unwrap() error { return e.err }

func wrapErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, path: path, err: err}
}

// checkPath validates an object path (see Storage). Temporary-file names are
// refused so that an object can never be mistaken for, or hidden as, a
// half-written Local temp file.
func checkPath(p string) error {
	if p == "" {
		return fmt.Errorf("%w (empty)", ErrInvalidPath)
	}
	return checkElems(p)
}

// checkPrefix validates a List prefix: "" is the root and one trailing "/"
// is tolerated. It returns the prefix without the slash.
func checkPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", fmt.Errorf("%w (absolute)", ErrInvalidPath)
	}
	return p, checkElems(p)
}

func checkElems(p string) error {
	if p[0] == '/' {
		return fmt.Errorf("%w (absolute)", ErrInvalidPath)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("%w (NUL byte)", ErrInvalidPath)
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch {
		case elem == "":
			return fmt.Errorf("%w (empty element)", ErrInvalidPath)
		case elem == "." || elem == "..":
			return fmt.Errorf("%w (%q element)", ErrInvalidPath, elem)
		case isTempName(elem):
			return fmt.Errorf("%w (%q is reserved for temporary files)", ErrInvalidPath, elem)
		}
	}
	return nil
}

// isTempName reports whether a file name has the shape of a Local temporary
// file, ".<name>.<random>.tmp".
func isTempName(name string) bool {
	return len(name) > len("..tmp") && name[0] == '.' && strings.HasSuffix(name, ".tmp")
}

// checkRange validates a GetRange request against an object of the given
// size.
func checkRange(offset, length, size int64) error {
	if offset < 0 || length < 0 {
		return fmt.Errorf("storage: invalid range: offset %d, length %d", offset, length)
	}
	if offset > size || length > size-offset {
		return fmt.Errorf("range [%d, +%d) past end of %d-byte object: %w",
			offset, length, size, io.ErrUnexpectedEOF)
	}
	return nil
}

// checkRangeArgs validates what can be checked without knowing the size.
func checkRangeArgs(offset, length int64) error {
	if offset < 0 || length < 0 {
		return fmt.Errorf("storage: invalid range: offset %d, length %d", offset, length)
	}
	if offset > (1<<63-1)-length {
		return fmt.Errorf("storage: invalid range: offset %d + length %d overflows", offset, length)
	}
	return nil
}

// joinPath joins a validated directory prefix ("" for the root) and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// sortInfos orders a listing by path; in flat key spaces (Memory, S3) an
// object and a directory can share a path, and the object comes first.
func sortInfos(infos []FileInfo) {
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].Path != infos[j].Path {
			return infos[i].Path < infos[j].Path
		}
		return !infos[i].IsDir && infos[j].IsDir
	})
}
