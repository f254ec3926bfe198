package pairwise

import (
	"math"
	"testing"
)

func TestSum(t *testing.T) {
	// Values whose naive left-to-right sum loses the small terms, which
	// pairwise summation keeps.
	for _, n := range []int{0, 1, 7, 8, 9, 127, 128, 129, 1000, 8192, 8193, 20000} {
		x := make([]float64, n)
		var want float64
		for i := range x {
			x[i] = float64(i%7) + 0.25
			want += x[i] // exactly representable partial sums
		}
		if got := Sum(x); got != want {
			t.Errorf("n=%d: got %g, want %g", n, got, want)
		}
	}
}

func TestStats(t *testing.T) {
	for _, n := range []int{1, 2, 7, 8, 9, 127, 128, 129, 1000, 8192, 8193, 16384, 20000} {
		x := make([]float64, n)
		sq := make([]float64, n)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range x {
			x[i] = math.Sin(float64(i)*1.7) * math.Exp(float64(i%11))
			sq[i] = x[i] * x[i]
			lo, hi = min(lo, x[i]), max(hi, x[i])
		}
		s, q, l, h := Stats(x)
		if s != Sum(x) || q != Sum(sq) || l != lo || h != hi {
			t.Errorf("n=%d: got %g, %g, %g, %g, want %g, %g, %g, %g", n, s, q, l, h, Sum(x), Sum(sq), lo, hi)
		}
	}
}
