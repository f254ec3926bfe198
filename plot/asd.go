package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Line colours of the ASD plot, exported so that callers and tests can
// recognise the curves.
var (
	StoredColor     = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	RecomputedColor = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
)

// ASD is an amplitude spectral density to draw on log-log axes.
type ASD struct {
	// Title is printed above the plot, e.g. "K1:LSC-DARM_OUT_DQ  GPS 1400000000".
	Title string
	// Unit is the unit of the values, e.g. "strain/√Hz"; the y axis reads
	// "ASD [Unit]", or just "ASD" when Unit is empty.
	Unit string
	// Freqs holds the frequency of every bin in Hz.
	Freqs []float64
	// Stored is the ASD as stored, one value per frequency, drawn as a solid
	// line.
	Stored []float64
	// Recomputed, when not nil, is the same ASD recomputed from the raw
	// samples, drawn dashed over Stored. Its legend entry carries
	// MaxRelDiff(Stored, Recomputed).
	Recomputed []float64
}

// MaxRelDiff returns the largest |b[i]-a[i]| / |a[i]| over the bins where
// both values are finite and a[i] is not zero, with a as the reference. It
// looks at the first min(len(a), len(b)) bins and returns NaN when no bin
// qualifies.
func MaxRelDiff(a, b []float64) float64 {
	n := min(len(a), len(b))
	d := math.NaN()
	for i := range n {
		x, y := a[i], b[i]
		if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		r := math.Abs(y-x) / math.Abs(x)
		if math.IsNaN(d) || r > d {
			d = r
		}
	}
	return d
}

// WriteASD draws a as a PNG image of width×height pixels (zero means
// DefaultWidth or DefaultHeight) and writes it to w. Both axes are
// logarithmic: bins at zero or negative frequency and values that are not
// finite and positive are left out, splitting the curve into pieces there.
// It returns an error wrapping ErrNoData when Stored has nothing drawable.
func WriteASD(w io.Writer, a ASD, width, height int) error {
	width, height, err := imageSize(width, height)
	if err != nil {
		return fmt.Errorf("plot asd: %w", err)
	}
	if len(a.Freqs) == 0 {
		return fmt.Errorf("plot asd: no frequencies: %w", ErrNoData)
	}
	if len(a.Stored) != len(a.Freqs) {
		return fmt.Errorf("plot asd: %d stored values for %d frequencies", len(a.Stored), len(a.Freqs))
	}
	if a.Recomputed != nil && len(a.Recomputed) != len(a.Freqs) {
		return fmt.Errorf("plot asd: %d recomputed values for %d frequencies", len(a.Recomputed), len(a.Freqs))
	}

	stored := newCurve(a.Freqs, a.Stored, draw.LineStyle{Color: StoredColor, Width: vg.Points(1.5)})
	if stored.n == 0 {
		return fmt.Errorf("plot asd: stored: %w", ErrNoData)
	}
	xr, yr := stored.xr, stored.yr
	var recomputed *curve
	if a.Recomputed != nil {
		recomputed = newCurve(a.Freqs, a.Recomputed, draw.LineStyle{
			Color:  RecomputedColor,
			Width:  vg.Points(1.5),
			Dashes: []vg.Length{vg.Points(6), vg.Points(4)},
		})
		if recomputed.n > 0 {
			xr, yr = xr.union(recomputed.xr), yr.union(recomputed.yr)
		}
	}

	p := gplot.New()
	p.Title.Text = a.Title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = "Frequency [Hz]"
	p.Y.Label.Text = "ASD"
	if a.Unit != "" {
		p.Y.Label.Text += " [" + a.Unit + "]"
	}
	p.X.Scale, p.Y.Scale = gplot.LogScale{}, gplot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.X.Min, p.X.Max = xr.lo, xr.hi
	if xr.lo == xr.hi {
		p.X.Min, p.X.Max = logRange(xr.lo, xr.hi, 0)
	}
	p.Y.Min, p.Y.Max = logRange(yr.lo, yr.hi, 0.03)

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 0xdd}
	grid.Horizontal.Color = color.Gray{Y: 0xdd}
	p.Add(grid, stored)
	p.Legend.Top = true
	p.Legend.Add("stored", stored)
	if recomputed != nil {
		p.Add(recomputed)
		label := "recomputed from raw"
		if d := MaxRelDiff(a.Stored, a.Recomputed); !math.IsNaN(d) {
			label += " (max rel. diff " + strconv.FormatFloat(d, 'g', 2, 64) + ")"
		}
		p.Legend.Add(label, recomputed)
	}

	if err := render(w, width, height, p.Draw); err != nil {
		return fmt.Errorf("plot asd: %w", err)
	}
	return nil
}

// span is a closed interval of data values.
type span struct{ lo, hi float64 }

func (s span) union(t span) span { return span{min(s.lo, t.lo), max(s.hi, t.hi)} }

// curve is a line plotter for log-log axes: it keeps only the points that
// a logarithmic scale can show and breaks the line where points were left
// out, instead of bridging the gap as plotter.Line would.
type curve struct {
	segs   [][]point
	n      int // points kept
	xr, yr span
	style  draw.LineStyle
}

type point struct{ x, y float64 }

func newCurve(xs, ys []float64, style draw.LineStyle) *curve {
	c := &curve{style: style, xr: span{math.Inf(1), math.Inf(-1)}, yr: span{math.Inf(1), math.Inf(-1)}}
	var seg []point
	for i, x := range xs {
		y := ys[i]
		if !usable(x) || !usable(y) {
			if len(seg) > 0 {
				c.segs = append(c.segs, seg)
				seg = nil
			}
			continue
		}
		seg = append(seg, point{x, y})
		c.n++
		c.xr = span{min(c.xr.lo, x), max(c.xr.hi, x)}
		c.yr = span{min(c.yr.lo, y), max(c.yr.hi, y)}
	}
	if len(seg) > 0 {
		c.segs = append(c.segs, seg)
	}
	return c
}

// Plot implements gplot.Plotter. A piece of a single point is drawn as a
// short horizontal tick so that it does not vanish.
func (c *curve) Plot(dc draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&dc)
	pixel := vg.Length(1 / dotsPerPoint(dc))
	var line []vg.Point
	for _, seg := range c.segs {
		line = line[:0]
		for _, q := range seg {
			line = append(line, vg.Point{X: trX(q.x), Y: trY(q.y)})
		}
		line = thin(line, pixel)
		if len(line) == 1 {
			q := line[0]
			line = []vg.Point{{X: q.X - c.style.Width, Y: q.Y}, {X: q.X + c.style.Width, Y: q.Y}}
		}
		dc.StrokeLines(c.style, dc.ClipLinesXY(line)...)
	}
}

// Thumbnail implements gplot.Thumbnailer for the legend.
func (c *curve) Thumbnail(dc *draw.Canvas) {
	y := dc.Center().Y
	dc.StrokeLine2(c.style, dc.Min.X, y, dc.Max.X, y)
}

// thin drops points that cannot change the drawing: of each run of
// consecutive points within one pixel column it keeps the first, the
// lowest, the highest and the last, in their order. Long ASDs on a log
// frequency axis crowd thousands of points into the rightmost columns, and
// stroking them all is what makes rendering slow.
func thin(pts []vg.Point, pixel vg.Length) []vg.Point {
	if pixel <= 0 {
		return pts
	}
	out := pts[:0]
	for i := 0; i < len(pts); {
		col := math.Floor(float64(pts[i].X / pixel))
		j, lo, hi := i, i, i
		for j+1 < len(pts) && math.Floor(float64(pts[j+1].X/pixel)) == col {
			j++
			if pts[j].Y < pts[lo].Y {
				lo = j
			}
			if pts[j].Y > pts[hi].Y {
				hi = j
			}
		}
		first, last := pts[i], pts[j]
		a, b := min(lo, hi), max(lo, hi)
		mid1, mid2 := pts[a], pts[b]
		// out never overtakes i, so writing in place is safe.
		out = append(out, first)
		if a != i && a != j {
			out = append(out, mid1)
		}
		if b != a && b != i && b != j {
			out = append(out, mid2)
		}
		if j != i {
			out = append(out, last)
		}
		i = j + 1
	}
	return out
}
