package plot

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default image size in pixels, used when a width or height of zero is
// passed to WriteASD or WriteSpectrogram.
const (
	DefaultWidth  = 1000
	DefaultHeight = 600
)

// Limits on the image size in pixels: below the minimum the axes and labels
// leave no room for data; the maximum bounds memory (4 bytes a pixel).
const (
	MinSide = 200
	MaxSide = 16384
)

// dpi sets how text and line sizes given in points map to pixels.
const dpi = 96

// ErrNoData is returned (wrapped) when the input holds nothing that can be
// drawn: no samples, or no finite positive value on a logarithmic scale.
var ErrNoData = errors.New("no finite positive values to draw")

// imageSize applies the defaults and limits to a requested size.
func imageSize(width, height int) (int, int, error) {
	if width == 0 {
		width = DefaultWidth
	}
	if height == 0 {
		height = DefaultHeight
	}
	if width < MinSide || height < MinSide || width > MaxSide || height > MaxSide {
		return 0, 0, fmt.Errorf("image size %d×%d outside %d..%d pixels", width, height, MinSide, MaxSide)
	}
	return width, height, nil
}

// render draws onto a white width×height canvas with fn and writes it to w
// as PNG. gonum/plot reports some invalid states by panicking; those become
// errors here so that one bad plot does not take the process down.
func render(w io.Writer, width, height int, fn func(dc draw.Canvas)) (err error) {
	c := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, width, height))), vgimg.UseDPI(dpi))
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("render: %v", r)
			}
		}()
		fn(draw.New(c))
	}()
	if err != nil {
		return err
	}
	if err := pngEncoder.Encode(w, c.Image()); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// pngEncoder compresses for speed: a third less time than the default
// level, for images about 5% larger.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// usable reports whether v can be placed on a logarithmic scale.
func usable(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// logRange widens [lo, hi] by frac of its span in log space on each side, or
// to one decade around lo when the span is zero, so that extreme values do
// not sit on the frame and a constant still gets an axis.
func logRange(lo, hi, frac float64) (float64, float64) {
	a, b := math.Log10(lo), math.Log10(hi)
	if span := b - a; span > 0 {
		a -= frac * span
		b += frac * span
	} else {
		a -= 0.5
		b += 0.5
	}
	return math.Pow(10, a), math.Pow(10, b)
}

// logTicks marks a logarithmic axis. Decades are labelled (every n-th one
// when there are many); when the range spans about a decade or less, 2× and
// 5× are labelled too, and if even that yields fewer than two labels the
// linear default is used.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 1) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	e0 := int(math.Floor(math.Log10(lo)))
	e1 := int(math.Ceil(math.Log10(hi)))
	step := max(1, (e1-e0+7)/8)
	few := hi/lo < 20
	var ticks []gplot.Tick
	labels := 0
	for e := e0; e <= e1; e++ {
		if step > 1 {
			if e%step == 0 {
				ticks = append(ticks, gplot.Tick{Value: decimal(1, e), Label: tickLabel(decimal(1, e))})
			}
			continue
		}
		for m := 1; m <= 9; m++ {
			v := decimal(m, e)
			if v < lo || v > hi {
				continue
			}
			t := gplot.Tick{Value: v}
			if m == 1 || few && (m == 2 || m == 5) {
				t.Label = tickLabel(v)
				labels++
			}
			ticks = append(ticks, t)
		}
	}
	if step == 1 && labels < 2 {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// decimal returns m×10^e as the float64 nearest the decimal, so that tick
// labels print without rounding noise.
func decimal(m, e int) float64 {
	v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(e), 64)
	return v
}

// tickLabel formats v plainly in [1e-3, 1e5) and as 2e-21 or 1e6 outside.
func tickLabel(v float64) string {
	if a := math.Abs(v); a == 0 || a >= 1e-3 && a < 1e5 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	neg := exp[0] == '-'
	exp = exp[1:]
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// device returns the output canvas under c: gonum/plot nests draw.Canvas
// values as it lays a plot out.
func device(c draw.Canvas) vg.Canvas {
	v := c.Canvas
	for {
		switch d := v.(type) {
		case draw.Canvas:
			v = d.Canvas
		case *draw.Canvas:
			v = d.Canvas
		default:
			return v
		}
	}
}

// dotsPerPoint is the output resolution of c in pixels per vg length unit,
// or 1 when the canvas does not say.
func dotsPerPoint(c draw.Canvas) float64 {
	if d, ok := device(c).(interface{ DPI() float64 }); ok {
		return d.DPI() / float64(vg.Inch)
	}
	return 1
}
