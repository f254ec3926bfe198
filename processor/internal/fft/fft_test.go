package fft

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// naiveDFT returns X[0..n/2] of x by direct summation, with each
// exponential taken from a table indexed by the exactly reduced jk mod n.
func naiveDFT(x []float64) []complex128 {
	n := len(x)
	tw := make([]complex128, n)
	for j := range tw {
		tw[j] = twiddle(j, n)
	}
	out := make([]complex128, n/2+1)
	for k := range out {
		var s complex128
		for j, v := range x {
			s += complex(v, 0) * tw[j*k%n]
		}
		out[k] = s
	}
	return out
}

// maxSpectrumErr returns max |got−want| / max |want| over all bins.
func maxSpectrumErr(got, want []complex128) float64 {
	var scale, worst float64
	for _, w := range want {
		scale = math.Max(scale, cmplx.Abs(w))
	}
	for k := range want {
		worst = math.Max(worst, cmplx.Abs(got[k]-want[k]))
	}
	return worst / scale
}

func TestTwiddle(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 8, 12, 64, 1000, 65536} {
		for k := -n; k < 2*n; k++ {
			got := twiddle(k, n)
			theta := -2 * math.Pi * float64(k) / float64(n)
			want := complex(math.Cos(theta), math.Sin(theta))
			if d := cmplx.Abs(got - want); d > 1e-15*(1+math.Abs(float64(k))/float64(n)*8) {
				t.Fatalf("twiddle(%d, %d): got %v, want %v (diff %g)", k, n, got, want, d)
			}
		}
	}
}

func TestFFTAgainstNaiveDFT(t *testing.T) {
	impls := []struct {
		name string
		make func(n int) Real
		ok   func(n int) bool
		tol  float64
	}{
		{"radix", func(n int) Real { return newRadixFFT(n) }, func(n int) bool { return n >= 4 && n&(n-1) == 0 }, 1e-13},
		{"bluestein", func(n int) Real { return newBluesteinFFT(n) }, func(int) bool { return true }, 1e-13},
		// Only the lengths New gives to FFTPACK: its generic
		// prime-factor pass loses accuracy as the factor grows.
		{"gonum", func(n int) Real { return newGonumFFT(n) }, func(n int) bool { return n == 1 || largestPrimeFactor(n) <= maxGonumFactor }, 1e-13},
		{"auto", New, func(int) bool { return true }, 1e-13},
	}
	sizes := []int{1, 2, 3, 4, 5, 8, 16, 31, 32, 64, 127, 128, 210, 256, 257, 512, 1000, 1024, 1031}
	for _, n := range sizes {
		x := synth.White(n, uint64(n))
		want := naiveDFT(x)
		for _, impl := range impls {
			if !impl.ok(n) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", impl.name, n), func(t *testing.T) {
				f := impl.make(n)
				if f.Len() != n {
					t.Fatalf("Len: got %d, want %d", f.Len(), n)
				}
				got := make([]complex128, n/2+1)
				f.Coefficients(got, x)
				if e := maxSpectrumErr(got, want); e > impl.tol {
					t.Errorf("coefficients: got max error %g, want ≤ %g", e, impl.tol)
				}
				pow := make([]float64, n/2+1)
				f.Power(pow, x)
				for k, c := range got {
					w := real(c)*real(c) + imag(c)*imag(c)
					if d := math.Abs(pow[k] - w); d > 1e-12*(w+1) {
						t.Errorf("power[%d]: got %g, want %g", k, pow[k], w)
					}
				}
			})
		}
	}
}

func TestBluesteinAgainstGonum(t *testing.T) {
	// Lengths with small prime factors, where FFTPACK is accurate, some
	// just above a power of two so the convolution is nearly 4n long.
	for _, n := range []int{1000, 1025, 2310, 3 * 1024, 4100, 10000} {
		x := synth.White(n, 11)
		want := make([]complex128, n/2+1)
		newGonumFFT(n).Coefficients(want, x)
		got := make([]complex128, n/2+1)
		newBluesteinFFT(n).Coefficients(got, x)
		if e := maxSpectrumErr(got, want); e > 1e-13 {
			t.Errorf("n=%d: got max error %g relative to gonum, want ≤ 1e-13", n, e)
		}
	}
}

func TestLargestPrimeFactor(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{2, 2}, {3, 3}, {4, 2}, {12, 3}, {127, 127}, {1000, 5}, {4099, 4099}, {2 * 4099, 4099}, {65536, 2}, {9 * 49, 7},
	} {
		if got := largestPrimeFactor(c.n); got != c.want {
			t.Errorf("largestPrimeFactor(%d): got %d, want %d", c.n, got, c.want)
		}
	}
}

func TestNewChoice(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{2, "*fft.gonumFFT"},
		{3, "*fft.gonumFFT"},
		{4, "*fft.radixFFT"},
		{16, "*fft.radixFFT"},
		{65536, "*fft.radixFFT"},
		{1000, "*fft.gonumFFT"},
		{3 * 4096, "*fft.gonumFFT"},
		{127, "*fft.bluesteinFFT"},
		{4099, "*fft.bluesteinFFT"},
	} {
		if got := fmt.Sprintf("%T", New(c.n)); got != c.want {
			t.Errorf("New(%d): got %s, want %s", c.n, got, c.want)
		}
	}
}

func TestRadixAgainstGonum(t *testing.T) {
	for _, n := range []int{2048, 4096, 1 << 15, 1 << 16, 1 << 17} {
		x := synth.White(n, 7)
		want := make([]complex128, n/2+1)
		newGonumFFT(n).Coefficients(want, x)
		got := make([]complex128, n/2+1)
		newRadixFFT(n).Coefficients(got, x)
		if e := maxSpectrumErr(got, want); e > 1e-13 {
			t.Errorf("n=%d: got max error %g relative to gonum, want ≤ 1e-13", n, e)
		}
	}
}

func benchmarkFFT(b *testing.B, f Real) {
	n := f.Len()
	x := synth.White(n, 1)
	dst := make([]float64, n/2+1)
	b.SetBytes(int64(8 * n))
	b.ReportAllocs()
	for b.Loop() {
		f.Power(dst, x)
	}
}

// BenchmarkFFT65536 times the power spectrum of a 4 s segment at 16384 Hz
// with each implementation (Bluestein is normally used only for lengths
// with a large prime factor).
func BenchmarkFFT65536(b *testing.B) {
	b.Run("radix", func(b *testing.B) { benchmarkFFT(b, newRadixFFT(65536)) })
	b.Run("gonum", func(b *testing.B) { benchmarkFFT(b, newGonumFFT(65536)) })
	b.Run("bluestein", func(b *testing.B) { benchmarkFFT(b, newBluesteinFFT(65536)) })
}
