package storage

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Memory keeps objects in a map. It is safe for concurrent use and copies
// bytes in and out, so callers may reuse their slices. Like S3 its key space
// is flat: "a" and "a/b" can both be objects.
type Memory struct {
	mu      sync.RWMutex
	objects map[string]memObject
}

type memObject struct {
	data    []byte
	modTime time.Time
}

var _ Storage = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{objects: make(map[string]memObject)}
}

// String implements Storage.
func (m *Memory) String() string { return "mem://" }

// Get implements Storage.
func (m *Memory) Get(ctx context.Context, p string) ([]byte, error) {
	data, err := m.get(ctx, p)
	return data, wrapErr("get", p, err)
}

func (m *Memory) get(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objects[p]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte{}, o.data...), nil
}

// GetRange implements Storage.
func (m *Memory) GetRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	data, err := m.getRange(ctx, p, offset, length)
	return data, wrapErr("get-range", p, err)
}

func (m *Memory) getRange(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if err := checkRangeArgs(offset, length); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objects[p]
	if !ok {
		return nil, ErrNotFound
	}
	if err := checkRange(offset, length, int64(len(o.data))); err != nil {
		return nil, err
	}
	return append([]byte{}, o.data[offset:offset+length]...), nil
}

// Put implements Storage.
func (m *Memory) Put(ctx context.Context, p string, data []byte) error {
	return wrapErr("put", p, m.put(ctx, p, data, false))
}

// PutIfAbsent implements Storage.
func (m *Memory) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	return wrapErr("put-if-absent", p, m.put(ctx, p, data, true))
}

func (m *Memory) put(ctx context.Context, p string, data []byte, ifAbsent bool) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o := memObject{data: append([]byte{}, data...), modTime: time.Now()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[p]; ok && ifAbsent {
		return ErrExist
	}
	m.objects[p] = o
	return nil
}

// Delete implements Storage.
func (m *Memory) Delete(ctx context.Context, p string) error {
	return wrapErr("delete", p, m.delete(ctx, p))
}

func (m *Memory) delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, p)
	return nil
}

// Stat implements Storage.
func (m *Memory) Stat(ctx context.Context, p string) (FileInfo, error) {
	fi, err := m.stat(ctx, p)
	return fi, wrapErr("stat", p, err)
}

func (m *Memory) stat(ctx context.Context, p string) (FileInfo, error) {
	if err := checkPath(p); err != nil {
		return FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objects[p]
	if !ok {
		return FileInfo{}, ErrNotFound
	}
	return FileInfo{Path: p, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// List implements Storage.
func (m *Memory) List(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	infos, err := m.list(ctx, prefix, recursive)
	return infos, wrapErr("list", prefix, err)
}

func (m *Memory) list(ctx context.Context, prefix string, recursive bool) ([]FileInfo, error) {
	prefix, err := checkPrefix(prefix)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dirPrefix := ""
	if prefix != "" {
		dirPrefix = prefix + "/"
	}
	var infos []FileInfo
	dirs := make(map[string]bool)
	m.mu.RLock()
	for p, o := range m.objects {
		rest, ok := strings.CutPrefix(p, dirPrefix)
		if !ok {
			continue
		}
		if !recursive {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				dirs[dirPrefix+rest[:i]] = true
				continue
			}
		}
		infos = append(infos, FileInfo{Path: p, Size: int64(len(o.data)), ModTime: o.modTime})
	}
	m.mu.RUnlock()
	for d := range dirs {
		infos = append(infos, FileInfo{Path: d, IsDir: true})
	}
	sortInfos(infos)
	return infos, nil
}

// Create implements Storage: the bytes are buffered and stored on Close.
func (m *Memory) Create(ctx context.Context, p string) (ObjectWriter, error) {
	if err := checkPath(p); err != nil {
		return nil, wrapErr("create", p, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("create", p, err)
	}
	return &memWriter{m: m, ctx: ctx, path: p}, nil
}

// memWriter is Memory's ObjectWriter.
type memWriter struct {
	m    *Memory
	ctx  context.Context
	path string
	buf  []byte
	done bool
}

func (w *memWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, wrapErr("create", w.path, errWriterDone)
	}
	w.buf = append(w.buf, b...)
	return len(b), nil
}

func (w *memWriter) Close() error {
	if w.done {
		return wrapErr("create", w.path, errWriterDone)
	}
	w.done = true
	if err := w.ctx.Err(); err != nil {
		return wrapErr("create", w.path, err)
	}
	// The buffer is the writer's own, so it is stored without a copy.
	o := memObject{data: w.buf, modTime: time.Now()}
	w.buf = nil
	w.m.mu.Lock()
	w.m.objects[w.path] = o
	w.m.mu.Unlock()
	return nil
}

func (w *memWriter) Abort() { w.done, w.buf = true, nil }
