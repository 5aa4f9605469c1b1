package bench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// The charts of a run of every scenario, as SVG (gonum.org/v1/plot):
// throughput over time (the write scenario's rate in each tenth of the
// stream, Strata and pebble) and latency percentiles (lookup hits on one
// client: Strata in process and over HTTP, pebble, Redis).

// series is one line of a chart.
type series struct {
	name string
	xys  plotter.XYs
}

// WriteCharts draws the charts rep has figures for into dir and returns
// the file names of those written. A chart that cannot be drawn or saved
// does not stop the others: its error is joined into the one returned.
func WriteCharts(dir string, rep *AllReport) ([]string, error) {
	var names []string
	var errs []error
	for _, c := range []struct {
		file string
		draw func() (*plot.Plot, error)
	}{
		{ThroughputFile, func() (*plot.Plot, error) { return throughputPlot(rep.Write) }},
		{LatencyFile, func() (*plot.Plot, error) { return latencyPlot(rep.Lookup) }},
	} {
		p, err := c.draw()
		if err == nil && p != nil {
			err = saveSVG(p, filepath.Join(dir, c.file))
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("chart %s: %w", c.file, err))
		case p != nil:
			names = append(names, c.file)
		}
	}
	return names, errors.Join(errs...)
}

// throughputPlot is the write scenario's rows/s per tenth of the rows, nil
// without figures.
func throughputPlot(w *WriteReport) (*plot.Plot, error) {
	if w == nil || len(w.Strata.TenthsPerSec) == 0 || len(w.Pebble.TenthsPerSec) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("write: upserts/s in each tenth of %s upserts", count(int64(w.Rows)))
	p.X.Label.Text = "rows written"
	p.Y.Label.Text = "upserts/s"
	p.X.Tick.Marker = plot.ConstantTicks(percentTicks())
	p.Y.Tick.Marker = rateTicks{}
	p.X.Min, p.X.Max = 5, 105
	var ss []series
	for _, r := range []WriteResult{w.Strata, w.Pebble} {
		s := series{name: engineName(r.Engine)}
		for k, v := range r.TenthsPerSec {
			s.xys = append(s.xys, plotter.XY{X: float64(k+1) * 10, Y: v})
		}
		ss = append(ss, s)
	}
	if err := addLines(p, ss); err != nil {
		return nil, err
	}
	p.Y.Min, p.Y.Max = 0, 1.3*maxY(ss) // headroom for the legend
	return p, nil
}

// maxY and minY are the largest and smallest values of the series.
func maxY(ss []series) float64 {
	m := math.Inf(-1)
	for _, s := range ss {
		for _, xy := range s.xys {
			m = math.Max(m, xy.Y)
		}
	}
	return m
}

func minY(ss []series) float64 {
	m := math.Inf(1)
	for _, s := range ss {
		for _, xy := range s.xys {
			m = math.Min(m, xy.Y)
		}
	}
	return m
}

func percentTicks() []plot.Tick {
	var ts []plot.Tick
	for k := 1; k <= 10; k++ {
		ts = append(ts, plot.Tick{Value: float64(k) * 10, Label: fmt.Sprintf("%d%%", k*10)})
	}
	return ts
}

func engineName(e string) string {
	if e == "strata" {
		return "Strata"
	}
	return e
}

// latencyQuantiles are the latency chart's x axis.
var latencyQuantiles = []struct {
	label string
	of    func(Latency) float64
}{
	{"p50", func(l Latency) float64 { return l.P50us }},
	{"p90", func(l Latency) float64 { return l.P90us }},
	{"p99", func(l Latency) float64 { return l.P99us }},
	{"p99.9", func(l Latency) float64 { return l.P999us }},
}

// latencyPlot is the lookup hits' latency percentiles, one client, on the
// first table shape and over HTTP, nil without figures.
func latencyPlot(l *LookupReport) (*plot.Plot, error) {
	if l == nil {
		return nil, nil
	}
	var named []struct {
		name string
		lat  Latency
	}
	add := func(name string, f *TargetFigures) {
		if f != nil && f.GetHit.Latency.Count > 0 {
			named = append(named, struct {
				name string
				lat  Latency
			}{name, f.GetHit.Latency})
		}
	}
	if len(l.Shapes) > 0 {
		add("Strata, in process", &l.Shapes[0].Strata)
		add("pebble, in process", &l.Shapes[0].Pebble)
	}
	if l.HTTP != nil {
		add("Strata over HTTP", &l.HTTP.Strata)
		add("Redis GET", l.HTTP.Redis)
	} else {
		add("Redis GET", l.Redis)
	}
	if len(named) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("lookup: Get hit latency, 1 client (%s rows)", count(int64(l.Config.Rows)))
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = latencyTicks{}
	var xt []plot.Tick
	for i, q := range latencyQuantiles {
		xt = append(xt, plot.Tick{Value: float64(i + 1), Label: q.label})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.X.Min, p.X.Max = 0.7, float64(len(latencyQuantiles))+0.3
	var ss []series
	for _, n := range named {
		s := series{name: n.name}
		for i, q := range latencyQuantiles {
			if v := q.of(n.lat); v > 0 {
				s.xys = append(s.xys, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		if len(s.xys) > 0 {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 {
		return nil, nil
	}
	if err := addLines(p, ss); err != nil {
		return nil, err
	}
	// Headroom for the legend: two fifths of the data's span, in decades.
	lo, hi := minY(ss), maxY(ss)
	p.Y.Min, p.Y.Max = lo/1.5, hi*math.Pow(math.Max(hi/lo, 10), 0.4)
	return p, nil
}

// addLines adds each series as a line with points, in plotutil's colours
// and shapes, to p and its legend (top left).
func addLines(p *plot.Plot, ss []series) error {
	for i, s := range ss {
		l, pts, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return fmt.Errorf("chart %s: %w", s.name, err)
		}
		l.Color, pts.Color, pts.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		l.Dashes = plotutil.Dashes(i)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	return nil
}

// saveSVG writes p as an SVG file.
func saveSVG(p *plot.Plot, path string) error {
	w, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, "svg")
	if err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return f.Close()
}

// rateTicks labels a linear axis of rates with thousands and millions.
type rateTicks struct{}

func (rateTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = shortCount(ts[i].Value)
		}
	}
	return ts
}

// shortCount is 1.2M, 350k or 900.
func shortCount(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// latencyTicks labels a logarithmic axis of microseconds at 1, 2 and 5
// times each power of ten.
type latencyTicks struct{}

func (latencyTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			ts = append(ts, plot.Tick{Value: v, Label: latStr(v)})
		}
	}
	return ts
}
