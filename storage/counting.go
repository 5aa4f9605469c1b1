package storage

import (
	"context"
	"sync/atomic"
)

// Counting wraps a Storage and counts the bytes and objects written and
// read, for benchmarks (write amplification) and tests.
type Counting struct {
	Storage
	BytesWritten   atomic.Int64
	ObjectsWritten atomic.Int64
	BytesRead      atomic.Int64
}

// NewCounting wraps s.
func NewCounting(s Storage) *Counting { return &Counting{Storage: s} }

// Get implements Storage.
func (c *Counting) Get(ctx context.Context, p string) ([]byte, error) {
	b, err := c.Storage.Get(ctx, p)
	c.BytesRead.Add(int64(len(b)))
	return b, err
}

// GetRange implements Storage.
func (c *Counting) GetRange(ctx context.Context, p string, off, n int64) ([]byte, error) {
	b, err := c.Storage.GetRange(ctx, p, off, n)
	c.BytesRead.Add(int64(len(b)))
	return b, err
}

// Put implements Storage.
func (c *Counting) Put(ctx context.Context, p string, data []byte) error {
	err := c.Storage.Put(ctx, p, data)
	if err == nil {
		c.BytesWritten.Add(int64(len(data)))
		c.ObjectsWritten.Add(1)
	}
	return err
}

// PutIfAbsent implements Storage.
func (c *Counting) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	err := c.Storage.PutIfAbsent(ctx, p, data)
	if err == nil {
		c.BytesWritten.Add(int64(len(data)))
		c.ObjectsWritten.Add(1)
	}
	return err
}

// Create implements Storage; the bytes of an object count once it is
// published.
func (c *Counting) Create(ctx context.Context, p string) (ObjectWriter, error) {
	w, err := c.Storage.Create(ctx, p)
	if err != nil {
		return nil, err
	}
	return &countingWriter{ObjectWriter: w, c: c}, nil
}

type countingWriter struct {
	ObjectWriter
	c *Counting
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ObjectWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Close() error {
	err := w.ObjectWriter.Close()
	if err == nil {
		w.c.BytesWritten.Add(w.n)
		w.c.ObjectsWritten.Add(1)
	}
	return err
}
