package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
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

// TestIngestSidecarBesideItsDataFile: "ingest dir/*" names each sidecar
// beside its data file; the sidecar goes with that file and is no failure.
// A sidecar named without its data file is still rejected.
func TestIngestSidecarBesideItsDataFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	data := filepath.Join(in, "K-K1_TEST-1300000000-8.npy")
	if err := synth.WriteNPY(data, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	side := filepath.Join(in, "K-K1_TEST-1300000000-8.json")
	os.WriteFile(side, []byte(`{"channel": "K1:TEST", "unit": "strain"}`), 0o644)
	lone := filepath.Join(in, "K-K1_LONE-1300000000-8.toml")
	os.WriteFile(lone, []byte("channel = \"K1:LONE\"\n"), 0o644)

	code, stdout, stderr := runMain(t, "ingest", "--config", cfg, side, data)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != exitOK || len(lines) != 2 || lines[0] != side+" (sidecar of "+data+")" || !strings.HasPrefix(lines[1], data+" -> ") {
		t.Fatalf("ingest SIDECAR DATA: exit %d\n%s%s; want 0, the sidecar's line then the archive's", code, stdout, stderr)
	}
	arch := strings.TrimPrefix(lines[1], data+" -> ")
	if _, out, _ := runMain(t, "inspect", arch); !strings.Contains(out, "K1:TEST") || !strings.Contains(out, "sidecar") {
		t.Errorf("the archive does not name the sidecar's channel and origin:\n%s", out)
	}
	code, stdout, _ = runMain(t, "ingest", "--config", cfg, lone)
	if code != exitProblems || !strings.HasPrefix(stdout, lone+": ") {
		t.Errorf("ingest of a lone sidecar: exit %d, %q; want 1 and its reason", code, stdout)
	}
	code, stdout, _ = runMain(t, "ingest", "--config", cfg, data, side, lone)
	if code != exitProblems || !strings.Contains(stdout, side+" (sidecar of "+data+")\n") || !strings.Contains(stdout, "\n"+lone+": ") {
		t.Errorf("ingest DATA SIDECAR LONE: exit %d\n%s", code, stdout)
	}
}

// TestTraceOfUnknownTargetExits1: a target that is no file and no sha256
// prefix matches nothing, which trace reports with exit 1 as documented,
// not as a usage error.
func TestTraceOfUnknownTargetExits1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	ingestN(t, dir, cfg, 0)
	code, stdout, stderr := runMain(t, "trace", "--config", cfg, "no-such-archive.h5")
	if code != exitProblems || stdout != "" || stderr != "gwwatchd: trace: \"no-such-archive.h5\" is neither an existing file nor a sha256 prefix\n" {
		t.Errorf("trace of an unknown name: exit %d, %q, %q; want 1 and one line naming it", code, stdout, stderr)
	}
}

// TestInspectOfNonArchiveExits1: an HDF5 file that is not a gwwatchd
// archive is an error naming the file, not a summary full of <nil>.
func TestInspectOfNonArchiveExits1(t *testing.T) {
	t.Parallel()
	f := filepath.Join("..", "..", "testdata", "hostile", "h5_good.h5")
	for _, args := range [][]string{{"inspect", f}, {"inspect", "--json", f}} {
		code, stdout, stderr := runMain(t, args...)
		if code != exitProblems || stdout != "" || stderr != "gwwatchd: inspect: "+f+": not a gwwatchd archive (it has no format attribute)\n" {
			t.Errorf("%v: exit %d, %q, %q; want 1 and the reason", args, code, stdout, stderr)
		}
	}
}

// TestPlotGivesTheRecordedReason: an archive whose series was too short
// for the products: plot says why, as the archive records it.
func TestPlotGivesTheRecordedReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	arch := ingestNPY(t, cfg, filepath.Join(dir, "K-K1_SHORT-1300000000-1.npy"), synth.Coloured(512, 512, 50, 1), "--channel", "K1:SHORT")
	doc, err := archive.Read(arch)
	if err != nil {
		t.Fatal(err)
	}
	raw := doc.Dataset(archive.RawPath("K1:SHORT"))
	asdWhy, _ := raw.Attr("asd_skipped").(string)
	specWhy, _ := raw.Attr("spectrogram_skipped").(string)
	if !strings.Contains(asdWhy, "shorter") || !strings.Contains(specWhy, "shorter") {
		t.Fatalf("the archive records %q and %q for its products, want why they were skipped", asdWhy, specWhy)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no dataset has an ASD: K1:SHORT: " + asdWhy},
		{[]string{"--spectrogram"}, "no dataset has a spectrogram: K1:SHORT: " + specWhy},
		{[]string{"--dataset", "K1:SHORT"}, `dataset "K1:SHORT" has no ASD: ` + asdWhy},
	} {
		code, _, stderr := runMain(t, append(append([]string{"plot", "-o", filepath.Join(dir, "x.png")}, c.args...), arch)...)
		if want := "gwwatchd: " + arch + ": " + c.want + "\n"; code != exitError || stderr != want {
			t.Errorf("plot %v: exit %d, %q; want 2 and %q", c.args, code, stderr, want)
		}
	}
}

// TestConfigCheckSpellsOutEveryDefault: config check prints every key,
// defaults and watch metadata included, and warns of a watch directory
// that run would refuse.
func TestConfigCheckSpellsOutEveryDefault(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, "config", "check", "testdata/config/first-hour.toml")
	if code != exitOK {
		t.Fatalf("config check: exit %d\n%s", code, stderr)
	}
	golden(t, "config/first-hour.stdout", stdout)
	golden(t, "config/first-hour.stderr", stderr)
}

// TestConfigCheckRefusesAddressRunRefuses: an address without a port,
// which run cannot listen on, is an error at load naming key and line.
func TestConfigCheckRefusesAddressRunRefuses(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(p, []byte("[daemon]\nmetrics = \"9464\"\n"), 0o644)
	code, stdout, stderr := runMain(t, "config", "check", p)
	want := "gwwatchd: " + p + `:2: daemon.metrics: "9464" is not an address HOST:PORT such as "127.0.0.1:9464": missing port in address` + "\n"
	if code != exitError || stdout != "" || stderr != want {
		t.Errorf("config check: exit %d, %q, %q; want 2 and %q", code, stdout, stderr, want)
	}
}

// TestRunRefusesMissingWatchDir: run does not create a watch directory
// that is not there (a typo would archive nothing and say nothing) unless
// its watch sets create = true.
func TestRunRefusesMissingWatchDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	typo := filepath.Join(dir, "incomnig")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(text, []byte("[[watch]]\ndir = "+strconv.Quote(typo)+"\n")...), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := NewMain(&stdout, &stderr).Run(ctx, []string{"run", "--config", cfg})
	want := fmt.Sprintf("gwwatchd: %s:8: watch[0].dir: %q does not exist: create it, or set create = true in this [[watch]] to have run create it\n", cfg, typo)
	if code != exitError || stderr.String() != want {
		t.Errorf("run: exit %d, %q; want 2 and %q", code, stderr.String(), want)
	}
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Errorf("run created the missing watch directory: %v", err)
	}
}

// TestAuditVerifyCountsInTheSingular: one segment is "1 segment", one
// problem "1 problem".
func TestAuditVerifyCountsInTheSingular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	ingestN(t, dir, cfg, 0)
	code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg)
	if want := ": 5 records in 1 segment, 2 checkpoints in the log, 2 in "; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("audit verify: exit %d, want …%s…\n%s", code, want, stdout)
	}
	os.WriteFile(filepath.Join(dir, "archive", "stray.h5"), []byte("x"), 0o644)
	code, stdout, _ = runMain(t, "audit", "verify", "--config", cfg, "--archives")
	if want := "\nFAILED: 1 problem; the first at "; code != exitProblems || !strings.Contains(stdout, want) {
		t.Errorf("audit verify --archives: exit %d, want …%s…\n%s", code, want, stdout)
	}
}
