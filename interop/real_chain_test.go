//go:build interop

package interop

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// realChainScript recomputes every filter, resampling, ASD and trend of
// a series of an archive with scipy and numpy, each from scipy's own
// result for its parent, starting from the channel as gwf_decode.py
// decodes it from the frame file (trends from the stored parent, as
// numpy's statistics are exact), and prints the worst error of each
// product: for series, of their input's RMS per sample; for ASDs,
// relative with the floor of the chain test; for trends, relative.
const realChainScript = `
import sys, json, h5py, numpy as np
import scipy.signal as sig
sys.path.insert(0, ".")
import gwf_decode
path, gwf, name = sys.argv[1], sys.argv[2], sys.argv[3]
x = gwf_decode.decode(gwf)[name].astype(float)
def rel_floor(got, want, floor=1e-3):
    peak = np.max(np.abs(want))
    den = np.maximum(np.maximum(np.abs(got), np.abs(want)), floor * peak)
    return float(np.max(np.abs(got - want) / den))
out = {"products": {}}
with h5py.File(path, "r") as f:
    raw = f["raw/" + name]
    out["raw_equal"] = bool(np.array_equal(raw[()], x))
    ref = {raw.name: x}
    def want(d):
        if d.name in ref:
            return ref[d.name]
        parent = f[d.attrs["parent_dataset"]]
        y = want(parent)
        p = json.loads(d.attrs["params_json"])
        kind = d.attrs["product"]
        if kind in ("bandpass", "highpass", "lowpass"):
            wn = [p["low"], p["high"]] if kind == "bandpass" else p["cutoff"]
            r = sig.sosfiltfilt(sig.butter(p["order"], wn, kind, fs=p["sample_rate"], output="sos"), y)
        elif kind == "resample":
            r = sig.resample_poly(y, p["up"], p["down"])
        elif kind == "asd":
            _, pxx = sig.welch(y, fs=p["sample_rate"], window="hann", nperseg=p["nfft"], noverlap=p["noverlap"], average=p["method"])
            r = np.sqrt(pxx)
        elif kind == "trend":
            n = int(round(p["stride"] * p["sample_rate"]))
            fn = {"mean": np.mean, "min": np.min, "max": np.max, "rms": lambda c: np.sqrt(np.mean(c ** 2)), "n": len}[p["stat"]]
            # numpy's statistics of the stored parent: a trend is exact.
            z = parent[()]
            r = np.array([fn(z[i:i + n]) for i in range(0, len(z), n)], dtype=d.dtype)
        else:
            return None
        ref[d.name] = r
        return r
    for leaf, d in f["processed/" + name].items():
        w = want(d)
        if w is None:
            continue
        got = d[()]
        kind = d.attrs["product"]
        if got.shape != w.shape:
            err = float("inf")
        elif kind == "asd":
            err = rel_floor(got, w)
        elif kind == "trend":
            err = float(np.max(np.abs(got.astype(float) - w.astype(float)) / np.maximum(np.abs(w.astype(float)), 1e-300)))
        else:
            scale = ref[d.attrs["parent_dataset"]]
            err = float(np.max(np.abs(got - w)) / np.sqrt(np.mean(scale ** 2)))
        out["products"][leaf] = {"kind": kind, "err": err, "n": int(got.shape[0])}
` + gwpyViewsScript

// realStrain is a strain channel as LIGO's low-latency pipeline writes
// it with frameCPP: 4 s at 16384 Hz, float64, zero-suppressed.
const realStrain = "H1:GDS-CALIB_STRAIN"

// TestInteropRealStrainChain archives the real strain of
// H-H1_llhoft-1214714160-4.gwf through a chain (bandpass → ASD, resample
// → second trend, highpass), then reprocesses it with another band-pass
// and ASD of the same names (bp@2, bp_asd@2), and checks every product
// against scipy and numpy run on the samples gwf_decode.py decodes from
// the frame file, within the bounds of TestInteropChains: filters and
// resampling within 1e-9 of their input's RMS per sample, each ASD of a
// band-pass equal to welch of sosfiltfilt's output to 1e-9, trends to
// 1e-12 relative. gwpy must read every product, the new versions too,
// through its view. It skips without ../shared.
func TestInteropRealStrainChain(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pp := gwpyPath(t)
	gwf := filepath.Join(sharedGWF, "H-H1_llhoft-1214714160-4.gwf")
	if _, err := os.Stat(gwf); err != nil {
		t.Skipf("no real strain frame: %v", err)
	}
	base := shortConfig(t, 1, 0.5, 1)
	cfg := withProducts(t, base, "chain.toml", `
[[processing.product]]
name = "bp"
kind = "bandpass"
order = 4
low = 30.0
high = 300.0

[[processing.product]]
name = "bp_asd"
kind = "asd"
input = "bp"
fftlength = 1.0

[[processing.product]]
name = "r4096"
kind = "resample"
rate = 4096.0

[[processing.product]]
name = "second"
kind = "trend"
input = "r4096"
stride = 1.0

[[processing.product]]
name = "hp"
kind = "highpass"
order = 8
cutoff = 10.0
`)
	again := withProducts(t, base, "again.toml", `
[[processing.product]]
name = "bp"
kind = "bandpass"
order = 8
low = 40.0
high = 1000.0

[[processing.product]]
name = "bp_asd"
kind = "asd"
input = "bp"
fftlength = 0.5
`)
	arch := archiveOf(t, run(t, bin, "ingest", "--config", cfg, "--channels", realStrain, gwf))
	if out := run(t, bin, "reprocess", "--config", again, arch); !strings.HasSuffix(strings.TrimSpace(out), ": added 2 products (bp@2, bp_asd@2)") {
		t.Fatalf("reprocess: %s", out)
	}

	var r struct {
		RawEqual bool `json:"raw_equal"`
		Products map[string]struct {
			Kind string
			Err  float64
			N    int
		}
		GWpyLeaves   []string `json:"gwpy_leaves"`
		GWpyProblems []string `json:"gwpy_problems"`
	}
	report(t, python, pp, &r, realChainScript, arch, gwf, realStrain)
	if !r.RawEqual {
		t.Errorf("raw %s differs from gwf_decode.py's decode", realStrain)
	}
	bound := map[string]float64{"bandpass": 1e-9, "highpass": 1e-9, "resample": 1e-9, "asd": 1e-9, "trend": 1e-12}
	want := []string{"asd_values", "bp", "bp@2", "bp_asd@2_values", "bp_asd_values", "hp", "r4096",
		"second.max", "second.mean", "second.min", "second.n", "second.rms"}
	var got []string
	for leaf, p := range r.Products {
		got = append(got, leaf)
		if b, ok := bound[p.Kind]; !ok || !(p.Err <= b) {
			t.Errorf("%s (%s, %d samples): differs from scipy by %.3g, want at most %g", leaf, p.Kind, p.N, p.Err, b)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("products compared %v, want %v", got, want)
	}
	if n := r.Products["second.n"].N; n != 4 {
		t.Errorf("second trend: %d rows, want 4", n)
	}
	views := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "asd_values" })
	if !slices.Equal(r.GWpyLeaves, views) || len(r.GWpyProblems) > 0 {
		t.Errorf("gwpy read %v through their views, want %v: %v", r.GWpyLeaves, views, r.GWpyProblems)
	}
	if v := run(t, bin, "verify", arch); !strings.Contains(v, ": OK") {
		t.Errorf("verify: %s", v)
	}
}

// withProducts writes a configuration that is base's with more text
// (products) under name in base's directory, and returns its path.
func withProducts(t *testing.T, base, name, products string) string {
	t.Helper()
	text, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(filepath.Dir(base), name)
	if err := os.WriteFile(p, append(text, products...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
