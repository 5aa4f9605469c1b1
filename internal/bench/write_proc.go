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
	startRSS int64
}

// startPhase starts measuring a phase.
func startPhase() *phaseUsage {
	runtime.GC()
	debug.FreeOSMemory()
	p := &phaseUsage{resetRSS: os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil}
	if p.resetRSS {
		p.startRSS, _ = readRSS("/proc/self/status")
	}
	p.cpu0 = cpuTime()
	return p
}

// end sets r's CPU seconds used since the start, its peak resident bytes
// and the resident bytes at the start (0: unknown).
func (p *phaseUsage) end(r *WriteResult) {
	r.CPUSeconds = (cpuTime() - p.cpu0).Seconds()
	if p.resetRSS {
		r.PeakRSS, _ = readStatus("/proc/self/status", "VmHWM:")
		r.StartRSS = p.startRSS
	}
}
