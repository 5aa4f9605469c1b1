//go:build strata_faultpoints

package faultpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Enabled reports whether this build has the fault points.
const Enabled = true

// crash is the point STRATA_CRASH_AT names and the hit to die at, read
// once at start.
var crash = parse(os.Getenv("STRATA_CRASH_AT"))

type target struct {
	name string
	nth  int64
	hits atomic.Int64
}

func parse(v string) *target {
	if v == "" {
		return nil
	}
	name, nth, ok := strings.Cut(v, ":")
	t := &target{name: name, nth: 1}
	if ok {
		n, err := strconv.ParseInt(nth, 10, 64)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "faultpoint: STRATA_CRASH_AT=%q: want name or name:nth with nth >= 1\n", v)
			os.Exit(2)
		}
		t.nth = n
	}
	return t
}

// Hit kills the process with SIGKILL when name is STRATA_CRASH_AT's point
// and this is its nth hit.
func Hit(name string) {
	t := crash
	if t == nil || t.name != name || t.hits.Add(1) != t.nth {
		return
	}
	fmt.Fprintf(os.Stderr, "faultpoint: crash at %s (hit %d)\n", name, t.nth)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is not caught: nothing runs past this point
}

var clock = parseClock(os.Getenv("STRATA_CRASH_CLOCK"))

func parseClock(v string) time.Duration {
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "faultpoint: STRATA_CRASH_CLOCK=%q: %v\n", v, err)
		os.Exit(2)
	}
	return d
}

// Now is time.Now shifted forward by STRATA_CRASH_CLOCK.
func Now() time.Time { return time.Now().Add(clock) }
