//go:build !linux

package bench

import "time"

// wakeEarly is how long before a request's time an open-loop sender asks
// to wake up; Go timers wake up to a millisecond late.
const wakeEarly = time.Millisecond

// sleeper sleeps on a Go timer where there is no timerfd.
type sleeper struct{}

func newSleeper() (*sleeper, error) { return &sleeper{}, nil }

// sleep sleeps for d.
func (*sleeper) sleep(d time.Duration) error {
	time.Sleep(d)
	return nil
}

func (*sleeper) close() error { return nil }
