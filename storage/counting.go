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
