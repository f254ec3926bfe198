//go:build interop

// Package interop checks gwwatchd's archives with software nobody here
// wrote: h5py and numpy read them, scipy recomputes the ASD, h5dump dumps
// them. Run by `make test` (make interop), which installs what it needs.
package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// env returns the gwwatchd binary and the Python with h5py and scipy, or
// skips when they are missing and not required.
func env(t *testing.T) (bin, python string) {
	t.Helper()
	bin = os.Getenv("GWWATCHD_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "gwwatchd")
		if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gwwatchd").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	python = interopPython()
	if missing := missingTools(); missing != "" {
		if os.Getenv("GWWATCHD_REQUIRE_PYTHON") != "" {
			t.Fatalf("%s is required (make deps installs it)", missing)
		}
		t.Skipf("%s not available", missing)
	}
	return bin, python
}

// missingTools names what the interop tests need and this machine
// lacks, or is empty. It is asked once.
var missingTools = sync.OnceValue(func() string {
	python := interopPython()
	if err := exec.Command(python, "-c", "import h5py, scipy.signal, numpy").Run(); err != nil {
		return python + " with h5py, scipy and numpy"
	}
	if _, err := exec.LookPath("h5dump"); err != nil {
		return "h5dump"
	}
	return ""
})

// interopPython is $GWWATCHD_PYTHON, or Debian's /usr/bin/python3.
func interopPython() string {
	if p := os.Getenv("GWWATCHD_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

type checkReport struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Datasets      map[string]struct {
		T0, DT   float64
		Unit     string
		Name     string
		DType    string
		N        int
		RawEqual *bool `json:"raw_equal"`
		SHAOK    bool  `json:"sha_ok"`
		Params   map[string]any
		ASD      *struct {
			Parent      string
			ParentOK    bool `json:"parent_ok"`
			Step        string
			Unit        string
			NFFT        int
			NOverlap    int
			Method      string
			MaxRel      float64 `json:"max_rel"`
			MaxRelFloor float64 `json:"max_rel_floor"`
			FreqMaxRel  float64 `json:"freq_max_rel"`
			FreqParent  string  `json:"freq_parent"`
			SHAOK       bool    `json:"sha_ok"`
		}
		Spectrogram *struct {
			Shape       []int
			Parent      string
			MaxRel      float64 `json:"max_rel"`
			MaxRelFloor float64 `json:"max_rel_floor"`
			DT          float64
			SHAOK       bool `json:"sha_ok"`
		}
	}
}

func check(t *testing.T, python, archivePath, source string) checkReport {
	t.Helper()
	cmd := exec.Command(python, "check_archive.py", archivePath, source)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check_archive.py %s: %v", archivePath, err)
	}
	var r checkReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("check_archive.py output: %v\n%s", err, out)
	}
	return r
}

// run runs gwwatchd and returns its standard output; its log lines go to
// standard error and are shown only when it fails.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	// In a directory of its own, so that the embedded default's var/ (the
	// audit log of an ingest) lands there, not in the source tree.
	for i, a := range args {
		if _, err := os.Stat(a); err == nil && !filepath.IsAbs(a) {
			args[i], _ = filepath.Abs(a)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gwwatchd %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func archiveOf(t *testing.T, ingestOut string) string {
	t.Helper()
	line := strings.TrimSpace(ingestOut)
	i := strings.Index(line, " -> ")
	if i < 0 || strings.Contains(line, "\n") {
		t.Fatalf("ingest printed %q, want one line SOURCE -> ARCHIVE", line)
	}
	return line[i+4:]
}

func h5dump(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("h5dump", "-A", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump %s: %v\n%s", path, err, out)
	}
	for _, want := range []string{`ATTRIBUTE "prov_json"`, `ATTRIBUTE "params_json"`, `ATTRIBUTE "parent_dataset"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("h5dump -A %s lacks %s", path, want)
		}
	}
}

// TestInteropWelch archives one synthetic series under many Welch settings
// and compares every stored ASD and spectrogram bin with scipy's.
func TestInteropWelch(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "K-K1_LSC_DARM_OUT_DQ-1300000000-64.npy")
	if err := synth.WriteNPY(src, synth.Coloured(64*4096, 4096, 50, 1)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(src, ".npy")+".json", []byte(`{"channel": "K1:LSC-DARM_OUT_DQ", "unit": "ct"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method             string
		fftlength, overlap float64
		stride, sfft       float64
		nfft               int
		compression        string
	}{
		{"median", 4, 2, 8, 2, 16384, "none"},
		{"mean", 4, 2, 8, 2, 16384, "gzip"},
		{"median", 1, 0, 4, 1, 4096, "none"},
		{"mean", 2, 1.5, 8, 4, 8192, "none"},
		{"median", 4095.0 / 4096, 0.5, 4, 4095.0 / 4096, 4095, "gzip"},
		{"mean", 1001.0 / 4096, 0.1, 2, 1001.0 / 4096, 1001, "none"},
		{"median", 0.5, 0.25, 16, 0.5, 2048, "none"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s-nfft%d-overlap%g-%s", c.method, c.nfft, c.overlap, c.compression), func(t *testing.T) {
			cfg := filepath.Join(dir, fmt.Sprintf("c%d.toml", i))
			text := fmt.Sprintf(`[daemon]
state_dir = %q
[archive]
compression = %q
[audit]
path = %q
[processing.asd]
fftlength = %.17g
overlap = %.17g
method = %q
[processing.spectrogram]
stride = %.17g
fftlength = %.17g
method = %q
`, filepath.Join(dir, "state"), c.compression, filepath.Join(dir, "audit.log"), c.fftlength, c.overlap, c.method, c.stride, c.sfft, c.method)
			if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, fmt.Sprintf("archive%d", i))
			a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, "--out", out, src))
			r := check(t, python, a, src)
			if r.Format != "gwwatchd-archive" || r.FormatVersion != 1 {
				t.Errorf("format: got %q v%d", r.Format, r.FormatVersion)
			}
			d, ok := r.Datasets["K1:LSC-DARM_OUT_DQ"]
			if !ok {
				t.Fatalf("no /raw/K1:LSC-DARM_OUT_DQ in %v", r.Datasets)
			}
			if d.RawEqual == nil || !*d.RawEqual || d.DType != "<f8" || d.N != 64*4096 {
				t.Errorf("raw samples: equal %v, dtype %s, n %d; want equal <f8 262144", d.RawEqual, d.DType, d.N)
			}
			if d.T0 != 1300000000 || d.DT != 1.0/4096 || d.Unit != "ct" || d.Name != "K1:LSC-DARM_OUT_DQ" {
				t.Errorf("seed attributes: got t0 %v dt %v unit %q name %q", d.T0, d.DT, d.Unit, d.Name)
			}
			if !d.SHAOK {
				t.Error("raw data_sha256 differs from hashlib's")
			}
			if d.ASD == nil {
				t.Fatal("no ASD")
			}
			if !d.ASD.SHAOK {
				t.Error("ASD or frequencies data_sha256 differs from hashlib's")
			}
			if d.ASD.NFFT != c.nfft || d.ASD.Method != c.method {
				t.Errorf("ASD params: got nfft %d method %s, want %d %s", d.ASD.NFFT, d.ASD.Method, c.nfft, c.method)
			}
			if d.ASD.MaxRel > 1e-9 {
				t.Errorf("ASD differs from scipy by %.3g (relative), want ≤ 1e-9", d.ASD.MaxRel)
			}
			if d.ASD.FreqMaxRel > 1e-12 {
				t.Errorf("frequencies differ from scipy by %.3g", d.ASD.FreqMaxRel)
			}
			if d.ASD.Parent != "/raw/K1:LSC-DARM_OUT_DQ" || !d.ASD.ParentOK || d.ASD.FreqParent != d.ASD.Parent {
				t.Errorf("parent link: got %q (resolves %v)", d.ASD.Parent, d.ASD.ParentOK)
			}
			if d.ASD.Unit != "ct / Hz(1/2)" || d.ASD.Step != "ASD via Welch/"+c.method {
				t.Errorf("ASD unit %q step %q", d.ASD.Unit, d.ASD.Step)
			}
			if sg := d.Spectrogram; sg == nil {
				t.Error("no spectrogram")
			} else {
				if rows := int(64 / c.stride); len(sg.Shape) != 2 || sg.Shape[0] != rows {
					t.Errorf("spectrogram shape %v, want %d rows", sg.Shape, rows)
				}
				if sg.MaxRel > 1e-9 {
					t.Errorf("spectrogram differs from scipy by %.3g (relative), want ≤ 1e-9", sg.MaxRel)
				}
				if !sg.SHAOK {
					t.Error("spectrogram data_sha256 differs from hashlib's")
				}
				if sg.DT != c.stride {
					t.Errorf("spectrogram dt %v, want %v", sg.DT, c.stride)
				}
			}
			h5dump(t, a)
			if out := run(t, bin, "verify", a); !strings.Contains(out, ": OK") {
				t.Errorf("verify: %s", out)
			}
		})
	}
}

// TestInteropFormats archives NumPy files that NumPy itself wrote, in
// several dtypes and byte orders, and a text file, and reads them back
// with h5py: the samples must come back bit for bit in their dtype.
func TestInteropFormats(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	dir := t.TempDir()
	gen := `import numpy as np, sys
d = sys.argv[1]
rng = np.random.default_rng(7)
x = rng.normal(size=8192) * 1000
for dt in ["<i2", ">i2", "<i4", ">f4", "<f8", ">f8", "|u1", "<u4", "<i8", "|i1"]:
    np.save(f"{d}/{dt[1:]}{'be' if dt[0] == '>' else ''}.npy", x.astype(dt))
np.save(d + "/col.npy", x.reshape(-1, 1))
np.savetxt(d + "/two.txt", np.column_stack([1300000000 + np.arange(4096) / 256.0, x[:4096]]), fmt="%.17g")
`
	if out, err := exec.Command(python, "-c", gen, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	out := filepath.Join(dir, "archive")
	cfg := filepath.Join(dir, "gwwatchd.toml")
	text := fmt.Sprintf("[daemon]\nstate_dir = %q\n[audit]\npath = %q\n", filepath.Join(dir, "state"), filepath.Join(dir, "audit.log"))
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, "--out", out, "--channel", "K1:TEST", "--t0", "1300000000", "--sample-rate", "1024", f))
		r := check(t, python, a, f)
		d := r.Datasets["K1:TEST"]
		if d.RawEqual == nil || !*d.RawEqual {
			t.Errorf("%s: samples differ after the round trip (dtype %s)", filepath.Base(f), d.DType)
		}
		if !d.SHAOK {
			t.Errorf("%s: data_sha256 differs from hashlib's (dtype %s)", filepath.Base(f), d.DType)
		}
		if d.ASD == nil || d.ASD.MaxRel > 1e-9 {
			t.Errorf("%s: ASD missing or off: %+v", filepath.Base(f), d.ASD)
		}
		h5dump(t, a)
	}
	a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, "--out", out, "--channel", "K1:TXT", filepath.Join(dir, "two.txt")))
	r := check(t, python, a, "")
	d := r.Datasets["K1:TXT"]
	if d.T0 != 1300000000 || d.DT != 1.0/256 || d.N != 4096 {
		t.Errorf("text: got t0 %v dt %v n %d, want 1300000000 1/256 4096", d.T0, d.DT, d.N)
	}
	if d.ASD == nil || d.ASD.MaxRel > 1e-9 {
		t.Errorf("text: ASD missing or off: %+v", d.ASD)
	}
}

// TestInteropFrames archives real frame files and checks them as a
// collaborator would: h5py reads the samples of the LIGO/Virgo frame equal
// to those gwpy wrote from it, and of gwpy's own file given as input, and
// scipy agrees with every ASD and spectrogram of FrameL's test frames,
// integer channels included. It skips without ../shared.
func TestInteropFrames(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	shared := "../../shared/testdata/gwf"
	hlv, hdf, lib := filepath.Join(shared, "HLV-HW100916-968654552-1.gwf"), filepath.Join(shared, "HLV-HW100916-968654552-1.hdf"), filepath.Join(shared, "libframe-test.gwf")
	for _, f := range []string{hlv, hdf, lib} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s not present: %v", f, err)
		}
	}
	cfg := shortConfig(t, 0.25, 0.125, 0.5)
	for _, src := range []string{hlv, hdf} {
		a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, src))
		r := check(t, python, a, hdf)
		if len(r.Datasets) != 3 {
			t.Errorf("%s: %d datasets, want 3", filepath.Base(src), len(r.Datasets))
		}
		for name, d := range r.Datasets {
			if d.RawEqual == nil || !*d.RawEqual || !d.SHAOK {
				t.Errorf("%s %s: samples equal to gwpy's: %v, data_sha256 ok: %v", filepath.Base(src), name, d.RawEqual, d.SHAOK)
			}
			if d.T0 != 968654552 || d.DT != 1.0/16384 || d.Unit != "strain" {
				t.Errorf("%s %s: t0 %v dt %v unit %q", filepath.Base(src), name, d.T0, d.DT, d.Unit)
			}
			// Real strain spans ten decades: see max_rel_floor.
			if d.ASD == nil || d.ASD.MaxRelFloor > 1e-9 || d.Spectrogram == nil || d.Spectrogram.MaxRelFloor > 1e-9 {
				t.Errorf("%s %s: products missing or off scipy: %+v %+v", filepath.Base(src), name, d.ASD, d.Spectrogram)
			}
		}
		h5dump(t, a)
	}
	a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, lib))
	r := check(t, python, a, "")
	withASD := 0
	for name, d := range r.Datasets {
		if !d.SHAOK {
			t.Errorf("libframe %s: data_sha256 differs from hashlib's", name)
		}
		if d.ASD != nil {
			withASD++
			if d.ASD.MaxRelFloor > 1e-9 || d.Spectrogram == nil || d.Spectrogram.MaxRelFloor > 1e-9 {
				t.Errorf("libframe %s (%s): products off scipy: %+v %+v", name, d.DType, d.ASD, d.Spectrogram)
			}
		}
	}
	if withASD < 9 {
		t.Errorf("libframe: %d channels with an ASD, want every channel but the non-finite one", withASD)
	}
	h5dump(t, a)
}

// TestInteropFrameTypes archives the committed self-made frame file that
// holds every sample type: h5py reads each, complex included, the
// data_sha256 of each matches hashlib's, and scipy agrees with the ASD of
// each integer channel.
func TestInteropFrameTypes(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	// 32 samples at 256 Hz in each channel.
	cfg := shortConfig(t, 0.0625, 0.0625, 0.0625)
	a := archiveOf(t, run(t, bin, "ingest", "--config", cfg, "../testdata/gwf/selfmade-v8-le.gwf"))
	r := check(t, python, a, "")
	dtypes := map[string]bool{}
	for name, d := range r.Datasets {
		dtypes[d.DType[1:]] = true
		if !d.SHAOK {
			t.Errorf("self-made %s (%s): data_sha256 differs from hashlib's", name, d.DType)
		}
		if d.ASD != nil && d.ASD.MaxRelFloor > 1e-9 {
			t.Errorf("self-made %s (%s): ASD off scipy by %g", name, d.DType, d.ASD.MaxRelFloor)
		}
	}
	for _, want := range []string{"i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8", "c8", "c16"} {
		if !dtypes[want] {
			t.Errorf("self-made: h5py read no %s dataset (got %v)", want, dtypes)
		}
	}
	h5dump(t, a)
}

// shortConfig writes a configuration for short series, everything kept in
// a temporary directory, and returns its path: the ASD's fftlength, and
// the spectrogram's fftlength and stride, in seconds.
func shortConfig(t *testing.T, asd, sgFFT, stride float64) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gwwatchd.toml")
	text := fmt.Sprintf(`[daemon]
state_dir = %q
[archive]
root = %q
[audit]
path = %q
[processing.asd]
fftlength = %.6f
[processing.spectrogram]
fftlength = %.6f
stride = %.6f
`, filepath.Join(dir, "state"), filepath.Join(dir, "archive"), filepath.Join(dir, "audit.log"), asd, sgFFT, stride)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}
