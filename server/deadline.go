package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineGrain is how long requests share one lookup deadline context.
const deadlineGrain = 100 * time.Millisecond

// deadlines hands out the contexts that bound lookups: each ends timeout
// after it is asked for, give or take deadlineGrain, because the requests
// of a deadlineGrain window share one context (a context and its timer per
// request cost about 3% of a single-key request's CPU). Each context is
// released when its deadline passes, and all when parent ends.
type deadlines struct {
	parent  context.Context
	timeout time.Duration
	mu      sync.Mutex
	cur     atomic.Pointer[sharedDeadline]
}

// sharedDeadline is one window's context.
type sharedDeadline struct {
	ctx    context.Context
	from   time.Time
	cancel context.CancelFunc // called by the context's own timer or the parent's end
}

// get returns a context that ends between timeout and timeout +
// deadlineGrain after now, or when the parent ends.
func (d *deadlines) get(now time.Time) context.Context {
	if c := d.cur.Load(); c != nil && now.Sub(c.from) < deadlineGrain && !now.Before(c.from) {
		return c.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.cur.Load(); c != nil && now.Sub(c.from) < deadlineGrain && !now.Before(c.from) {
		return c.ctx
	}
	ctx, cancel := context.WithDeadline(d.parent, now.Add(d.timeout+deadlineGrain))
	d.cur.Store(&sharedDeadline{ctx: ctx, from: now, cancel: cancel})
	return ctx
}
