// Package backoff spaces out retries: each wait doubles up to a cap, with
// random jitter so that competing writers do not retry in lockstep.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is the wait before the next retry. It is not safe for
// concurrent use.
type Backoff struct {
	next, max time.Duration
}

// New returns a Backoff whose first wait is about initial and whose waits
// never exceed max (plus jitter).
func New(initial, max time.Duration) *Backoff {
	return &Backoff{next: initial, max: max}
}

// Next returns the next wait: the current one plus up to as much again in
// jitter, then doubles the current one up to the cap.
func (b *Backoff) Next() time.Duration {
	d := b.next + time.Duration(rand.Int64N(int64(b.next)+1))
	b.next = min(2*b.next, b.max)
	return d
}

// Wait sleeps for Next, or until ctx is done, whose error it returns.
func (b *Backoff) Wait(ctx context.Context) error {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
