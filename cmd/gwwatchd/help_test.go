package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", p, got, want)
	}
}

// TestHelpOfEveryCommand: --help and -h of every command and subcommand
// exit 0 and print, on stdout only, a synopsis, what it does, its flags
// and an example.
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	commands := []string{"run", "ingest", "reprocess", "inspect", "verify", "plot", "trace",
		"audit", "audit verify", "audit checkpoint", "audit prove", "audit check-proof", "audit pubkey",
		"config", "config check", "version"}
	for _, c := range commands {
		t.Run(strings.ReplaceAll(c, " ", "_"), func(t *testing.T) {
			args := strings.Fields(c)
			var first string
			for _, h := range []string{"--help", "-h"} {
				code, stdout, stderr := runMain(t, append(args, h)...)
				if code != exitOK || stderr != "" {
					t.Errorf("%s %s: exit %d, stderr %q; want 0 and nothing on stderr", c, h, code, stderr)
				}
				if first == "" {
					first = stdout
				} else if stdout != first {
					t.Errorf("%s -h prints other help than --help:\n%s", c, stdout)
				}
			}
			for _, want := range []string{"Usage: gwwatchd " + c, "\n\nExample:\n  gwwatchd " + c} {
				if !strings.Contains(first, want) {
					t.Errorf("%s --help lacks %q:\n%s", c, want, first)
				}
			}
			// A paragraph that says what the command does, after the synopsis.
			if parts := strings.Split(first, "\n\n"); len(parts) < 3 || strings.HasPrefix(parts[1], "Flags:") || len(parts[1]) < 30 {
				t.Errorf("%s --help says nothing of what it does:\n%s", c, first)
			}
			golden(t, filepath.Join("help", strings.ReplaceAll(c, " ", "-")+".txt"), first)
		})
	}
	code, stdout, _ := runMain(t, "help", "ingest")
	if code != exitOK || !strings.HasPrefix(stdout, "Usage: gwwatchd ingest") {
		t.Errorf("help ingest: exit %d\n%s", code, stdout)
	}
}

// TestUsageErrorNamesTheCommand: a mistake in a command's line exits 2
// with the command's synopsis on stderr, and nothing on stdout.
func TestUsageErrorNamesTheCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, "ingest", "--bogus")
	if code != exitError || stdout != "" || !strings.Contains(stderr, "gwwatchd: ingest: flag provided but not defined: -bogus\n") ||
		!strings.Contains(stderr, "Usage: gwwatchd ingest [") {
		t.Errorf("ingest --bogus: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
