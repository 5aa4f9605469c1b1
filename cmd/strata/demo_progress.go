package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// demoProgress shows how the run goes on stderr: on a terminal one status
// line redrawn four times a second, otherwise a line every five seconds.
type demoProgress struct {
	r     *demoRun
	w     io.Writer
	tty   bool
	width int // the terminal's columns: a longer line would wrap and not redraw
	stop  chan struct{}
	wg    sync.WaitGroup

	// The rate is over the last second or so: rows at a recent mark.
	markAt   time.Time
	markRows int64
	rate     float64
	p50, p99 time.Duration
}

func startDemoProgress(r *demoRun) *demoProgress {
	p := &demoProgress{r: r, w: r.e.stderr, tty: isTerminal(r.e.stderr), stop: make(chan struct{}), markAt: time.Now()}
	every := 5 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
		p.width = terminalWidth(r.e.stderr)
	}
	tick(&p.wg, every, p.stop, p.draw)
	return p
}

// finish draws the last line and ends it.
func (p *demoProgress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.draw()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *demoProgress) draw() {
	line := p.line(time.Now())
	if p.tty {
		if p.width > 1 && len(line) >= p.width {
			line = line[:p.width-1]
		}
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// line is the status: elapsed time, rows written and their rate, the
// latest snapshot, lookup latency since the last line, the freshness of
// the newest commit seen, changes streamed and payments flagged.
func (p *demoProgress) line(now time.Time) string {
	r := p.r
	var rows int64
	if r.writer != nil {
		rows = r.writer.rows.Load()
	}
	if d := now.Sub(p.markAt); d >= time.Second || p.rate == 0 && d > 200*time.Millisecond {
		p.rate = float64(rows-p.markRows) / d.Seconds()
		p.markAt, p.markRows = now, rows
	}
	if q := r.client.lat.window(0.5, 0.99); q[1] > 0 {
		p.p50, p.p99 = q[0], q[1]
	}
	elapsed := time.Duration(0)
	if !r.start.IsZero() {
		elapsed = now.Sub(r.start)
	}
	return fmt.Sprintf("%5.1fs  %s rows  %s rows/s  snapshot %d  lookup p50 %s p99 %s  fresh %s  changes %s  flagged %s",
		elapsed.Seconds(), count(rows), count(int64(p.rate)), r.latest.Load(), ms(p.p50), ms(p.p99),
		ms(r.fresh.last()), count(r.follower.changes.Load()), count(r.risk.flagged.Load()))
}

// terminalWidth is the width of the terminal w is, 0 if unknown.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// ms renders d in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// msValue is d in milliseconds, rounded to microseconds, for the summary.
func msValue(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
