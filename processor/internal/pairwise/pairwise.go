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

// Stats returns the sum of a and the sum of its squares, each as Sum
// adds (numpy.sum(a) and numpy.sum(a**2), bit for bit), and the least and
// greatest values of a, in one pass. a must not be empty or contain NaN.
func Stats(a []float64) (sum, sumSq, lo, hi float64) {
	lo, hi = a[0], a[0]
	for len(a) > 0 {
		chunk := a[:min(len(a), bufSize)]
		s, q := stats(chunk, &lo, &hi)
		sum += s
		sumSq += q
		a = a[len(chunk):]
	}
	return sum, sumSq, lo, hi
}

// stats is pairwise for a and for the squares of a at once, folding the
// extremes of a into *lo and *hi.
func stats(a []float64, lo, hi *float64) (s, q float64) {
	n := len(a)
	switch {
	case n < 8:
		for _, v := range a {
			s += v
			q += float64(v * v)
			*lo, *hi = min(*lo, v), max(*hi, v)
		}
		return s, q
	case n <= 128:
		var r, r2 [8]float64
		l, h := *lo, *hi
		for j, v := range a[:8] {
			r[j], r2[j] = v, float64(v*v)
			l, h = min(l, v), max(h, v)
		}
		i := 8
		for ; i < n-n%8; i += 8 {
			b := a[i : i+8 : i+8]
			for j, v := range b {
				r[j] += v
				r2[j] += float64(v * v)
				l, h = min(l, v), max(h, v)
			}
		}
		s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		q = ((r2[0] + r2[1]) + (r2[2] + r2[3])) + ((r2[4] + r2[5]) + (r2[6] + r2[7]))
		for _, v := range a[i:] {
			s += v
			q += float64(v * v)
			l, h = min(l, v), max(h, v)
		}
		*lo, *hi = l, h
		return s, q
	default:
		n2 := n / 2
		n2 -= n2 % 8
		s1, q1 := stats(a[:n2], lo, hi)
		s2, q2 := stats(a[n2:], lo, hi)
		return s1 + s2, q1 + q2
	}
}
