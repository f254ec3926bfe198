package fir

import (
	"math"
	"testing"
)

func TestI0(t *testing.T) {
	// scipy.special.i0 1.10.1.
	for _, c := range []struct{ x, want float64 }{
		{0, 1},
		{0.5, 1.0634833707413234},
		{1, 1.2660658777520082},
		{-1, 1.2660658777520082},
		{2.5, 3.289839144050123},
		{5, 27.239871823604442},
		{8, 427.56411572180474},
		{8.5, 683.1619269901155},
		{20, 43558282.559553534},
		{100, 1.0737517071310738e+42},
	} {
		if got := i0(c.x); math.Abs(got-c.want) > 2e-16*c.want {
			t.Errorf("i0(%g): got %.17g, want %.17g", c.x, got, c.want)
		}
	}
}

func TestKaiser(t *testing.T) {
	// scipy.signal.windows.kaiser(7, 5.0).
	want := []float64{0.036710892271286676, 0.3282019573723212, 0.7753221044454067, 1, 0.7753221044454067, 0.3282019573723212, 0.036710892271286676}
	for i, got := range kaiser(7, 5) {
		if math.Abs(got-want[i]) > 2e-16 {
			t.Errorf("w[%d]: got %.17g, want %.17g", i, got, want[i])
		}
	}
}

// TestLowpassGain checks firwin's scaling: unit gain at DC, whatever the
// length.
func TestLowpassGain(t *testing.T) {
	for _, m := range []int{21, 81, 2561, 20001} {
		h := lowpass(m, 20/float64(m-1), kaiser(m, KaiserBeta))
		var s float64
		for _, v := range h {
			s += v
		}
		if math.Abs(s-1) > 1e-13 {
			t.Errorf("%d taps: DC gain %.17g, want 1", m, s)
		}
		for i := range h {
			if h[i] != h[m-1-i] {
				t.Fatalf("%d taps: h[%d] = %g but h[%d] = %g", m, i, h[i], m-1-i, h[m-1-i])
			}
		}
	}
}

// TestApplyEdges checks the four-at-a-time interior against the one-at-a-
// time computation every output could use.
func TestApplyEdges(t *testing.T) {
	x := make([]float64, 997)
	for i := range x {
		x[i] = math.Sin(float64(i)*0.37) + float64(i%13)/13
	}
	for _, f := range [][2]int{{1, 2}, {2, 1}, {3, 2}, {2, 3}, {1, 4}, {5, 3}, {125, 128}, {7, 11}} {
		r := NewResampler(f[0], f[1])
		got := make([]float64, r.OutLen(len(x)))
		r.Apply(got, x)
		for i := range got {
			if want := r.edge(x, i); got[i] != want {
				t.Fatalf("%d/%d output %d: got %.17g, want %.17g", f[0], f[1], i, got[i], want)
			}
		}
	}
}
