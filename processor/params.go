package processor

import (
	"fmt"
	"math"
)

// Averaging methods and window names accepted in Params.
const (
	MethodMedian = "median"
	MethodMean   = "mean"
	WindowHann   = "hann"
)

// Params selects the Welch estimate. Durations are in seconds and converted
// to samples by rounding half to even, as numpy does.
type Params struct {
	FFTLength float64 // segment length, seconds
	Overlap   float64 // overlap between segments, seconds; see DefaultOverlap
	Method    string  // MethodMedian or MethodMean
	Window    string  // WindowHann (periodic Hann, as scipy's get_window)
}

// DefaultOverlap returns gwpy's default overlap for a Hann window: half of
// fftlength. Params.Overlap is used as given, so callers resolve an unset
// overlap with this before calling.
func DefaultOverlap(fftlength float64) float64 { return fftlength / 2 }

// toSamples converts a duration to a sample count the way gwpy/numpy round
// (half to even).
func toSamples(seconds, fs float64) float64 { return math.RoundToEven(seconds * fs) }

// resolve validates prm for sample rate fs and returns the segment length
// and overlap in samples.
func (prm Params) resolve(fs float64) (nfft, nover int, err error) {
	if err := checkRate(fs); err != nil {
		return 0, 0, err
	}
	switch {
	case !(prm.FFTLength > 0) || math.IsInf(prm.FFTLength, 0):
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("fftlength must be positive and finite, got %g s", prm.FFTLength))
	case !(prm.Overlap >= 0 && prm.Overlap < prm.FFTLength):
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("overlap must be at least 0 and less than fftlength %g s, got %g s", prm.FFTLength, prm.Overlap))
	case prm.Method != MethodMedian && prm.Method != MethodMean:
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("averaging method %q is not supported (want %q or %q)", prm.Method, MethodMedian, MethodMean))
	case prm.Window != WindowHann:
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("window %q is not supported (want %q)", prm.Window, WindowHann))
	}
	n := toSamples(prm.FFTLength, fs)
	if n < 2 {
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("fftlength %g s at %g Hz is %g samples; need at least 2", prm.FFTLength, fs, n))
	}
	if n > math.MaxInt32 {
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("fftlength %g s at %g Hz is %g samples; too long", prm.FFTLength, fs, n))
	}
	nfft = int(n)
	nover = int(toSamples(prm.Overlap, fs))
	if nover >= nfft {
		return 0, 0, skip(ErrBadParams, fmt.Sprintf("overlap %g s rounds to %d samples, not less than the %d-sample segment", prm.Overlap, nover, nfft))
	}
	return nfft, nover, nil
}

// checkRate reports a sample rate that is not positive and finite.
func checkRate(fs float64) error {
	if !(fs > 0) || math.IsInf(fs, 0) {
		return skip(ErrBadParams, fmt.Sprintf("sample rate must be positive and finite, got %g Hz", fs))
	}
	return nil
}
