package pairwise

import "testing"

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
