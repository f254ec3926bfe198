package processor

import (
	"fmt"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/samples"
	"github.com/gwwatchd/gwwatchd/internal/synth"
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

// BenchmarkASDInt16 is the reference workload of BenchmarkASD64s16384 on
// int16 samples, which ASDOf converts a segment at a time as it reads
// them. Throughput is in bytes of the series as float64, as there.
func BenchmarkASDInt16(b *testing.B) {
	const fs = 16384
	x := typed(colouredSeries(64*fs, fs, 1), samples.Int16)
	for _, m := range []string{MethodMedian, MethodMean} {
		for _, par := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/parallel=%d", m, par), func(b *testing.B) {
				p := New(par)
				prm := Params{FFTLength: 4, Overlap: 2, Method: m, Window: WindowHann}
				if _, err := p.ASDOf(x, fs, prm); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(8 * samples.Len(x)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.ASDOf(x, fs, prm); err != nil {
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

// BenchmarkBandpass64s16384 filters 64 s at 16384 Hz forward and backward
// with a Butterworth bandpass of order 4 and 8 (4 and 8 sections).
func BenchmarkBandpass64s16384(b *testing.B) {
	const fs = 16384
	x := synth.Coloured(64*fs, fs, 50, 1)
	for _, order := range []int{4, 8} {
		b.Run(fmt.Sprintf("order=%d", order), func(b *testing.B) {
			prm := BandParams{Order: order, Low: 30, High: 300}
			benchSeries(b, x, func() error {
				_, err := Bandpass(x, fs, prm)
				return err
			})
		})
	}
}

// BenchmarkHighpass64s16384 is the common highpass of order 8 at 10 Hz
// (4 sections) on 64 s at 16384 Hz.
func BenchmarkHighpass64s16384(b *testing.B) {
	const fs = 16384
	x := synth.Coloured(64*fs, fs, 50, 1)
	benchSeries(b, x, func() error {
		_, err := Highpass(x, fs, FilterParams{Order: 8, Cutoff: 10})
		return err
	})
}

// BenchmarkResample64s16384 resamples 64 s at 16384 Hz to 4096 Hz (1/4,
// 81 taps), 16000 Hz (125/128, 2561 taps) and 32768 Hz (2/1, 41 taps).
func BenchmarkResample64s16384(b *testing.B) {
	const fs = 16384
	x := synth.Coloured(64*fs, fs, 50, 1)
	for _, rate := range []float64{4096, 16000, 32768} {
		b.Run(fmt.Sprintf("to=%g", rate), func(b *testing.B) {
			prm, err := ResampleTo(fs, rate)
			if err != nil {
				b.Fatal(err)
			}
			benchSeries(b, x, func() error {
				_, err := Resample(x, fs, prm)
				return err
			})
		})
	}
}

// BenchmarkTrend makes second and minute trends of 128 s at 16384 Hz.
func BenchmarkTrend(b *testing.B) {
	const fs = 16384
	x := synth.Coloured(128*fs, fs, 50, 1)
	for _, stride := range []float64{SecondTrend, MinuteTrend} {
		b.Run(fmt.Sprintf("stride=%gs", stride), func(b *testing.B) {
			benchSeries(b, x, func() error {
				_, err := Trends(x, fs, TrendParams{Stride: stride})
				return err
			})
		})
	}
}

// benchSeries times fn, reporting throughput in bytes of the input x.
func benchSeries(b *testing.B, x []float64, fn func() error) {
	b.SetBytes(int64(8 * len(x)))
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
}
