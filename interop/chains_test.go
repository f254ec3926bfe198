//go:build interop

package interop

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// chainsScript recomputes the products of a chain with scipy and numpy
// from the raw series of an archive, and has gwpy read each through its
// view. It prints a JSON report of the worst errors.
const chainsScript = `
import sys, json, h5py, numpy as np
import scipy.signal as sig
path, name = sys.argv[1], sys.argv[2]
out = {}
def rel_floor(got, want, floor=1e-3):
    peak = np.max(np.abs(want))
    den = np.maximum(np.maximum(np.abs(got), np.abs(want)), floor * peak)
    return float(np.max(np.abs(got - want) / den))
def of_rms(got, want, scale):
    return float(np.max(np.abs(got - want)) / np.sqrt(np.mean(scale ** 2)))
with h5py.File(path, "r") as f:
    raw = f["raw/" + name]
    x, fs = raw[()], raw.attrs["sample_rate"]
    p = "processed/" + name + "/"
    bp = f[p + "bp"]
    bpp = json.loads(bp.attrs["params_json"])
    sos = sig.butter(bpp["order"], [bpp["low"], bpp["high"]], "bandpass", fs=bpp["sample_rate"], output="sos")
    y = sig.sosfiltfilt(sos, x)
    out["bp_of_rms"] = of_rms(bp[()], y, x)
    asd = f[p + "bp_asd_values"]
    ap = json.loads(asd.attrs["params_json"])
    def welch(z):
        _, pxx = sig.welch(z, fs=ap["sample_rate"], window="hann", nperseg=ap["nfft"], noverlap=ap["noverlap"], average=ap["method"])
        return np.sqrt(pxx)
    out["bp_asd_of_scipy_filter"] = rel_floor(asd[()], welch(y))
    out["bp_asd_of_stored_filter"] = rel_floor(asd[()], welch(bp[()]))
    r = f[p + "r256"]
    rp = json.loads(r.attrs["params_json"])
    want = sig.resample_poly(x, rp["up"], rp["down"])
    out["resample_len"] = [int(r.shape[0]), int(want.shape[0])]
    out["resample_of_rms"] = of_rms(r[()], want, x)
    rr = r[()]
    n = int(round(json.loads(f[p + "minute.mean"].attrs["params_json"])["stride"] * rp["rate"]))
    chunks = [rr[i:i + n] for i in range(0, len(rr), n)]
    stats = {"mean": np.mean, "min": np.min, "max": np.max, "rms": lambda c: np.sqrt(np.mean(c ** 2)), "n": len}
    worst = 0.0
    for st, fn in stats.items():
        got = f[p + "minute." + st][()]
        want = np.array([fn(c) for c in chunks], dtype=got.dtype)
        if got.shape != want.shape:
            worst = float("inf")
            continue
        d = np.abs(got.astype(float) - want.astype(float)) / np.maximum(np.abs(want.astype(float)), 1e-300)
        worst = max(worst, float(np.max(d)))
    out["trend_rel"] = worst
    out["trend_rows"] = len(chunks)
` + gwpyViewsScript

// gwpyViewsScript, the end of a script that has set path, name and the
// dict out, has gwpy read every product of the series name through its
// view in gwpy/products, and adds to out how many it read and what
// differed from the dataset the view is of.
const gwpyViewsScript = `
from gwpy.timeseries import TimeSeries
from gwpy.frequencyseries import FrequencySeries
from gwpy.spectrogram import Spectrogram
problems, readn, leaves = [], 0, []
with h5py.File(path, "r") as f:
    views = f["gwpy/products/" + name]
    for leaf in views:
        src = f["processed/" + name + "/" + leaf]
        kind = src.attrs["product"]
        vp = "gwpy/products/" + name + "/" + leaf
        if kind == "asd":
            g = FrequencySeries.read(path, path=vp)
            axes = [(g.f0.value, src.attrs["f0"]), (g.df.value, src.attrs["df"])]
        elif kind == "spectrogram":
            g = Spectrogram.read(path, path=vp)
            axes = [(g.t0.value, src.attrs["t0"]), (g.dt.value, src.attrs["dt"]), (g.f0.value, src.attrs["f0"])]
        else:
            g = TimeSeries.read(path, path=vp)
            axes = [(g.t0.value, src.attrs["t0"]), (g.dt.value, src.attrs["dt"])]
        readn += 1
        leaves.append(leaf)
        if not np.array_equal(g.value, src[()]):
            problems.append("%s: values differ" % leaf)
        for got, want in axes:
            if got != want:
                problems.append("%s: axis %r, want %r" % (leaf, got, want))
out["gwpy_read"] = readn
out["gwpy_problems"] = problems
out["gwpy_leaves"] = sorted(leaves)
print(json.dumps(out))
`

// TestInteropChains archives a series through the chain of
// testdata/config/chain.toml (raw → bandpass → asd and spectrogram,
// raw → resample → minute trend and highpass, a lowpass skipped) and
// checks each product against scipy and numpy: the ASD of the band-passed
// series against scipy.signal.welch of scipy.signal.sosfiltfilt's output,
// the resampling against resample_poly, the trend against numpy's
// statistics of each stride; and has gwpy read every product through its
// view, values bit for bit.
func TestInteropChains(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pp := gwpyPath(t)
	dir := t.TempDir()
	cfg := shortConfig(t, 2, 1, 4)
	chain, err := os.ReadFile("../testdata/config/chain.toml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(chain)
	f.Close()
	// 150 s at 1024 Hz: two whole minutes and a partial one.
	src := filepath.Join(dir, "K-K1_CHAIN-1300000000-150.npy")
	synth.WriteNPY(src, synth.Coloured(150*1024, 1024, 60, 5))
	os.WriteFile(filepath.Join(dir, "K-K1_CHAIN-1300000000-150.json"), []byte(`{"channel": "K1:CHAIN", "unit": "ct"}`), 0o644)
	arch := archiveOf(t, run(t, bin, "ingest", "--config", cfg, src))

	var r struct {
		BPOfRMS           float64  `json:"bp_of_rms"`
		ASDOfScipyFilter  float64  `json:"bp_asd_of_scipy_filter"`
		ASDOfStoredFilter float64  `json:"bp_asd_of_stored_filter"`
		ResampleLen       [2]int   `json:"resample_len"`
		ResampleOfRMS     float64  `json:"resample_of_rms"`
		TrendRel          float64  `json:"trend_rel"`
		TrendRows         int      `json:"trend_rows"`
		GWpyRead          int      `json:"gwpy_read"`
		GWpyProblems      []string `json:"gwpy_problems"`
	}
	report(t, python, pp, &r, chainsScript, arch, "K1:CHAIN")
	if r.BPOfRMS > 1e-9 {
		t.Errorf("bandpass: differs from sosfiltfilt by %.3g of the input's RMS, want at most 1e-9", r.BPOfRMS)
	}
	if r.ASDOfStoredFilter > 1e-9 {
		t.Errorf("ASD of the bandpass: differs from welch of the stored bandpass by %.3g, want at most 1e-9", r.ASDOfStoredFilter)
	}
	if r.ASDOfScipyFilter > 1e-9 {
		t.Errorf("ASD of the bandpass: differs from welch of sosfiltfilt by %.3g, want at most 1e-9", r.ASDOfScipyFilter)
	}
	if r.ResampleLen[0] != r.ResampleLen[1] || r.ResampleOfRMS > 1e-9 {
		t.Errorf("resample: %v samples, differs from resample_poly by %.3g of the input's RMS, want the same length and at most 1e-9", r.ResampleLen, r.ResampleOfRMS)
	}
	if r.TrendRows != 3 || r.TrendRel > 1e-12 {
		t.Errorf("trend: %d rows, differs from numpy by %.3g (relative), want 3 rows and at most 1e-12", r.TrendRows, r.TrendRel)
	}
	// bp, bp_asd_values, bp_sg, r256, hp and the five statistics of
	// minute; not lp, above the Nyquist frequency, nor what is made of it.
	if r.GWpyRead != 10 || len(r.GWpyProblems) > 0 {
		t.Errorf("gwpy read %d products through their views, want 10: %v", r.GWpyRead, r.GWpyProblems)
	}
	if v := run(t, bin, "verify", arch); !strings.Contains(v, ": OK") {
		t.Errorf("verify: %s", v)
	}
	if out := run(t, bin, "inspect", arch); !strings.Contains(out, "\n      /processed/K1:CHAIN/minute.mean ") {
		t.Errorf("inspect does not show minute.mean under r256:\n%s", out)
	}
}

// report runs a Python script with the real gwpy on pythonpath, logs the
// JSON report it prints and decodes it into r.
func report(t *testing.T, python, pythonpath string, r any, script string, args ...string) {
	t.Helper()
	cmd := exec.Command(python, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonpath)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scipy and gwpy: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	if err := json.Unmarshal(out, r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
}
