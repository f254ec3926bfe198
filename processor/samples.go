package processor

import (
	"fmt"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// series is a real-valued series as the Welch estimates read it: one
// segment at a time. float64 samples are read in place; samples of any
// other real type are converted segment by segment into the reader's own
// buffer, so that no float64 copy of the whole series is ever made. The
// conversion is float64(v) of each sample, as converting the whole series
// first would be, so the products are the same to the bit: exact for
// every type but int64 and uint64 beyond 2^53 in magnitude, which round
// to the nearest float64 either way.
type series struct {
	f64    []float64 // the samples, when they are float64 (other is nil)
	other  any       // the samples of any other real type
	off, n int       // the series is samples [off, off+n)
}

// float64Series is x as a series, read in place.
func float64Series(x []float64) series { return series{f64: x, n: len(x)} }

// seriesOf is values, a slice of real samples of any type samples knows
// (int8 … uint64, float32, float64), as a series. Anything else, complex
// samples among them, is refused.
func seriesOf(values any) (series, error) {
	switch v := values.(type) {
	case []float64:
		return float64Series(v), nil
	case []int8, []int16, []int32, []int64, []uint8, []uint16, []uint32, []uint64, []float32:
		return series{other: v, n: samples.Len(v)}, nil
	}
	what := fmt.Sprintf("%T", values)
	if d := samples.Of(values); d != "" {
		what = string(d)
	}
	return series{}, skip(ErrBadParams, fmt.Sprintf("%s samples: spectra are made of real-valued samples only", what))
}

// len returns the number of samples of s.
func (s series) len() int { return s.n }

// sub returns samples [i, i+n) of s.
func (s series) sub(i, n int) series {
	s.off += i
	s.n = n
	return s
}

// segment returns samples [i, j) of s as float64: a view of float64
// samples, or the others converted into buf, which must hold j−i values.
func (s series) segment(buf []float64, i, j int) []float64 {
	i, j = s.off+i, s.off+j
	if s.other == nil {
		return s.f64[i:j]
	}
	buf = buf[:j-i]
	switch v := s.other.(type) {
	case []int8:
		convert(buf, v[i:j])
	case []int16:
		convert(buf, v[i:j])
	case []int32:
		convert(buf, v[i:j])
	case []int64:
		convert(buf, v[i:j])
	case []uint8:
		convert(buf, v[i:j])
	case []uint16:
		convert(buf, v[i:j])
	case []uint32:
		convert(buf, v[i:j])
	case []uint64:
		convert(buf, v[i:j])
	case []float32:
		convert(buf, v[i:j])
	}
	return buf
}

func convert[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](dst []float64, src []T) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float64(v)
	}
}

// checkFinite reports the non-finite samples of s, if any. Integer
// samples are always finite.
func (s series) checkFinite() error {
	switch v := s.other.(type) {
	case nil:
		return checkFinite(s.f64[s.off : s.off+s.n])
	case []float32:
		return checkFinite(v[s.off : s.off+s.n])
	}
	return nil
}
