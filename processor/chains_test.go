package processor

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// chainInput is a test series: the tutorial's coloured noise with a 50 Hz
// line, or white noise.
type chainInput struct {
	name    string
	seconds float64
	fs      float64
	white   bool
	n       int     // samples, if not all of the seconds
	offset  float64 // added to every sample, as a channel's DC offset
}

func (in chainInput) series() []float64 {
	n := int(in.seconds * in.fs)
	if in.n > 0 {
		n = in.n
	}
	x := synth.Coloured(n, in.fs, 50, 7)
	if in.white {
		x = synth.White(n, 7)
	}
	for i := range x {
		x[i] += in.offset
	}
	return x
}

// file names the series' file.
func (in chainInput) file() string {
	name := in.name
	if in.n > 0 {
		name += fmt.Sprintf("-%d", in.n)
	}
	if in.offset != 0 {
		name += fmt.Sprintf("-offset%g", in.offset)
	}
	return name + ".f64"
}

// first returns the first n samples of in.
func (in chainInput) first(n int) chainInput {
	in.n = n
	return in
}

// chainCase is one product made both here and by chains_ref.py.
type chainCase struct {
	kind     string    // "lowpass", "highpass", "bandpass", "resample" or "trend"
	order    int       // filters
	wn       []float64 // filters: critical frequencies, Hz
	up, down int       // resample
	stride   float64   // trend, s
}

func (c chainCase) filter() bool {
	return c.kind == "lowpass" || c.kind == "highpass" || c.kind == "bandpass"
}

func (c chainCase) String() string {
	switch {
	case c.filter():
		return fmt.Sprintf("%s/N=%d/%v", c.kind, c.order, c.wn)
	case c.kind == "resample":
		return fmt.Sprintf("resample/%d/%d", c.up, c.down)
	}
	return fmt.Sprintf("trend/%gs", c.stride)
}

// spec describes c to chains_ref.py, but for the file names.
func (c chainCase) spec(fs float64) chainSpec {
	s := chainSpec{Kind: c.kind, FS: fs, Order: c.order, Wn: c.wn, Up: c.up, Down: c.down}
	if c.kind == "trend" {
		s.NStride = int(math.Round(c.stride * fs))
	}
	return s
}

// compute makes the product c describes from x, sampled at fs Hz, through
// the public API: its values (a trend's as trendColumns) and, for a
// filter, its sections.
func (c chainCase) compute(x []float64, fs float64) ([]float64, SOS, error) {
	var (
		sos SOS
		err error
	)
	switch c.kind {
	case "lowpass":
		sos, err = LowpassSOS(fs, FilterParams{Order: c.order, Cutoff: c.wn[0]})
	case "highpass":
		sos, err = HighpassSOS(fs, FilterParams{Order: c.order, Cutoff: c.wn[0]})
	case "bandpass":
		sos, err = BandpassSOS(fs, BandParams{Order: c.order, Low: c.wn[0], High: c.wn[1]})
	case "resample":
		y, err := Resample(x, fs, ResampleParams{Up: c.up, Down: c.down})
		return y, nil, err
	case "trend":
		tr, err := Trends(x, fs, TrendParams{Stride: c.stride})
		if err != nil {
			return nil, nil, err
		}
		if want := math.Round(c.stride*fs) / fs; tr.DT != want {
			return nil, nil, fmt.Errorf("DT: got %g, want %g", tr.DT, want)
		}
		return trendColumns(tr), nil, nil
	default:
		return nil, nil, fmt.Errorf("unknown kind %q", c.kind)
	}
	if err != nil {
		return nil, nil, err
	}
	y, err := sos.FiltFilt(x)
	return y, sos, err
}

// check compares c made from x against the reference values and
// sections, within the bounds scipy and numpy are matched to: sections
// to 1e-12 (sosRelErr), filtered and resampled series to 1e-9 of the
// input's RMS sample by sample, trends to 1e-12 relative. It returns the
// errors, so measured, of the output and of the sections.
func (c chainCase) check(t *testing.T, x []float64, fs float64, want []float64, wantSOS SOS) (outErr, sosErr float64) {
	t.Helper()
	got, sos, err := c.compute(x, fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.filter() {
		if len(sos) != len(wantSOS) {
			t.Fatalf("got %d sections, want %d", len(sos), len(wantSOS))
		}
		var at string
		if sosErr, at = sosRelErr(sos, wantSOS); sosErr > 1e-12 {
			t.Errorf("sos%s (relative error %.3g > 1e-12)", at, sosErr)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	if c.kind == "trend" {
		e, at := maxRelErr(got, want)
		if e > 1e-12 {
			rows := len(got) / 5
			t.Errorf("%s of row %d: got %.17g, want %.17g (relative error %.3g > 1e-12)",
				[]string{"mean", "min", "max", "rms", "n"}[at/rows], at%rows, got[at], want[at], e)
		}
		return e, 0
	}
	e, at := maxAbsErr(got, want)
	r := rms(x)
	if e > 1e-9*r {
		t.Errorf("sample %d: got %.17g, want %.17g (error %.3g of the RMS %.3g > 1e-9)", at, got[at], want[at], e/r, r)
	}
	return e / r, sosErr
}

// rms returns the root mean square of x.
func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// maxAbsErr returns the largest |got−want| and where it occurs.
func maxAbsErr(got, want []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range want {
		if e := math.Abs(got[i] - want[i]); !(e <= worst) {
			worst, at = e, i
		}
	}
	return worst, at
}

// sosRelErr returns the largest error of the coefficients of got against
// want, relative to the largest coefficient of the same polynomial (b or
// a of the section), and where it occurs. Measuring each coefficient
// against its own magnitude would fail on those that cancel to nothing,
// such as a1 of a pole pair on the imaginary axis (a cutoff at fs/4),
// where scipy's value is itself rounding noise: −2.8e-17 for a lowpass of
// order 8 at 4096 Hz of 16384 Hz.
func sosRelErr(got, want SOS) (float64, string) {
	worst, at := 0.0, ""
	for i := range want {
		for _, poly := range [][]int{{0, 1, 2}, {3, 4, 5}} {
			var scale float64
			for _, j := range poly {
				scale = max(scale, math.Abs(want[i][j]))
			}
			for _, j := range poly {
				g, w := got[i][j], want[i][j]
				if e := math.Abs(g-w) / scale; !(e <= worst) {
					worst, at = e, fmt.Sprintf("[%d][%d]: got %.17g, want %.17g", i, j, g, w)
				}
			}
		}
	}
	return worst, at
}

// trendColumns returns tr as chains_ref.py writes a trend.
func trendColumns(tr *Trend) []float64 {
	var out []float64
	out = append(out, tr.Mean...)
	out = append(out, tr.Min...)
	out = append(out, tr.Max...)
	out = append(out, tr.RMS...)
	for _, n := range tr.N {
		out = append(out, float64(n))
	}
	return out
}

func TestChainErrors(t *testing.T) {
	x := synth.White(4096, 1)
	withNaN := slices.Clone(x)
	withNaN[3], withNaN[700] = math.NaN(), math.Inf(-1)
	lp := func(x []float64, fs float64, order int, cutoff float64) func() error {
		return func() error {
			_, err := Lowpass(x, fs, FilterParams{Order: order, Cutoff: cutoff})
			return err
		}
	}
	hp := func(x []float64, order int, cutoff float64) func() error {
		return func() error {
			_, err := Highpass(x, 16384, FilterParams{Order: order, Cutoff: cutoff})
			return err
		}
	}
	bp := func(order int, low, high float64) func() error {
		return func() error {
			_, err := Bandpass(x, 16384, BandParams{Order: order, Low: low, High: high})
			return err
		}
	}
	rs := func(x []float64, fs float64, up, down int) func() error {
		return func() error {
			_, err := Resample(x, fs, ResampleParams{Up: up, Down: down})
			return err
		}
	}
	to := func(fs, rate float64) func() error {
		return func() error {
			_, err := ResampleTo(fs, rate)
			return err
		}
	}
	tr := func(x []float64, fs, stride float64) func() error {
		return func() error {
			_, err := Trends(x, fs, TrendParams{Stride: stride})
			return err
		}
	}
	ff := func(sos SOS) func() error {
		return func() error {
			_, err := sos.FiltFilt(x)
			return err
		}
	}
	cases := []struct {
		name string
		call func() error
		kind error
		msg  string
	}{
		{"order 0", lp(x, 16384, 0, 100), ErrBadParams, "order must be from 1 to 64, got 0"},
		{"order too high", lp(x, 16384, 65, 100), ErrBadParams, "order must be from 1 to 64, got 65"},
		{"zero cutoff", lp(x, 16384, 4, 0), ErrBadParams, "cutoff must be above 0 Hz, got 0 Hz"},
		{"negative cutoff", hp(x, 4, -10), ErrBadParams, "cutoff must be above 0 Hz, got -10 Hz"},
		{"NaN cutoff", hp(x, 4, math.NaN()), ErrBadParams, "cutoff must be above 0 Hz, got NaN Hz"},
		{"cutoff at Nyquist", lp(x, 16384, 4, 8192), ErrBadParams, "cutoff 8192 Hz is not below the Nyquist frequency 8192 Hz"},
		{"cutoff above Nyquist", hp(x, 4, 10000), ErrBadParams, "cutoff 10000 Hz is not below the Nyquist frequency 8192 Hz"},
		{"infinite cutoff", hp(x, 4, math.Inf(1)), ErrBadParams, "cutoff +Inf Hz is not below the Nyquist frequency 8192 Hz"},
		{"zero sample rate", lp(x, 0, 4, 10), ErrBadParams, "sample rate must be positive and finite, got 0 Hz"},
		{"NaN sample rate", lp(x, math.NaN(), 4, 10), ErrBadParams, "sample rate must be positive and finite, got NaN Hz"},
		{"band reversed", bp(4, 300, 30), ErrBadParams, "low 300 Hz is not below high 30 Hz"},
		{"band empty", bp(4, 50, 50), ErrBadParams, "low 50 Hz is not below high 50 Hz"},
		{"band zero low", bp(4, 0, 50), ErrBadParams, "low must be above 0 Hz, got 0 Hz"},
		{"band high at Nyquist", bp(4, 10, 8192), ErrBadParams, "high 8192 Hz is not below the Nyquist frequency 8192 Hz"},
		{"band order 0", bp(0, 10, 100), ErrBadParams, "order must be from 1 to 64, got 0"},
		// Order 8 highpass: 4 sections, 9 taps, 27 samples each end.
		{"shorter than padding", hp(x[:27], 8, 10), ErrTooShort, "27 samples is not longer than the 27 samples the filter pads each end with"},
		// Order 1 lowpass: one first-order section, 2 taps.
		{"first-order padding", lp(x[:6], 16384, 1, 10), ErrTooShort, "6 samples is not longer than the 6 samples the filter pads each end with"},
		{"empty filtered", hp(nil, 2, 10), ErrTooShort, "0 samples is not longer than the 9 samples the filter pads each end with"},
		{"filter non-finite", hp(withNaN, 2, 10), ErrNonFinite, "2 of 4096 samples are not finite (first at index 3)"},
		{"no sections", ff(SOS{}), ErrBadParams, "the filter has no sections"},
		{"a0 not 1", ff(SOS{{1, 0, 0, 1, 0, 0}, {1, 0, 0, 2, 0, 0}}), ErrBadParams, "section 1 has a0 = 2; want 1"},
		{"up 0", rs(x, 16384, 0, 1), ErrBadParams, "up and down must be at least 1, got 0/1"},
		{"down negative", rs(x, 16384, 1, -2), ErrBadParams, "up and down must be at least 1, got 1/-2"},
		{"factor too large", rs(x, 16384, 1001, 1), ErrBadParams, "up/down 1001/1 reduces to 1001/1; up and down must be at most 1000"},
		{"reduced factor too large", rs(x, 16384, 2002, 4), ErrBadParams, "up/down 2002/4 reduces to 1001/2; up and down must be at most 1000"},
		{"resample rate", rs(x, -1, 1, 2), ErrBadParams, "sample rate must be positive and finite, got -1 Hz"},
		{"resample empty", rs(nil, 16384, 1, 2), ErrTooShort, "0 samples to resample"},
		{"resample non-finite", rs(withNaN, 16384, 1, 2), ErrNonFinite, "2 of 4096 samples are not finite (first at index 3)"},
		{"rate not a small ratio", to(16384, 1000), ErrBadParams, "resampling 16384 Hz to 1000 Hz needs up/down = 125/2048; up and down must be at most 1000"},
		{"rate not rational", to(16384, 1000.3), ErrBadParams, "resampling 16384 Hz to 1000.3 Hz needs a ratio up/down with up and down at most 1000, and there is none"},
		{"rate zero", to(16384, 0), ErrBadParams, "target rate must be positive and finite, got 0 Hz"},
		{"rate from zero", to(0, 4096), ErrBadParams, "sample rate must be positive and finite, got 0 Hz"},
		{"stride zero", tr(x, 16384, 0), ErrBadParams, "stride must be positive and finite, got 0 s"},
		{"stride infinite", tr(x, 16384, math.Inf(1)), ErrBadParams, "stride must be positive and finite, got +Inf s"},
		{"stride not whole", tr(x, 16384, 0.1), ErrBadParams, "stride 0.1 s at 16384 Hz is 1638.4 samples; it must be a whole number"},
		{"stride below a sample", tr(x, 100, 0.001), ErrBadParams, "stride 0.001 s at 100 Hz is 0.1 samples; it must be a whole number"},
		{"trend empty", tr(nil, 16384, 1), ErrTooShort, "0 samples to trend"},
		{"trend non-finite", tr(withNaN, 16384, 1), ErrNonFinite, "2 of 4096 samples are not finite (first at index 3)"},
		{"trend rate", tr(x, math.Inf(1), 1), ErrBadParams, "sample rate must be positive and finite, got +Inf Hz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkSkip(t, c.call(), c.kind, c.msg) })
	}
}

// TestFilterPadding checks the shortest series each filter accepts: one
// more sample than it pads each end with, as scipy requires.
func TestFilterPadding(t *testing.T) {
	x := synth.White(100, 2)
	for _, c := range []struct {
		name string
		sos  func() (SOS, error)
		want int
	}{
		{"lowpass order 1", func() (SOS, error) { return LowpassSOS(1024, FilterParams{Order: 1, Cutoff: 100}) }, 6},
		{"lowpass order 3", func() (SOS, error) { return LowpassSOS(1024, FilterParams{Order: 3, Cutoff: 100}) }, 12},
		{"highpass order 8", func() (SOS, error) { return HighpassSOS(1024, FilterParams{Order: 8, Cutoff: 100}) }, 27},
		{"bandpass order 1", func() (SOS, error) { return BandpassSOS(1024, BandParams{Order: 1, Low: 10, High: 100}) }, 9},
		{"bandpass order 3", func() (SOS, error) { return BandpassSOS(1024, BandParams{Order: 3, Low: 10, High: 100}) }, 21},
	} {
		t.Run(c.name, func(t *testing.T) {
			sos, err := c.sos()
			if err != nil {
				t.Fatal(err)
			}
			if got := sos.PadLen(); got != c.want {
				t.Fatalf("PadLen: got %d, want %d", got, c.want)
			}
			if _, err := sos.FiltFilt(x[:c.want]); !errors.Is(err, ErrTooShort) {
				t.Errorf("%d samples: got error %v, want ErrTooShort", c.want, err)
			}
			y, err := sos.FiltFilt(x[:c.want+1])
			if err != nil || len(y) != c.want+1 {
				t.Errorf("%d samples: got %d samples and error %v", c.want+1, len(y), err)
			}
		})
	}
}

// TestFiltFiltSteadyState checks that a constant series starts each pass
// in the steady state: a lowpass passes it unchanged and a highpass
// removes it, with no transient at either end.
func TestFiltFiltSteadyState(t *testing.T) {
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 3.5
	}
	low, err := Lowpass(x, 1024, FilterParams{Order: 8, Cutoff: 5})
	if err != nil {
		t.Fatal(err)
	}
	high, err := Highpass(x, 1024, FilterParams{Order: 4, Cutoff: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if math.Abs(low[i]-3.5) > 1e-9 || math.Abs(high[i]) > 1e-9 {
			t.Fatalf("sample %d: lowpass %g, highpass %g; want 3.5 and 0", i, low[i], high[i])
		}
	}
}

func TestChainsLeaveInputAlone(t *testing.T) {
	x := synth.Coloured(5000, 1024, 50, 3)
	orig := slices.Clone(x)
	if _, err := Bandpass(x, 1024, BandParams{Order: 4, Low: 20, High: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := Resample(x, 1024, ResampleParams{Up: 3, Down: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := Trends(x, 1024, TrendParams{Stride: 1}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, orig) {
		t.Error("the input was modified")
	}
	y, err := Resample(x, 1024, ResampleParams{Up: 3, Down: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, x) || &y[0] == &x[0] {
		t.Error("3/3 resampling: want a copy of the input")
	}
}

func TestResampleTo(t *testing.T) {
	for _, c := range []struct {
		fs, rate float64
		up, down int
	}{
		{16384, 4096, 1, 4},
		{16384, 16000, 125, 128},
		{16384, 32768, 2, 1},
		{4096, 16384, 4, 1},
		{16384, 16384, 1, 1},
		{1000, 1024, 128, 125},
		{16384, 24576, 3, 2},
		{256.5, 513, 2, 1},
		{0.5, 0.25, 1, 2},
		{44100, 48000, 160, 147},
		{16384, 1000 * 16384.0 / 999, 1000, 999},
	} {
		prm, err := ResampleTo(c.fs, c.rate)
		if err != nil {
			t.Errorf("%g Hz to %g Hz: %v", c.fs, c.rate, err)
			continue
		}
		if prm.Up != c.up || prm.Down != c.down {
			t.Errorf("%g Hz to %g Hz: got %d/%d, want %d/%d", c.fs, c.rate, prm.Up, prm.Down, c.up, c.down)
		}
		if got := prm.Rate(c.fs); got != c.rate {
			t.Errorf("%g Hz by %d/%d: got rate %g, want %g", c.fs, prm.Up, prm.Down, got, c.rate)
		}
	}
}

func TestResampleLength(t *testing.T) {
	x := synth.White(1001, 4)
	for _, c := range []struct{ up, down, want int }{
		{1, 2, 501}, {2, 1, 2002}, {3, 2, 1502}, {1, 4, 251}, {5, 3, 1669}, {2, 4, 501},
	} {
		y, err := Resample(x, 1000, ResampleParams{Up: c.up, Down: c.down})
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != c.want {
			t.Errorf("%d/%d of 1001 samples: got %d, want %d", c.up, c.down, len(y), c.want)
		}
	}
}

func TestTrendPartialStride(t *testing.T) {
	const fs = 16
	x := make([]float64, 2*fs+5) // two strides of 1 s and 5 samples
	for i := range x {
		x[i] = float64(i%fs) - 2
	}
	tr, err := Trends(x, fs, TrendParams{Stride: SecondTrend})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.N, []int{16, 16, 5}) || tr.DT != 1 {
		t.Fatalf("got N %v and DT %g, want [16 16 5] and 1", tr.N, tr.DT)
	}
	// Stride 0..15 less 2: mean 5.5, min −2, max 13, mean square 51.5;
	// the last stride is 0..4 less 2.
	if want := []float64{5.5, 5.5, 0}; !slices.Equal(tr.Mean, want) {
		t.Errorf("Mean: got %v, want %v", tr.Mean, want)
	}
	if want := []float64{-2, -2, -2}; !slices.Equal(tr.Min, want) {
		t.Errorf("Min: got %v, want %v", tr.Min, want)
	}
	if want := []float64{13, 13, 2}; !slices.Equal(tr.Max, want) {
		t.Errorf("Max: got %v, want %v", tr.Max, want)
	}
	if want := []float64{math.Sqrt(51.5), math.Sqrt(51.5), math.Sqrt(2)}; !slices.Equal(tr.RMS, want) {
		t.Errorf("RMS: got %v, want %v", tr.RMS, want)
	}

	// A series shorter than one stride is one partial row.
	tr, err = Trends(x, fs, TrendParams{Stride: MinuteTrend})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.N, []int{len(x)}) || tr.DT != 60 {
		t.Errorf("minute trend of %d samples: got N %v and DT %g", len(x), tr.N, tr.DT)
	}
}

// TestChainAllocations checks that the allocations of each product do
// not grow with the length of the series.
func TestChainAllocations(t *testing.T) {
	const fs = 1024
	short, long := synth.Coloured(8*fs, fs, 50, 5), synth.Coloured(64*fs, fs, 50, 5)
	for _, c := range []struct {
		name string
		run  func(x []float64)
	}{
		{"bandpass", func(x []float64) { Bandpass(x, fs, BandParams{Order: 8, Low: 10, High: 100}) }},
		{"highpass", func(x []float64) { Highpass(x, fs, FilterParams{Order: 5, Cutoff: 10}) }},
		{"resample", func(x []float64) { Resample(x, fs, ResampleParams{Up: 3, Down: 2}) }},
		{"trend", func(x []float64) { Trends(x, fs, TrendParams{Stride: 1}) }},
	} {
		// Enough runs that an allocation the runtime makes meanwhile
		// (the count is the process's) does not show as one of the chain's.
		a := testing.AllocsPerRun(20, func() { c.run(short) })
		b := testing.AllocsPerRun(20, func() { c.run(long) })
		if b > a {
			t.Errorf("%s: got %v allocations for 8 s and %v for 64 s, want no growth", c.name, a, b)
		}
	}
}
