package processor

import (
	"fmt"
	"math"

	"github.com/gwwatchd/gwwatchd/processor/internal/pairwise"
)

// Trend strides of LIGO's DAQ, seconds.
const (
	SecondTrend = 1.0
	MinuteTrend = 60.0
)

// TrendParams selects a trend.
type TrendParams struct {
	Stride float64 // seconds per trend sample, a whole number of samples: SecondTrend, MinuteTrend or any other
}

// Trend holds the statistics LIGO's DAQ writes as trend channels, one
// value per stride: row i covers the samples of [i·DT, (i+1)·DT) after
// the series start, so the trend's start time is the series'.
type Trend struct {
	Mean, Min, Max, RMS []float64
	N                   []int   // samples in the stride: all of them, but fewer in a last, partial stride
	DT                  float64 // stride, s
}

// Trends returns the trend of x, sampled at fs Hz, in strides of
// prm.Stride seconds: for each stride the mean, minimum, maximum, root
// mean square and number of its samples. A series that ends part way
// through a stride gets a last row for the samples it has, with N telling
// how many, rather than losing them: the DAQ writes only whole strides,
// but a series cut from a longer one (64 s of a minute trend) would
// otherwise drop data at every cut. Sums are taken in numpy's order, so
// the values equal numpy's mean, min, max and sqrt(mean(x**2)) of each
// stride. Every sample must be finite.
func Trends(x []float64, fs float64, prm TrendParams) (*Trend, error) {
	if err := checkRate(fs); err != nil {
		return nil, err
	}
	if !(prm.Stride > 0) || math.IsInf(prm.Stride, 0) {
		return nil, skip(ErrBadParams, fmt.Sprintf("stride must be positive and finite, got %g s", prm.Stride))
	}
	ns := prm.Stride * fs
	nstride := math.Round(ns)
	if nstride < 1 || math.Abs(ns-nstride) > 1e-9*nstride {
		return nil, skip(ErrBadParams, fmt.Sprintf("stride %g s at %g Hz is %g samples; it must be a whole number", prm.Stride, fs, ns))
	}
	if len(x) == 0 {
		return nil, skip(ErrTooShort, "0 samples to trend")
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	n := int(min(nstride, float64(len(x))))
	rows := (len(x) + n - 1) / n
	tr := &Trend{
		Mean: make([]float64, rows),
		Min:  make([]float64, rows),
		Max:  make([]float64, rows),
		RMS:  make([]float64, rows),
		N:    make([]int, rows),
		DT:   nstride / fs,
	}
	for i := range rows {
		s := x[i*n : min((i+1)*n, len(x))]
		sum, sumSq, lo, hi := pairwise.Stats(s)
		k := float64(len(s))
		tr.Mean[i], tr.Min[i], tr.Max[i], tr.RMS[i], tr.N[i] = sum/k, lo, hi, math.Sqrt(sumSq/k), len(s)
	}
	return tr, nil
}
