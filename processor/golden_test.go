package processor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// goldenCase is one entry of testdata/processor/golden/manifest.json,
// written by testdata/processor/gen_golden.py.
type goldenCase struct {
	Name      string  `json:"name"`
	Input     string  `json:"input"`
	Output    string  `json:"output"`
	FS        float64 `json:"fs"`
	FFTLength float64 `json:"fftlength"`
	Overlap   float64 `json:"overlap"`
	Method    string  `json:"method"`
	Stride    float64 `json:"stride"`
	NFFT      int     `json:"nfft"`
	NOverlap  int     `json:"noverlap"`
	Times     int     `json:"times"`
	Segments  int     `json:"segments"`
}

// TestGolden compares against scipy results stored in the repository, so
// it needs no Python.
func TestGolden(t *testing.T) {
	dir := filepath.Join(testdataDir, "golden")
	var cases []goldenCase
	readManifest(t, dir, &cases)
	for _, par := range []int{1, 2} {
		p := New(par) // shared across cases to exercise re-planning
		for _, c := range cases {
			t.Run(fmt.Sprintf("parallel=%d/%s", par, c.Name), func(t *testing.T) {
				x := readF64(t, filepath.Join(dir, c.Input))
				want := readF64(t, filepath.Join(dir, c.Output))
				prm := Params{FFTLength: c.FFTLength, Overlap: c.Overlap, Method: c.Method, Window: WindowHann}
				var (
					got                   []float64
					nfft, nover, segs, nt int
				)
				if c.Stride > 0 {
					sg, err := p.Spectrogram(x, c.FS, c.Stride, prm)
					if err != nil {
						t.Fatal(err)
					}
					got, nfft, nover, segs, nt = sg.Values, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, sg.Times
					if sg.Freqs != c.NFFT/2+1 {
						t.Errorf("Freqs: got %d, want %d", sg.Freqs, c.NFFT/2+1)
					}
				} else {
					a, err := p.ASD(x, c.FS, prm)
					if err != nil {
						t.Fatal(err)
					}
					got, nfft, nover, segs, nt = a.Values, a.NFFT, a.NOverlap, a.Segments, 1
				}
				if nfft != c.NFFT || nover != c.NOverlap || segs != c.Segments || nt != c.Times {
					t.Errorf("nfft, noverlap, segments, times: got %d, %d, %d, %d, want %d, %d, %d, %d",
						nfft, nover, segs, nt, c.NFFT, c.NOverlap, c.Segments, c.Times)
				}
				if len(got) != len(want) {
					t.Fatalf("got %d values, want %d", len(got), len(want))
				}
				e, at := maxRelErr(got, want)
				t.Logf("max relative error %.3g at bin %d", e, at)
				if e > 1e-9 {
					t.Errorf("bin %d: got %.17g, want %.17g (relative error %.3g > 1e-9)", at, got[at], want[at], e)
				}
			})
		}
	}
}

// readManifest reads dir/manifest.json into *cases, a slice, which must
// not come out empty.
func readManifest[C any](t *testing.T, dir string, cases *[]C) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, cases); err != nil {
		t.Fatal(err)
	}
	if len(*cases) == 0 {
		t.Fatal("manifest lists no cases")
	}
}
