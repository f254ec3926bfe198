package processor

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// chainSpec is one entry of chains_ref.py's JSON input.
type chainSpec struct {
	Kind    string    `json:"kind"`
	Input   string    `json:"input"`
	Output  string    `json:"output"`
	SOS     string    `json:"sos,omitempty"`
	FS      float64   `json:"fs,omitempty"`
	Order   int       `json:"order,omitempty"`
	Wn      []float64 `json:"wn,omitempty"`
	Up      int       `json:"up,omitempty"`
	Down    int       `json:"down,omitempty"`
	NStride int       `json:"nstride,omitempty"`
}

func readSOS(t *testing.T, path string) SOS {
	t.Helper()
	v := readF64(t, path)
	if len(v)%6 != 0 {
		t.Fatalf("%s: %d values is not rows of 6", path, len(v))
	}
	sos := make(SOS, len(v)/6)
	for i := range sos {
		copy(sos[i][:], v[6*i:])
	}
	return sos
}

var (
	tutorial16k  = chainInput{name: "coloured-16384Hz-16s", seconds: 16, fs: 16384}
	white16k     = chainInput{name: "white-16384Hz-16s", seconds: 16, fs: 16384, white: true}
	tutorial64s  = chainInput{name: "coloured-16384Hz-64s", seconds: 64, fs: 16384}
	tutorial180s = chainInput{name: "coloured-16384Hz-180s", seconds: 180, fs: 16384}
	white64s     = chainInput{name: "white-16384Hz-64s", seconds: 64, fs: 16384, white: true}
	tutorial4k   = chainInput{name: "coloured-4096Hz-32s", seconds: 32, fs: 4096}
	white1000    = chainInput{name: "white-1000Hz-60s", seconds: 60, fs: 1000, white: true}
	tutorial256  = chainInput{name: "coloured-256Hz-600s", seconds: 600, fs: 256}
	white1024    = chainInput{name: "white-1024Hz-0.1s", seconds: 0.1, fs: 1024, white: true}
	offset16k    = chainInput{name: "coloured-16384Hz-16s", seconds: 16, fs: 16384, offset: 250}
)

func lowpass(order int, hz float64) chainCase {
	return chainCase{kind: "lowpass", order: order, wn: []float64{hz}}
}

func highpass(order int, hz float64) chainCase {
	return chainCase{kind: "highpass", order: order, wn: []float64{hz}}
}

func bandpass(order int, low, high float64) chainCase {
	return chainCase{kind: "bandpass", order: order, wn: []float64{low, high}}
}

func resample(up, down int) chainCase { return chainCase{kind: "resample", up: up, down: down} }

func trend(stride float64) chainCase { return chainCase{kind: "trend", stride: stride} }

// scipyCases are checked against scipy and numpy on the tutorial's
// coloured noise (also with a large DC offset) and on white noise: filters of orders 1 to 8 with cutoffs
// from 0.5 Hz to near Nyquist, narrow and wide bands, a series just longer
// than the filter's padding; the resampling ratios of a pipeline and odd
// ones, series shorter than the filter; second, minute and other trends,
// with and without a partial last stride.
var scipyCases = []struct {
	chainCase
	in chainInput
}{
	{lowpass(1, 100), tutorial16k},
	{lowpass(2, 1000), white16k},
	{lowpass(3, 2000), tutorial16k},
	{lowpass(4, 10), tutorial16k},
	{lowpass(8, 10), tutorial64s},
	{lowpass(8, 10), white16k},
	{lowpass(8, 4096), white16k},
	{lowpass(8, 8000), tutorial16k},
	{lowpass(5, 8100), white16k},
	{lowpass(1, 8190), white16k},
	{lowpass(4, 60), tutorial256},
	{lowpass(8, 127), white1000},
	{lowpass(1, 100), white1024.first(7)},
	{highpass(1, 10), tutorial16k},
	{highpass(2, 30), white16k},
	{highpass(4, 10), tutorial16k},
	{highpass(8, 10), tutorial64s},
	{highpass(8, 10), white16k},
	{highpass(3, 5000), tutorial16k},
	{highpass(8, 8000), white16k},
	{highpass(2, 0.5), tutorial256},
	{highpass(4, 400), white1000},
	{highpass(2, 100), white1024},
	{highpass(8, 10), offset16k},
	{lowpass(4, 10), offset16k},
	{bandpass(4, 30, 300), offset16k},
	{bandpass(1, 40, 60), tutorial16k},
	{bandpass(1, 10, 1000), white16k},
	{bandpass(2, 30, 300), tutorial16k},
	{bandpass(4, 30, 300), tutorial64s},
	{bandpass(4, 10, 8000), white16k},
	{bandpass(8, 40, 60), tutorial16k},
	{bandpass(8, 1000, 2000), white16k},
	{bandpass(8, 10, 20), tutorial16k},
	{bandpass(3, 100, 7000), tutorial16k},
	{bandpass(5, 20, 8100), white16k},
	{bandpass(4, 4000, 4192), white16k},
	{bandpass(2, 1, 100), tutorial256},
	{bandpass(8, 100, 400), tutorial4k},
	{bandpass(3, 45, 55), white1000},
	{bandpass(3, 10, 100), white1024.first(22)},
	{resample(1, 2), tutorial16k},
	{resample(2, 1), tutorial16k},
	{resample(3, 2), white16k},
	{resample(1, 4), tutorial16k},
	{resample(5, 3), white16k},
	{resample(4096, 16384), tutorial64s},
	{resample(16000, 16384), tutorial16k},
	{resample(16000, 16384), white16k},
	{resample(4, 1), tutorial4k},
	{resample(128, 125), white1000},
	{resample(7, 11), tutorial256},
	{resample(1, 4), tutorial16k.first(16384*4 + 3)},
	{resample(2, 3), white16k.first(1001)},
	{resample(1, 4), white16k.first(10)},
	{resample(3, 1), white16k.first(1)},
	{resample(1, 1000), white1000},
	{resample(999, 1000), white1000.first(12345)},
	{resample(1, 4), offset16k},
	{trend(SecondTrend), tutorial16k},
	{trend(SecondTrend), white16k},
	{trend(MinuteTrend), tutorial180s},
	{trend(MinuteTrend), white64s},
	{trend(MinuteTrend), tutorial256},
	{trend(SecondTrend), white1000.first(60*1000 - 1)},
	{trend(0.25), tutorial4k},
	{trend(MinuteTrend), white16k},
	{trend(SecondTrend), white1024},
	{trend(SecondTrend), offset16k},
}

func TestChainsAgainstScipy(t *testing.T) {
	if !testsize.Full() {
		t.Skip("runs scipy on long chains: at full size only")
	}
	requireScipy(t)
	dir := t.TempDir()
	inputs := map[string][]float64{}
	specs := make([]chainSpec, len(scipyCases))
	for i, c := range scipyCases {
		s := c.spec(c.in.fs)
		s.Input = filepath.Join(dir, c.in.file())
		s.Output = filepath.Join(dir, fmt.Sprintf("out%d.f64", i))
		if c.filter() {
			s.SOS = filepath.Join(dir, fmt.Sprintf("sos%d.f64", i))
		}
		if inputs[s.Input] == nil {
			inputs[s.Input] = c.in.series()
			writeF64(t, s.Input, inputs[s.Input])
		}
		specs[i] = s
	}
	runRef(t, dir, "chains_ref.py", specs)

	worst, worstSOS := map[string]float64{}, 0.0
	for i, c := range scipyCases {
		t.Run(fmt.Sprintf("%v/%s", c.chainCase, c.in.file()), func(t *testing.T) {
			var wantSOS SOS
			if c.filter() {
				wantSOS = readSOS(t, specs[i].SOS)
			}
			e, es := c.check(t, inputs[specs[i].Input], c.in.fs, readF64(t, specs[i].Output), wantSOS)
			t.Logf("error %.3g, sections %.3g", e, es)
			worst[c.kind] = max(worst[c.kind], e)
			worstSOS = max(worstSOS, es)
		})
	}
	t.Logf("worst errors (of the RMS, relative for trends): %v; of the sections %.3g", worst, worstSOS)
}
