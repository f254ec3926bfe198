// Package pairwise sums float64 values in the order numpy's add.reduce
// does, so that means and normalisations computed here round exactly as
// in numpy and scipy.
package pairwise

// bufSize is numpy's default ufunc buffer size. Reductions over long
// rows are carried out buffer by buffer, so reproducing the chunking as well
// as the pairwise scheme gives bit-identical sums.
const bufSize = 8192

// Sum returns the sum of a in the same order numpy's add.reduce uses
// for a contiguous float64 row, so that segment means (constant detrend)
// and window normalisations round exactly as in scipy. Matching numpy here
// matters for series with a large DC offset, where a mean that differs in
// the last bit leaks visibly into the lowest frequency bins.
func Sum(a []float64) float64 {
	var s float64
	for len(a) > bufSize {
		s += pairwise(a[:bufSize])
		a = a[bufSize:]
	}
	return s + pairwise(a)
}

// pairwise mirrors numpy's pairwise_sum: eight interleaved accumulators
// for blocks of up to 128 values, recursive halving above that.
func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		var s float64
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			b := a[i : i+8 : i+8]
			r[0] += b[0]
			r[1] += b[1]
			r[2] += b[2]
			r[3] += b[3]
			r[4] += b[4]
			r[5] += b[5]
			r[6] += b[6]
			r[7] += b[7]
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwise(a[:n2]) + pairwise(a[n2:])
	}
}
