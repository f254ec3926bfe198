package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goldenLog copies the audit log gwwatchd wrote in audit/testdata/golden
// (its paths are below /tmp/g, where it was made) to a temporary
// directory, with a configuration that reads it there, and returns the
// configuration's path and the directory.
func goldenLog(t *testing.T) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	src := filepath.Join("..", "..", "audit", "testdata", "golden")
	for _, f := range []string{"log/audit.log", "log/audit.log.1", "log/audit.log.2", "state/checkpoint", "state/checkpoints",
		"state/tree-state", "keys/audit.key", "pubkey", "since"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o750)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(dir, "gwwatchd.toml")
	text := "[daemon]\nstate_dir = " + strconv.Quote(filepath.Join(dir, "state")) +
		"\n[archive]\nroot = " + strconv.Quote(filepath.Join(dir, "archive")) +
		"\n[audit]\npath = " + strconv.Quote(filepath.Join(dir, "log", "audit.log")) +
		"\nkey = " + strconv.Quote(filepath.Join(dir, "keys", "audit.key")) + "\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// TestGoldenLogCommands: what trace and audit say of the golden log is
// what they said when it was written.
func TestGoldenLogCommands(t *testing.T) {
	t.Parallel()
	cfg, dir := goldenLog(t)
	const g = "/tmp/g"
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		// Archived by a daemon that moved it, killed before the sidecar.
		{"trace-moved", []string{"trace", g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300005000-8.h5"}, exitOK},
		// Archived by ingest, then found again as a duplicate.
		{"trace-duplicate", []string{"trace", g + "/src/K-K1_LSC_DARM_OUT_DQ-1300000000-8.npy"}, exitOK},
		// Adopted, products skipped, moves abandoned; by hash prefix.
		{"trace-adopted.json", []string{"trace", "--json", "91c1ad06"}, exitOK},
		{"trace-short.json", []string{"trace", "--json", g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300000100-1.h5"}, exitOK},
		{"trace-abandoned", []string{"trace", g + "/in-move/K-K1_LSC_DARM_OUT_DQ-1300004000-8.npy"}, exitOK},
		// With the key published and the checkpoint kept off the host.
		{"verify", []string{"audit", "verify", "--pubkey", filepath.Join(dir, "pubkey"), "--since", filepath.Join(dir, "since")}, exitOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args[:1:1], append([]string{"--config", cfg}, c.args[1:]...)...)
			if c.args[0] == "audit" {
				args = append(c.args[:2:2], append([]string{"--config", cfg}, c.args[2:]...)...)
			}
			code, stdout, stderr := runMain(t, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			golden(t, filepath.Join("golden-log", c.name), strings.ReplaceAll(stdout, dir, "$DIR"))
		})
	}

	arc := g + "/archive/K/13000/K-K1_LSC_DARM_OUT_DQ-1300000000-8.h5"
	code, proof, stderr := runMain(t, "audit", "prove", "--config", cfg, arc)
	if code != exitOK {
		t.Fatalf("audit prove: exit %d %s", code, stderr)
	}
	golden(t, "golden-log/prove", proof)
	p := filepath.Join(dir, "proof")
	os.WriteFile(p, []byte(proof), 0o644)
	code, stdout, _ := runMain(t, "audit", "check-proof", "--pubkey", filepath.Join(dir, "pubkey"), p)
	if code != exitOK {
		t.Errorf("audit check-proof: exit %d", code)
	}
	golden(t, "golden-log/check-proof", strings.ReplaceAll(stdout, dir, "$DIR"))
}
