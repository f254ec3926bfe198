package plot

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"io"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Spectrogram is a sequence of spectral densities, one row per time
// stride, drawn as an image with time across and frequency up and a
// logarithmic colour scale.
type Spectrogram struct {
	// Title is printed above the plot.
	Title string
	// Quantity names the values on the colour bar: "PSD" or "ASD" (the
	// default, when empty).
	Quantity string
	// Unit is the unit of the values, e.g. "strain/√Hz"; the colour bar
	// reads "ASD [Unit]", or just "ASD" when Unit is empty.
	Unit string
	// Row i covers GPS times [T0 + i·DT, T0 + (i+1)·DT). The time axis is
	// in seconds from T0.
	T0, DT float64
	// Column k is at frequency F0 + k·DF in Hz and is drawn centred there,
	// DF wide (cut at 0 Hz).
	F0, DF float64
	// Times and Freqs are the numbers of rows and columns.
	Times, Freqs int
	// Values holds the densities row-major: Times rows of Freqs values.
	Values []float64
	// Min and Max, when positive, fix the ends of the colour scale; values
	// outside are drawn in the end colours. Zero means the smallest and
	// largest finite positive value.
	Min, Max float64
}

// viridis holds control colours of the viridis map, from dark purple to
// yellow. Its lightness rises steadily, and neither end is white, so blank
// cells stand out.
var viridis = []color.Color{
	color.NRGBA{0x44, 0x01, 0x54, 0xff},
	color.NRGBA{0x48, 0x24, 0x75, 0xff},
	color.NRGBA{0x41, 0x44, 0x87, 0xff},
	color.NRGBA{0x35, 0x5f, 0x8d, 0xff},
	color.NRGBA{0x2a, 0x78, 0x8e, 0xff},
	color.NRGBA{0x21, 0x91, 0x8c, 0xff},
	color.NRGBA{0x22, 0xa8, 0x84, 0xff},
	color.NRGBA{0x44, 0xbf, 0x70, 0xff},
	color.NRGBA{0x7a, 0xd1, 0x51, 0xff},
	color.NRGBA{0xbd, 0xdf, 0x26, 0xff},
	color.NRGBA{0xfd, 0xe7, 0x25, 0xff},
}

// ColorMap returns a new copy of the colour map used for spectrograms, with
// its range unset. Spectrograms map log10 of the value onto it.
func ColorMap() palette.ColorMap {
	m, err := moreland.NewLuminance(viridis)
	if err != nil {
		panic(err) // the control colours are fixed and valid
	}
	return m
}

// WriteSpectrogram draws s as a PNG image of width×height pixels (zero means
// DefaultWidth or DefaultHeight), with a colour bar at the right, and writes
// it to w. Cells whose value is not finite and positive are left blank. When
// there are more rows or columns than pixels, a pixel shows the largest
// value among the cells it covers, so that narrow lines stay visible. It
// returns an error wrapping ErrNoData when no value is finite and positive.
func WriteSpectrogram(w io.Writer, s Spectrogram, width, height int) error {
	width, height, err := imageSize(width, height)
	if err != nil {
		return fmt.Errorf("plot spectrogram: %w", err)
	}
	if s.Times <= 0 || s.Freqs <= 0 {
		return fmt.Errorf("plot spectrogram: %d×%d cells: %w", s.Times, s.Freqs, ErrNoData)
	}
	if len(s.Values) != s.Times*s.Freqs {
		return fmt.Errorf("plot spectrogram: %d values for %d×%d cells", len(s.Values), s.Times, s.Freqs)
	}
	if !(s.DT > 0) || math.IsInf(s.DT, 1) || !(s.DF > 0) || math.IsInf(s.DF, 1) {
		return fmt.Errorf("plot spectrogram: steps must be finite and positive, have dt %g s, df %g Hz", s.DT, s.DF)
	}
	if math.IsNaN(s.F0) || math.IsInf(s.F0, 0) || math.IsNaN(s.T0) || math.IsInf(s.T0, 0) {
		return fmt.Errorf("plot spectrogram: origin must be finite, have t0 %g, f0 %g", s.T0, s.F0)
	}
	if s.Min < 0 || s.Max < 0 || s.Min > 0 && s.Max > 0 && s.Min >= s.Max {
		return fmt.Errorf("plot spectrogram: bad colour limits %g..%g", s.Min, s.Max)
	}

	vr := span{math.Inf(1), math.Inf(-1)}
	for _, v := range s.Values {
		if usable(v) {
			vr = span{min(vr.lo, v), max(vr.hi, v)}
		}
	}
	if math.IsInf(vr.lo, 1) {
		return fmt.Errorf("plot spectrogram: %w", ErrNoData)
	}
	if s.Min > 0 {
		vr.lo = s.Min
	}
	if s.Max > 0 {
		vr.hi = s.Max
	}
	lo, hi := math.Log10(vr.lo), math.Log10(vr.hi)
	if !(hi > lo) { // one value, or a fixed limit beyond all the data
		lo, hi = math.Log10(min(vr.lo, vr.hi))-0.5, math.Log10(max(vr.lo, vr.hi))+0.5
	}
	cmap := ColorMap()
	cmap.SetMin(lo)
	cmap.SetMax(hi)
	lut := make([]color.NRGBA, 256)
	for i, c := range cmap.Palette(len(lut)).Colors() {
		lut[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
	}

	p := gplot.New()
	p.Title.Text = s.Title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = "Time [s] from GPS " + strconv.FormatFloat(s.T0, 'f', -1, 64)
	p.Y.Label.Text = "Frequency [Hz]"
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max = 0, float64(s.Times)*s.DT
	p.Y.Min, p.Y.Max = s.F0-s.DF/2, s.F0+(float64(s.Freqs)-0.5)*s.DF
	if s.F0 >= 0 && p.Y.Min < 0 {
		p.Y.Min = 0
	}
	p.Add(&raster{s: &s, lut: lut, lo: lo, hi: hi})

	bar := gplot.New()
	bar.BackgroundColor = nil
	bar.HideX()
	bar.X.Padding, bar.Y.Padding = 0, 0
	bar.Y.Label.Text = "ASD"
	if s.Quantity != "" {
		bar.Y.Label.Text = s.Quantity
	}
	if s.Unit != "" {
		bar.Y.Label.Text += " [" + s.Unit + "]"
	}
	bar.Y.Tick.Marker = exponentTicks{}
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})

	err = render(w, width, height, func(dc draw.Canvas) {
		const (
			barWidth = 0.22 * vg.Inch
			gap      = 0.2 * vg.Inch
			margin   = 0.12 * vg.Inch
		)
		axisWidth := dc.Size().X - bar.DataCanvas(dc).Size().X
		left := dc
		left.Max.X -= margin + barWidth + axisWidth + gap
		p.Draw(left)
		da := p.DataCanvas(left)
		x0 := left.Max.X + gap + axisWidth
		drawDataIn(bar, dc, vg.Rectangle{
			Min: vg.Point{X: x0, Y: da.Min.Y},
			Max: vg.Point{X: x0 + barWidth, Y: da.Max.Y},
		})
	})
	if err != nil {
		return fmt.Errorf("plot spectrogram: %w", err)
	}
	return nil
}

// drawDataIn draws p so that its data area covers want, by moving the
// canvas it is given until the axes and labels fit around want.
func drawDataIn(p *gplot.Plot, dc draw.Canvas, want vg.Rectangle) {
	c := dc
	c.Rectangle = want
	for range 3 {
		got := p.DataCanvas(c)
		c.Min.X -= got.Min.X - want.Min.X
		c.Min.Y -= got.Min.Y - want.Min.Y
		c.Max.X += want.Max.X - got.Max.X
		c.Max.Y += want.Max.Y - got.Max.Y
	}
	p.Draw(c)
}

// exponentTicks marks an axis of log10 values with the values themselves,
// as logTicks would on a logarithmic axis.
type exponentTicks struct{}

func (exponentTicks) Ticks(lo, hi float64) []gplot.Tick {
	ticks := logTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ticks {
		ticks[i].Value = math.Log10(ticks[i].Value)
	}
	return ticks
}

// raster is a plotter that draws a spectrogram at the resolution of the
// output: one image pixel per device pixel of the data area.
type raster struct {
	s      *Spectrogram
	lut    []color.NRGBA
	lo, hi float64 // log10 range of the colour scale
}

// Plot implements gplot.Plotter.
func (r *raster) Plot(c draw.Canvas, p *gplot.Plot) {
	s := r.s
	// Snap the data area to whole device pixels, so that the image can be
	// copied rather than resampled (which would smear one-pixel lines).
	d := dotsPerPoint(c)
	x0, x1 := math.Round(float64(c.Min.X)*d), math.Round(float64(c.Max.X)*d)
	y0, y1 := math.Round(float64(c.Min.Y)*d), math.Round(float64(c.Max.Y)*d)
	w, h := int(x1-x0), int(y1-y0)
	if w <= 0 || h <= 0 {
		return
	}
	rect := vg.Rectangle{
		Min: vg.Point{X: vg.Length(x0 / d), Y: vg.Length(y0 / d)},
		Max: vg.Point{X: vg.Length(x1 / d), Y: vg.Length(y1 / d)},
	}
	// The cells each pixel column and row covers: those whose centre falls
	// in the pixel, or else the one under the pixel centre.
	cols := cover(w, p.X.Min, p.X.Max, 0.5*s.DT, s.DT, s.Times, false)
	rows := cover(h, p.Y.Min, p.Y.Max, s.F0, s.DF, s.Freqs, true)

	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	col := make([]float64, h)
	scale := float64(len(r.lut)-1) / (r.hi - r.lo)
	for x, tr := range cols {
		for y := range col {
			col[y] = math.NaN()
		}
		for i := tr.first; i <= tr.last; i++ {
			row := s.Values[i*s.Freqs : (i+1)*s.Freqs]
			for y, fr := range rows {
				m := col[y]
				for _, v := range row[fr.first : fr.last+1] {
					if usable(v) && !(v <= m) {
						m = v
					}
				}
				col[y] = m
			}
		}
		for y, v := range col {
			if math.IsNaN(v) {
				continue
			}
			k := int(math.Round((math.Log10(v) - r.lo) * scale))
			k = min(max(k, 0), len(r.lut)-1)
			img.SetNRGBA(x, y, r.lut[k])
		}
	}
	if dst, ok := device(c).(interface{ Image() stddraw.Image }); ok {
		// A raster canvas: copy the pixels in (its y axis points down).
		H := dst.Image().Bounds().Dy()
		r := image.Rect(int(x0), H-int(y1), int(x1), H-int(y0))
		stddraw.Draw(dst.Image(), r, img, image.Point{}, stddraw.Over)
		return
	}
	c.DrawImage(rect, img)
}

// cellRange is an inclusive range of cell indices.
type cellRange struct{ first, last int }

// cover maps each of n pixels spanning the axis [lo, hi] to the cells it
// covers, where cell j is centred at c0 + j·step, 0 <= j < cells. Pixel 0
// is at lo, or at hi when down is set (image rows count downwards).
func cover(n int, lo, hi, c0, step float64, cells int, down bool) []cellRange {
	out := make([]cellRange, n)
	px := (hi - lo) / float64(n)
	clamp := func(j int) int { return min(max(j, 0), cells-1) }
	for i := range out {
		a := lo + float64(i)*px
		if down {
			a = hi - float64(i+1)*px
		}
		b := a + px
		first := int(math.Ceil((a - c0) / step))
		last := int(math.Ceil((b-c0)/step)) - 1
		if first > last || last < 0 || first >= cells {
			j := clamp(int(math.Round((a + px/2 - c0) / step)))
			out[i] = cellRange{j, j}
			continue
		}
		out[i] = cellRange{clamp(first), clamp(last)}
	}
	return out
}
