package main

import (
	"context"
	"errors"
	"io"

	"github.com/stratalake/strata/internal/textrow"
)

// decodeAhead decodes the input in its own goroutine, a few batches ahead
// of the writer, so that parsing overlaps writing on a second core.
type decodeAhead struct {
	ch   chan decoded
	stop chan struct{}
	done chan struct{}
	end  bool // a terminal item (io.EOF or an error) was received
	// peeked is an item taken by ended, not yet returned by next.
	peeked *decoded
}

type decoded struct {
	b   *textrow.Batch
	err error
}

// startDecoding hands dec to a goroutine that decodes batches in order and
// releases dec when it ends. The first skip rows come in batches of their
// own (rows a resumed stream committed before). After them, with
// every > 0, batches end at every multiple of every rows (counted from the
// end of the skipped rows), where the writer commits.
func startDecoding(dec *textrow.BatchDecoder, skip, every int64) *decodeAhead {
	d := &decodeAhead{ch: make(chan decoded, 2), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		defer dec.Release()
		var rows int64
		for {
			limit := 0
			switch {
			case rows < skip:
				limit = int(min(skip-rows, textrow.DefaultBatchRows))
			case every > 0:
				limit = int(min(every-(rows-skip)%every, textrow.DefaultBatchRows))
			}
			b, err := dec.Next(limit)
			if b != nil {
				rows += int64(b.Len())
			}
			select {
			case d.ch <- decoded{b, err}:
			case <-d.stop:
				if b != nil {
					b.Release()
				}
				return
			}
			if err != nil {
				return // the writer stops at the first error
			}
		}
	}()
	return d
}

// next returns the next batch and error, as BatchDecoder.Next does, or
// ctx's error when ctx ends first: the input may be a pipe that stays open
// with nothing to read, and a signal must still stop the command.
func (d *decodeAhead) next(ctx context.Context) (*textrow.Batch, error) {
	if d.end {
		return nil, io.EOF
	}
	var it decoded
	if d.peeked != nil {
		it, d.peeked = *d.peeked, nil
	} else {
		select {
		case it = <-d.ch:
		case <-ctx.Done():
			return nil, ctx.Err() // not the end: close must not wait for the reader
		}
	}
	d.end = it.err != nil
	return it.b, it.err
}

// ended reports, without waiting, whether the input is known to have
// ended with no rows left: whether the decoder has handed over its io.EOF
// already. False when it is still reading.
func (d *decodeAhead) ended() bool {
	if d.end {
		return true
	}
	if d.peeked == nil {
		select {
		case it := <-d.ch:
			d.peeked = &it
		default:
			return false
		}
	}
	return d.peeked.b == nil && isEOF(d.peeked.err)
}

// close stops the decoding and releases the batches not taken. It waits
// for the goroutine only when it has ended: one still reading may be
// blocked on an input that never ends, and it exits at its next batch.
func (d *decodeAhead) close() {
	close(d.stop)
	if d.peeked != nil && d.peeked.b != nil {
		d.peeked.b.Release()
	}
	d.peeked = nil
	for {
		select {
		case it := <-d.ch:
			if it.b != nil {
				it.b.Release()
			}
		default:
			if d.end {
				<-d.done
			}
			return
		}
	}
}

// isEOF reports the end of the input.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
