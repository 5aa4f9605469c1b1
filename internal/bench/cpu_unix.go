//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime is the user and system CPU time this process has used (0 if
// the kernel does not say).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
