package processor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// chainGolden is one entry of testdata/processor/golden/chains/manifest.json,
// written by testdata/processor/gen_golden_chains.py.
type chainGolden struct {
	Name    string       `json:"name"`
	Kind    string       `json:"kind"`
	Input   string       `json:"input"`
	Output  string       `json:"output"`
	FS      float64      `json:"fs"`
	Order   int          `json:"order"`
	Wn      []float64    `json:"wn"`
	SOS     [][6]float64 `json:"sos"`
	Up      int          `json:"up"`
	Down    int          `json:"down"`
	Stride  float64      `json:"stride"`
	NStride int          `json:"nstride"`
}

// TestChainsGolden compares filters, resamplings and trends against scipy
// and numpy results stored in the repository, so it needs no Python.
func TestChainsGolden(t *testing.T) {
	dir := filepath.Join(testdataDir, "golden", "chains")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []chainGolden
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("manifest lists no cases")
	}
	kinds := map[string]bool{}
	for _, c := range cases {
		kinds[c.Kind] = true
		t.Run(c.Name, func(t *testing.T) {
			x := readF64(t, filepath.Join(dir, c.Input))
			want := readF64(t, filepath.Join(dir, c.Output))
			var got []float64
			switch c.Kind {
			case "lowpass", "highpass", "bandpass":
				fc := filterCase{kind: c.Kind, order: c.Order, wn: c.Wn, in: chainInput{fs: c.FS}}
				sos, y, err := fc.run(x)
				if err != nil {
					t.Fatal(err)
				}
				if len(sos) != len(c.SOS) {
					t.Fatalf("got %d sections, want %d", len(sos), len(c.SOS))
				}
				if e, at := sosRelErr(sos, c.SOS); e > 1e-12 {
					t.Errorf("sos%s (relative error %.3g > 1e-12)", at, e)
				}
				got = y
			case "resample":
				y, err := Resample(x, c.FS, ResampleParams{Up: c.Up, Down: c.Down})
				if err != nil {
					t.Fatal(err)
				}
				got = y
			case "trend":
				tr, err := Trends(x, c.FS, TrendParams{Stride: c.Stride})
				if err != nil {
					t.Fatal(err)
				}
				if want := float64(c.NStride) / c.FS; tr.DT != want {
					t.Errorf("DT: got %g, want %g", tr.DT, want)
				}
				got = trendColumns(tr)
				if len(got) != len(want) {
					t.Fatalf("got %d values, want %d", len(got), len(want))
				}
				if e, at := maxRelErr(got, want); e > 1e-12 {
					t.Errorf("value %d: got %.17g, want %.17g (relative error %.3g > 1e-12)", at, got[at], want[at], e)
				}
				return
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d samples, want %d", len(got), len(want))
			}
			r := rms(x)
			if e, at := maxAbsErr(got, want); e > 1e-9*r {
				t.Errorf("sample %d: got %.17g, want %.17g (error %.3g of the RMS %.3g > 1e-9)", at, got[at], want[at], e/r, r)
			}
		})
	}
	for _, k := range []string{"lowpass", "highpass", "bandpass", "resample", "trend"} {
		if !kinds[k] {
			t.Errorf("manifest has no %s case", k)
		}
	}
}
