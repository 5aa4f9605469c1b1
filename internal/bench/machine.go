package bench

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Machine describes where a run was measured.
type Machine struct {
	CPU         string `json:"cpu"`
	Cores       int    `json:"cores"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	MemoryBytes int64  `json:"memory_bytes"`
	OS          string `json:"os"`
	GoVersion   string `json:"go_version"`
	// GitRevision is the source's commit, "-dirty" appended when the
	// work tree had changes ("" when unknown).
	GitRevision string `json:"git_revision"`
	// Load is the load average (1, 5 and 15 minutes) when the run started:
	// other work on the machine moves the figures.
	Load string `json:"load_average"`
}

// DescribeMachine reads the machine's description from the runtime and,
// where there is one, /proc.
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, GitRevision: gitRevision(), Load: loadAverage()}
	m.CPU = procField("/proc/cpuinfo", "model name", ":")
	if n, err := readStatus("/proc/meminfo", "MemTotal:"); err == nil {
		m.MemoryBytes = n
	}
	if name := strings.Trim(procField("/etc/os-release", "PRETTY_NAME", "="), `"`); name != "" {
		m.OS = name + ", " + m.OS
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(b))
	}
	return m
}

// procField is the value after sep of the first line of file whose key is
// key, "" if none.
func procField(file, key, sep string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is /proc/loadavg's three averages, "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// gitRevision is the binary's VCS stamp, else the working directory's git
// HEAD (go run does not stamp binaries).
func gitRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if modified == "true" {
				rev += "-dirty"
			}
			return rev
		}
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		rev += "-dirty"
	}
	return rev
}

// lineWriter writes whole lines to w, each with a prefix. A carriage
// return (a progress line rewritten in place) drops the line so far, unless
// nothing was written for lineEvery: a long step still shows progress, and
// a log file gets no torrent of rewrites.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
	last   time.Time
}

// lineEvery is how often a rewritten progress line is written anyway.
const lineEvery = 10 * time.Second

func newLineWriter(w io.Writer, prefix string) *lineWriter {
	return &lineWriter{w: w, prefix: prefix, last: time.Now()}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range p {
		switch c {
		case '\r':
			if len(l.buf) > 0 && time.Since(l.last) >= lineEvery {
				l.emit()
			}
			l.buf = l.buf[:0]
		case '\n':
			l.emit()
		default:
			l.buf = append(l.buf, c)
		}
	}
	return len(p), nil
}

// emit writes the line so far (trailing blanks trimmed) and starts anew.
func (l *lineWriter) emit() {
	if line := strings.TrimRight(string(l.buf), " "); l.w != nil && line != "" {
		io.WriteString(l.w, l.prefix+line+"\n")
	}
	l.buf, l.last = l.buf[:0], time.Now()
}

// Flush writes what is left of an unfinished line.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit()
}
