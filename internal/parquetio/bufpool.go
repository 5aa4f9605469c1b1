package parquetio

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufPool is the memory.Allocator of the Arrow batches a Writer builds from
// rows. Each batch is released as soon as it is written (arrow-go's
// encoders and statistics copy what they keep), so the next batch reuses
// its buffers instead of growing new ones: with Go's allocator, building
// batches allocated about four times the rows' size and most of the write
// path's CPU went to the garbage collector. Buffers come in power-of-two
// sizes, zeroed as memory.GoAllocator's are. Not safe for concurrent use.
type bufPool struct {
	free [48][][]byte // by log2 of capacity
}

var _ memory.Allocator = (*bufPool)(nil)

// maxPooled bounds the free buffers kept per size.
const maxPooled = 16

func sizeClass(n int) int {
	if n <= 64 {
		return 6
	}
	return bits.Len(uint(n - 1))
}

func (p *bufPool) Allocate(size int) []byte {
	c := sizeClass(size)
	if c >= len(p.free) {
		return make([]byte, size)
	}
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1][:size]
		p.free[c] = l[:len(l)-1]
		clear(b)
		return b
	}
	return make([]byte, size, 1<<c)
}

func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *bufPool) Free(b []byte) {
	c := bits.Len(uint(cap(b))) - 1
	if c < 6 || c >= len(p.free) || cap(b) != 1<<c || len(p.free[c]) >= maxPooled {
		return
	}
	p.free[c] = append(p.free[c], b[:0])
}
