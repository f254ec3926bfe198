package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
)

// sharedGolden is testdata/gwf/shared_golden.json: for each real frame
// file, each channel's dtype, length and the SHA-256 of its samples as
// little-endian bytes, as gwf_decode.py (numpy, not gwwatchd's reader)
// decodes them (interop/gwf_decode.py writes it).
type sharedGolden map[string]map[string]struct {
	DType  string `json:"dtype"`
	N      int    `json:"n"`
	SHA256 string `json:"sha256"`
}

func readSharedGolden(t *testing.T) sharedGolden {
	t.Helper()
	b, err := os.ReadFile("../testdata/gwf/shared_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g sharedGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSharedFramesMatchGolden archives every real frame file, every
// channel, through the pipeline, and checks each /raw dataset against the
// independent decode recorded in shared_golden.json: the same channels,
// dtypes and lengths, and the same samples (SHA-256). It needs no Python,
// and skips without ../shared.
func TestSharedFramesMatchGolden(t *testing.T) {
	t.Parallel()
	golden := readSharedGolden(t)
	files, _ := filepath.Glob(filepath.Join("../../shared/testdata/gwf", "*.gwf"))
	if len(files) == 0 {
		t.Skip("no frame files in ../../shared/testdata/gwf")
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	var want []string
	for n := range golden {
		want = append(want, n)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("frame files %v, golden facts for %v", names, want)
	}
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(t.TempDir(), "archive")
	cfg.Processing.ASD.Enabled = false
	cfg.Processing.Spectrogram.Enabled = false
	p := New(Options{Config: cfg, CPUs: 2})
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			res, err := p.Process(context.Background(), f, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := archive.Read(res.Archive)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for i := range doc.Datasets {
				d := &doc.Datasets[i]
				name, ok := strings.CutPrefix(d.Path, "/raw/")
				if !ok {
					continue
				}
				seen[name] = true
				g, ok := golden[base][name]
				if !ok {
					t.Errorf("%s: not in the independent decode", d.Path)
					continue
				}
				// numpy's names of the sample types are reflect's kinds.
				v := reflect.ValueOf(d.Data)
				dtype, n := v.Type().Elem().Kind().String(), v.Len()
				if got := archive.DataSHA256(d.Data); got != g.SHA256 || dtype != g.DType || n != g.N {
					t.Errorf("%s: %s × %d, sha256 %s; the independent decode has %s × %d, %s", d.Path, dtype, n, got, g.DType, g.N, g.SHA256)
				}
			}
			for name := range golden[base] {
				if !seen[name] {
					t.Errorf("no /raw/%s in the archive", name)
				}
			}
		})
	}
}
