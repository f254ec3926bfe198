package processor

import "errors"

// Sentinel errors classifying why a product could not be made. Every error
// returned by the package's functions and Processor methods is a
// *SkipError that matches exactly one of them under errors.Is.
var (
	// ErrNonFinite means the series contains NaN or ±Inf samples.
	ErrNonFinite = errors.New("processor: series contains non-finite samples")
	// ErrTooShort means the series is shorter than one FFT segment (for a
	// spectrogram, one stride), no longer than a filter's padding, or
	// empty.
	ErrTooShort = errors.New("processor: series too short")
	// ErrBadParams means the sample rate or the product's parameters are
	// invalid.
	ErrBadParams = errors.New("processor: invalid parameters")
)

// SkipError explains why a product was not made. Its Error method
// returns only the one-line reason, such as
// "12 of 262144 samples are not finite (first at index 100)", so callers can
// record it verbatim next to the archived raw data.
type SkipError struct {
	Kind   error // ErrNonFinite, ErrTooShort or ErrBadParams
	Reason string
}

// Error returns e.Reason.
func (e *SkipError) Error() string { return e.Reason }

// Unwrap returns e.Kind so errors.Is matches the sentinel.
func (e *SkipError) Unwrap() error { return e.Kind }

func skip(kind error, reason string) error {
	return &SkipError{Kind: kind, Reason: reason}
}
