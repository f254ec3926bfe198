package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckShowsTheChain: config check of a file with
// [[processing.product]] tables prints them, defaults resolved, and the
// chain as a tree; a bad one names the product and its line.
func TestConfigCheckShowsTheChain(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, "config", "check", "../../testdata/config/chain.toml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"[[processing.product]]", `name = "bp_asd"`, "overlap = 1.0", `method = "median"`,
		"# products, each under its input:\n# raw\n", "\n#   bp (bandpass, order 4, 30 to 300 Hz)\n#     bp_asd (asd, fftlength 2 s, overlap 1 s, median, hann)\n",
		"\n#   r256 (resample, 256 Hz)\n#     minute (trend, stride 60 s)\n", "#   pem (highpass, order 2, cutoff 10 Hz, channels K1:PEM-*)\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config check lacks %q:\n%s", want, stdout)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[[processing.product]]\nname = \"a\"\nkind = \"asd\"\n\n[[processing.product]]\nname = \"t\"\nkind = \"trend\"\ninput = \"a\"\n"), 0o644)
	code, _, stderr = runMain(t, "config", "check", bad)
	if want := bad + `:8: processing.product[1] (name "t"): input: "a" is a product of kind asd`; code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, %q; want %d and %q", code, stderr, exitError, want)
	}
}
