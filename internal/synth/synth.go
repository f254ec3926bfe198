// Package synth makes synthetic detector-like series and writes them as
// NumPy files, for the demo, the benchmarks and the tests.
package synth

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
)

// Coloured returns n samples at fs Hz: red noise (a one-pole low-pass of
// white noise), white noise, and a sine of amplitude 1 at lineHz.
func Coloured(n int, fs, lineHz float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	x := make([]float64, n)
	red := 0.0
	for i := range x {
		red = 0.995*red + r.NormFloat64()
		x[i] = 0.2*red + r.NormFloat64() + math.Sin(2*math.Pi*lineHz*float64(i)/fs)
	}
	return x
}

// White returns n samples of white Gaussian noise of unit variance, the
// same for the same seed.
func White(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// WriteNPY writes a 1-D float64 array as a NumPy .npy file (format 1.0).
func WriteNPY(path string, x []float64) error {
	buf := npyHeader("<f8", len(x), 8*len(x))
	for _, v := range x {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	return os.WriteFile(path, buf, 0o644)
}

// WriteNPYInt16 writes a 1-D int16 array as a NumPy .npy file (format 1.0).
func WriteNPYInt16(path string, x []int16) error {
	buf := npyHeader("<i2", len(x), 2*len(x))
	for _, v := range x {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
	}
	return os.WriteFile(path, buf, 0o644)
}

// Counts returns x as an ADC would record it: scaled by gain, rounded and
// clipped to int16.
func Counts(x []float64, gain float64) []int16 {
	q := make([]int16, len(x))
	for i, v := range x {
		q[i] = int16(max(math.MinInt16, min(math.MaxInt16, math.Round(gain*v))))
	}
	return q
}

// npyHeader starts a .npy file of n samples of descr, with room for the
// data bytes that follow.
func npyHeader(descr string, n, data int) []byte {
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }", descr, n)
	// The magic, version and length take 10 bytes; pad so the data starts
	// at a multiple of 64, ending the header with a newline.
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += fmt.Sprintf("%*s\n", pad, "")
	buf := make([]byte, 0, 10+len(header)+data)
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	return append(buf, header...)
}
