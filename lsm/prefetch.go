package lsm

import "github.com/apache/arrow-go/v18/arrow"

// Prefetch runs run in a goroutine of its own, up to depth batches ahead of
// the consumer: decoding, merging and encoding then overlap on separate
// cores. Batches pass through with their ownership (the consumer releases
// them); those never delivered, when the consumer stops early, are
// released here.
func Prefetch(run BatchRun, depth int) BatchRun {
	return func(yield func(arrow.RecordBatch, error) bool) {
		type item struct {
			rec arrow.RecordBatch
			err error
		}
		ch := make(chan item, depth)
		done := make(chan struct{})
		go func() {
			defer close(ch)
			for rec, err := range run {
				select {
				case ch <- item{rec, err}:
				case <-done:
					if rec != nil {
						rec.Release()
					}
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			close(done)
			for it := range ch {
				if it.rec != nil {
					it.rec.Release()
				}
			}
		}()
		for it := range ch {
			if !yield(it.rec, it.err) || it.err != nil {
				return
			}
		}
	}
}
