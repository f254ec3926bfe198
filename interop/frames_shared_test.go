//go:build interop

package interop

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sharedGWF is where the real frame files are (see its README).
const sharedGWF = "../../shared/testdata/gwf"

// TestInteropSharedFrames archives every real frame file with `gwwatchd
// ingest`, every channel, and compares each /raw dataset bit for bit with
// gwf_decode.py's decode of the file: numpy, zlib and a zero-suppression
// expansion of its own, nothing of gwwatchd's reader. Every unit the
// archives store must parse with astropy. It skips without ../shared.
func TestInteropSharedFrames(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pypath := gwpyPath(t)
	files, _ := filepath.Glob(filepath.Join(sharedGWF, "*.gwf"))
	if len(files) < 6 {
		t.Skipf("%d frame files in %s, want the 6 its README lists", len(files), sharedGWF)
	}
	cfg := shortConfig(t, 0.25, 0.125, 0.5)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, f))
			cmd := exec.Command(python, "gwf_decode.py", "compare", f, a)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+pypath)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("gwf_decode.py compare: %v", err)
			}
			var r struct {
				Datasets map[string]struct {
					DType         string `json:"dtype"`
					ArchivedDType string `json:"archived_dtype"`
					N             int
					Equal         bool
				}
				Missing, Extra, Units []string
				UnitsBad              []string `json:"units_bad"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("gwf_decode.py output: %v\n%s", err, out)
			}
			if len(r.Datasets) == 0 || len(r.Missing) > 0 || len(r.Extra) > 0 {
				t.Errorf("channels: %d compared, missing from the archive %v, not in the decode %v", len(r.Datasets), r.Missing, r.Extra)
			}
			for name, d := range r.Datasets {
				if !d.Equal {
					t.Errorf("%s: archived %s differs from numpy's decode (%s, %d samples)", name, d.ArchivedDType, d.DType, d.N)
				}
			}
			if len(r.UnitsBad) > 0 {
				t.Errorf("astropy does not parse %q (units %q)", r.UnitsBad, r.Units)
			}
			if out := run(t, bin, "verify", a); !strings.Contains(out, ": OK") {
				t.Errorf("verify: %s", out)
			}
		})
	}
}

// TestInteropGwpyUnits writes series with gwpy itself, with no unit, with
// gwpy's "strain" and with "ct", archives them, and reads the archive back:
// each unit is gwpy's own string, with no unit_source, and parses with
// astropy.
func TestInteropGwpyUnits(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	pypath := gwpyPath(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "K-K1_UNITS-1300000000-4.h5")
	gen := `import sys, numpy as np
from gwpy.timeseries import TimeSeries
x = np.arange(4096, dtype=float)
for i, (name, unit) in enumerate([("K1:NONE", None), ("K1:STRAIN", "strain"), ("K1:CT", "ct")]):
    TimeSeries(x, t0=1300000000, sample_rate=1024, name=name, channel=name, unit=unit).write(
        sys.argv[1], path=name, format="hdf5", append=i > 0)
`
	cmd := exec.Command(python, "-c", gen, src)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pypath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gwpy: %v\n%s", err, out)
	}
	a := archiveOf(t, run(t, bin, "ingest", "--config", shortConfig(t, 1, 1, 1), src))
	read := `import json, sys, warnings
warnings.simplefilter("ignore")
import h5py
import astropy.units as u
import gwpy.detector.units
out = {}
with h5py.File(sys.argv[1], "r") as f:
    for name, d in f["raw"].items():
        unit = str(d.attrs["unit"])
        u.Unit(unit)
        u.Unit(str(f["processed/" + name + "/asd_values"].attrs["unit"]))
        out[name] = [unit, "unit_source" in d.attrs]
json.dump(out, sys.stdout)
`
	cmd = exec.Command(python, "-c", read, a)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pypath)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the archive: %v", err)
	}
	var got map[string][2]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"K1:NONE": "", "K1:STRAIN": "strain", "K1:CT": "ct"} {
		g, ok := got[name]
		if !ok || g[0] != want || g[1] != false {
			t.Errorf("%s: unit, has unit_source = %v, want %q, false", name, g, want)
		}
	}
}
