package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar redraws one status line (rows, bytes written, elapsed time,
// rate) on a terminal every interval until finish draws the last one and
// ends the line. A nil *progressBar does nothing, so callers need not
// check whether progress is shown.
type progressBar struct {
	w           io.Writer
	start       time.Time
	rows, bytes atomic.Int64
	stop        chan struct{}
	wg          sync.WaitGroup
}

// startProgress starts redrawing on w every interval.
func startProgress(w io.Writer, interval time.Duration) *progressBar {
	p := &progressBar{w: w, start: time.Now(), stop: make(chan struct{})}
	tick(&p.wg, interval, p.stop, func() { p.draw(time.Since(p.start)) })
	return p
}

// tick calls f every interval on its own goroutine, counted in wg, until
// stop is closed.
func tick(wg *sync.WaitGroup, interval time.Duration, stop <-chan struct{}, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// add counts rows more rows.
func (p *progressBar) add(rows int64) {
	if p != nil {
		p.rows.Add(rows)
	}
}

// counting wraps w so that its bytes count as written.
func (p *progressBar) counting(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &progressWriter{w: w, p: p}
}

// finish draws the final line and ends it.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw(time.Since(p.start))
	fmt.Fprintln(p.w)
}

// draw rewrites the status line; the trailing spaces clear a longer
// earlier line.
func (p *progressBar) draw(elapsed time.Duration) {
	rows := p.rows.Load()
	fmt.Fprintf(p.w, "\r%s rows  %s written  %s  %s rows/s   ", count(rows), bytesText(p.bytes.Load()),
		elapsed.Round(100*time.Millisecond), count(int64(float64(rows)/max(elapsed.Seconds(), 1e-3))))
}

type progressWriter struct {
	w io.Writer
	p *progressBar
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.bytes.Add(int64(n))
	return n, err
}

// count renders n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// bytesText renders a byte count in a readable unit.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
