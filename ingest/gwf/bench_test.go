package gwf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// strainLike makes n float64 samples that compress as detector strain
// does: coloured noise at 1e-21, all mantissa bits busy.
func strainLike(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	var lo, hi float64
	for i := range out {
		w := r.NormFloat64()
		lo = 0.999*lo + w   // low-frequency wander
		hi = 0.5*hi + 0.3*w // some high-frequency colour
		out[i] = (0.05*lo + hi) * 1e-21
	}
	return out
}

// benchFile is frames of 1 s at 16384 Hz of one channel.
func benchFile(b *testing.B, frames int, dtype string, code uint16) ([]byte, int) {
	const rate = 16384
	spec := encFile{version: 8}
	sampleBytes := 0
	for i := range frames {
		var values any
		switch dtype {
		case "float64":
			values = strainLike(rate, uint64(i))
			sampleBytes += rate * 8
		case "int16":
			r := rand.New(rand.NewPCG(uint64(i), 2))
			v := make([]int16, rate)
			x := 0.0
			for j := range v {
				x = 0.99*x + 30*r.NormFloat64()
				v[j] = int16(math.Round(x + 200*math.Sin(float64(j)*0.05)))
			}
			values = v
			sampleBytes += rate * 2
		}
		spec.frames = append(spec.frames, encFrame{
			name: "bench", number: uint32(i), gps: Time{Sec: 1e9 + int64(i)}, dt: 1,
			chans: []encChannel{{kind: Proc, name: "H1:STRAIN", values: values, code: code | littleEndian, rate: rate, unit: "strain", proc: ProcInfo{Type: 1}}},
		})
	}
	return encode(b, spec), sampleBytes
}

func benchDecode(b *testing.B, data []byte, sampleBytes int) {
	b.ReportAllocs()
	b.SetBytes(int64(sampleBytes))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/float64(sampleBytes), "stored/raw")
}

// BenchmarkDecodeGzipFloat64 decodes 16 s of 16384 Hz strain-like float64
// samples, gzip-compressed; throughput counts the decoded sample bytes.
func BenchmarkDecodeGzipFloat64(b *testing.B) {
	data, n := benchFile(b, 16, "float64", 1)
	benchDecode(b, data, n)
}

// BenchmarkDecodeZeroSuppressInt16 decodes 16 s of 16384 Hz int16 samples,
// zero-suppressed.
func BenchmarkDecodeZeroSuppressInt16(b *testing.B) {
	data, n := benchFile(b, 16, "int16", 5)
	benchDecode(b, data, n)
}

// BenchmarkDecodeRawFloat64 is the floor: no decompression.
func BenchmarkDecodeRawFloat64(b *testing.B) {
	data, n := benchFile(b, 16, "float64", 0)
	benchDecode(b, data, n)
}

// BenchmarkDecodeGzipFloat64OneFrame is the same 16 s as one 16 s frame:
// one vector, which decompresses on one goroutine.
func BenchmarkDecodeGzipFloat64OneFrame(b *testing.B) {
	const rate, seconds = 16384, 16
	spec := encFile{version: 8, frames: []encFrame{{
		name: "bench", gps: Time{Sec: 1e9}, dt: seconds,
		chans: []encChannel{{kind: Proc, name: "H1:STRAIN", values: strainLike(rate*seconds, 1), code: 1 | littleEndian, rate: rate, unit: "strain", proc: ProcInfo{Type: 1}}},
	}}}
	benchDecode(b, encode(b, spec), rate*seconds*8)
}

// benchReadLoad reads a file through an io.Reader and then loads each of
// its series through an io.ReaderAt, as an archiver short of memory does.
func benchReadLoad(b *testing.B, data []byte, sampleBytes int) {
	b.ReportAllocs()
	b.SetBytes(int64(sampleBytes))
	for b.Loop() {
		x, err := Options{}.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		r := bytes.NewReader(data)
		for _, s := range x.Series() {
			if err := x.Load(r, s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadLoadGzipFloat64 is BenchmarkDecodeGzipFloat64's file read
// by Read and Index.Load: one series of 16 pieces.
func BenchmarkReadLoadGzipFloat64(b *testing.B) {
	data, n := benchFile(b, 16, "float64", 1)
	benchReadLoad(b, data, n)
}

// BenchmarkReadLoadRawFloat64 is BenchmarkDecodeRawFloat64's file read by
// Read and Index.Load.
func BenchmarkReadLoadRawFloat64(b *testing.B) {
	data, n := benchFile(b, 16, "float64", 0)
	benchReadLoad(b, data, n)
}
