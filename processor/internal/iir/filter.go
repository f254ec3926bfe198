package iir

import (
	"math"
	"slices"
)

// PadLen returns the number of samples scipy's sosfiltfilt adds at each
// end of the series with its default padlen: three times the number of
// taps, 2·len(sos)+1 less the sections of first order.
func PadLen(sos []Section) int {
	var b2, a2 int
	for _, s := range sos {
		if s[2] == 0 {
			b2++
		}
		if s[5] == 0 {
			a2++
		}
	}
	return 3 * (2*len(sos) + 1 - min(b2, a2))
}

// FiltFilt returns x filtered forward and backward by sos, as
// scipy.signal.sosfiltfilt(sos, x) with padtype "odd" and the default
// padlen: x is extended at each end by PadLen(sos) samples mirrored about
// its end sample, each pass starts from the steady state for its first
// sample (sosfilt_zi), and the extension is cut off again. len(x) must
// exceed PadLen(sos). Beyond a few words of filter state, the result is
// the only allocation: both passes run in place in it.
func FiltFilt(sos []Section, x []float64) []float64 {
	edge := PadLen(sos)
	n := len(x)
	if n <= edge {
		panic("iir: series not longer than the padding")
	}
	ext := make([]float64, n+2*edge)
	for i := range edge {
		ext[i] = 2*x[0] - x[edge-i]
		ext[edge+n+i] = 2*x[n-1] - x[n-2-i]
	}
	copy(ext[edge:], x)

	zi := steadyState(sos)
	state := make([][2]float64, len(sos))
	pass := func() {
		x0 := ext[0]
		for i, z := range zi {
			state[i] = [2]float64{z[0] * x0, z[1] * x0}
		}
		cascade(sos, state, ext)
	}
	pass()
	slices.Reverse(ext)
	pass()
	slices.Reverse(ext)
	return ext[edge : edge+n : edge+n]
}

// steadyState is scipy's sosfilt_zi: the state of each section after a
// unit step has run long enough for every section to settle, each
// section's input being the step scaled by the DC gain of those before it.
func steadyState(sos []Section) [][2]float64 {
	zi := make([][2]float64, len(sos))
	scale := 1.0
	for i, s := range sos {
		z0, z1 := lfilterZI(s)
		zi[i] = [2]float64{scale * z0, scale * z1}
		scale *= (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5])
	}
	return zi
}

// lfilterZI is scipy's lfilter_zi for one section with a0 = 1: the state
// z solving (I − Aᵀ)·z = b[1:] − a[1:]·b0, A being the companion matrix of
// a. The 2×2 system is solved as LAPACK's dgesv does, by LU decomposition
// with partial pivoting.
func lfilterZI(s Section) (z0, z1 float64) {
	b0, b1, b2, a1, a2 := s[0], s[1], s[2], s[4], s[5]
	m00, m01, m10, m11 := 1+a1, -1.0, a2, 1.0
	r0, r1 := b1-a1*b0, b2-a2*b0
	if math.Abs(m10) > math.Abs(m00) {
		m00, m01, m10, m11 = m10, m11, m00, m01
		r0, r1 = r1, r0
	}
	l := m10 * (1 / m00)
	u11 := m11 + -m01*l
	r1 -= r0 * l
	z1 = r1 / u11
	z0 = (r0 - z1*m01) / m00
	return z0, z1
}

// cascade runs x through the sections in place (transposed direct form
// II, as scipy's sosfilt), starting from and updating state. The result is
// the same whatever the grouping: each section sees the same values in
// the same order. Sections go four to a pass over x, with their state in
// registers, since a sample's trip through a section waits on that
// section's previous sample but not on the other sections.
func cascade(sos []Section, state [][2]float64, x []float64) {
	s := 0
	for ; s+4 <= len(sos); s += 4 {
		cascade4((*[4]Section)(sos[s:s+4]), (*[4][2]float64)(state[s:s+4]), x)
	}
	if s == len(sos) {
		return
	}
	sos, state = sos[s:], state[s:]
	for i, v := range x {
		for j := range sos {
			z := &state[j]
			v, z[0], z[1] = step(&sos[j], v, z[0], z[1])
		}
		x[i] = v
	}
}

func cascade4(sos *[4]Section, state *[4][2]float64, x []float64) {
	p, q, r, t := &sos[0], &sos[1], &sos[2], &sos[3]
	p0, p1 := state[0][0], state[0][1]
	q0, q1 := state[1][0], state[1][1]
	r0, r1 := state[2][0], state[2][1]
	t0, t1 := state[3][0], state[3][1]
	for i, v := range x {
		v, p0, p1 = step(p, v, p0, p1)
		v, q0, q1 = step(q, v, q0, q1)
		v, r0, r1 = step(r, v, r0, r1)
		v, t0, t1 = step(t, v, t0, t1)
		x[i] = v
	}
	state[0] = [2]float64{p0, p1}
	state[1] = [2]float64{q0, q1}
	state[2] = [2]float64{r0, r1}
	state[3] = [2]float64{t0, t1}
}

// step runs sample v through section c with state (z0, z1), returning its
// output and the new state.
func step(c *Section, v, z0, z1 float64) (y, n0, n1 float64) {
	y = c[0]*v + z0
	return y, c[1]*v - c[4]*y + z1, c[2]*v - c[5]*y
}
