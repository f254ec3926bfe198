package processor

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/alloctest"
	"github.com/gwwatchd/gwwatchd/internal/samples"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// typed returns x as samples of type d, scaled into most of its range
// and, for integers, rounded, as a digitizer gives them. int64 and uint64
// samples lie beyond 2^53 and are not all multiples of its spacing there,
// so that converting them rounds.
func typed(x []float64, d samples.DType) any {
	out := samples.Make(d, len(x))
	switch v := out.(type) {
	case []int8:
		fill(v, x, -120, 120)
	case []int16:
		fill(v, x, -30000, 30000)
	case []int32:
		fill(v, x, -2e9, 2e9)
	case []int64:
		fill(v, x, 1<<60, 1<<60+1<<40)
		for i := range v {
			v[i] += int64(i % 7)
		}
	case []uint8:
		fill(v, x, 5, 250)
	case []uint16:
		fill(v, x, 100, 65000)
	case []uint32:
		fill(v, x, 1e3, 4e9)
	case []uint64:
		fill(v, x, 1<<62, 1<<62+1<<40)
		for i := range v {
			v[i] += uint64(i % 5)
		}
	case []float32:
		fill(v, x, -1e-3, 1e-3)
	}
	return out
}

// fill maps x linearly onto [lo, hi] in dst, rounding for integers.
func fill[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](dst []T, x []float64, lo, hi float64) {
	xlo, xhi := slices.Min(x), slices.Max(x)
	_, isFloat := any(dst).([]float32)
	for i, v := range x {
		y := lo + (v-xlo)/(xhi-xlo)*(hi-lo)
		if !isFloat {
			y = math.Round(y)
		}
		dst[i] = T(y)
	}
}

// sameBits fails t unless got and want hold the same float64 values to
// the bit.
func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: value %d is %v (%#x), that of the float64 conversion %v (%#x)",
				what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// The spectra of samples of any real type read a segment at a time are
// those of the samples converted to float64 first, to the bit, on every
// path: serial and parallel, rows per worker and segments per row, mean
// and median.
func TestTypedSamplesMatchFloat64(t *testing.T) {
	t.Parallel()
	const fs = 1024
	x := colouredSeries(fs*20+300, fs, 7)
	types := []samples.DType{samples.Int16, samples.Int32, samples.Float32, samples.Uint16, samples.Int64,
		samples.Int8, samples.Uint8, samples.Uint32, samples.Uint64}
	for _, d := range types {
		values := typed(x, d)
		f := samples.Float64s(values)
		if samples.Of(values) != d || len(f) != len(x) {
			t.Fatalf("%s: got %T of %d", d, values, len(f))
		}
		for _, m := range []string{MethodMedian, MethodMean} {
			for _, par := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%s/parallel=%d", d, m, par), func(t *testing.T) {
					p, ref := New(par), New(par)
					prm := hannParams(1, 0.5, m)
					got, err := p.ASDOf(values, fs, prm)
					if err != nil {
						t.Fatal(err)
					}
					want, err := ref.ASD(f, fs, prm)
					if err != nil {
						t.Fatal(err)
					}
					sameBits(t, "ASD", got.Values, want.Values)
					if got.Segments != want.Segments || got.NFFT != want.NFFT || got.DF != want.DF {
						t.Errorf("ASD: got %+v, want %+v", *got, *want)
					}
					// Strides of 2 s give rows per worker, one of 16 s a
					// single row whose segments are shared out.
					for _, stride := range []float64{2, 16} {
						gsg, err := p.GWpySpectrogramOf(values, fs, stride, prm)
						if err != nil {
							t.Fatal(err)
						}
						wsg, err := ref.GWpySpectrogram(f, fs, stride, prm)
						if err != nil {
							t.Fatal(err)
						}
						sameBits(t, fmt.Sprintf("GWpySpectrogram, stride %g s", stride), gsg.Values, wsg.Values)
						gsg, err = p.SpectrogramOf(values, fs, stride, prm)
						if err != nil {
							t.Fatal(err)
						}
						wsg, err = ref.Spectrogram(f, fs, stride, prm)
						if err != nil {
							t.Fatal(err)
						}
						sameBits(t, fmt.Sprintf("Spectrogram, stride %g s", stride), gsg.Values, wsg.Values)
						if gsg.Times != wsg.Times || gsg.Freqs != wsg.Freqs {
							t.Errorf("Spectrogram, stride %g s: got %d×%d, want %d×%d", stride, gsg.Times, gsg.Freqs, wsg.Times, wsg.Freqs)
						}
					}
				})
			}
		}
	}
	// float64 samples given as any are read in place, as by ASD.
	p := New(2)
	got, err := p.ASDOf(x, fs, hannParams(1, 0.5, MethodMedian))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := New(2).ASD(x, fs, hannParams(1, 0.5, MethodMedian))
	sameBits(t, "ASDOf of float64", got.Values, want.Values)
}

// float32 samples are checked for being finite as float64 ones are;
// integers always are; complex samples have no spectra here.
func TestTypedSamplesSkip(t *testing.T) {
	t.Parallel()
	const fs = 512
	x := colouredSeries(fs*8, fs, 2)
	f32 := typed(x, samples.Float32).([]float32)
	f32[100], f32[200], f32[300] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	p := New(2)
	prm := hannParams(1, 0.5, MethodMedian)
	_, err := p.ASDOf(f32, fs, prm)
	checkSkip(t, err, ErrNonFinite, "3 of 4096 samples are not finite (first at index 100)")
	_, err = p.GWpySpectrogramOf(f32, fs, 2, prm)
	checkSkip(t, err, ErrNonFinite, "3 of 4096 samples are not finite (first at index 100)")
	_, err = p.SpectrogramOf(f32, fs, 2, prm)
	checkSkip(t, err, ErrNonFinite, "3 of 4096 samples are not finite (first at index 100)")
	_, err = p.ASDOf(typed(x[:300], samples.Int16), fs, prm)
	checkSkip(t, err, ErrTooShort, "300 samples is shorter than one FFT segment of 512 (fftlength 1 s at 512 Hz)")
	if _, err := p.ASDOf(typed(x, samples.Int16), fs, prm); err != nil {
		t.Errorf("int16: %v", err)
	}
	_, err = p.ASDOf(make([]complex64, 4096), fs, prm)
	checkSkip(t, err, ErrBadParams, "complex64 samples: spectra are made of real-valued samples only")
	_, err = p.GWpySpectrogramOf([]string{"1"}, fs, 2, prm)
	checkSkip(t, err, ErrBadParams, "[]string samples: spectra are made of real-valued samples only")
}

// The spectra of an int16 series make no float64 copy of it: the ASD
// allocates its periodograms for the median (nothing whole for the mean)
// and the spectrogram its values, and a segment's worth of scratch. It
// measures the process's allocations, so it does not run in parallel.
func TestTypedSamplesAllocateNoCopy(t *testing.T) {
	testsize.Large(t)
	const fs = 16384
	n := 8 << 20 // 512 s
	if !testsize.Full() {
		n = 1 << 20 // 64 s: a float64 copy (8 MiB) still exceeds the slack
	}
	x := typed(colouredSeries(n, fs, 3), samples.Int16).([]int16)
	whole := uint64(8 * n)
	const slack = 2 << 20
	for _, m := range []string{MethodMedian, MethodMean} {
		p := New(2)
		prm := hannParams(4, 2, m)
		// Plans and scratch are made once per Processor.
		if _, err := p.ASDOf(x[:fs*8], fs, prm); err != nil {
			t.Fatal(err)
		}
		var a *ASD
		got := alloctest.Bytes(func() {
			var err error
			if a, err = p.ASDOf(x, fs, prm); err != nil {
				t.Fatal(err)
			}
		})
		var periodograms uint64
		if m == MethodMedian {
			periodograms = uint64(8 * a.Segments * len(a.Values))
		}
		t.Logf("ASD, %s, of %d int16 samples: %d bytes allocated, periodograms %d, a float64 copy %d", m, n, got, periodograms, whole)
		if got > periodograms+slack {
			t.Errorf("ASD, %s: allocated %d bytes, want at most the periodograms' %d and %d more (a float64 copy is %d)",
				m, got, periodograms, slack, whole)
		}

		prm = hannParams(2, 1, m)
		if _, err := p.GWpySpectrogramOf(x[:fs*16], fs, 8, prm); err != nil {
			t.Fatal(err)
		}
		var sg *Spectrogram
		got = alloctest.Bytes(func() {
			var err error
			if sg, err = p.GWpySpectrogramOf(x, fs, 8, prm); err != nil {
				t.Fatal(err)
			}
		})
		values := uint64(8 * len(sg.Values))
		t.Logf("spectrogram, %s, of %d int16 samples: %d bytes allocated, values %d", m, n, got, values)
		if got > values+slack {
			t.Errorf("spectrogram, %s: allocated %d bytes, want at most its values' %d and %d more (a float64 copy is %d)",
				m, got, values, slack, whole)
		}
	}
}

// ASDFrequencies gives the frequencies of the ASD, and its errors,
// without making it.
func TestASDFrequencies(t *testing.T) {
	t.Parallel()
	const fs = 512
	x := colouredSeries(fs*8, fs, 4)
	nan := slices.Clone(x)
	nan[7] = math.NaN()
	p := New(2)
	for _, c := range []struct {
		name   string
		values any
		fs     float64
		prm    Params
	}{
		{"float64", x, fs, hannParams(1, 0.5, MethodMedian)},
		{"int16", typed(x, samples.Int16), fs, hannParams(0.3, 0.1, MethodMean)},
		{"odd nfft", typed(x, samples.Float32), fs, hannParams(0.127, 0.05, MethodMedian)},
		{"too short", x[:100], fs, hannParams(1, 0.5, MethodMedian)},
		{"not finite", nan, fs, hannParams(1, 0.5, MethodMedian)},
		{"bad rate", x, 0, hannParams(1, 0.5, MethodMedian)},
		{"bad method", x, fs, hannParams(1, 0.5, "average")},
		{"complex", make([]complex128, 4096), fs, hannParams(1, 0.5, MethodMedian)},
	} {
		got, err := p.ASDFrequencies(c.values, c.fs, c.prm)
		a, aerr := New(1).ASDOf(c.values, c.fs, c.prm)
		if aerr != nil {
			if err == nil || err.Error() != aerr.Error() || !errors.Is(err, aerr.(*SkipError).Kind) {
				t.Errorf("%s: got error %v, want that of ASDOf, %v", c.name, err, aerr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		sameBits(t, c.name, got, a.Frequencies())
	}
}
