package processor

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

func hannParams(fftlength, overlap float64, method string) Params {
	return Params{FFTLength: fftlength, Overlap: overlap, Method: method, Window: WindowHann}
}

func TestSkipErrors(t *testing.T) {
	good := colouredSeries(4096*8, 4096, 1)
	withNaN := slices.Clone(good)
	withNaN[100], withNaN[200] = math.NaN(), math.Inf(1)
	withNaN[300] = math.Inf(-1)
	ok := hannParams(1, 0.5, MethodMedian)

	cases := []struct {
		name   string
		x      []float64
		fs     float64
		stride float64 // > 0 selects Spectrogram
		prm    Params
		kind   error
		msg    string
	}{
		{"non-finite", withNaN, 4096, 0, ok, ErrNonFinite,
			"3 of 32768 samples are not finite (first at index 100)"},
		{"non-finite spectrogram", withNaN, 4096, 2, ok, ErrNonFinite,
			"3 of 32768 samples are not finite (first at index 100)"},
		{"too short", good[:262], 4096, 0, hannParams(4, 2, MethodMedian), ErrTooShort,
			"262 samples is shorter than one FFT segment of 16384 (fftlength 4 s at 4096 Hz)"},
		{"empty", nil, 4096, 0, ok, ErrTooShort,
			"0 samples is shorter than one FFT segment of 4096 (fftlength 1 s at 4096 Hz)"},
		{"shorter than stride", good[:4096*3], 4096, 4, ok, ErrTooShort,
			"12288 samples is shorter than one stride of 16384 (stride 4 s at 4096 Hz)"},
		{"stride below fftlength", good, 4096, 0.5, ok, ErrBadParams,
			"stride 0.5 s (2048 samples) is shorter than fftlength 1 s (4096 samples)"},
		{"zero stride", good, 4096, -1, ok, ErrBadParams,
			"stride must be positive and finite, got -1 s"},
		{"zero fftlength", good, 4096, 0, hannParams(0, 0, MethodMedian), ErrBadParams,
			"fftlength must be positive and finite, got 0 s"},
		{"NaN fftlength", good, 4096, 0, hannParams(math.NaN(), 0, MethodMedian), ErrBadParams,
			"fftlength must be positive and finite, got NaN s"},
		{"overlap equals fftlength", good, 4096, 0, hannParams(1, 1, MethodMedian), ErrBadParams,
			"overlap must be at least 0 and less than fftlength 1 s, got 1 s"},
		{"negative overlap", good, 4096, 0, hannParams(1, -0.5, MethodMedian), ErrBadParams,
			"overlap must be at least 0 and less than fftlength 1 s, got -0.5 s"},
		{"overlap rounds to nfft", good, 4096, 0, hannParams(1, 1-1e-6, MethodMedian), ErrBadParams,
			"overlap 0.999999 s rounds to 4096 samples, not less than the 4096-sample segment"},
		{"nfft below 2", good, 4096, 0, hannParams(1e-4, 0, MethodMedian), ErrBadParams,
			"fftlength 0.0001 s at 4096 Hz is 0 samples; need at least 2"},
		{"unknown method", good, 4096, 0, hannParams(1, 0.5, "average"), ErrBadParams,
			`averaging method "average" is not supported (want "median" or "mean")`},
		{"unknown window", good, 4096, 0, Params{FFTLength: 1, Overlap: 0.5, Method: MethodMean, Window: "hamming"}, ErrBadParams,
			`window "hamming" is not supported (want "hann")`},
		{"zero sample rate", good, 0, 0, ok, ErrBadParams,
			"sample rate must be positive and finite, got 0 Hz"},
		{"infinite sample rate", good, math.Inf(1), 0, ok, ErrBadParams,
			"sample rate must be positive and finite, got +Inf Hz"},
	}
	p := New(2)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.stride != 0 {
				var sg *Spectrogram
				sg, err = p.Spectrogram(c.x, c.fs, c.stride, c.prm)
				if sg != nil {
					t.Errorf("got a spectrogram with error %v", err)
				}
			} else {
				var a *ASD
				a, err = p.ASD(c.x, c.fs, c.prm)
				if a != nil {
					t.Errorf("got an ASD with error %v", err)
				}
			}
			checkSkip(t, err, c.kind, c.msg)
		})
	}
}

// checkSkip fails t unless err is a *SkipError of kind with message msg.
func checkSkip(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want one matching %v", err, kind)
	}
	var se *SkipError
	if !errors.As(err, &se) || se.Kind != kind {
		t.Errorf("got %#v, want a *SkipError of kind %v", err, kind)
	}
	if err.Error() != msg {
		t.Errorf("got message %q, want %q", err.Error(), msg)
	}
}

func TestSpectrogramRowsMatchASD(t *testing.T) {
	const fs = 1024
	x := colouredSeries(fs*10+300, fs, 3) // 10 s plus a partial stride
	for _, c := range []struct {
		name   string
		stride float64
		prm    Params
		par    int
	}{
		{"median/rows-per-worker", 2, hannParams(0.5, 0.25, MethodMedian), 2},
		{"mean/rows-per-worker", 2, hannParams(0.5, 0.25, MethodMean), 2},
		{"median/serial", 2, hannParams(0.5, 0.25, MethodMedian), 1},
		{"median/one-row", 10, hannParams(2, 1, MethodMedian), 2},
		{"stride-equals-fftlength", 1, hannParams(1, 0.5, MethodMedian), 2},
		{"odd-stride", 1.3, hannParams(0.127, 0.05, MethodMean), 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			sg, err := New(c.par).Spectrogram(x, fs, c.stride, c.prm)
			if err != nil {
				t.Fatal(err)
			}
			nstride := int(math.RoundToEven(c.stride * fs))
			if want := len(x) / nstride; sg.Times != want {
				t.Fatalf("Times: got %d, want %d", sg.Times, want)
			}
			if len(sg.Values) != sg.Times*sg.Freqs {
				t.Fatalf("len(Values): got %d, want %d×%d", len(sg.Values), sg.Times, sg.Freqs)
			}
			if want := float64(nstride) / fs; sg.DT != want {
				t.Errorf("DT: got %g, want %g", sg.DT, want)
			}
			ref := New(1)
			for i := range sg.Times {
				a, err := ref.ASD(x[i*nstride:(i+1)*nstride], fs, c.prm)
				if err != nil {
					t.Fatal(err)
				}
				if sg.Freqs != len(a.Values) || sg.F0 != a.F0 || sg.DF != a.DF || sg.NFFT != a.NFFT ||
					sg.NOverlap != a.NOverlap || sg.SegmentsPerStride != a.Segments {
					t.Fatalf("row %d: got shape %+v, want that of %+v", i, *sg, *a)
				}
				if e, at := maxRelErr(sg.Row(i), a.Values); e > 1e-14 {
					t.Errorf("row %d bin %d: got %g, want %g", i, at, sg.Row(i)[at], a.Values[at])
				}
			}
		})
	}
}

// TestReuseAcrossNFFT checks that switching segment lengths leaves no
// state behind: a Processor cycled through more lengths than it caches
// plans for must agree exactly with a fresh one.
func TestReuseAcrossNFFT(t *testing.T) {
	const fs = 1024
	x := colouredSeries(fs*16, fs, 5)
	prms := []Params{
		hannParams(1, 0.5, MethodMedian),
		hannParams(0.25, 0, MethodMean),
		hannParams(0.127, 0.05, MethodMedian), // Bluestein
		hannParams(0.75, 0.25, MethodMedian),  // FFTPACK
		hannParams(4, 2, MethodMean),
		hannParams(1, 0.5, MethodMedian),
		hannParams(2, 1, MethodMedian),
		hannParams(0.5, 0.25, MethodMean),
	}
	for _, par := range []int{1, 2} {
		reused := New(par)
		for round := range 2 {
			for _, prm := range prms {
				got, err := reused.ASD(x, fs, prm)
				if err != nil {
					t.Fatal(err)
				}
				want, err := New(par).ASD(x, fs, prm)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Values, want.Values) {
					e, at := maxRelErr(got.Values, want.Values)
					t.Errorf("parallel=%d round %d %+v: reused differs from fresh at bin %d (relative %g)", par, round, prm, at, e)
				}
				sg, err := reused.Spectrogram(x, fs, 4, prm)
				if err != nil {
					t.Fatal(err)
				}
				wsg, err := New(par).Spectrogram(x, fs, 4, prm)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(sg.Values, wsg.Values) {
					t.Errorf("parallel=%d round %d %+v: reused spectrogram differs from fresh", par, round, prm)
				}
			}
		}
	}
}

func TestParallelismAgrees(t *testing.T) {
	const fs = 4096
	x := colouredSeries(fs*32+77, fs, 9)
	for _, m := range []string{MethodMedian, MethodMean} {
		prm := hannParams(2, 1, m)
		one, err := New(1).ASD(x, fs, prm)
		if err != nil {
			t.Fatal(err)
		}
		for _, par := range []int{2, 3, 8} {
			got, err := New(par).ASD(x, fs, prm)
			if err != nil {
				t.Fatal(err)
			}
			if e, at := maxRelErr(got.Values, one.Values); e > 1e-14 {
				t.Errorf("%s parallel=%d: bin %d got %g, want %g", m, par, at, got.Values[at], one.Values[at])
			}
		}
	}
}

func TestFrequencies(t *testing.T) {
	for _, c := range []struct {
		fs, fftlength float64
		nbins         int
		df            float64
	}{
		{4096, 1, 2049, 1},
		{4096, 4, 8193, 0.25},
		{16384, 4, 32769, 0.25},
		{1000, 0.127, 64, 1000.0 / 127},
		{1000, 0.128, 65, 1000.0 / 128},
	} {
		n := int(math.RoundToEven(c.fs*c.fftlength)) * 2
		a, err := New(1).ASD(colouredSeries(n, c.fs, 1), c.fs, hannParams(c.fftlength, c.fftlength/2, MethodMedian))
		if err != nil {
			t.Fatal(err)
		}
		f := a.Frequencies()
		if len(f) != c.nbins || len(a.Values) != c.nbins {
			t.Fatalf("fs %g fftlength %g: got %d frequencies and %d values, want %d", c.fs, c.fftlength, len(f), len(a.Values), c.nbins)
		}
		if a.F0 != 0 || a.DF != c.df {
			t.Errorf("fs %g fftlength %g: got F0 %g DF %g, want 0 and %g", c.fs, c.fftlength, a.F0, a.DF, c.df)
		}
		for k, v := range f {
			if want := float64(k) * c.df; math.Abs(v-want) > 1e-12*want {
				t.Errorf("f[%d]: got %g, want %g", k, v, want)
			}
		}
		if n := a.NFFT; n%2 == 0 && f[len(f)-1] != c.fs/2 {
			t.Errorf("last frequency: got %g, want Nyquist %g", f[len(f)-1], c.fs/2)
		}
	}
}

// TestDegenerateInput checks inputs whose periodograms are all equal
// (here zero), which must neither fail nor degrade the median selection.
func TestDegenerateInput(t *testing.T) {
	for _, v := range []float64{0, 1e3} {
		x := make([]float64, 256*2000)
		for i := range x {
			x[i] = v
		}
		a, err := New(2).ASD(x, 256, hannParams(1, 0.5, MethodMedian))
		if err != nil {
			t.Fatal(err)
		}
		if a.Segments != 3999 {
			t.Errorf("Segments: got %d, want 3999", a.Segments)
		}
		for k, got := range a.Values {
			if got != 0 {
				t.Fatalf("constant %g: bin %d got %g, want 0", v, k, got)
			}
		}
	}
}

func TestHannWindow(t *testing.T) {
	for _, n := range []int{2, 3, 16, 127, 4096} {
		w := make([]float64, n)
		hann(w)
		for i, got := range w {
			want := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
			if math.Abs(got-want) > 1e-15 {
				t.Errorf("n=%d w[%d]: got %.17g, want %.17g", n, i, got, want)
			}
		}
		if w[0] != 0 {
			t.Errorf("n=%d w[0]: got %g, want 0 (periodic window)", n, w[0])
		}
	}
}

func TestMedianBias(t *testing.T) {
	for _, c := range []struct {
		n    int
		want float64
	}{
		{1, 1},
		{2, 1},
		{3, 1 + 1.0/3 - 1.0/2},
		{4, 1 + 1.0/3 - 1.0/2},
		{5, 1 + 1.0/3 - 1.0/2 + 1.0/5 - 1.0/4},
		{100001, math.Ln2}, // the limit, approached as O(1/n)
	} {
		got, _ := medianBias(c.n, nil)
		if math.Abs(got-c.want) > 1e-5 {
			t.Errorf("medianBias(%d): got %.17g, want %.17g", c.n, got, c.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 32, 33, 100, 1001} {
		for seed := range uint64(20) {
			x := synth.White(n, seed)
			if seed%4 == 0 {
				// Many ties.
				for i := range x {
					x[i] = math.Round(x[i])
				}
			}
			s := slices.Clone(x)
			slices.Sort(s)
			want := s[n/2]
			if n%2 == 0 {
				want = (s[n/2-1] + s[n/2]) / 2
			}
			if got := median(x); got != want {
				t.Errorf("n=%d seed=%d: got %g, want %g", n, seed, got, want)
			}
		}
	}
}

// TestNetworksSort checks each sorting network of median on all 2^n
// inputs of zeros and ones: a network that sorts those sorts every input.
func TestNetworksSort(t *testing.T) {
	for n := 2; n < len(networks); n++ {
		for bitsOf := range 1 << n {
			a := make([]float64, n)
			for i := range a {
				a[i] = float64(bitsOf >> i & 1)
			}
			for _, c := range networks[n] {
				x, y := a[c[0]], a[c[1]]
				a[c[0]], a[c[1]] = min(x, y), max(x, y)
			}
			if !slices.IsSorted(a) {
				t.Fatalf("network for %d leaves %v unsorted (input %0*b)", n, a, n, bitsOf)
			}
		}
	}
}

func TestSelectKth(t *testing.T) {
	for _, n := range []int{1, 5, 9, 17, 64, 257} {
		for k := 0; k < n; k += max(1, n/7) {
			x := synth.White(n, uint64(n*k))
			s := slices.Clone(x)
			slices.Sort(s)
			if got := selectKth(x, k); got != s[k] {
				t.Fatalf("n=%d k=%d: got %g, want %g", n, k, got, s[k])
			}
			for i := range k {
				if x[i] > x[k] {
					t.Fatalf("n=%d k=%d: x[%d]=%g > x[k]=%g", n, k, i, x[i], x[k])
				}
			}
			for i := k + 1; i < n; i++ {
				if x[i] < x[k] {
					t.Fatalf("n=%d k=%d: x[%d]=%g < x[k]=%g", n, k, i, x[i], x[k])
				}
			}
		}
	}
}

// TestNoPerSegmentAllocation checks that the number of allocations per ASD
// does not grow with the number of segments.
func TestNoPerSegmentAllocation(t *testing.T) {
	const fs = 512
	for _, m := range []string{MethodMedian, MethodMean} {
		prm := hannParams(0.5, 0.25, m)
		var allocs []float64
		for _, seconds := range []int{128, 512} {
			x := colouredSeries(seconds*fs, fs, 1)
			p := New(2)
			if _, err := p.ASD(x, fs, prm); err != nil {
				t.Fatal(err)
			}
			allocs = append(allocs, testing.AllocsPerRun(3, func() { p.ASD(x, fs, prm) }))
		}
		if allocs[1] > allocs[0] {
			t.Errorf("%s: got %v allocations for 511 segments and %v for 2047, want no growth", m, allocs[0], allocs[1])
		}
	}
}

func TestPlanCache(t *testing.T) {
	p := New(2)
	for _, n := range []int{64, 128, 256, 512, 1024, 256} {
		pl := p.use(n)
		if pl.nfft != n || p.plans[0] != pl {
			t.Fatalf("use(%d): got plan for %d at front %d, want %d", n, pl.nfft, p.plans[0].nfft, n)
		}
		for i, w := range p.workers {
			if w.fft != pl.ffts[i] || w.fft.Len() != n {
				t.Fatalf("use(%d): worker %d has a transform of length %d", n, i, w.fft.Len())
			}
		}
	}
	var got []int
	for _, pl := range p.plans {
		got = append(got, pl.nfft)
	}
	if want := []int{256, 1024, 512, 128}; !slices.Equal(got, want) {
		t.Errorf("cached plans: got %v, want %v (most recent first, at most %d)", got, want, maxPlans)
	}
}
