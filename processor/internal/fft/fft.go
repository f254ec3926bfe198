// Package fft holds the real-input discrete Fourier transforms the
// processor uses: radix-4/2 for powers of two, gonum's FFTPACK port for
// lengths with small prime factors, and Bluestein's algorithm for the
// rest, chosen by New.
package fft

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Real computes the one-sided discrete Fourier transform of a real
// sequence of fixed length n: X[k] = Σ x[j]·exp(−2πi·jk/n) for k = 0..n/2.
// Implementations keep their own scratch, so one value must not be used by
// several goroutines at once.
type Real interface {
	// Len returns the sequence length n.
	Len() int
	// Coefficients writes X[0..n/2] of src (length n) into dst
	// (length n/2+1).
	Coefficients(dst []complex128, src []float64)
	// Power writes |X[k]|² for k = 0..n/2 of src (length n) into dst
	// (length n/2+1).
	Power(dst, src []float64)
}

// maxGonumFactor is the largest prime factor left to FFTPACK. Beyond it
// FFTPACK's generic O(n·p) pass is slower than Bluestein's algorithm and
// its accuracy degrades with p.
const maxGonumFactor = 64

// New returns the fastest accurate transform for length n ≥ 1.
func New(n int) Real {
	switch {
	case n >= 4 && bits.OnesCount(uint(n)) == 1:
		return newRadixFFT(n)
	case n > 1 && largestPrimeFactor(n) > maxGonumFactor:
		return newBluesteinFFT(n)
	default:
		return newGonumFFT(n)
	}
}

// gonumFFT is a Real backed by gonum's FFTPACK port, which accepts any
// length: radix 2, 3, 4 and 5 passes plus an O(n·p) pass for each other
// prime factor p.
type gonumFFT struct {
	fft  *fourier.FFT
	coef []complex128
}

func newGonumFFT(n int) *gonumFFT {
	return &gonumFFT{fft: fourier.NewFFT(n), coef: make([]complex128, n/2+1)}
}

func (g *gonumFFT) Len() int { return g.fft.Len() }

func (g *gonumFFT) Coefficients(dst []complex128, src []float64) {
	g.fft.Coefficients(dst, src)
}

func (g *gonumFFT) Power(dst, src []float64) {
	g.fft.Coefficients(g.coef, src)
	dst = dst[:len(g.coef)]
	for k, c := range g.coef {
		re, im := real(c), imag(c)
		dst[k] = re*re + im*im
	}
}

// radixFFT is a Real for power-of-two lengths n ≥ 4. The real sequence is
// packed into m = n/2 complex points z[j] = x[2j] + i·x[2j+1], transformed by
// a cfft, and unpacked into the spectrum of x. The unpacking gathers Z[k]
// and Z[m−k] through the bit-reversal table, so no separate permutation
// pass is needed, while its writes stay sequential. (Walking the
// bit-reversed array in order and scattering the writes measured slower.)
type radixFFT struct {
	n, m int
	c    *cfft
	post []complex128 // post[k] = exp(−2πi·k/n) for k = 0..m/2
	work []complex128 // m points
}

func newRadixFFT(n int) *radixFFT {
	if n < 4 || bits.OnesCount(uint(n)) != 1 {
		panic("processor: radixFFT length must be a power of two ≥ 4")
	}
	m := n / 2
	f := &radixFFT{
		n:    n,
		m:    m,
		c:    newCFFT(m),
		post: make([]complex128, m/2+1),
		work: make([]complex128, m),
	}
	for k := range f.post {
		f.post[k] = twiddle(k, n)
	}
	return f
}

// cfft is an in-place complex FFT of power-of-two length m: a radix-4
// decimation-in-frequency transform, plus one radix-2 pass when log2 m is
// odd, taking natural-order input and leaving bit-reversed output.
//
// All twiddle factors are computed individually with math.Sincos rather
// than by recurrence, which keeps the error close to that of pocketfft.
type cfft struct {
	m      int
	stages []radix4Stage // outermost (largest span) first
	odd    bool          // a final radix-2 pass is needed
	rev    []int32       // rev[k] is the bit reversal of k over log2 m bits
}

// radix4Stage holds the twiddles of one radix-4 pass with quarter span q:
// w1[j], w2[j], w3[j] = exp(−2πi·j/4q)^{1,2,3} for j = 0..q−1.
type radix4Stage struct {
	q          int
	w1, w2, w3 []complex128
}

func newCFFT(m int) *cfft {
	if m < 1 || bits.OnesCount(uint(m)) != 1 {
		panic("processor: cfft length must be a power of two")
	}
	p := bits.TrailingZeros(uint(m))
	c := &cfft{m: m, odd: p%2 == 1, rev: make([]int32, m)}
	if p > 0 {
		for k := range c.rev {
			c.rev[k] = int32(bits.Reverse32(uint32(k)) >> (32 - p))
		}
	}
	for q := m / 4; q >= 1; q /= 4 {
		st := radix4Stage{
			q:  q,
			w1: make([]complex128, q),
			w2: make([]complex128, q),
			w3: make([]complex128, q),
		}
		for j := range q {
			st.w1[j] = twiddle(j, 4*q)
			st.w2[j] = twiddle(2*j, 4*q)
			st.w3[j] = twiddle(3*j, 4*q)
		}
		c.stages = append(c.stages, st)
	}
	return c
}

// cacheBlock is the sub-transform size (complex points, 32 KiB) below which
// the remaining passes run block by block, so they work from L1 cache
// instead of streaming the whole array through L2 once per pass.
const cacheBlock = 2048

// forward transforms x (length m) in place; X[k] ends up in x[rev[k]].
func (c *cfft) forward(x []complex128) {
	x = x[:c.m]
	stages := c.stages
	for len(stages) > 0 && 4*stages[0].q > cacheBlock {
		butterfly4(x, stages[0])
		stages = stages[1:]
	}
	// Each radix-4 pass of quarter span q works on independent blocks of
	// 4q points, so the rest can be finished one block at a time.
	block := len(x)
	if len(stages) > 0 {
		block = 4 * stages[0].q
	}
	for b := 0; b < len(x); b += block {
		blk := x[b : b+block]
		for _, st := range stages {
			if st.q == 1 {
				butterfly4Trivial(blk)
			} else {
				butterfly4(blk, st)
			}
		}
		if c.odd {
			radix2Trivial(blk)
		}
	}
}

// radix2Trivial is the final radix-2 pass (span 1, twiddles all 1).
func radix2Trivial(x []complex128) {
	for j := 0; j+1 < len(x); j += 2 {
		p := x[j : j+2 : j+2]
		a, b := p[0], p[1]
		p[0], p[1] = a+b, a-b
	}
}

// permute reorders x between natural and bit-reversed order.
func (c *cfft) permute(x []complex128) {
	x = x[:c.m]
	for i, r := range c.rev {
		if int(r) > i {
			x[i], x[r] = x[r], x[i]
		}
	}
}

// twiddle returns exp(−2πi·k/n) computed directly, using the symmetries of
// the unit circle so the argument passed to math.Sincos stays within
// [0, π/4] where it is most accurate.
func twiddle(k, n int) complex128 {
	k %= n
	if k < 0 {
		k += n
	}
	// Reduce to the first octant: angle θ = 2πk/n, write 8k = o·n + r.
	// Work with exact integers so no rounding is introduced before Sincos.
	k8 := 8 * k
	oct := k8 / n
	r := k8 - oct*n // θ = (oct + r/n)·π/4
	var s, c float64
	if oct%2 == 0 {
		s, c = math.Sincos(math.Pi / 4 * float64(r) / float64(n))
	} else {
		// Mirror within the octant: θ' = π/4 − (r/n)·π/4.
		s, c = math.Sincos(math.Pi / 4 * float64(n-r) / float64(n))
		s, c = c, s
	}
	// (c, s) is now cos/sin of θ reduced modulo π/2 (its position inside the
	// quadrant); rotate by the quadrant.
	var cr, sr float64
	switch oct / 2 {
	case 0:
		cr, sr = c, s
	case 1:
		cr, sr = -s, c
	case 2:
		cr, sr = -c, -s
	default:
		cr, sr = s, -c
	}
	return complex(cr, -sr)
}

func (f *radixFFT) Len() int { return f.n }

// transform packs src into f.work and runs the complex FFT, leaving Z in
// bit-reversed order.
func (f *radixFFT) transform(src []float64) {
	w := f.work
	src = src[:2*len(w)]
	for j := range w {
		w[j] = complex(src[2*j], src[2*j+1])
	}
	f.c.forward(w)
}

// butterfly4 runs one radix-4 decimation-in-frequency pass. It is two
// consecutive radix-2 passes (spans 2q and q) merged, so the output order
// stays plain bit-reversed.
func butterfly4(x []complex128, st radix4Stage) {
	q := st.q
	w1, w2, w3 := st.w1[:q], st.w2[:q], st.w3[:q]
	for b := 0; b+4*q <= len(x); b += 4 * q {
		x0 := x[b : b+q]
		x1 := x[b+q : b+2*q]
		x2 := x[b+2*q : b+3*q]
		x3 := x[b+3*q : b+4*q]
		x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
		w1, w2, w3 := w1[:len(x0)], w2[:len(x0)], w3[:len(x0)]
		for j := range x0 {
			a0, a1, a2, a3 := x0[j], x1[j], x2[j], x3[j]
			s02, d02 := a0+a2, a0-a2
			s13, d13 := a1+a3, a1-a3
			// mi = −i·d13
			mi := complex(imag(d13), -real(d13))
			x0[j] = s02 + s13
			x1[j] = (s02 - s13) * w2[j]
			x2[j] = (d02 + mi) * w1[j]
			x3[j] = (d02 - mi) * w3[j]
		}
	}
}

// butterfly4Trivial is butterfly4 for q = 1, where every twiddle is 1.
func butterfly4Trivial(x []complex128) {
	for b := 0; b+4 <= len(x); b += 4 {
		blk := x[b : b+4 : b+4]
		a0, a1, a2, a3 := blk[0], blk[1], blk[2], blk[3]
		s02, d02 := a0+a2, a0-a2
		s13, d13 := a1+a3, a1-a3
		mi := complex(imag(d13), -real(d13))
		blk[0] = s02 + s13
		blk[1] = s02 - s13
		blk[2] = d02 + mi
		blk[3] = d02 - mi
	}
}

// Coefficients implements Real.
func (f *radixFFT) Coefficients(dst []complex128, src []float64) {
	f.transform(src)
	m := f.m
	z, rev, post := f.work, f.c.rev[:f.m], f.post[:f.m/2+1]
	dst = dst[:m+1]
	z0 := z[0]
	dst[0] = complex(real(z0)+imag(z0), 0)
	dst[m] = complex(real(z0)-imag(z0), 0)
	for k := 1; k <= m/2; k++ {
		zk := z[rev[k]]
		zc := z[rev[m-k]]
		zc = complex(real(zc), -imag(zc))
		// e and o are the transforms of the even and odd samples:
		// X[k] = e + W^k·o and X[m−k] = conj(e − W^k·o).
		e := 0.5 * (zk + zc)
		d := 0.5 * (zk - zc)
		o := complex(imag(d), -real(d)) // −i·d
		wo := post[k] * o
		dst[k] = e + wo
		u := e - wo
		dst[m-k] = complex(real(u), -imag(u))
	}
}

// Power implements Real. It is Coefficients followed by |X|², fused so
// the spectrum is never stored.
func (f *radixFFT) Power(dst, src []float64) {
	f.transform(src)
	m := f.m
	z, rev, post := f.work, f.c.rev[:f.m], f.post[:f.m/2+1]
	dst = dst[:m+1]
	z0 := z[0]
	a, b := real(z0)+imag(z0), real(z0)-imag(z0)
	dst[0] = a * a
	dst[m] = b * b
	for k := 1; k <= m/2; k++ {
		zk, zc := z[rev[k]], z[rev[m-k]]
		er, ei := 0.5*(real(zk)+real(zc)), 0.5*(imag(zk)-imag(zc))
		dr, di := 0.5*(real(zk)-real(zc)), 0.5*(imag(zk)+imag(zc))
		or, oi := di, -dr // o = −i·d
		w := post[k]
		tr := real(w)*or - imag(w)*oi
		ti := real(w)*oi + imag(w)*or
		xr, xi := er+tr, ei+ti
		yr, yi := er-tr, ei-ti
		dst[k] = xr*xr + xi*xi
		dst[m-k] = yr*yr + yi*yi
	}
}

// bluesteinFFT is a Real for lengths with a large prime factor, where
// FFTPACK falls back to an O(n·p) step whose rotation recurrence also loses
// accuracy. It rewrites the DFT as a circular convolution with a chirp
// (jk = (j² + k² − (k−j)²)/2) evaluated with power-of-two cffts of length
// M ≥ 2n−1.
type bluesteinFFT struct {
	n      int
	c      *cfft
	chirp  []complex128 // chirp[t] = exp(−iπ·t²/n), t = 0..n−1
	kernel []complex128 // FFT of conj(chirp) wrapped to length M, divided by M; bit-reversed
	work   []complex128 // M points
	coef   []complex128 // n/2+1 coefficients, for Power
}

func newBluesteinFFT(n int) *bluesteinFFT {
	m := 1
	for m < 2*n-1 {
		m *= 2
	}
	f := &bluesteinFFT{
		n:      n,
		c:      newCFFT(m),
		chirp:  make([]complex128, n),
		kernel: make([]complex128, m),
		work:   make([]complex128, m),
		coef:   make([]complex128, n/2+1),
	}
	for t := range f.chirp {
		// Reduce t² modulo 2n exactly before forming the angle.
		f.chirp[t] = twiddle(int(uint64(t)*uint64(t)%uint64(2*n)), 2*n)
	}
	inv := complex(1/float64(m), 0)
	for t, w := range f.chirp {
		b := complex(real(w), -imag(w)) * inv
		f.kernel[t] = b
		if t > 0 {
			f.kernel[m-t] = b
		}
	}
	f.c.forward(f.kernel)
	return f
}

func (f *bluesteinFFT) Len() int { return f.n }

// Coefficients implements Real.
func (f *bluesteinFFT) Coefficients(dst []complex128, src []float64) {
	w, n := f.work, f.n
	src = src[:n]
	for j, v := range src {
		w[j] = complex(v, 0) * f.chirp[j]
	}
	clear(w[n:])
	f.c.forward(w)
	// Multiply the spectra, conjugating so that a second forward
	// transform yields the conjugate of the inverse transform.
	for i, k := range f.kernel {
		p := w[i] * k
		w[i] = complex(real(p), -imag(p))
	}
	f.c.permute(w)
	f.c.forward(w)
	rev := f.c.rev
	dst = dst[:n/2+1]
	for k := range dst {
		y := w[rev[k]]
		dst[k] = complex(real(y), -imag(y)) * f.chirp[k]
	}
}

// Power implements Real.
func (f *bluesteinFFT) Power(dst, src []float64) {
	f.Coefficients(f.coef, src)
	dst = dst[:len(f.coef)]
	for k, c := range f.coef {
		re, im := real(c), imag(c)
		dst[k] = re*re + im*im
	}
}

// largestPrimeFactor returns the largest prime factor of n ≥ 2.
func largestPrimeFactor(n int) int {
	p := 1
	for f := 2; f*f <= n; f++ {
		for n%f == 0 {
			p, n = f, n/f
		}
	}
	return max(p, n)
}
