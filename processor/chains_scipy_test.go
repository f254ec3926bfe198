package processor

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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

// runChainsRef writes the inputs the specs name, runs chains_ref.py on
// the specs and returns the inputs by path.
func runChainsRef(t *testing.T, dir string, inputs map[string][]float64, specs []chainSpec) {
	t.Helper()
	for path, x := range inputs {
		writeF64(t, path, x)
	}
	specPath := filepath.Join(dir, "spec.json")
	b, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testdataDir, "chains_ref.py")
	if out, err := exec.Command(systemPython, script, specPath).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", systemPython, script, err, out)
	}
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
	tutorial16k  = chainInput{"coloured-16384Hz-16s", 16, 16384, false}
	white16k     = chainInput{"white-16384Hz-16s", 16, 16384, true}
	tutorial64s  = chainInput{"coloured-16384Hz-64s", 64, 16384, false}
	tutorial4k   = chainInput{"coloured-4096Hz-32s", 32, 4096, false}
	white1000    = chainInput{"white-1000Hz-60s", 60, 1000, true}
	tutorial256  = chainInput{"coloured-256Hz-600s", 600, 256, false}
	whiteShort1k = chainInput{"white-1024Hz-0.1s", 0.1, 1024, true}
	// The shortest series the filters below accept: one sample more than
	// they pad each end with.
	white7  = chainInput{"white-1024Hz-7", 7.0 / 1024, 1024, true}
	white22 = chainInput{"white-1024Hz-22", 22.0 / 1024, 1024, true}
)

var filterCases = []filterCase{
	{"lowpass", 1, []float64{100}, tutorial16k},
	{"lowpass", 2, []float64{1000}, white16k},
	{"lowpass", 3, []float64{2000}, tutorial16k},
	{"lowpass", 4, []float64{10}, tutorial16k},
	{"lowpass", 8, []float64{10}, tutorial64s},
	{"lowpass", 8, []float64{10}, white16k},
	{"lowpass", 8, []float64{4096}, white16k},
	{"lowpass", 8, []float64{8000}, tutorial16k},
	{"lowpass", 5, []float64{8100}, white16k},
	{"lowpass", 1, []float64{8190}, white16k},
	{"lowpass", 4, []float64{60}, tutorial256},
	{"lowpass", 8, []float64{127}, white1000},
	{"highpass", 1, []float64{10}, tutorial16k},
	{"highpass", 2, []float64{30}, white16k},
	{"highpass", 4, []float64{10}, tutorial16k},
	{"highpass", 8, []float64{10}, tutorial64s},
	{"highpass", 8, []float64{10}, white16k},
	{"highpass", 3, []float64{5000}, tutorial16k},
	{"highpass", 8, []float64{8000}, white16k},
	{"highpass", 2, []float64{0.5}, tutorial256},
	{"highpass", 4, []float64{400}, white1000},
	{"highpass", 2, []float64{100}, whiteShort1k},
	{"lowpass", 1, []float64{100}, white7},
	{"bandpass", 3, []float64{10, 100}, white22},
	{"bandpass", 1, []float64{40, 60}, tutorial16k},
	{"bandpass", 1, []float64{10, 1000}, white16k},
	{"bandpass", 2, []float64{30, 300}, tutorial16k},
	{"bandpass", 4, []float64{30, 300}, tutorial64s},
	{"bandpass", 4, []float64{10, 8000}, white16k},
	{"bandpass", 8, []float64{40, 60}, tutorial16k},
	{"bandpass", 8, []float64{1000, 2000}, white16k},
	{"bandpass", 8, []float64{10, 20}, tutorial16k},
	{"bandpass", 3, []float64{100, 7000}, tutorial16k},
	{"bandpass", 5, []float64{20, 8100}, white16k},
	{"bandpass", 4, []float64{4000, 4192}, white16k},
	{"bandpass", 2, []float64{1, 100}, tutorial256},
	{"bandpass", 8, []float64{100, 400}, tutorial4k},
	{"bandpass", 3, []float64{45, 55}, white1000},
}

func TestFiltersAgainstScipy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scipy")
	}
	requireScipy(t)
	dir := t.TempDir()
	inputs := map[string][]float64{}
	specs := make([]chainSpec, len(filterCases))
	for i, c := range filterCases {
		in := filepath.Join(dir, c.in.name+".f64")
		if inputs[in] == nil {
			inputs[in] = c.in.series()
		}
		specs[i] = chainSpec{
			Kind:   c.kind,
			Input:  in,
			Output: filepath.Join(dir, fmt.Sprintf("out%d.f64", i)),
			SOS:    filepath.Join(dir, fmt.Sprintf("sos%d.f64", i)),
			FS:     c.in.fs,
			Order:  c.order,
			Wn:     c.wn,
		}
	}
	runChainsRef(t, dir, inputs, specs)

	var worstSOS, worstOut float64
	for i, c := range filterCases {
		t.Run(c.name(), func(t *testing.T) {
			x := inputs[specs[i].Input]
			sos, got, err := c.run(x)
			if err != nil {
				t.Fatal(err)
			}
			wantSOS := readSOS(t, specs[i].SOS)
			if len(sos) != len(wantSOS) {
				t.Fatalf("got %d sections, want %d", len(sos), len(wantSOS))
			}
			e, at := sosRelErr(sos, wantSOS)
			worstSOS = max(worstSOS, e)
			if e > 1e-12 {
				t.Errorf("sos%s (relative error %.3g > 1e-12)", at, e)
			}
			want := readF64(t, specs[i].Output)
			if len(got) != len(want) {
				t.Fatalf("got %d samples, want %d", len(got), len(want))
			}
			ea, ai := maxAbsErr(got, want)
			r := rms(x)
			worstOut = max(worstOut, ea/r)
			t.Logf("sos relative error %.3g; output error %.3g of the input's RMS, %.3g of the output's", e, ea/r, ea/rms(want))
			if ea > 1e-9*r {
				t.Errorf("sample %d: got %.17g, want %.17g (error %.3g of the RMS %.3g > 1e-9)", ai, got[ai], want[ai], ea/r, r)
			}
		})
	}
	t.Logf("worst sos relative error %.3g, worst output error %.3g of the RMS", worstSOS, worstOut)
}

type resampleCase struct {
	up, down int
	in       chainInput
	n        int // samples of in to use; 0 for all
}

var resampleCases = []resampleCase{
	{1, 2, tutorial16k, 0},
	{2, 1, tutorial16k, 0},
	{3, 2, white16k, 0},
	{1, 4, tutorial16k, 0},
	{5, 3, white16k, 0},
	{4096, 16384, tutorial64s, 0},
	{16000, 16384, tutorial16k, 0},
	{16000, 16384, white16k, 0},
	{4, 1, tutorial4k, 0},
	{128, 125, white1000, 0},
	{7, 11, tutorial256, 0},
	{1, 4, tutorial16k, 16384*4 + 3},
	{2, 3, white16k, 1001},
	{1, 4, white16k, 10},
	{3, 1, white16k, 1},
	{1, 1000, white1000, 0},
	{999, 1000, white1000, 12345},
}

func TestResampleAgainstScipy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scipy")
	}
	requireScipy(t)
	dir := t.TempDir()
	inputs := map[string][]float64{}
	specs := make([]chainSpec, len(resampleCases))
	for i, c := range resampleCases {
		x := c.in.series()
		name := c.in.name
		if c.n > 0 {
			x, name = x[:c.n], fmt.Sprintf("%s-%d", name, c.n)
		}
		in := filepath.Join(dir, name+".f64")
		inputs[in] = x
		specs[i] = chainSpec{Kind: "resample", Input: in, Output: filepath.Join(dir, fmt.Sprintf("out%d.f64", i)), Up: c.up, Down: c.down}
	}
	runChainsRef(t, dir, inputs, specs)

	var worst float64
	for i, c := range resampleCases {
		t.Run(fmt.Sprintf("%d/%d/%s", c.up, c.down, filepath.Base(specs[i].Input)), func(t *testing.T) {
			x := inputs[specs[i].Input]
			got, err := Resample(x, c.in.fs, ResampleParams{Up: c.up, Down: c.down})
			if err != nil {
				t.Fatal(err)
			}
			want := readF64(t, specs[i].Output)
			if len(got) != len(want) {
				t.Fatalf("got %d samples, want %d", len(got), len(want))
			}
			e, at := maxAbsErr(got, want)
			r := rms(x)
			worst = max(worst, e/r)
			t.Logf("error %.3g of the RMS", e/r)
			if e > 1e-9*r {
				t.Errorf("sample %d: got %.17g, want %.17g (error %.3g of the RMS %.3g > 1e-9)", at, got[at], want[at], e/r, r)
			}
		})
	}
	t.Logf("worst error %.3g of the RMS", worst)
}

type trendCase struct {
	stride float64
	in     chainInput
	n      int // samples of in to use; 0 for all
}

var trendCases = []trendCase{
	{SecondTrend, tutorial16k, 0},
	{SecondTrend, white16k, 0},
	{MinuteTrend, chainInput{"coloured-16384Hz-180s", 180, 16384, false}, 0},
	{MinuteTrend, chainInput{"white-16384Hz-64s", 64, 16384, true}, 0},
	{MinuteTrend, tutorial256, 0},
	{SecondTrend, white1000, 60*1000 - 1},
	{0.25, tutorial4k, 0},
	{MinuteTrend, white16k, 0},
	{SecondTrend, whiteShort1k, 0},
}

func TestTrendsAgainstNumpy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs numpy")
	}
	requireScipy(t)
	dir := t.TempDir()
	inputs := map[string][]float64{}
	specs := make([]chainSpec, len(trendCases))
	for i, c := range trendCases {
		x := c.in.series()
		name := c.in.name
		if c.n > 0 {
			x, name = x[:c.n], fmt.Sprintf("%s-%d", name, c.n)
		}
		in := filepath.Join(dir, name+".f64")
		inputs[in] = x
		specs[i] = chainSpec{Kind: "trend", Input: in, Output: filepath.Join(dir, fmt.Sprintf("out%d.f64", i)), NStride: int(c.stride * c.in.fs)}
	}
	runChainsRef(t, dir, inputs, specs)

	var worst float64
	for i, c := range trendCases {
		t.Run(fmt.Sprintf("%gs/%s", c.stride, filepath.Base(specs[i].Input)), func(t *testing.T) {
			tr, err := Trends(inputs[specs[i].Input], c.in.fs, TrendParams{Stride: c.stride})
			if err != nil {
				t.Fatal(err)
			}
			got, want := trendColumns(tr), readF64(t, specs[i].Output)
			if len(got) != len(want) {
				t.Fatalf("got %d values, want %d", len(got), len(want))
			}
			e, at := maxRelErr(got, want)
			worst = max(worst, e)
			t.Logf("%d rows, max relative error %.3g", len(tr.N), e)
			if e > 1e-12 {
				rows := len(tr.N)
				t.Errorf("%s of row %d: got %.17g, want %.17g (relative error %.3g > 1e-12)",
					[]string{"mean", "min", "max", "rms", "n"}[at/rows], at%rows, got[at], want[at], e)
			}
		})
	}
	t.Logf("worst relative error %.3g", worst)
}
