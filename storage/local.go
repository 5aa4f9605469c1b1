package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Local stores objects as files under a root directory.
//
// Writes go to a temporary file in the target's directory, named
// ".<name>.<random>.tmp", which is fsynced and then renamed (Put) or
// hard-linked (PutIfAbsent) into place, so readers never see a partial
// object and PutIfAbsent never replaces one. List skips temporary files.
// Delete removes directories it leaves empty, so that directories appear in
// listings exactly when they hold objects, as with S3.
type Local struct {
	root string // absolute, cleaned
}

var _ Storage = (*Local)(nil)

// NewLocal returns a Local rooted at root, creating the directory if it is
// missing. A relative root is made absolute against the working directory.
func NewLocal(root string) (*Local, error) { return newLocal(root, true) }

// newLocal is NewLocal; without create, a missing root is an error wrapping
// ErrNotFound.
func newLocal(root string, create bool) (*Local, error) {
	if root == "" {
		return nil, errors.New("storage: local: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("storage: local %s: %w", root, err)
	}
	if create {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("storage: local %s: %w", abs, err)
		}
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if isNotExist(err) {
			return nil, fmt.Errorf("storage: local %s: directory does not exist: %w", abs, ErrNotFound)
		}
		return nil, fmt.Errorf("storage: local %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("storage: local %s: not a directory", abs)
	}
	return &Local{root: abs}, nil
}

// Root returns the absolute root directory.
func (l *Local) Root() string { return l.root }

// String implements Storage.
func (l *Local) String() string { return "file://" + filepath.ToSlash(l.root) }

func (l *Local) abs(p string) string {
	if p == "" {
		return l.root
	}
	return filepath.Join(l.root, filepath.FromSlash(p))
}

// isNotExist also counts ENOTDIR: "a/b" is missing when "a" is a file.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// open opens the object for reading; directories are not objects.
func (l *Local) open(p string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(l.abs(p))
	if err != nil {
		if isNotExist(err) {
			return nil, nil, ErrNotFound
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, ErrNotFound
	}
	return f, fi, nil
}

// Get implements Storage.
func (l *Local) Get(ctx context.Context, p string) ([]byte, error) {
	data, err := l.get(ctx, p)
	return data, wrapErr("get", p, err)
}

func (l *Local) get(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, fi, err := l.open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Objects are replaced by rename, never written in place, so the size
	// of this handle's file is stable.
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return data, nil
}

// GetRange implements Storage.
func (l *Local) GetRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	data, err := l.getRange(ctx, p, offset, length)
	return data, wrapErr("get-range", p, err)
}

func (l *Local) getRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := checkRangeArgs(offset, length); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, fi, err := l.open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkRange(offset, length, fi.Size()); err != nil {
		return nil, err
	}
	buf := make([]byte, length)
	n, err := f.ReadAt(buf, offset)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// Put implements Storage.
func (l *Local) Put(ctx context.Context, p string, data []byte) error {
	return wrapErr("put", p, l.write(ctx, p, data, os.Rename))
}

// PutIfAbsent implements Storage. It links the temporary file to the target:
// link(2), unlike rename(2), fails if the target exists.
func (l *Local) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	return wrapErr("put-if-absent", p, l.write(ctx, p, data, func(tmp, target string) error {
		err := os.Link(tmp, target)
		if errors.Is(err, fs.ErrExist) {
			return ErrExist
		}
		return err
	}))
}

// maxDirRetries bounds how often write recreates directories that
// concurrent Deletes pruned before the temp file was in place.
const maxDirRetries = 10

// write stores data in a synced temp file next to the target and calls
// commit(tmp, target) to move it into place; the temp file never survives.
func (l *Local) write(ctx context.Context, p string, data []byte, commit func(tmp, target string) error) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	target := l.abs(p)
	dir, base := filepath.Split(target)
	f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	tmp := f.Name()
	// Once the temp file exists its directory is not empty, so a concurrent
	// Delete can no longer prune it.
	err = writeSync(f, data)
	if err == nil {
		err = commit(tmp, target)
	}
	if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
		err = rmErr
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// createTemp makes dir and a temp file in it for base. Concurrent Deletes
// prune directories and can do so between the two steps or inside MkdirAll,
// which then fails with ENOENT, or with EEXIST when its Mkdir lost to another
// writer whose directory was pruned before MkdirAll could check it. Both are
// retried.
func createTemp(dir, base string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			var f *os.File
			if f, err = os.CreateTemp(dir, "."+base+".*.tmp"); err == nil {
				return f, nil
			}
		}
		if attempt >= maxDirRetries || !(errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist)) {
			return nil, err
		}
	}
}

// writeSync writes, fsyncs and closes f.
func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		// CreateTemp makes files 0600; objects are ordinary files.
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so a rename or link into it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Delete implements Storage.
func (l *Local) Delete(ctx context.Context, p string) error {
	return wrapErr("delete", p, l.delete(ctx, p))
}

func (l *Local) delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	target := l.abs(p)
	fi, err := os.Lstat(target)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return err
	}
	if fi.IsDir() {
		// Not an object; os.Remove would delete an empty directory.
		return nil
	}
	if err := os.Remove(target); err != nil && !isNotExist(err) {
		return err
	}
	l.pruneDirs(filepath.Dir(target))
	return nil
}

// pruneDirs removes dir and its parents up to the root while they are
// empty; os.Remove refuses non-empty ones, which ends the walk.
func (l *Local) pruneDirs(dir string) {
	for ; dir != l.root && strings.HasPrefix(dir, l.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
}

// Stat implements Storage.
func (l *Local) Stat(ctx context.Context, p string) (FileInfo, error) {
	fi, err := l.stat(ctx, p)
	return fi, wrapErr("stat", p, err)
}

func (l *Local) stat(ctx context.Context, p string) (FileInfo, error) {
	if err := checkPath(p); err != nil {
		return FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Stat(l.abs(p))
	if err != nil {
		if isNotExist(err) {
			return FileInfo{}, ErrNotFound
		}
		return FileInfo{}, err
	}
	if !fi.Mode().IsRegular() {
		return FileInfo{}, ErrNotFound
	}
	return FileInfo{Path: p, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List implements Storage.
func (l *Local) List(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	infos, err := l.list(ctx, prefix, recursive)
	return infos, wrapErr("list", prefix, err)
}

func (l *Local) list(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	prefix, err := checkPrefix(prefix)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var infos []FileInfo
	if recursive {
		infos, err = l.walk(ctx, prefix, false)
	} else {
		infos, err = l.readDir(prefix)
	}
	if err != nil {
		return nil, err
	}
	// Directory order is per directory; callers want whole-path order
	// ("a.b" sorts before "a/b").
	sortInfos(infos)
	return infos, nil
}

func (l *Local) readDir(prefix string) ([]FileInfo, error) {
	entries, err := os.ReadDir(l.abs(prefix))
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var infos []FileInfo
	for _, e := range entries {
		name := e.Name()
		if isTempName(name) {
			continue
		}
		p := joinPath(prefix, name)
		fi, err := os.Stat(l.abs(p)) // follows symlinks, unlike e.Info
		if err != nil {
			if isNotExist(err) {
				continue // deleted since ReadDir
			}
			return nil, err
		}
		switch {
		case fi.IsDir():
			infos = append(infos, FileInfo{Path: p, IsDir: true})
		case fi.Mode().IsRegular():
			infos = append(infos, FileInfo{Path: p, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	return infos, nil
}

// walk lists the regular files under prefix, recursively: the objects, or
// with temp the hidden temporary files of unfinished writes.
func (l *Local) walk(ctx context.Context, prefix string, temp bool) ([]FileInfo, error) {
	var infos []FileInfo
	start := l.abs(prefix)
	err := filepath.WalkDir(start, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil // missing prefix, or deleted while walking
			}
			return err
		}
		if fp == start && !d.IsDir() {
			return nil // the prefix is an object, not a directory
		}
		if d.IsDir() {
			if fp != start {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return nil
		}
		if isTempName(d.Name()) != temp {
			return nil
		}
		fi, err := os.Stat(fp)
		if err != nil {
			if isNotExist(err) {
				return nil // renamed into place or removed meanwhile
			}
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(l.root, fp)
		if err != nil {
			return err
		}
		infos = append(infos, FileInfo{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return infos, nil
}

// localWriteBuffer batches the small writes of encoders into fewer system
// calls.
const localWriteBuffer = 256 << 10

// Create implements Storage: the object is written to a temporary file in
// its directory (hidden from listings like Put's), fsynced and renamed into
// place on Close.
func (l *Local) Create(ctx context.Context, p string) (ObjectWriter, error) {
	w, err := l.create(ctx, p)
	if err != nil {
		return nil, wrapErr("create", p, err)
	}
	return w, nil
}

func (l *Local) create(ctx context.Context, p string) (*localWriter, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target := l.abs(p)
	dir, base := filepath.Split(target)
	f, err := createTemp(dir, base)
	if err != nil {
		return nil, err
	}
	return &localWriter{l: l, ctx: ctx, path: p, target: target, f: f, bw: bufio.NewWriterSize(f, localWriteBuffer)}, nil
}

// localWriter is Local's ObjectWriter.
type localWriter struct {
	l      *Local
	ctx    context.Context
	path   string
	target string
	f      *os.File // nil once finished
	bw     *bufio.Writer
}

func (w *localWriter) Write(b []byte) (int, error) {
	if w.f == nil {
		return 0, wrapErr("create", w.path, errWriterDone)
	}
	n, err := w.bw.Write(b)
	return n, wrapErr("create", w.path, err)
}

func (w *localWriter) Close() error {
	if w.f == nil {
		return wrapErr("create", w.path, errWriterDone)
	}
	f, tmp := w.f, w.f.Name()
	w.f = nil
	err := w.bw.Flush()
	if err == nil {
		err = w.ctx.Err()
	}
	if err != nil {
		f.Close()
	} else {
		err = writeSync(f, nil)
	}
	if err == nil {
		err = os.Rename(tmp, w.target)
	}
	if err != nil {
		w.discard(tmp)
		return wrapErr("create", w.path, err)
	}
	return wrapErr("create", w.path, syncDir(filepath.Dir(w.target)))
}

func (w *localWriter) Abort() {
	if w.f == nil {
		return
	}
	f := w.f
	w.f = nil
	f.Close()
	w.discard(f.Name())
}

// discard removes the temp file and the directories only it kept, so that
// an unpublished object leaves no trace in listings.
func (w *localWriter) discard(tmp string) {
	os.Remove(tmp)
	w.l.pruneDirs(filepath.Dir(tmp))
}
