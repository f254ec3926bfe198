package processor

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	systemPython = "/usr/bin/python3"
	testdataDir  = "../testdata/processor"
)

// colouredSeries returns a deterministic test series sampled at fs: AR(1)
// red noise with a resonance, a sine and a DC offset, so the spectrum spans
// a few decades and the constant detrend matters.
func colouredSeries(n int, fs float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 42))
	x := make([]float64, n)
	var red, y1, y2 float64
	// Two-pole resonator near fs/8.
	rr, th := 0.995, 2*math.Pi/8
	a1, a2 := 2*rr*math.Cos(th), -rr*rr
	for i := range x {
		red = 0.99*red + r.NormFloat64()
		y := a1*y1 + a2*y2 + 0.05*r.NormFloat64()
		y1, y2 = y, y1
		t := float64(i) / fs
		x[i] = 250 + red + y + 3*math.Sin(2*math.Pi*fs/9.3*t) + 0.1*r.NormFloat64()
	}
	return x
}

func writeF64(t *testing.T, path string, x []float64) {
	t.Helper()
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF64(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%8 != 0 {
		t.Fatalf("%s: length %d is not a multiple of 8", path, len(b))
	}
	x := make([]float64, len(b)/8)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return x
}

// maxRelErr returns the largest per-bin relative error of got against want
// and the index where it occurs.
func maxRelErr(got, want []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range want {
		e := math.Abs(got[i]-want[i]) / math.Abs(want[i])
		if want[i] == 0 {
			e = math.Abs(got[i])
		}
		if !(e <= worst) { // also catches NaN
			worst, at = e, i
		}
	}
	return worst, at
}

// requireScipy skips the test unless the system Python has scipy.
func requireScipy(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not available: %v", systemPython, err)
	}
	if out, err := exec.Command(systemPython, "-c", "import numpy, scipy.signal").CombinedOutput(); err != nil {
		t.Skipf("numpy/scipy not importable by %s: %v: %s", systemPython, err, out)
	}
}

// runRef runs the system Python on script, one of testdata's reference
// scripts, with specs written as JSON into dir.
func runRef(t *testing.T, dir, script string, specs any) {
	t.Helper()
	specPath := filepath.Join(dir, "spec.json")
	b, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(testdataDir, script)
	if out, err := exec.Command(systemPython, script, specPath).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", systemPython, script, err, out)
	}
}

type refCase struct {
	name      string
	n         int
	fs        float64
	fftlength float64
	overlap   float64
	method    string
	stride    float64 // 0 for an ASD
}

// refSpec is one entry of welch_ref.py's JSON input.
type refSpec struct {
	Input    string  `json:"input"`
	Output   string  `json:"output"`
	FS       float64 `json:"fs"`
	NFFT     int     `json:"nfft"`
	NOverlap int     `json:"noverlap"`
	Method   string  `json:"method"`
	NStride  int     `json:"nstride"`
}

func TestAgainstScipy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scipy")
	}
	requireScipy(t)
	cases := []refCase{
		{"4096Hz/1s/0.5/median", 16 * 4096, 4096, 1, 0.5, MethodMedian, 0},
		{"4096Hz/1s/0.5/mean", 16 * 4096, 4096, 1, 0.5, MethodMean, 0},
		{"4096Hz/0.5s/0/median", 16 * 4096, 4096, 0.5, 0, MethodMedian, 0},
		{"4096Hz/0.5s/0/mean", 16 * 4096, 4096, 0.5, 0, MethodMean, 0},
		{"4096Hz/2s/1.5/median", 16 * 4096, 4096, 2, 1.5, MethodMedian, 0},
		{"4096Hz/2s/1.5/mean", 16 * 4096, 4096, 2, 1.5, MethodMean, 0},
		{"4096Hz/4s/2/median", 16 * 4096, 4096, 4, 2, MethodMedian, 0},
		{"4096Hz/1s/0/median-even-count", 16 * 4096, 4096, 1, 0, MethodMedian, 0},
		{"4096Hz/16s/single-segment", 16 * 4096, 4096, 16, 8, MethodMedian, 0},
		{"4096Hz/odd-length", 16*4096 + 1, 4096, 1, 0.5, MethodMedian, 0},
		{"4096Hz/uneven/0.75s/0.3", 16*4096 + 1234, 4096, 0.75, 0.3, MethodMedian, 0},
		{"4096Hz/uneven/0.75s/0.3/mean", 16*4096 + 1234, 4096, 0.75, 0.3, MethodMean, 0},
		{"1000Hz/nfft127/median", 10000, 1000, 0.127, 0.05, MethodMedian, 0},
		{"1000Hz/nfft127/mean", 10000, 1000, 0.127, 0.05, MethodMean, 0},
		{"1000Hz/nfft127/default-overlap", 10001, 1000, 0.127, DefaultOverlap(0.127), MethodMedian, 0},
		{"1000Hz/nfft1000", 10000, 1000, 1, 0.5, MethodMedian, 0},
		{"4099Hz/prime-nfft", 8 * 4099, 4099, 1, 0.5, MethodMedian, 0},
		{"64Hz/nfft16", 4096, 64, 0.25, 0.125, MethodMedian, 0},
		{"8Hz/nfft2", 100, 8, 0.25, 0, MethodMean, 0},
		{"8Hz/nfft3", 100, 12, 0.25, 0, MethodMedian, 0},
		{"16384Hz/4s/2/median", 16 * 16384, 16384, 4, 2, MethodMedian, 0},
		{"spectrogram/2s/0.5/median", 16 * 4096, 4096, 0.5, 0.25, MethodMedian, 2},
		{"spectrogram/2s/0.5/mean", 16*4096 + 100, 4096, 0.5, 0.25, MethodMean, 2},
		{"spectrogram/4s/4/one-row-per-worker", 8 * 4096, 4096, 4, 2, MethodMedian, 4},
		{"spectrogram/odd-nfft", 10000, 1000, 0.127, 0.05, MethodMedian, 1.5},
	}
	dir := t.TempDir()
	specs := make([]refSpec, len(cases))
	inputs := make([][]float64, len(cases))
	for i, c := range cases {
		inputs[i] = colouredSeries(c.n, c.fs, uint64(i+1))
		in := filepath.Join(dir, fmt.Sprintf("in%d.f64", i))
		writeF64(t, in, inputs[i])
		nstride := 0
		if c.stride > 0 {
			nstride = int(math.RoundToEven(c.stride * c.fs))
		}
		specs[i] = refSpec{
			Input:    in,
			Output:   filepath.Join(dir, fmt.Sprintf("out%d.f64", i)),
			FS:       c.fs,
			NFFT:     int(math.RoundToEven(c.fftlength * c.fs)),
			NOverlap: int(math.RoundToEven(c.overlap * c.fs)),
			Method:   c.method,
			NStride:  nstride,
		}
	}
	runRef(t, dir, "welch_ref.py", specs)

	p := New(2)
	worstAll := 0.0
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := readF64(t, specs[i].Output)
			prm := Params{FFTLength: c.fftlength, Overlap: c.overlap, Method: c.method, Window: WindowHann}
			var got []float64
			if c.stride > 0 {
				sg, err := p.Spectrogram(inputs[i], c.fs, c.stride, prm)
				if err != nil {
					t.Fatal(err)
				}
				got = sg.Values
			} else {
				a, err := p.ASD(inputs[i], c.fs, prm)
				if err != nil {
					t.Fatal(err)
				}
				got = a.Values
			}
			if len(got) != len(want) {
				t.Fatalf("got %d values, want %d", len(got), len(want))
			}
			e, at := maxRelErr(got, want)
			worstAll = max(worstAll, e)
			t.Logf("max relative error %.3g at bin %d", e, at)
			if e > 1e-9 {
				t.Errorf("bin %d: got %.17g, want %.17g (relative error %.3g > 1e-9)", at, got[at], want[at], e)
			}
		})
	}
	t.Logf("worst relative error over all cases: %.3g", worstAll)
}
