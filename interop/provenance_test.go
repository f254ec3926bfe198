//go:build interop

package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/provenance"
)

// TestInteropGwpyReadsOwnProducts: the real gwpy reads the products a
// program wrote through package provenance by their views, as the class
// their axes make them: a TimeSeries, a FrequencySeries, a Spectrogram.
func TestInteropGwpyReadsOwnProducts(t *testing.T) {
	t.Parallel()
	_, python := env(t)
	pp := gwpyPath(t)
	w := provenance.New(provenance.Options{Program: "mine", Version: "1"})
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	raw, err := w.AddSeries(provenance.Series{Channel: "K1:X", T0: 1300000000, SampleRate: 256, Unit: "ct", Values: x})
	if err != nil {
		t.Fatal(err)
	}
	half := make([]float64, len(x))
	for i, v := range x {
		half[i] = float64(v) / 2
	}
	h, err := w.Derive(raw, provenance.Product{Name: "half", Kind: "scale", Values: half, Unit: "ct", Axes: archive.Axes{T0: 1300000000, DT: 1.0 / 256}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []provenance.Product{
		{Name: "a", Kind: "periodogram", Values: []float64{1, 2, 3}, Unit: "ct / Hz(1/2)", Axes: archive.Axes{F0: 0, DF: 64}},
		{Name: "sg", Kind: "my_spectrogram", Values: []float64{1, 2, 3, 4, 5, 6}, Dims: []uint{2, 3}, Unit: "ct2 / Hz", Axes: archive.Axes{T0: 1300000000, DT: 2, DF: 64}},
	} {
		if _, err := w.Derive(h, p); err != nil {
			t.Fatal(err)
		}
	}
	written, err := w.Write(filepath.Join(t.TempDir(), "own.h5"))
	if err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
from gwpy.timeseries import TimeSeries
from gwpy.frequencyseries import FrequencySeries
from gwpy.spectrogram import Spectrogram
p = sys.argv[1]
ts = TimeSeries.read(p, path="gwpy/products/K1:X/half")
assert ts.t0.value == 1300000000 and ts.dt.value == 1/256 and str(ts.unit) == "ct" and ts.value[1] == -3.5, ts
fs = FrequencySeries.read(p, path="gwpy/products/K1:X/a")
assert fs.df.value == 64 and list(fs.value) == [1, 2, 3], fs
sg = Spectrogram.read(p, path="gwpy/products/K1:X/sg")
assert sg.shape == (2, 3) and sg.dt.value == 2 and sg.df.value == 64 and sg.value[1, 2] == 6, sg
print("ok")
`
	cmd := exec.Command(python, "-c", script, written.Path)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pp)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("gwpy: %v\n%s", err, out)
	}
}
