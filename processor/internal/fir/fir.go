// Package fir resamples series by rational factors as
// scipy.signal.resample_poly does with its defaults: a Kaiser-windowed
// sinc lowpass designed as scipy.signal.firwin designs it, applied by a
// polyphase upfirdn that sums each output's terms in scipy's order.
package fir

import (
	"math"

	"github.com/gwwatchd/gwwatchd/processor/internal/pairwise"
)

// KaiserBeta is resample_poly's default window, ('kaiser', 5.0).
const KaiserBeta = 5.0

// kaiser returns scipy.signal.windows.kaiser(m, beta): the symmetric
// Kaiser window of m points, I0(β·√(1 − ((n − α)/α)²))/I0(β) with
// α = (m − 1)/2.
func kaiser(m int, beta float64) []float64 {
	w := make([]float64, m)
	if m == 1 {
		w[0] = 1
		return w
	}
	alpha := float64(m-1) / 2
	den := i0(beta)
	for n := range w {
		r := (float64(n) - alpha) / alpha
		w[n] = i0(beta*math.Sqrt(1-r*r)) / den
	}
	return w
}

// lowpass returns scipy.signal.firwin(numtaps, cutoff, window=window):
// the windowed sinc with its cutoff a fraction of the Nyquist frequency,
// scaled to unit gain at DC.
func lowpass(numtaps int, cutoff float64, window []float64) []float64 {
	h := make([]float64, numtaps)
	alpha := 0.5 * float64(numtaps-1)
	for i := range h {
		h[i] = cutoff * sinc(cutoff*(float64(i)-alpha)) * window[i]
	}
	s := pairwise.Sum(h)
	for i := range h {
		h[i] /= s
	}
	return h
}

// sinc is numpy.sinc, sin(πx)/(πx), which evaluates x = 0 at 1e-20.
func sinc(x float64) float64 {
	if x == 0 {
		x = 1e-20
	}
	y := math.Pi * x
	return math.Sin(y) / y
}

// Resampler changes the rate of series by up/down as
// scipy.signal.resample_poly(x, up, down) does: the series is upsampled
// by up with zeros, filtered by a lowpass of 20·max(up, down)+1 taps
// (firwin with cutoff 1/max(up, down) and a Kaiser window of β = 5, times
// up), downsampled by down, and trimmed to ⌈n·up/down⌉ samples centred on
// the input. A Resampler holds only its filter and may be shared.
type Resampler struct {
	up, down int
	// phases[φ] holds the taps h[φ], h[φ+up], h[φ+2·up], … reversed, so
	// that each output is a dot product with consecutive input samples.
	phases [][]float64
	// Output i is the full filter output at index first+i·down in the
	// upsampled time of the zero-padded filter, as resample_poly trims it.
	first int
}

// NewResampler returns the Resampler for coprime up and down, not both 1.
func NewResampler(up, down int) *Resampler {
	maxRate := max(up, down)
	halfLen := 10 * maxRate
	numtaps := 2*halfLen + 1
	h := lowpass(numtaps, 1/float64(maxRate), kaiser(numtaps, KaiserBeta))
	for i := range h {
		h[i] *= float64(up)
	}
	// resample_poly pads the filter in front with prePad zeros and drops
	// the first preRemove outputs, so that output 0 lines up with input 0.
	prePad := down - halfLen%down
	preRemove := (halfLen + prePad) / down

	r := &Resampler{up: up, down: down, phases: make([][]float64, up), first: preRemove*down - prePad}
	all := make([]float64, len(h))
	for phi := range r.phases {
		n := (len(h) - phi + up - 1) / up
		taps := all[:n:n]
		all = all[n:]
		for l := range taps {
			taps[n-1-l] = h[phi+l*up]
		}
		r.phases[phi] = taps
	}
	return r
}

// OutLen returns the number of samples a series of n becomes,
// ⌈n·up/down⌉.
func (r *Resampler) OutLen(n int) int {
	return (n*r.up + r.down - 1) / r.down
}

// Apply writes x resampled into dst, which must hold OutLen(len(x))
// samples. Each output sums its terms in increasing order of input index,
// as scipy's upfirdn does, so results agree with scipy's to the last bit
// or nearly. Outputs whose taps fall wholly inside x are computed four at
// a time: outputs k, k+up, k+2·up and k+3·up use the same taps on inputs
// down samples apart, and four independent sums keep the multipliers busy
// where one would wait on each addition.
func (r *Resampler) Apply(dst, x []float64) {
	up, down := r.up, r.down
	// Output k's phase and the input its last tap multiplies, kept
	// without dividing: output k+1 is down samples later in upsampled time.
	t := r.first
	phi, last := t%up, t/up
	dq, dr := down/up, down%up
	block := 4 * up
	i := 0
	for ; i+block <= len(dst); i += block {
		for k := i; k < i+up; k++ {
			taps := r.phases[phi]
			j0 := last - len(taps) + 1
			if j0 >= 0 && j0+3*down+len(taps) <= len(x) {
				dst[k], dst[k+up], dst[k+2*up], dst[k+3*up] = dot4(taps, x[j0:], down)
			} else {
				for q := k; q < i+block; q += up {
					dst[q] = r.edge(x, q)
				}
			}
			phi += dr
			last += dq
			if phi >= up {
				phi -= up
				last++
			}
		}
		// From output i+up to i+4·up: the same phase, 3·down inputs on.
		last += 3 * down
	}
	for ; i < len(dst); i++ {
		dst[i] = r.edge(x, i)
	}
}

// edge computes output i, whose taps may reach past either end of x.
func (r *Resampler) edge(x []float64, i int) float64 {
	t := r.first + i*r.down
	taps := r.phases[t%r.up]
	j0 := t/r.up - len(taps) + 1
	k0, k1 := max(0, -j0), min(len(taps), len(x)-j0)
	var s float64
	for k := k0; k < k1; k++ {
		s += x[j0+k] * taps[k]
	}
	return s
}

// dot4 returns the dot products of taps with x[s:], for s = 0, step,
// 2·step and 3·step, each summed in order.
func dot4(taps, x []float64, step int) (a0, a1, a2, a3 float64) {
	n := len(taps)
	x0, x1, x2, x3 := x[:n], x[step:][:n], x[2*step:][:n], x[3*step:][:n]
	for k, h := range taps {
		a0 += x0[k] * h
		a1 += x1[k] * h
		a2 += x2[k] * h
		a3 += x3[k] * h
	}
	return a0, a1, a2, a3
}
