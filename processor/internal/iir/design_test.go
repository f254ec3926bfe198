package iir

import (
	"math"
	"math/big"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// TestHypot checks hypot against √(x²+y²) rounded once, from exact
// big.Float arithmetic, over values spanning the poles' magnitudes.
func TestHypot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 100000
	if testing.Short() {
		n = 20000
	}
	bad := 0
	for range n {
		x := math.Ldexp(r.Float64(), r.IntN(20)-10)
		y := math.Ldexp(r.Float64(), r.IntN(20)-10)
		bx, by := new(big.Float).SetPrec(300).SetFloat64(x), new(big.Float).SetPrec(300).SetFloat64(y)
		s := new(big.Float).SetPrec(300).Mul(bx, bx)
		s.Add(s, new(big.Float).SetPrec(300).Mul(by, by))
		want, _ := s.Sqrt(s).Float64()
		if got := hypot(x, y); got != want {
			bad++
			if math.Abs(got-want) > math.Abs(want)*0x1p-52 {
				t.Fatalf("hypot(%g, %g): got %.17g, want %.17g", x, y, got, want)
			}
		}
	}
	t.Logf("%d of %d results not correctly rounded", bad, n)
	// At most one in 10,000.
	if bad > n/10000 {
		t.Errorf("%d of %d results not correctly rounded", bad, n)
	}
}

func TestCsqrt(t *testing.T) {
	for _, v := range []complex128{4, -4, complex(0, 2), complex(0, -2), complex(3, 4), complex(-3, 4), complex(-3, -4), complex(1e-3, -7)} {
		got, want := csqrt(v), cmplx.Sqrt(v)
		if cmplx.Abs(got-want) > 1e-15*cmplx.Abs(want) {
			t.Errorf("csqrt(%v): got %v, want %v", v, got, want)
		}
	}
}

// TestCplxreal checks scipy's ordering: upper-half roots by real part,
// ties by imaginary part, then the real roots in increasing order.
func TestCplxreal(t *testing.T) {
	in := []complex128{complex(1, -2), 3, complex(-1, 1), complex(1, 2), -5, complex(-1, -1), complex(1, 0.5), complex(1, -0.5)}
	want := []complex128{complex(-1, 1), complex(1, 0.5), complex(1, 2), -5, 3}
	got := cplxreal(in)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestButterGain checks each kind's gain where it must be 1 (the
// passband centre) and 1/√2 (the cutoffs).
func TestButterGain(t *testing.T) {
	gain := func(sos []Section, wn float64) float64 {
		z := cmplx.Exp(complex(0, math.Pi*wn))
		h := complex(1, 0)
		for _, s := range sos {
			h *= (complex(s[0], 0)*z*z + complex(s[1], 0)*z + complex(s[2], 0)) /
				(complex(s[3], 0)*z*z + complex(s[4], 0)*z + complex(s[5], 0))
		}
		return cmplx.Abs(h)
	}
	for _, n := range []int{1, 2, 3, 8} {
		lp := Butter(n, []float64{0.2}, Lowpass)
		hp := Butter(n, []float64{0.2}, Highpass)
		bp := Butter(n, []float64{0.1, 0.4}, Bandpass)
		for _, c := range []struct {
			name     string
			sos      []Section
			wn, want float64
		}{
			{"lowpass DC", lp, 0, 1},
			{"lowpass cutoff", lp, 0.2, math.Sqrt2 / 2},
			{"highpass Nyquist", hp, 1, 1},
			{"highpass cutoff", hp, 0.2, math.Sqrt2 / 2},
			{"bandpass low edge", bp, 0.1, math.Sqrt2 / 2},
			{"bandpass high edge", bp, 0.4, math.Sqrt2 / 2},
		} {
			if got := gain(c.sos, c.wn); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("order %d %s: gain %.15g, want %.15g", n, c.name, got, c.want)
			}
		}
		if len(bp) != n || len(lp) != (n+1)/2 {
			t.Errorf("order %d: %d lowpass and %d bandpass sections", n, len(lp), len(bp))
		}
	}
}
