package processor

import (
	"fmt"
	"testing"
)

// BenchmarkASD64s16384 is the reference workload: 64 s at 16384 Hz,
// fftlength 4 s, overlap 2 s, median averaging (31 segments of 65536).
func BenchmarkASD64s16384(b *testing.B) {
	const fs = 16384
	x := colouredSeries(64*fs, fs, 1)
	for _, m := range []string{MethodMedian, MethodMean} {
		for _, par := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/parallel=%d", m, par), func(b *testing.B) {
				p := New(par)
				prm := Params{FFTLength: 4, Overlap: 2, Method: m, Window: WindowHann}
				if _, err := p.ASD(x, fs, prm); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(8 * len(x)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.ASD(x, fs, prm); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSpectrogram is 256 s at 4096 Hz in 4 s strides with fftlength
// 1 s, overlap 0.5 s, median averaging (64 rows of 7 segments).
func BenchmarkSpectrogram(b *testing.B) {
	const fs = 4096
	x := colouredSeries(256*fs, fs, 1)
	p := New(0)
	prm := Params{FFTLength: 1, Overlap: 0.5, Method: MethodMedian, Window: WindowHann}
	if _, err := p.Spectrogram(x, fs, 4, prm); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(8 * len(x)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Spectrogram(x, fs, 4, prm); err != nil {
			b.Fatal(err)
		}
	}
}
