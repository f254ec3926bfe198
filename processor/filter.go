package processor

import (
	"fmt"

	"github.com/gwwatchd/gwwatchd/processor/internal/iir"
)

// MaxFilterOrder is the highest Butterworth order accepted. scipy sets no
// limit; this one keeps a mistyped order from designing thousands of
// sections (pairing poles into sections costs the square of the order),
// and is far beyond the orders used on detector data.
const MaxFilterOrder = 64

// SOS is a digital filter as cascaded second-order sections, the rows of
// scipy's sos array: [b0, b1, b2, a0, a1, a2] with a0 = 1, the gain in the
// first section.
type SOS [][6]float64

// FilterParams selects a Butterworth lowpass or highpass filter.
type FilterParams struct {
	Order  int     // number of poles, from 1 to MaxFilterOrder
	Cutoff float64 // Hz, where the gain is 1/√2; below the Nyquist frequency
}

// BandParams selects a Butterworth bandpass filter.
type BandParams struct {
	Order     int     // order of the lowpass prototype: the bandpass has twice as many poles, as in scipy
	Low, High float64 // Hz, the band edges, where the gain is 1/√2
}

// LowpassSOS returns the Butterworth lowpass filter
// scipy.signal.butter(prm.Order, prm.Cutoff, "lowpass", fs=fs, output="sos")
// designs: poles paired into sections as scipy pairs them, coefficients
// equal to scipy's to rounding.
func LowpassSOS(fs float64, prm FilterParams) (SOS, error) {
	return butter(fs, prm.Order, iir.Lowpass, critical{"cutoff", prm.Cutoff})
}

// HighpassSOS returns the Butterworth highpass filter scipy.signal.butter
// designs with btype "highpass", as LowpassSOS.
func HighpassSOS(fs float64, prm FilterParams) (SOS, error) {
	return butter(fs, prm.Order, iir.Highpass, critical{"cutoff", prm.Cutoff})
}

// BandpassSOS returns the Butterworth bandpass filter
// scipy.signal.butter(prm.Order, [prm.Low, prm.High], "bandpass", fs=fs,
// output="sos") designs: prm.Order sections.
func BandpassSOS(fs float64, prm BandParams) (SOS, error) {
	return butter(fs, prm.Order, iir.Bandpass, critical{"low", prm.Low}, critical{"high", prm.High})
}

// Lowpass returns x, sampled at fs Hz, filtered forward and backward by
// LowpassSOS(fs, prm): see SOS.FiltFilt.
func Lowpass(x []float64, fs float64, prm FilterParams) ([]float64, error) {
	return filtFilt(x, fs, prm.Order, iir.Lowpass, critical{"cutoff", prm.Cutoff})
}

// Highpass returns x, sampled at fs Hz, filtered forward and backward by
// HighpassSOS(fs, prm): see SOS.FiltFilt.
func Highpass(x []float64, fs float64, prm FilterParams) ([]float64, error) {
	return filtFilt(x, fs, prm.Order, iir.Highpass, critical{"cutoff", prm.Cutoff})
}

// Bandpass returns x, sampled at fs Hz, filtered forward and backward by
// BandpassSOS(fs, prm): see SOS.FiltFilt.
func Bandpass(x []float64, fs float64, prm BandParams) ([]float64, error) {
	return filtFilt(x, fs, prm.Order, iir.Bandpass, critical{"low", prm.Low}, critical{"high", prm.High})
}

func filtFilt(x []float64, fs float64, order int, kind iir.Kind, wn ...critical) ([]float64, error) {
	sos, err := butter(fs, order, kind, wn...)
	if err != nil {
		return nil, err
	}
	return sos.FiltFilt(x)
}

// PadLen returns the number of samples FiltFilt adds at each end of a
// series, as scipy's sosfiltfilt by default: 3·(2·len(s)+1), less 3 for
// a first-order section.
func (s SOS) PadLen() int { return iir.PadLen(s) }

// FiltFilt returns x filtered with zero phase, equal to
// scipy.signal.sosfiltfilt(s, x) with its defaults: x is extended at each
// end by PadLen samples of odd reflection about its end sample, filtered
// forward from the steady state for the first extended sample
// (scipy's sosfilt_zi scaled by it), then backward likewise, and the
// extension removed. x must be longer than PadLen, as scipy requires, and
// every sample must be finite. The result is a new slice; x is unchanged.
func (s SOS) FiltFilt(x []float64) ([]float64, error) {
	if len(s) == 0 {
		return nil, skip(ErrBadParams, "the filter has no sections")
	}
	for i, sec := range s {
		if sec[3] != 1 {
			return nil, skip(ErrBadParams, fmt.Sprintf("section %d has a0 = %g; want 1", i, sec[3]))
		}
	}
	if edge := s.PadLen(); len(x) <= edge {
		return nil, skip(ErrTooShort, fmt.Sprintf("%d samples is not longer than the %d samples the filter pads each end with", len(x), edge))
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	return iir.FiltFilt(s, x), nil
}

// critical is a named critical frequency of a filter, Hz.
type critical struct {
	name string
	hz   float64
}

// butter checks the design parameters as scipy's iirfilter does, naming
// the one at fault, and designs the filter.
func butter(fs float64, order int, kind iir.Kind, crit ...critical) (SOS, error) {
	if err := checkRate(fs); err != nil {
		return nil, err
	}
	if order < 1 || order > MaxFilterOrder {
		return nil, skip(ErrBadParams, fmt.Sprintf("order must be from 1 to %d, got %d", MaxFilterOrder, order))
	}
	// Normalized to the Nyquist frequency as scipy does, 2·f/fs.
	wn := make([]float64, len(crit))
	for i, c := range crit {
		wn[i] = 2 * c.hz / fs
		if !(wn[i] > 0) {
			return nil, skip(ErrBadParams, fmt.Sprintf("%s must be above 0 Hz, got %g Hz", c.name, c.hz))
		}
		if !(wn[i] < 1) {
			return nil, skip(ErrBadParams, fmt.Sprintf("%s %g Hz is not below the Nyquist frequency %g Hz", c.name, c.hz, fs/2))
		}
	}
	if len(wn) == 2 && !(wn[0] < wn[1]) {
		return nil, skip(ErrBadParams, fmt.Sprintf("%s %g Hz is not below %s %g Hz", crit[0].name, crit[0].hz, crit[1].name, crit[1].hz))
	}
	return iir.Butter(order, wn, kind), nil
}
