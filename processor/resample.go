package processor

import (
	"fmt"
	"math"
	"slices"

	"github.com/gwwatchd/gwwatchd/processor/internal/fir"
)

// MaxResampleFactor bounds up and down once reduced. The filter has
// 20·max(up, down)+1 taps, so the bound keeps it below 20001, and a
// ratio needing larger terms is in practice a rate that is not a simple
// fraction of the input's.
const MaxResampleFactor = 1000

// ResampleParams selects rational resampling: the output rate is
// fs·Up/Down. Up and Down are reduced by their greatest common divisor
// before use.
type ResampleParams struct {
	Up, Down int
}

// Rate returns the sample rate a series at fs Hz is resampled to.
func (prm ResampleParams) Rate(fs float64) float64 {
	return fs * float64(prm.Up) / float64(prm.Down)
}

// ResampleTo returns the ResampleParams taking a series sampled at fs Hz
// to rate Hz: the reduced up/down, each at most MaxResampleFactor, for
// which fs·up/down is rate exactly. 16384 Hz to 4096 Hz is 1/4 and to
// 16000 Hz 125/128; 16384 Hz to 1000 Hz, 125/2048, is refused.
func ResampleTo(fs, rate float64) (ResampleParams, error) {
	if err := checkRate(fs); err != nil {
		return ResampleParams{}, err
	}
	if !(rate > 0) || math.IsInf(rate, 0) {
		return ResampleParams{}, skip(ErrBadParams, fmt.Sprintf("target rate must be positive and finite, got %g Hz", rate))
	}
	// The smallest down that works gives the reduced ratio.
	for down := 1; down <= MaxResampleFactor; down++ {
		up := math.Round(rate * float64(down) / fs)
		if up < 1 || up > MaxResampleFactor {
			continue
		}
		prm := ResampleParams{Up: int(up), Down: down}
		if prm.Rate(fs) == rate {
			return prm, nil
		}
	}
	reason := fmt.Sprintf("resampling %g Hz to %g Hz needs a ratio up/down with up and down at most %d, and there is none", fs, rate, MaxResampleFactor)
	if fs == math.Trunc(fs) && rate == math.Trunc(rate) && fs < 1<<53 && rate < 1<<53 {
		g := gcd(int(fs), int(rate))
		reason = fmt.Sprintf("resampling %g Hz to %g Hz needs up/down = %d/%d; up and down must be at most %d", fs, rate, int(rate)/g, int(fs)/g, MaxResampleFactor)
	}
	return ResampleParams{}, skip(ErrBadParams, reason)
}

// Resample returns x, sampled at fs Hz, resampled to fs·Up/Down, equal to
// scipy.signal.resample_poly(x, up, down) with its defaults (a Kaiser
// window of β = 5 and zero padding): ⌈len(x)·up/down⌉ samples, the first
// at the time of x[0]. After reduction up and down must be at most
// MaxResampleFactor; 1/1 returns a copy of x. Every sample must be
// finite.
func Resample(x []float64, fs float64, prm ResampleParams) ([]float64, error) {
	if err := checkRate(fs); err != nil {
		return nil, err
	}
	if prm.Up < 1 || prm.Down < 1 {
		return nil, skip(ErrBadParams, fmt.Sprintf("up and down must be at least 1, got %d/%d", prm.Up, prm.Down))
	}
	g := gcd(prm.Up, prm.Down)
	up, down := prm.Up/g, prm.Down/g
	if up > MaxResampleFactor || down > MaxResampleFactor {
		return nil, skip(ErrBadParams, fmt.Sprintf("up/down %d/%d reduces to %d/%d; up and down must be at most %d", prm.Up, prm.Down, up, down, MaxResampleFactor))
	}
	if len(x) == 0 {
		return nil, skip(ErrTooShort, "0 samples to resample")
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	if up == 1 && down == 1 {
		return slices.Clone(x), nil
	}
	r := fir.NewResampler(up, down)
	y := make([]float64, r.OutLen(len(x)))
	r.Apply(y, x)
	return y, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
