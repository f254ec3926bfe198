package plot

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/plot/vg"
)

// darm returns an ASD shaped like a detector's: a steep low-frequency wall,
// a floor rising slowly at high frequency, noise and a few lines.
func darm(n int, df float64, seed uint64) (freqs, asd []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	freqs = make([]float64, n)
	asd = make([]float64, n)
	for i := range freqs {
		f := float64(i) * df
		freqs[i] = f
		x := f + 1
		asd[i] = 1e-23 * (1e7/math.Pow(x, 4) + 1 + x/500) * (1 + 0.1*math.Abs(r.NormFloat64()))
		if i%1000 == 60 {
			asd[i] *= 30
		}
	}
	return freqs, asd
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	return img
}

// near reports whether c is within tol of want in every channel.
func near(c color.RGBA64, want color.Color, tol int) bool {
	wr, wg, wb, _ := want.RGBA()
	d := func(x, y uint32) bool { return int(x>>8)-int(y>>8) <= tol && int(y>>8)-int(x>>8) <= tol }
	return d(uint32(c.R), wr) && d(uint32(c.G), wg) && d(uint32(c.B), wb)
}

// pixels returns the points of img inside r whose colour is near want.
// It reads each pixel through RGBA64At, which every image png.Decode
// returns has, and which unlike At allocates nothing.
func pixels(img image.Image, r image.Rectangle, want color.Color, tol int) []image.Point {
	px := img.(image.RGBA64Image)
	var pts []image.Point
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if near(px.RGBA64At(x, y), want, tol) {
				pts = append(pts, image.Point{X: x, Y: y})
			}
		}
	}
	return pts
}

// band returns the row holding the most of pts and the share of pts that
// lie within ±halfWidth rows of it, with their horizontal extent.
func band(pts []image.Point, halfWidth int) (row int, share float64, xmin, xmax int) {
	count := map[int]int{}
	for _, p := range pts {
		count[p.Y]++
		if count[p.Y] > count[row] {
			row = p.Y
		}
	}
	in := 0
	xmin, xmax = math.MaxInt, math.MinInt
	for _, p := range pts {
		if p.Y >= row-halfWidth && p.Y <= row+halfWidth {
			in++
			xmin, xmax = min(xmin, p.X), max(xmax, p.X)
		}
	}
	return row, float64(in) / float64(len(pts)), xmin, xmax
}

func TestWriteASDSize(t *testing.T) {
	t.Parallel()
	freqs, asd := darm(8193, 0.25, 1)
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{0, 0, DefaultWidth, DefaultHeight},
		{640, 480, 640, 480},
		{1601, 901, 1601, 901},
		{MinSide, MinSide, MinSide, MinSide},
	} {
		var buf bytes.Buffer
		if err := WriteASD(&buf, ASD{Title: "K1:X", Unit: "strain/√Hz", Freqs: freqs, Stored: asd}, tc.w, tc.h); err != nil {
			t.Fatalf("%d×%d: %v", tc.w, tc.h, err)
		}
		b := decode(t, buf.Bytes()).Bounds()
		if b.Dx() != tc.wantW || b.Dy() != tc.wantH {
			t.Errorf("requested %d×%d: got %d×%d, want %d×%d", tc.w, tc.h, b.Dx(), b.Dy(), tc.wantW, tc.wantH)
		}
	}
}

func TestWriteASDDrawsBothCurves(t *testing.T) {
	t.Parallel()
	freqs, stored := darm(8193, 0.25, 2)
	recomputed := make([]float64, len(stored))
	for i, v := range stored {
		recomputed[i] = v * (1 + 1e-15)
	}
	var buf bytes.Buffer
	err := WriteASD(&buf, ASD{Title: "K1:LSC-DARM_OUT_DQ  GPS 1400000000", Unit: "strain/√Hz",
		Freqs: freqs, Stored: stored, Recomputed: recomputed}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	// The legend's thumbnails hold under 100 pixels of each colour; the
	// curves across the plot hold many more, even where the dashes cover
	// the stored curve.
	s := pixels(img, img.Bounds(), StoredColor, 24)
	r := pixels(img, img.Bounds(), RecomputedColor, 24)
	if len(s) < 400 {
		t.Errorf("got %d pixels of the stored colour, want at least 400", len(s))
	}
	if len(r) < 1000 {
		t.Errorf("got %d pixels of the recomputed colour, want at least 1000", len(r))
	}

	// Without Recomputed, its colour must not appear.
	buf.Reset()
	if err := WriteASD(&buf, ASD{Freqs: freqs, Stored: stored}, 0, 0); err != nil {
		t.Fatal(err)
	}
	img = decode(t, buf.Bytes())
	if r := pixels(img, img.Bounds(), RecomputedColor, 24); len(r) != 0 {
		t.Errorf("got %d pixels of the recomputed colour without a recomputed ASD, want 0", len(r))
	}
}

func TestWriteASDFlatLine(t *testing.T) {
	t.Parallel()
	const w, h = 1000, 600
	n := 4097
	freqs := make([]float64, n)
	stored := make([]float64, n)
	for i := range freqs {
		freqs[i] = float64(i) * 0.5
		stored[i] = 3e-21
	}
	var buf bytes.Buffer
	if err := WriteASD(&buf, ASD{Freqs: freqs, Stored: stored}, w, h); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	pts := pixels(img, img.Bounds(), StoredColor, 24)
	row, share, xmin, xmax := band(pts, 2)
	if share < 0.9 {
		t.Errorf("got %.0f%% of the stored colour's %d pixels within 2 rows of row %d, want at least 90%%", 100*share, len(pts), row)
	}
	if xmax-xmin < w*7/10 {
		t.Errorf("the line spans x %d..%d, want at least %d pixels", xmin, xmax, w*7/10)
	}
	// A constant gets one decade around it, so it sits mid-plot.
	if row < h*3/10 || row > h*7/10 {
		t.Errorf("the line is at row %d, want it in the middle of %d rows", row, h)
	}
}

func TestWriteASDSkipsUndrawable(t *testing.T) {
	t.Parallel()
	freqs, stored := darm(2049, 1, 3)
	inf := math.Inf(1)
	// f=0 is the first bin; add NaN, ±Inf, zero and negative values, and
	// a lone valid point between gaps.
	for _, i := range []int{5, 6, 7, 9, 10, 100, 500, 501} {
		stored[i] = []float64{math.NaN(), inf, -inf, 0, -1e-22}[i%5]
	}
	recomputed := make([]float64, len(stored))
	for i := range recomputed {
		recomputed[i] = math.NaN()
	}
	var buf bytes.Buffer
	if err := WriteASD(&buf, ASD{Freqs: freqs, Stored: stored, Recomputed: recomputed}, 0, 0); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	if s := pixels(img, img.Bounds(), StoredColor, 24); len(s) < 1000 {
		t.Errorf("got %d pixels of the stored colour, want at least 1000", len(s))
	}

	// A single drawable point still shows.
	buf.Reset()
	if err := WriteASD(&buf, ASD{Freqs: []float64{0, 10}, Stored: []float64{1, 2e-22}}, 0, 0); err != nil {
		t.Fatal(err)
	}
	img = decode(t, buf.Bytes())
	if s := pixels(img, img.Bounds(), StoredColor, 24); len(s) < 4 {
		t.Errorf("single point: got %d pixels of the stored colour, want some", len(s))
	}
}

func TestWriteASDErrors(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		a      ASD
		w, h   int
		noData bool
	}{
		{"no frequencies", ASD{}, 0, 0, true},
		{"empty stored", ASD{Freqs: []float64{1, 2}}, 0, 0, false},
		{"short stored", ASD{Freqs: []float64{1, 2}, Stored: []float64{1}}, 0, 0, false},
		{"short recomputed", ASD{Freqs: []float64{1, 2}, Stored: []float64{1, 2}, Recomputed: []float64{}}, 0, 0, false},
		{"all NaN", ASD{Freqs: []float64{1, 2}, Stored: []float64{nan, nan}}, 0, 0, true},
		{"all non-positive", ASD{Freqs: []float64{1, 2}, Stored: []float64{0, -1}}, 0, 0, true},
		{"only f=0", ASD{Freqs: []float64{0}, Stored: []float64{1}}, 0, 0, true},
		{"too small", ASD{Freqs: []float64{1, 2}, Stored: []float64{1, 2}}, 100, 600, false},
		{"too large", ASD{Freqs: []float64{1, 2}, Stored: []float64{1, 2}}, 1000, MaxSide + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteASD(&buf, tc.a, tc.w, tc.h)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := errors.Is(err, ErrNoData); got != tc.noData {
				t.Errorf("errors.Is(%q, ErrNoData) = %v, want %v", err, got, tc.noData)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes along with an error", buf.Len())
			}
		})
	}
}

func TestMaxRelDiff(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		a, b []float64
		want float64
	}{
		{"equal", []float64{1, 2, 3}, []float64{1, 2, 3}, 0},
		{"largest relative, not absolute", []float64{1e-20, 100}, []float64{1.5e-20, 101}, 0.5},
		{"negative reference", []float64{-2}, []float64{-1}, 0.5},
		{"zero reference skipped", []float64{0, 4}, []float64{1, 5}, 0.25},
		{"non-finite skipped", []float64{nan, inf, 1, 2}, []float64{1, 1, inf, 2.2}, 0.1},
		{"prefix of the longer", []float64{1, 1}, []float64{1}, 0},
		{"nothing comparable", []float64{0, nan}, []float64{1, 1}, nan},
		{"empty", nil, nil, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaxRelDiff(tc.a, tc.b)
			if math.IsNaN(tc.want) {
				if !math.IsNaN(got) {
					t.Errorf("got %g, want NaN", got)
				}
				return
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("got %g, want %g", got, tc.want)
			}
		})
	}
}

// spectrogram returns a 64×2049 spectrogram of darm ASDs with a strong line
// in column line in every row.
func spectrogram(line int) Spectrogram {
	const times, nf = 64, 2049
	s := Spectrogram{Title: "K1:LSC-DARM_OUT_DQ  GPS 1400000000", Unit: "strain/√Hz",
		T0: 1400000000, DT: 4, F0: 0, DF: 0.5, Times: times, Freqs: nf}
	for i := range times {
		_, asd := darm(nf, 0.5, uint64(i))
		if line >= 0 {
			asd[line] = 1e-14 // above everything else
		}
		s.Values = append(s.Values, asd...)
	}
	return s
}

// mapColor returns the spectrogram colour at fraction v of the colour scale.
func mapColor(t *testing.T, v float64) color.Color {
	t.Helper()
	cm := ColorMap()
	cm.SetMin(0)
	cm.SetMax(1)
	c, err := cm.At(v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWriteSpectrogram(t *testing.T) {
	t.Parallel()
	const w, h = 1000, 600
	// Three decades rising with time and frequency, with noise.
	s := spectrogram(-1)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range s.Times {
		for k := range s.Freqs {
			e := 1.5 * (float64(i)/float64(s.Times) + float64(k)/float64(s.Freqs))
			s.Values[i*s.Freqs+k] = 1e-23 * math.Pow(10, e) * (1 + 0.05*r.Float64())
		}
	}
	var buf bytes.Buffer
	if err := WriteSpectrogram(&buf, s, w, h); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("got %d×%d, want %d×%d", b.Dx(), b.Dy(), w, h)
	}

	// The image area fills the middle of the plot with many colours.
	mid := image.Rect(w/5, h/5, w*4/5, h*4/5)
	px := img.(image.RGBA64Image)
	colours := map[color.RGBA64]bool{}
	for y := mid.Min.Y; y < mid.Max.Y; y++ {
		for x := mid.Min.X; x < mid.Max.X; x++ {
			colours[px.RGBA64At(x, y)] = true
		}
	}
	if len(colours) < 100 {
		t.Errorf("got %d distinct colours in the image area, want at least 100", len(colours))
	}

	// The colour bar at the right shows the scale, low at the bottom and
	// high at the top.
	right := image.Rect(w*9/10, 0, w, h)
	prevY := math.Inf(1)
	for _, v := range []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1} {
		pts := pixels(img, right, mapColor(t, v), 4)
		if len(pts) < 10 {
			t.Errorf("colour bar: got %d pixels of the colour at %.1f of the scale, want at least 10", len(pts), v)
			continue
		}
		var sum float64
		for _, p := range pts {
			sum += float64(p.Y)
		}
		y := sum / float64(len(pts))
		if y >= prevY {
			t.Errorf("colour bar: the colour at %.1f of the scale is at mean row %.0f, not above the previous one (%.0f)", v, y, prevY)
		}
		prevY = y
	}
}

func TestWriteSpectrogramLine(t *testing.T) {
	t.Parallel()
	const w, h = 1000, 600
	s := spectrogram(1500) // 750 Hz: about three quarters up
	var buf bytes.Buffer
	if err := WriteSpectrogram(&buf, s, w, h); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	// The line holds the largest values: the top colour, in one band
	// across the image area (the colour bar is left out).
	pts := pixels(img, image.Rect(0, 0, w*85/100, h), mapColor(t, 1), 12)
	if len(pts) == 0 {
		t.Fatal("the line's colour does not appear")
	}
	row, share, xmin, xmax := band(pts, 2)
	if share < 0.95 {
		t.Errorf("got %.0f%% of the line colour's %d pixels within 2 rows of row %d, want at least 95%%", 100*share, len(pts), row)
	}
	if xmax-xmin < w*7/10 {
		t.Errorf("the line spans x %d..%d, want at least %d pixels", xmin, xmax, w*7/10)
	}
	if row < h/8 || row > h*3/8 {
		t.Errorf("the 750 Hz line is at row %d of %d, want it in the upper part", row, h)
	}
}

func TestWriteSpectrogramBlanks(t *testing.T) {
	t.Parallel()
	s := spectrogram(-1)
	for k := range s.Freqs { // one row of nothing, one of zeros
		s.Values[10*s.Freqs+k] = math.NaN()
		s.Values[11*s.Freqs+k] = 0
	}
	s.Values[0] = math.Inf(1)
	s.Min, s.Max = 1e-23, 1e-20
	var buf bytes.Buffer
	if err := WriteSpectrogram(&buf, s, 0, 0); err != nil {
		t.Fatal(err)
	}
	decode(t, buf.Bytes())

	// A constant spectrogram gets a decade of scale around its value.
	c := Spectrogram{DT: 1, DF: 1, Times: 2, Freqs: 2, Values: []float64{5, 5, 5, 5}}
	buf.Reset()
	if err := WriteSpectrogram(&buf, c, 0, 0); err != nil {
		t.Fatal(err)
	}
	decode(t, buf.Bytes())
}

func TestWriteSpectrogramErrors(t *testing.T) {
	t.Parallel()
	ok := Spectrogram{DT: 1, DF: 1, Times: 2, Freqs: 2, Values: []float64{1, 2, 3, 4}}
	with := func(f func(*Spectrogram)) Spectrogram { s := ok; f(&s); return s }
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		s      Spectrogram
		noData bool
	}{
		{"no rows", with(func(s *Spectrogram) { s.Times, s.Values = 0, nil }), true},
		{"no columns", with(func(s *Spectrogram) { s.Freqs, s.Values = 0, nil }), true},
		{"short values", with(func(s *Spectrogram) { s.Values = s.Values[:3] }), false},
		{"zero dt", with(func(s *Spectrogram) { s.DT = 0 }), false},
		{"NaN df", with(func(s *Spectrogram) { s.DF = nan }), false},
		{"infinite t0", with(func(s *Spectrogram) { s.T0 = math.Inf(-1) }), false},
		{"all NaN", with(func(s *Spectrogram) { s.Values = []float64{nan, nan, nan, nan} }), true},
		{"all zero", with(func(s *Spectrogram) { s.Values = []float64{0, 0, 0, 0} }), true},
		{"min above max", with(func(s *Spectrogram) { s.Min, s.Max = 2, 1 }), false},
		{"negative limit", with(func(s *Spectrogram) { s.Min = -1 }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteSpectrogram(&buf, tc.s, 0, 0)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := errors.Is(err, ErrNoData); got != tc.noData {
				t.Errorf("errors.Is(%q, ErrNoData) = %v, want %v", err, got, tc.noData)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes along with an error", buf.Len())
			}
		})
	}
}

func TestConcurrentRendering(t *testing.T) {
	t.Parallel()
	freqs, asd := darm(1025, 1, 4)
	s := spectrogram(-1)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			var buf bytes.Buffer
			errs <- WriteASD(&buf, ASD{Freqs: freqs, Stored: asd, Recomputed: asd}, 400, 300)
			errs <- WriteSpectrogram(&buf, s, 400, 300)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestTickLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1e-21, "1e-21"}, {2e-21, "2e-21"}, {1.5e-4, "1.5e-4"}, {0.001, "0.001"},
		{1, "1"}, {100, "100"}, {20000, "20000"}, {1e5, "1e5"}, {2e6, "2e6"}, {0, "0"},
	} {
		if got := tickLabel(tc.v); got != tc.want {
			t.Errorf("tickLabel(%g) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	t.Parallel()
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range (logTicks{}).Ticks(lo, hi) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{3e-22, 5e-20, []string{"1e-21", "1e-20"}},
		{0.25, 2048, []string{"1", "10", "100", "1000"}},
		{2e-21, 3e-20, []string{"2e-21", "5e-21", "1e-20", "2e-20"}},
		{1e-30, 1e-10, []string{"1e-30", "1e-27", "1e-24", "1e-21", "1e-18", "1e-15", "1e-12"}},
	} {
		got := labels(tc.lo, tc.hi)
		if len(got) != len(tc.want) {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.lo, tc.hi, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
	// Too narrow for decades: the linear default still labels the range.
	if got := labels(1, 1.05); len(got) < 2 {
		t.Errorf("Ticks(1, 1.05) labels %q, want at least two", got)
	}
}

func BenchmarkWriteASD(b *testing.B) {
	freqs, asd := darm(8193, 0.25, 5)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteASD(&buf, ASD{Freqs: freqs, Stored: asd, Recomputed: asd}, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSpectrogram(b *testing.B) {
	s := spectrogram(-1)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteSpectrogram(&buf, s, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestThin(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 3))
	var pts []vg.Point
	for i := range 5000 {
		pts = append(pts, vg.Point{X: vg.Length(math.Log10(float64(i+1)) * 100), Y: vg.Length(r.NormFloat64())})
	}
	orig := append([]vg.Point(nil), pts...)
	got := thin(pts, 1)
	if len(got) >= len(orig)/2 {
		t.Errorf("kept %d of %d points, want far fewer", len(got), len(orig))
	}
	// Per pixel column: the same first, last, lowest and highest point.
	type ext struct{ first, last, lo, hi vg.Point }
	summary := func(ps []vg.Point) map[int]ext {
		m := map[int]ext{}
		for _, p := range ps {
			c := int(math.Floor(float64(p.X)))
			e, ok := m[c]
			if !ok {
				e = ext{p, p, p, p}
			}
			e.last = p
			if p.Y < e.lo.Y {
				e.lo = p
			}
			if p.Y > e.hi.Y {
				e.hi = p
			}
			m[c] = e
		}
		return m
	}
	want, have := summary(orig), summary(got)
	if len(want) != len(have) {
		t.Fatalf("got %d columns, want %d", len(have), len(want))
	}
	for c, w := range want {
		if have[c] != w {
			t.Errorf("column %d: got %+v, want %+v", c, have[c], w)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i].X < got[i-1].X {
			t.Fatalf("point %d out of order", i)
		}
	}
}
