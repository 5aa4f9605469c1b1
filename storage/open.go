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
	// Messages name the location without its user info, which may hold a
	// password; a location with user info is refused (credentials come
	// from the AWS chain), before url.Parse, whose errors may quote part
	// of a password (the "port" of "s3://key:se/cret@bucket").
	shown := RedactURL(location)
	if shown != location {
		return nil, fmt.Errorf("storage: open %s: user info in the location is not supported (S3 credentials come from the environment or the AWS configuration)", shown)
	}
	u, err := url.Parse(location)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the whole location
		}
		return nil, fmt.Errorf("storage: open %s: %w", shown, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "s3", "s3a":
		if u.Host == "" {
			return nil, fmt.Errorf("storage: open %s: missing bucket", shown)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("storage: open %s: unexpected query or fragment", shown)
		}
		s, err := NewS3(ctx, u.Host, u.Path)
		if err != nil {
			return nil, fmt.Errorf("storage: open %s: %w", shown, err)
		}
		return s, nil
	case "mem":
		return NewMemory(), nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("storage: open %s: remote file host %q is not supported", shown, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("storage: open %s: missing path", shown)
		}
		return openLocal(shown, u.Path, create)
	default:
		return nil, fmt.Errorf("storage: open %s: unsupported scheme %q", shown, u.Scheme)
	}
}

// RedactURL returns a URL with the user info of its authority
// ("scheme://user:password@host/...") taken out, for messages; an '@' in
// the path, query or fragment stays. It works on strings url.Parse refuses
// too: the authority's last '@' ends the user info. A password may hold
// '/', '?' or '#' (AWS secret keys hold '/'), which end the authority
// early: an authority without '@' that cannot be host[:port], followed by
// an '@', is taken for user info up to that '@'.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		return scheme + "://" + rest[at+1:]
	}
	if !isHostPort(rest[:end]) {
		if at := strings.IndexByte(rest[end:], '@'); at >= 0 {
			return scheme + "://" + rest[end+at+1:]
		}
	}
	return s
}

// isHostPort reports whether an authority without user info has the form
// host[:port] as far as ':' goes: a host holds no ':' outside brackets,
// and a port only digits.
func isHostPort(a string) bool {
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return false
		}
		a = "x" + a[i+1:]
	}
	_, port, ok := strings.Cut(a, ":")
	return !ok || strings.Trim(port, "0123456789") == ""
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
