package bench

import (
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

// phaseUsage measures one engine's phase of a run in this process: the
// CPU time the process used and its peak resident memory. The peak is the
// kernel's high-water mark of the resident set (VmHWM), reset when the
// phase starts by writing "5" to /proc/self/clear_refs (Linux 4.0+), after
// collecting garbage and returning free memory to the OS so that what an
// earlier phase left behind does not count. Where there is no /proc the
// peak is unknown (0).
type phaseUsage struct {
	cpu0     time.Duration
	resetRSS bool
}

// startPhase starts measuring a phase.
func startPhase() *phaseUsage {
	runtime.GC()
	debug.FreeOSMemory()
	ok := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	return &phaseUsage{cpu0: cpuTime(), resetRSS: ok}
}

// end returns the CPU seconds used since the start and the peak resident
// bytes (0: unknown).
func (p *phaseUsage) end() (cpuSeconds float64, peakRSS int64) {
	cpuSeconds = (cpuTime() - p.cpu0).Seconds()
	if p.resetRSS {
		peakRSS, _ = readStatus("/proc/self/status", "VmHWM:")
	}
	return cpuSeconds, peakRSS
}
