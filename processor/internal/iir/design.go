// Package iir designs digital Butterworth filters as second-order sections
// the way scipy.signal.butter(..., output="sos") does, and runs them
// forward and backward as scipy.signal.sosfiltfilt does.
//
// The design follows scipy step by step (analog prototype, frequency
// transformation, bilinear transform, zpk2sos with 'nearest' pairing) and
// evaluates each step with numpy's formulas, so that the same poles are
// paired into the same sections and the coefficients agree with scipy's to
// rounding.
package iir

import (
	"math"
	"slices"
)

// Section is one second-order section [b0, b1, b2, a0, a1, a2] with a0 = 1,
// a row of scipy's sos array.
type Section = [6]float64

// Kind is the band type of a filter.
type Kind int

// Band types, as scipy's btype.
const (
	Lowpass Kind = iota
	Highpass
	Bandpass
)

// Butter returns the sections of the digital Butterworth filter of order n
// and kind k, equal to scipy.signal.butter(n, wn, btype, output="sos"). wn
// holds the critical frequency (two band edges for a bandpass) as a
// fraction of the Nyquist frequency; the caller checks that n ≥ 1 and
// 0 < wn < 1 (and, for a bandpass, wn[0] < wn[1]).
func Butter(n int, wn []float64, k Kind) []Section {
	f := buttap(n)
	// Prewarp as scipy does with fs = 2: warped = 2·fs·tan(π·Wn/fs).
	const fs = 2.0
	warped := make([]float64, len(wn))
	for i, w := range wn {
		warped[i] = 2 * fs * math.Tan(math.Pi*w/fs)
	}
	switch k {
	case Lowpass:
		f = f.lowpass(warped[0])
	case Highpass:
		f = f.highpass(warped[0])
	case Bandpass:
		bw := warped[1] - warped[0]
		wo := math.Sqrt(warped[0] * warped[1])
		f = f.bandpass(wo, bw)
	default:
		panic("iir: unknown filter kind")
	}
	return f.bilinear(fs).sos()
}

// zpk is a filter as zeros, poles and gain, as scipy's (z, p, k).
type zpk struct {
	z, p []complex128
	k    float64
}

// buttap is scipy's buttap: the analog Butterworth lowpass prototype of
// order n, poles −exp(iπm/2n) for m = −n+1, −n+3, …, n−1.
func buttap(n int) zpk {
	p := make([]complex128, n)
	// numpy divides the complex 1j·π·m by 2n as x·(1/2n).
	inv := 1 / float64(2*n)
	for i := range p {
		m := float64(2*i - n + 1)
		theta := math.Pi * m * inv
		s, c := math.Sincos(theta)
		p[i] = complex(-c, -s)
	}
	return zpk{p: p, k: 1}
}

// lowpass is scipy's lp2lp_zpk: the prototype with cutoff wo rad/s.
func (f zpk) lowpass(wo float64) zpk {
	degree := len(f.p) - len(f.z)
	return zpk{
		z: scale(f.z, wo),
		p: scale(f.p, wo),
		k: f.k * math.Pow(wo, float64(degree)),
	}
}

// highpass is scipy's lp2hp_zpk: s → wo/s, the zeros at infinity moving
// to the origin.
func (f zpk) highpass(wo float64) zpk {
	degree := len(f.p) - len(f.z)
	w := complex(wo, 0)
	z := make([]complex128, 0, len(f.z)+degree)
	for _, v := range f.z {
		z = append(z, div(w, v))
	}
	z = append(z, make([]complex128, degree)...)
	p := make([]complex128, len(f.p))
	for i, v := range f.p {
		p[i] = div(w, v)
	}
	k := f.k * real(div(prod(negate(f.z)), prod(negate(f.p))))
	return zpk{z: z, p: p, k: k}
}

// bandpass is scipy's lp2bp_zpk: s → (s² + wo²)/(s·bw), each root r
// becoming r·bw/2 ± √((r·bw/2)² − wo²), the zeros at infinity going half to
// the origin.
func (f zpk) bandpass(wo, bw float64) zpk {
	degree := len(f.p) - len(f.z)
	transform := func(r []complex128) []complex128 {
		out := make([]complex128, 2*len(r))
		for i, v := range r {
			lp := complex(real(v)*bw/2, imag(v)*bw/2)
			d := csqrt(lp*lp - complex(wo*wo, 0))
			out[i] = lp + d
			out[len(r)+i] = lp - d
		}
		return out
	}
	z := append(transform(f.z), make([]complex128, degree)...)
	return zpk{z: z, p: transform(f.p), k: f.k * math.Pow(bw, float64(degree))}
}

// bilinear is scipy's bilinear_zpk: s = 2·fs·(z−1)/(z+1), the zeros at
// infinity moving to z = −1.
func (f zpk) bilinear(fs float64) zpk {
	degree := len(f.p) - len(f.z)
	fs2 := complex(2*fs, 0)
	z := make([]complex128, 0, len(f.z)+degree)
	for _, v := range f.z {
		z = append(z, div(fs2+v, fs2-v))
	}
	for range degree {
		z = append(z, -1)
	}
	p := make([]complex128, len(f.p))
	for i, v := range f.p {
		p[i] = div(fs2+v, fs2-v)
	}
	k := f.k * real(div(prod(shift(fs2, f.z)), prod(shift(fs2, f.p))))
	return zpk{z: z, p: p, k: k}
}

// sos is scipy's zpk2sos with pairing 'nearest' for a digital filter: the
// poles closest to the unit circle go to the last sections, each pole
// pair with the zeros nearest to it, and the gain in the first section.
func (f zpk) sos() []Section {
	z, p := slices.Clone(f.z), slices.Clone(f.p)
	if len(z) == 0 && len(p) == 0 {
		return []Section{{f.k, 0, 0, 1, 0, 0}}
	}
	for len(p) < len(z) {
		p = append(p, 0)
	}
	for len(z) < len(p) {
		z = append(z, 0)
	}
	n := (len(p) + 1) / 2
	if len(p)%2 == 1 {
		p = append(p, 0)
		z = append(z, 0)
	}
	z, p = cplxreal(z), cplxreal(p)

	sos := make([]Section, n)
	for si := n - 1; si >= 0; si-- {
		i := worst(p, nil)
		p1 := p[i]
		p = slices.Delete(p, i, i+1)
		switch {
		case isReal(p1) && countReal(p) == 0:
			// The last real pole: a first-order section.
			z1 := take(&z, p1, isReal)
			sos[si] = section([]complex128{z1, 0}, []complex128{p1, 0})
		case len(p)+1 == len(z) && !isReal(p1) && countReal(p) == 1 && countReal(z) == 1:
			// One real pole and one real zero are left for each other,
			// so this complex pole must take a complex zero.
			z1 := take(&z, p1, isComplex)
			sos[si] = section([]complex128{z1, conj(z1)}, []complex128{p1, conj(p1)})
		default:
			p2 := conj(p1)
			if isReal(p1) {
				j := worst(p, isReal)
				p2 = p[j]
				p = slices.Delete(p, j, j+1)
			}
			switch {
			case len(z) == 0:
				sos[si] = section(nil, []complex128{p1, p2})
			default:
				z1 := take(&z, p1, nil)
				switch {
				case !isReal(z1):
					sos[si] = section([]complex128{z1, conj(z1)}, []complex128{p1, p2})
				case len(z) > 0:
					z2 := take(&z, p1, isReal)
					sos[si] = section([]complex128{z1, z2}, []complex128{p1, p2})
				default:
					sos[si] = section([]complex128{z1}, []complex128{p1, p2})
				}
			}
		}
	}
	for j := range 3 {
		sos[0][j] *= f.k
	}
	return sos
}

// section is scipy's _single_zpksos with unit gain: the polynomials of up
// to two zeros and two poles, right-aligned in b and a.
func section(z, p []complex128) Section {
	var s Section
	b, a := poly(z), poly(p)
	copy(s[3-len(b):3], b)
	copy(s[6-len(a):6], a)
	return s
}

// poly returns the real coefficients of the monic polynomial with up to
// two roots r, as numpy.poly does when the roots are real or a conjugate
// pair: [1, −(r1+r2), r1·r2].
func poly(r []complex128) []float64 {
	switch len(r) {
	case 0:
		return []float64{1}
	case 1:
		return []float64{1, real(-r[0])}
	default:
		return []float64{1, real(-r[1] + -r[0]), real(-r[0] * -r[1])}
	}
}

// worst returns the index of the root of r (among those ok accepts, or
// all when ok is nil) closest to the unit circle, the first of equals, as
// numpy.argmin(abs(1 − abs(r))).
func worst(r []complex128, ok func(complex128) bool) int {
	best, at := math.Inf(1), -1
	for i, v := range r {
		if ok != nil && !ok(v) {
			continue
		}
		if d := math.Abs(1 - abs(v)); d < best || at < 0 {
			best, at = d, i
		}
	}
	return at
}

// take removes from *r and returns the root nearest to to among those ok
// accepts (all when ok is nil), the first of equals, as scipy's
// _nearest_real_complex_idx with a stable sort.
func take(r *[]complex128, to complex128, ok func(complex128) bool) complex128 {
	best, at := math.Inf(1), -1
	for i, v := range *r {
		if ok != nil && !ok(v) {
			continue
		}
		if d := abs(v - to); d < best || at < 0 {
			best, at = d, i
		}
	}
	if at < 0 {
		panic("iir: no zero of the kind wanted is left to pair")
	}
	v := (*r)[at]
	*r = slices.Delete(*r, at, at+1)
	return v
}

// cplxreal is scipy's _cplxreal, concatenated as zpk2sos uses it: the
// roots with positive imaginary part (one of each conjugate pair, averaged
// with its partner), ordered by real part and then imaginary part, followed
// by the real roots in increasing order. Roots whose imaginary part is
// within 100 ε of their magnitude count as real.
func cplxreal(r []complex128) []complex128 {
	const tol = 100 * 0x1p-52
	r = slices.Clone(r)
	// numpy.lexsort((abs(z.imag), z.real)) is stable.
	slices.SortStableFunc(r, func(a, b complex128) int {
		if c := cmpFloat(real(a), real(b)); c != 0 {
			return c
		}
		return cmpFloat(math.Abs(imag(a)), math.Abs(imag(b)))
	})
	var zr, zp, zn []complex128
	for _, v := range r {
		switch {
		case math.Abs(imag(v)) <= tol*abs(v):
			zr = append(zr, complex(real(v), 0))
		case imag(v) > 0:
			zp = append(zp, v)
		default:
			zn = append(zn, v)
		}
	}
	if len(zp) != len(zn) {
		panic("iir: a complex root has no conjugate")
	}
	// Runs of (nearly) equal real part are ordered by imaginary part.
	for start := 0; start < len(zp); {
		stop := start + 1
		for stop < len(zp) && real(zp[stop])-real(zp[stop-1]) <= tol*abs(zp[stop-1]) {
			stop++
		}
		byImag := func(a, b complex128) int { return cmpFloat(math.Abs(imag(a)), math.Abs(imag(b))) }
		slices.SortStableFunc(zp[start:stop], byImag)
		slices.SortStableFunc(zn[start:stop], byImag)
		start = stop
	}
	out := make([]complex128, 0, len(zp)+len(zr))
	for i, v := range zp {
		w := zn[i]
		if abs(v-conj(w)) > tol*abs(w) {
			panic("iir: a complex root has no conjugate")
		}
		out = append(out, complex((real(v)+real(w))*0.5, (imag(v)-imag(w))*0.5))
	}
	return append(out, zr...)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isReal(v complex128) bool    { return imag(v) == 0 }
func isComplex(v complex128) bool { return imag(v) != 0 }

func countReal(r []complex128) int {
	n := 0
	for _, v := range r {
		if isReal(v) {
			n++
		}
	}
	return n
}

func conj(v complex128) complex128 { return complex(real(v), -imag(v)) }

func scale(r []complex128, w float64) []complex128 {
	out := make([]complex128, len(r))
	for i, v := range r {
		out[i] = complex(real(v)*w, imag(v)*w)
	}
	return out
}

func negate(r []complex128) []complex128 {
	out := make([]complex128, len(r))
	for i, v := range r {
		out[i] = -v
	}
	return out
}

// shift returns c − r for each root r.
func shift(c complex128, r []complex128) []complex128 {
	out := make([]complex128, len(r))
	for i, v := range r {
		out[i] = c - v
	}
	return out
}

// prod multiplies r in order, as numpy.prod; 1 for none.
func prod(r []complex128) complex128 {
	if len(r) == 0 {
		return 1
	}
	p := r[0]
	for _, v := range r[1:] {
		p *= v
	}
	return p
}

// div is numpy's complex division (Smith's method, scaling by the
// reciprocal of the denominator), which rounds differently from Go's.
func div(a, b complex128) complex128 {
	ar, ai, br, bi := real(a), imag(a), real(b), imag(b)
	if math.Abs(br) >= math.Abs(bi) {
		if br == 0 && bi == 0 {
			return complex(ar/math.Abs(br), ai/math.Abs(br))
		}
		rat := bi / br
		scl := 1 / (br + bi*rat)
		return complex((ar+ai*rat)*scl, (ai-ar*rat)*scl)
	}
	rat := br / bi
	scl := 1 / (bi + br*rat)
	return complex((ar*rat+ai)*scl, (ai*rat-ar)*scl)
}

// csqrt is the principal square root as glibc's csqrt computes it for
// finite arguments, which numpy.sqrt calls for complex values.
func csqrt(v complex128) complex128 {
	re, im := real(v), imag(v)
	switch {
	case im == 0:
		if re < 0 {
			return complex(0, math.Copysign(math.Sqrt(-re), im))
		}
		return complex(math.Abs(math.Sqrt(re)), math.Copysign(0, im))
	case re == 0:
		r := math.Sqrt(0.5 * math.Abs(im))
		return complex(r, math.Copysign(r, im))
	}
	d := hypot(re, im)
	var r, s float64
	// 2·Re·Im of the root is im, which avoids cancellation in d ± re.
	if re > 0 {
		r = math.Sqrt(0.5 * (d + re))
		s = 0.5 * (im / r)
	} else {
		s = math.Sqrt(0.5 * (d - re))
		r = math.Abs(0.5 * (im / s))
	}
	return complex(r, math.Copysign(s, im))
}

func abs(v complex128) float64 { return hypot(real(v), imag(v)) }

// hypot returns √(x²+y²) correctly rounded in all but rare cases, as
// glibc's hypot (which numpy's complex abs calls) does: the square root
// of the rounded sum of squares, corrected by the rounding errors of its
// parts (Borges, "An improved algorithm for hypot(a,b)", 2019).
// math.Hypot may be an ulp off, which could tip scipy's choice between two
// nearly equidistant poles. The arguments here are far from overflow.
func hypot(x, y float64) float64 {
	x, y = math.Abs(x), math.Abs(y)
	if x < y {
		x, y = y, x
	}
	if y == 0 {
		return x
	}
	h := math.Sqrt(math.FMA(x, x, y*y))
	hsq, xsq, ysq := h*h, x*x, y*y
	// x² + y² − h², each square split into its rounded value and error;
	// xsq − hsq is exact as x ≥ y.
	e := (xsq - hsq) + ysq + math.FMA(x, x, -xsq) + math.FMA(y, y, -ysq) - math.FMA(h, h, -hsq)
	return h + e/(2*h)
}
