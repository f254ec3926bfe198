package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := NewMain(&out, &errOut).Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestIngestInspectVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "K-K1_TEST-1300000000-8.npy")
	if err := synth.WriteNPY(good, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "empty.npy")
	if err := os.WriteFile(bad, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "archive")
	code, stdout, _ := runMain(t, "ingest", "--out", out, good, bad, "--channel", "K1:TEST", "--unit", "strain")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitProblems || len(lines) != 2 {
		t.Fatalf("got exit %d and %q, want 1 and two lines", code, stdout)
	}
	if !strings.HasPrefix(lines[0], good+" -> ") {
		t.Errorf("first line %q, want %s -> ARCHIVE", lines[0], good)
	}
	if !strings.HasPrefix(lines[1], bad+": ") {
		t.Errorf("second line %q, want %s: reason", lines[1], bad)
	}
	archivePath := strings.TrimPrefix(lines[0], good+" -> ")

	code, stdout, _ = runMain(t, "ingest", "--out", out, "--channel", "K1:TEST", good)
	if code != exitOK || !strings.HasSuffix(strings.TrimSpace(stdout), archivePath+" (already archived)") {
		t.Errorf("second ingest: exit %d, %q", code, stdout)
	}

	code, stdout, _ = runMain(t, "inspect", archivePath)
	for _, want := range []string{"/raw/K1:TEST", "parent_dataset   /raw/K1:TEST", "ASD via Welch/median", "strain / Hz(1/2)", `"nfft":2048`} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("inspect: exit %d, output lacks %q", code, want)
		}
	}
	code, stdout, _ = runMain(t, "inspect", "--json", archivePath)
	var s struct {
		Datasets []struct {
			Path   string
			Parent string `json:"parent_dataset"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || code != exitOK || len(s.Datasets) != 4 {
		t.Errorf("inspect --json: exit %d, %v, %d datasets", code, err, len(s.Datasets))
	}

	code, stdout, _ = runMain(t, "verify", archivePath)
	if code != exitOK || !strings.Contains(stdout, ": OK") {
		t.Errorf("verify: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runMain(t, "verify", archivePath, good)
	if code != exitError || !strings.Contains(stdout, good+": ") {
		t.Errorf("verify of a non-archive: exit %d, %q; want 2 naming it", code, stdout)
	}
}

func TestConfigCheck(t *testing.T) {
	code, stdout, _ := runMain(t, "config", "check")
	if code != exitOK || !strings.Contains(stdout, "[processing.asd]") || !strings.Contains(stdout, "overlap = 2.0") {
		t.Errorf("config check of the default: exit %d\n%s", code, stdout)
	}
	code, _, _ = runMain(t, "config", "check", "../../config.toml.example")
	if code != exitOK {
		t.Errorf("config.toml.example: exit %d", code)
	}
	p := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(p, []byte("[archive]\nroot = \"x\"\nlayuot = \"y\"\n"), 0o644)
	code, _, stderr := runMain(t, "config", "check", p)
	if code != exitError || !strings.Contains(stderr, p+":3: archive.layuot: unknown key") {
		t.Errorf("bad config: exit %d, %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"ingest"}, {"ingest", "--bogus", "x"}, {"verify"}} {
		if code, _, _ := runMain(t, args...); code != exitError {
			t.Errorf("%v: exit %d, want %d", args, code, exitError)
		}
	}
	code, stdout, _ := runMain(t, "version")
	if code != exitOK || !strings.Contains(stdout, "libhdf5  1.") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}
