//go:build interop

package interop

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// gwpyPath returns the PYTHONPATH of the real gwpy in ../shared, or skips.
func gwpyPath(t *testing.T) string {
	t.Helper()
	g := gwpyImport()
	if g.path == "" {
		t.Skip("no gwpy in ../shared/python")
	}
	if g.err != nil {
		if os.Getenv("GWWATCHD_REQUIRE_PYTHON") != "" {
			t.Fatalf("gwpy does not import (make deps installs what it needs): %v\n%s", g.err, g.out)
		}
		t.Skipf("gwpy does not import: %v", g.err)
	}
	return g.path
}

// gwpyImport finds the real gwpy in ../shared/python and imports it,
// once: its path ("" if it is not there), and how an import failed.
var gwpyImport = sync.OnceValue(func() (g struct {
	path string
	out  []byte
	err  error
}) {
	p, err := filepath.Abs("../../shared/python")
	if err == nil {
		_, err = os.Stat(filepath.Join(p, "gwpy"))
	}
	if err != nil {
		return g
	}
	cmd := exec.Command(interopPython(), "-c", "import gwpy.io.cache")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+p)
	g.path = p
	g.out, g.err = cmd.CombinedOutput()
	return g
})

// TestInteropNamesParse renders the default layout for series of several
// starts and lengths, with the names collisions give them, and has gwpy's
// file_segment, the T010150 parser analysts use, read every one: start and
// duration must come back exactly as the series says.
func TestInteropNamesParse(t *testing.T) {
	t.Parallel()
	_, python := env(t)
	pp := gwpyPath(t)
	type want struct {
		Name       string  `json:"name"`
		Start, End float64 `json:"-"`
	}
	var names []want
	for _, tt := range []struct {
		channel   string
		t0, rate  float64
		n         int
		start, to float64
	}{
		{"K1:LSC-DARM_OUT_DQ", 1300000000, 4096, 64 * 4096, 1300000000, 1300000064},
		{"H1:LDAS-STRAIN", 968654552, 16384, 16384, 968654552, 968654553},
		{"V1:h_16384Hz", 968654552.5, 16384, 8192, 968654552, 968654553},
		{"L1:GDS-CALIB_STRAIN", 1126259462.25, 1024, 4096 * 1024, 1126259462, 1126263559},
		{"X1:TEST", 1000000000, 0.5, 2, 1000000000, 1000000004},
		{"PEM-SEIS", 1300000000, 256, 16 * 256, 1300000000, 1300000016},
	} {
		// Read as the daemon reads it, so that obs and desc come from the
		// channel as they do for a file without a T010150 name.
		src := filepath.Join(t.TempDir(), "data.npy")
		if err := synth.WriteNPY(src, make([]float64, tt.n)); err != nil {
			t.Fatal(err)
		}
		side, _ := json.Marshal(map[string]any{"channel": tt.channel, "t0": tt.t0, "sample_rate": tt.rate})
		os.WriteFile(filepath.Join(filepath.Dir(src), "data.json"), side, 0o644)
		all, err := ingest.ReadAll(src, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := archive.Content{Source: all[0].Source, Entries: []archive.Entry{{Series: all[0]}}}
		rel, err := c.RelPath(config.DefaultLayout)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{1, 2, 3, 17, 1000} {
			names = append(names, want{Name: archive.CollisionName(filepath.Base(rel), i), Start: tt.start, End: tt.to})
		}
	}
	in, _ := json.Marshal(names)
	script := `
import json, sys
from gwpy.io.cache import file_segment
out = []
for n in json.load(sys.stdin):
    seg = file_segment(n["name"])
    out.append([float(seg[0]), float(seg[1])])
print(json.dumps(out))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pp)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gwpy: %v\n%s", err, out)
	}
	var segs [][2]float64
	if err := json.Unmarshal(out, &segs); err != nil {
		t.Fatalf("gwpy printed %q: %v", out, err)
	}
	for i, n := range names {
		if segs[i] != [2]float64{n.Start, n.End} {
			t.Errorf("%s: gwpy reads [%v, %v), want [%v, %v)", n.Name, segs[i][0], segs[i][1], n.Start, n.End)
		}
	}
	t.Logf("%d names read by gwpy's file_segment", len(names))
}
