package bench

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// wakeEarly is how long before a request's time an open-loop sender asks
// to wake up: a timerfd read through Go's netpoller wakes about 30-50 µs
// after the time asked, so senders ask for a little earlier and then send
// at once.
const wakeEarly = 40 * time.Microsecond

// sleeper sleeps precisely: a timerfd waited on through Go's netpoller, so
// the goroutine parks without holding a P (a nanosleep(2) would hold it,
// leaving the other goroutines of a 2-core machine waiting for sysmon) and
// wakes within tens of microseconds, where Go timers here wake up to a
// millisecond late.
type sleeper struct {
	fd  int // never f.Fd(), which would make f blocking
	f   *os.File
	buf [8]byte
}

func newSleeper() (*sleeper, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	return &sleeper{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// sleep sleeps for d.
func (s *sleeper) sleep(d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
		return fmt.Errorf("timerfd: %w", err)
	}
	if _, err := s.f.Read(s.buf[:]); err != nil {
		return fmt.Errorf("timerfd: %w", err)
	}
	return nil
}

func (s *sleeper) close() error { return s.f.Close() }
