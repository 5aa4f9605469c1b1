package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Open returns the storage for a warehouse location:
//
//	s3://bucket/prefix   S3 (also s3a://), configured as NewS3 describes
//	mem://               a fresh, empty Memory (anything after // is ignored)
//	file:///abs/path     Local (also file:/abs/path)
//	path/to/dir          Local, relative to the working directory or absolute
//
// Local directories are created if missing.
func Open(ctx context.Context, location string) (Storage, error) {
	return open(ctx, location, true)
}

// OpenExisting is Open for a warehouse that must already exist, as readers
// want: a missing local directory is an error wrapping ErrNotFound, and
// nothing is created. S3 and memory locations open as with Open (an S3
// prefix needs no creating).
func OpenExisting(ctx context.Context, location string) (Storage, error) {
	return open(ctx, location, false)
}

func open(ctx context.Context, location string, create bool) (Storage, error) {
	if location == "" {
		return nil, errors.New("storage: open: empty location")
	}
	scheme, rest, ok := strings.Cut(location, ":")
	if !ok || !isScheme(scheme) || (!strings.HasPrefix(rest, "/") && !isKnownScheme(scheme)) {
		// A plain path. Requiring a slash after an unknown scheme keeps names
		// such as "tables:v2" paths.
		return openLocal(location, location, create)
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", location, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "s3", "s3a":
		if u.Host == "" {
			return nil, fmt.Errorf("storage: open %s: missing bucket", location)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("storage: open %s: unexpected query, fragment or user info", location)
		}
		s, err := NewS3(ctx, u.Host, u.Path)
		if err != nil {
			return nil, fmt.Errorf("storage: open %s: %w", location, err)
		}
		return s, nil
	case "mem":
		return NewMemory(), nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("storage: open %s: remote file host %q is not supported", location, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("storage: open %s: missing path", location)
		}
		return openLocal(location, u.Path, create)
	default:
		return nil, fmt.Errorf("storage: open %s: unsupported scheme %q", location, u.Scheme)
	}
}

func isKnownScheme(s string) bool {
	switch strings.ToLower(s) {
	case "s3", "s3a", "mem", "file":
		return true
	}
	return false
}

func openLocal(location, dir string, create bool) (Storage, error) {
	l, err := newLocal(dir, create)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", location, err)
	}
	return l, nil
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter followed by
// letters, digits, "+", "-" or ".") of more than one character; one letter
// would be a Windows drive.
func isScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
