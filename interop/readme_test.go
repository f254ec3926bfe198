//go:build interop

package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// TestInteropReadmeSnippets runs the Python of the README's section on
// reading an archive, as pasted, against an archive of the demo's name:
// with h5py, and with the real gwpy from ../shared.
func TestInteropReadmeSnippets(t *testing.T) {
	t.Parallel()
	bin, python := env(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if i := strings.Index(section, "## Reading an archive from Python"); i >= 0 {
		section = section[i:]
	}
	if i := strings.Index(section[3:], "\n## "); i >= 0 {
		section = section[:i+3]
	}
	blocks := regexp.MustCompile("(?s)```python\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) != 2 {
		t.Fatalf("the README's section shows %d Python blocks, want 2", len(blocks))
	}
	// The demo's file, archived with the demo's layout below a temp root.
	dir := t.TempDir()
	src := filepath.Join(dir, "K-K1_LSC_DARM_OUT_DQ-1300000000-64.npy")
	if err := synth.WriteNPY(src, synth.Coloured(64*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "K-K1_LSC_DARM_OUT_DQ-1300000000-64.json"), []byte(`{"channel": "K1:LSC-DARM_OUT_DQ", "unit": "strain"}`), 0o644)
	archivePath := archiveOf(t, run(t, bin, "ingest", "--out", filepath.Join(dir, "var", "archive"), src))
	for i, b := range blocks {
		code := b[1]
		cmd := exec.Command(python, "-c", code)
		if strings.Contains(code, "gwpy") {
			cmd.Env = append(os.Environ(), "PYTHONPATH="+gwpyPath(t))
		}
		cmd.Dir = dir // the README's path is relative to where make demo runs
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README block %d, as pasted: %v\n%s", i+1, err, out)
		}
	}
	if !strings.HasPrefix(archivePath, filepath.Join(dir, "var", "archive", "K", "13000")) {
		t.Errorf("the demo's archive is at %s, not where the README says", archivePath)
	}
}
