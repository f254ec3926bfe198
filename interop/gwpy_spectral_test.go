//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// TestInteropGwpySpectral has the real gwpy make the ASD and the
// spectrogram of archived series, from the raw samples, and compares them
// with the stored products: within 1e-9 relative per bin, bins below 1e-6
// of the peak within 1e-15 of the peak. The parameters cover strides
// whose chunks meet the end of the series and overlaps other than half.
func TestInteropGwpySpectral(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pp := gwpyPath(t)
	script := `
import json, sys
import h5py, numpy as np
from gwpy.timeseries import TimeSeries
path, name = sys.argv[1], sys.argv[2]
def worst(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        return {"shape": [list(got.shape), list(want.shape)]}
    peak = np.max(np.abs(want))
    floor = want < 1e-6 * peak
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    rel[floor] = 0
    absd = np.where(floor, np.abs(got - want) / peak, 0)
    return {"rel": float(np.max(rel)), "abs_floor": float(np.max(absd))}
with h5py.File(path, "r") as f:
    raw = f["raw/" + name]
    ts = TimeSeries(raw[()].astype(float), t0=raw.attrs["t0"], dt=raw.attrs["dt"])
    out = {}
    a = f["processed/%s/asd_values" % name]
    p = json.loads(a.attrs["params_json"])
    asd = ts.asd(fftlength=p["fftlength"], overlap=p["overlap"], method=p["method"], window=p["window"])
    out["asd"] = worst(a[()], asd.value)
    s = f["processed/%s/spectrogram" % name]
    p = json.loads(s.attrs["params_json"])
    sg = ts.spectrogram(p["stride"], fftlength=p["fftlength"], overlap=p["overlap"], method=p["method"], window=p["window"])
    out["spectrogram"] = worst(s[()], sg.value)
    out["values"] = str(s.attrs["values"])
    out["unit"] = str(s.attrs["unit"])
    out["gwpy_unit"] = str(sg.unit)
    out["dt"] = [float(s.attrs["dt"]), float(sg.dt.value)]
print(json.dumps(out))
`
	for _, tt := range []struct {
		seconds, rate            int
		asd, sgFFT, stride, over float64
	}{
		{64, 512, 4, 2, 8, -1},
		{60, 256, 2, 1, 4, 0.25},
		{33, 1024, 1, 0.5, 2, 0.375},
	} {
		t.Run(fmt.Sprintf("%ds-stride%g-over%g", tt.seconds, tt.stride, tt.over), func(t *testing.T) {
			cfg := shortConfig(t, tt.asd, tt.sgFFT, tt.stride)
			if tt.over >= 0 {
				b, _ := os.ReadFile(cfg)
				os.WriteFile(cfg, append(b, []byte(fmt.Sprintf("overlap = %.6f\n", tt.over))...), 0o644)
			}
			src := filepath.Join(t.TempDir(), fmt.Sprintf("K-K1_GWPY-1300000000-%d.npy", tt.seconds))
			if err := synth.WriteNPY(src, synth.Coloured(tt.seconds*tt.rate, float64(tt.rate), 50, uint64(tt.seconds))); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(src[:len(src)-4]+".json", []byte(`{"channel": "K1:GWPY", "unit": "ct"}`), 0o644)
			arch := archiveOf(t, run(t, bin, "ingest", "--config", cfg, src))
			cmd := exec.Command(python, "-c", script, arch, "K1:GWPY")
			cmd.Env = append(os.Environ(), "PYTHONPATH="+pp)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("gwpy: %v\n%s", err, out)
			}
			var r struct {
				ASD         gap
				Spectrogram gap
				Values      string
				Unit        string
				GwpyUnit    string `json:"gwpy_unit"`
				DT          []float64
			}
			r.ASD.Rel, r.Spectrogram.Rel = -1, -1
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			for name, w := range map[string]gap{"asd": r.ASD, "spectrogram": r.Spectrogram} {
				if w.Shape != nil || w.Rel < 0 || w.Rel > 1e-9 || w.AbsFloor > 1e-15 {
					t.Errorf("%s against gwpy: %+v, want within 1e-9 relative (1e-15 of the peak below 1e-6 of it)\n%s", name, w, out)
				}
			}
			if r.Values != "psd" || r.Unit != "ct2 / Hz" || len(r.DT) != 2 || r.DT[0] != r.DT[1] {
				t.Errorf("spectrogram attributes: values %q, unit %q (gwpy's %q), dt %v; want psd, ct2 / Hz, gwpy's dt", r.Values, r.Unit, r.GwpyUnit, r.DT)
			}
			t.Logf("gwpy: ASD within %.2g, spectrogram within %.2g relative", r.ASD.Rel, r.Spectrogram.Rel)
		})
	}
}

// gap is how far a stored product is from gwpy's.
type gap struct {
	Rel      float64
	AbsFloor float64 `json:"abs_floor"`
	Shape    [][]int
}
