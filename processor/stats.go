package processor

import (
	"math/bits"
	"slices"

	"github.com/gwwatchd/gwwatchd/processor/internal/pairwise"
)

// medianBias returns the ratio of the median to the mean of n periodogram
// values for Gaussian noise, as scipy.signal's _median_bias:
// 1 + Σ_{i=1}^{(n−1)/2} (1/(2i+1) − 1/(2i)). buf is scratch space.
func medianBias(n int, buf []float64) (float64, []float64) {
	m := (n - 1) / 2
	if cap(buf) < m {
		buf = make([]float64, m)
	}
	terms := buf[:m]
	for i := range terms {
		ii2 := 2 * float64(i+1)
		terms[i] = 1/(ii2+1) - 1/ii2
	}
	return 1 + pairwise.Sum(terms), buf
}

// median returns the median of a as numpy does (the mean of the two middle
// values for an even count). It reorders a.
func median(a []float64) float64 {
	n := len(a)
	k := n / 2
	if n < len(networks) && n > 1 {
		// A spectrogram's chunks hold a few segments each, so most of its
		// medians are of fewer than a dozen values: sorted by a network of
		// min and max, which has no branch to mispredict.
		for _, c := range networks[n] {
			x, y := a[c[0]], a[c[1]]
			a[c[0]], a[c[1]] = min(x, y), max(x, y)
		}
		if n%2 == 1 {
			return a[k]
		}
		return (a[k-1] + a[k]) / 2
	}
	hi := selectKth(a, k)
	if n%2 == 1 {
		return hi
	}
	// selectKth leaves every element below index k ≤ a[k].
	lo := a[0]
	for _, v := range a[1:k] {
		lo = max(lo, v)
	}
	return (lo + hi) / 2
}

// networks[n] sorts n values by compare-exchanges of the pairs it lists,
// in order: the optimal networks for n up to 8 (Knuth, TAOCP vol. 3,
// 5.3.4). TestNetworksSort proves each on every input of zeros and ones,
// which suffices for a network (the 0-1 principle).
var networks = [...][][2]int{
	2: {{0, 1}},
	3: {{0, 2}, {0, 1}, {1, 2}},
	4: {{0, 2}, {1, 3}, {0, 1}, {2, 3}, {1, 2}},
	5: {{0, 3}, {1, 4}, {0, 2}, {1, 3}, {0, 1}, {2, 4}, {1, 2}, {3, 4}, {2, 3}},
	6: {{0, 5}, {1, 3}, {2, 4}, {1, 2}, {3, 4}, {0, 3}, {2, 5}, {0, 1}, {2, 3}, {4, 5}, {1, 2}, {3, 4}},
	7: {{0, 6}, {2, 3}, {4, 5}, {0, 2}, {1, 4}, {3, 6}, {0, 1}, {2, 5}, {3, 4}, {1, 2}, {4, 6}, {2, 3}, {4, 5}, {1, 2}, {3, 4}, {5, 6}},
	8: {{0, 2}, {1, 3}, {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6}, {3, 7}, {0, 1}, {2, 3}, {4, 5}, {6, 7}, {2, 4}, {3, 5}, {1, 4}, {3, 6}, {1, 2}, {3, 4}, {5, 6}},
}

// selectKth partially orders a so that a[k] is the k-th smallest value,
// with a[:k] ≤ a[k] ≤ a[k+1:], and returns a[k]. a must not contain NaN.
//
// It is a quickselect with median-of-three pivots and a Lomuto partition
// written without data-dependent branches: periodogram values are random,
// so a branching partition mispredicts on most comparisons and runs about
// three times slower. Lomuto degrades on runs of equal values (such as an
// all-zero spectrum), so after more rounds than a balanced split needs the
// remaining range is sorted instead.
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a) // half-open range containing k
	budget := 2*bits.Len(uint(len(a))) + 4
	for hi-lo > 8 {
		if budget == 0 {
			slices.Sort(a[lo:hi])
			return a[k]
		}
		budget--
		mid := lo + (hi-lo)/2
		x, y, z := a[lo], a[mid], a[hi-1]
		pivot := max(min(x, y), min(max(x, y), z))
		// Park the pivot at hi−1.
		switch pivot {
		case x:
			a[lo], a[hi-1] = z, x
		case y:
			a[mid], a[hi-1] = z, y
		}
		// Invariant: a[lo:j] < pivot ≤ a[j:i]. Swapping unconditionally
		// and advancing j by the comparison result keeps it branch-free.
		j := lo
		s := a[lo : hi-1]
		for i, v := range s {
			s[i] = a[j]
			a[j] = v
			var less int
			if v < pivot {
				less = 1
			}
			j += less
		}
		a[hi-1] = a[j]
		a[j] = pivot
		switch {
		case k < j:
			hi = j
		case k > j:
			lo = j + 1
		default:
			return pivot
		}
	}
	for i := lo + 1; i < hi; i++ {
		v := a[i]
		j := i
		for j > lo && a[j-1] > v {
			a[j] = a[j-1]
			j--
		}
		a[j] = v
	}
	return a[k]
}
