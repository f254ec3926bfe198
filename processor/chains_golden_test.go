package processor

import (
	"path/filepath"
	"testing"
)

// chainGolden is one entry of testdata/processor/golden/chains/manifest.json,
// written by testdata/processor/gen_golden_chains.py.
type chainGolden struct {
	Name   string       `json:"name"`
	Kind   string       `json:"kind"`
	Input  string       `json:"input"`
	Output string       `json:"output"`
	FS     float64      `json:"fs"`
	Order  int          `json:"order"`
	Wn     []float64    `json:"wn"`
	SOS    [][6]float64 `json:"sos"`
	Up     int          `json:"up"`
	Down   int          `json:"down"`
	Stride float64      `json:"stride"`
}

// TestChainsGolden compares filters, resamplings and trends against scipy
// and numpy results stored in the repository, so it needs no Python.
func TestChainsGolden(t *testing.T) {
	dir := filepath.Join(testdataDir, "golden", "chains")
	var cases []chainGolden
	readManifest(t, dir, &cases)
	kinds := map[string]bool{}
	for _, g := range cases {
		kinds[g.Kind] = true
		t.Run(g.Name, func(t *testing.T) {
			c := chainCase{kind: g.Kind, order: g.Order, wn: g.Wn, up: g.Up, down: g.Down, stride: g.Stride}
			x := readF64(t, filepath.Join(dir, g.Input))
			c.check(t, x, g.FS, readF64(t, filepath.Join(dir, g.Output)), g.SOS)
		})
	}
	for _, k := range []string{"lowpass", "highpass", "bandpass", "resample", "trend"} {
		if !kinds[k] {
			t.Errorf("manifest has no %s case", k)
		}
	}
}
