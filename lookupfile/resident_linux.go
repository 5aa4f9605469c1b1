package lookupfile

import "golang.org/x/sys/unix"

// allocResident returns n bytes of anonymous memory outside the Go heap (so
// a resident file neither grows the heap the garbage collector paces on nor
// is scanned), asking for transparent huge pages: random point reads over
// hundreds of megabytes otherwise spend much of their time in TLB misses.
// free returns the memory; nothing may use the bytes after it.
func allocResident(n int) (b []byte, free func(), err error) {
	b, err = unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // advice only: without it the pages are small
	return b, func() { _ = unix.Munmap(b) }, nil
}
