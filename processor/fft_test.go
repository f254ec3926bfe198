package processor

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
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

func randomSeries(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
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
		make func(n int) realFFT
		ok   func(n int) bool
		tol  float64
	}{
		{"radix", func(n int) realFFT { return newRadixFFT(n) }, func(n int) bool { return n >= 4 && n&(n-1) == 0 }, 1e-13},
		{"bluestein", func(n int) realFFT { return newBluesteinFFT(n) }, func(int) bool { return true }, 1e-13},
		// Only the lengths newRealFFT gives to FFTPACK: its generic
		// prime-factor pass loses accuracy as the factor grows.
		{"gonum", func(n int) realFFT { return newGonumFFT(n) }, func(n int) bool { return n == 1 || largestPrimeFactor(n) <= maxGonumFactor }, 1e-13},
		{"auto", newRealFFT, func(int) bool { return true }, 1e-13},
	}
	sizes := []int{1, 2, 3, 4, 5, 8, 16, 31, 32, 64, 127, 128, 210, 256, 257, 512, 1000, 1024, 1031}
	for _, n := range sizes {
		x := randomSeries(n, uint64(n))
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
		x := randomSeries(n, 11)
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

func TestNewRealFFTChoice(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{2, "*processor.gonumFFT"},
		{3, "*processor.gonumFFT"},
		{4, "*processor.radixFFT"},
		{16, "*processor.radixFFT"},
		{65536, "*processor.radixFFT"},
		{1000, "*processor.gonumFFT"},
		{3 * 4096, "*processor.gonumFFT"},
		{127, "*processor.bluesteinFFT"},
		{4099, "*processor.bluesteinFFT"},
	} {
		if got := fmt.Sprintf("%T", newRealFFT(c.n)); got != c.want {
			t.Errorf("newRealFFT(%d): got %s, want %s", c.n, got, c.want)
		}
	}
}

func TestRadixAgainstGonum(t *testing.T) {
	for _, n := range []int{2048, 4096, 1 << 15, 1 << 16, 1 << 17} {
		x := randomSeries(n, 7)
		want := make([]complex128, n/2+1)
		newGonumFFT(n).Coefficients(want, x)
		got := make([]complex128, n/2+1)
		newRadixFFT(n).Coefficients(got, x)
		if e := maxSpectrumErr(got, want); e > 1e-13 {
			t.Errorf("n=%d: got max error %g relative to gonum, want ≤ 1e-13", n, e)
		}
	}
}
