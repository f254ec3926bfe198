//go:build interop

package interop

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// TestInteropGwpyReads has the real gwpy's own readers open archives made
// from every input format, untouched: TimeSeries.read of each raw series,
// TimeSeriesDict.read of them all, FrequencySeries.read of each ASD and
// Spectrogram.read of each spectrogram, all through the views below
// /gwpy. Values must equal /raw and /processed bit for bit, and t0, dt,
// f0, df, unit and name what the archive records; h5dump must read the
// views too.
func TestInteropGwpyReads(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pp := gwpyPath(t)
	dir := t.TempDir()
	cfg := shortConfig(t, 2, 1, 4)
	x := synth.Coloured(16*256, 256, 20, 7)
	var inputs []string
	// .npy with a sidecar
	npy := filepath.Join(dir, "K-K1_NPY-1300000000-16.npy")
	synth.WriteNPY(npy, x)
	os.WriteFile(filepath.Join(dir, "K-K1_NPY-1300000000-16.json"), []byte(`{"channel": "K1:NPY", "unit": "ct"}`), 0o644)
	inputs = append(inputs, npy)
	// raw binary with a sidecar
	raw := filepath.Join(dir, "raw.bin")
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	os.WriteFile(raw, b, 0o644)
	os.WriteFile(filepath.Join(dir, "raw.json"), []byte(`{"channel": "K1:RAW", "dtype": "float64", "t0": 1300000100, "sample_rate": 256, "unit": "V"}`), 0o644)
	inputs = append(inputs, raw)
	// text
	txt := filepath.Join(dir, "K-K1_TXT-1300000200-16.txt")
	var sb strings.Builder
	for _, v := range x {
		fmt.Fprintf(&sb, "%.17g\n", v)
	}
	os.WriteFile(txt, []byte(sb.String()), 0o644)
	inputs = append(inputs, txt)
	// frame and gwpy-made HDF5, from ../shared
	for _, f := range []string{"HLV-HW100916-968654552-1.gwf", "HLV-HW100916-968654552-1.hdf"} {
		p := filepath.Join("../../shared/testdata/gwf", f)
		if _, err := os.Stat(p); err == nil {
			inputs = append(inputs, p)
		}
	}
	script := `
import sys, h5py, numpy as np
import astropy.units as u
from gwpy.timeseries import TimeSeries, TimeSeriesDict
from gwpy.frequencyseries import FrequencySeries
from gwpy.spectrogram import Spectrogram
path = sys.argv[1]
problems, n = [], 0
def same(what, got, want):
    global n
    n += 1
    if got.shape != want.shape or got.dtype.newbyteorder("=") != want.dtype.newbyteorder("=") or not np.array_equal(got, want, equal_nan=True):
        problems.append("%s: values differ" % what)
def eq(what, got, want):
    if got != want:
        problems.append("%s: %r, want %r" % (what, got, want))
with h5py.File(path, "r") as f:
    names = list(f["gwpy/timeseries"]) if "gwpy/timeseries" in f else []
    for name in names:
        raw = f["raw/" + name]
        ts = TimeSeries.read(path, path="gwpy/timeseries/" + name)
        same("TimeSeries %s" % name, ts.value, raw[()])
        eq("t0 of %s" % name, ts.t0.value, raw.attrs["t0"])
        eq("dt of %s" % name, ts.dt.value, raw.attrs["dt"])
        eq("unit of %s" % name, ts.unit, u.Unit(str(raw.attrs["unit"])))
        eq("name of %s" % name, ts.name, raw.attrs["name"])
        grp = f.get("processed/" + name)
        if grp is not None and "asd_values" in grp:
            a = grp["asd_values"]
            fs = FrequencySeries.read(path, path="gwpy/asd/" + name)
            same("FrequencySeries %s" % name, fs.value, a[()])
            eq("f0 of %s" % name, fs.f0.value, a.attrs["f0"])
            eq("df of %s" % name, fs.df.value, a.attrs["df"])
        if grp is not None and "spectrogram" in grp:
            s = grp["spectrogram"]
            sg = Spectrogram.read(path, path="gwpy/spectrogram/" + name)
            same("Spectrogram %s" % name, sg.value, s[()])
            eq("t0 of the spectrogram of %s" % name, sg.t0.value, s.attrs["t0"])
            eq("f0 of the spectrogram of %s" % name, sg.f0.value, s.attrs["f0"])
    if names:
        d = TimeSeriesDict.read(path, group="gwpy/timeseries")
        eq("TimeSeriesDict keys", sorted(d), sorted(names))
print("%d read, %d problems" % (n, len(problems)))
for p in problems:
    print(p)
sys.exit(1 if problems or n == 0 else 0)
`
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			args := []string{"ingest", "--config", cfg}
			if strings.HasSuffix(in, ".txt") {
				args = append(args, "--channel", "K1:TXT", "--sample-rate", "256")
			}
			arch := archiveOf(t, run(t, bin, append(args, in)...))
			cmd := exec.Command(python, "-c", script, arch)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+pp)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("gwpy's readers: %v\n%s", err, out)
			}
			t.Logf("%s", strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
			// h5dump reads a view's values through its mapping.
			dump, err := exec.Command("h5dump", "-g", "/gwpy/timeseries", arch).CombinedOutput()
			if err != nil || !strings.Contains(string(dump), "DATA {") {
				t.Errorf("h5dump of the views: %v\n%.2000s", err, dump)
			}
			if v := run(t, bin, "verify", arch); !strings.Contains(v, ": OK") {
				t.Errorf("verify: %s", v)
			}
		})
	}
}
