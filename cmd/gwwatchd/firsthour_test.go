package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// TestIngestSuccessLogsNothing: an ingest that archives its files says so
// on stdout and logs nothing on stderr; the checkpoint its audit log
// signs on closing is logged at debug level.
func TestIngestSuccessLogsNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	src := filepath.Join(dir, "K-K1_TEST-1300000000-8.npy")
	if err := synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GWWATCHD_LOG_LEVEL", "")
	code, stdout, stderr := runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", src)
	if code != exitOK || stderr != "" {
		t.Errorf("ingest: exit %d, stderr %q; want 0 and nothing on stderr\n%s", code, stderr, stdout)
	}
	other := filepath.Join(dir, "K-K1_TEST-1300000008-8.npy")
	if err := synth.WriteNPY(other, synth.Coloured(8*512, 512, 50, 2)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GWWATCHD_LOG_LEVEL", "debug")
	code, _, stderr = runMain(t, "ingest", "--config", cfg, "--channel", "K1:TEST", other)
	if code != exitOK || !strings.Contains(stderr, `"level":"debug"`) || !strings.Contains(stderr, `"msg":"audit checkpoint"`) ||
		strings.Contains(stderr, `"level":"info"`) {
		t.Errorf("ingest at debug level: exit %d, stderr %q; want the checkpoint at debug level", code, stderr)
	}
}
