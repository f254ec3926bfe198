package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// batch writes n small .npy files and returns their paths and a config.
func batch(t *testing.T, n int) (cfg string, files []string) {
	t.Helper()
	dir := t.TempDir()
	cfg = tempConfig(t, dir)
	for i := range n {
		f := filepath.Join(dir, fmt.Sprintf("K-K1_TEST-%d-8.npy", 1300000000+8*i))
		if err := synth.WriteNPY(f, synth.Coloured(8*512, 512, 50, uint64(i))); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return cfg, files
}

// TestIngestPlainOutput checks that output that is not a terminal gets
// one plain line per file and never a progress bar.
func TestIngestPlainOutput(t *testing.T) {
	t.Parallel()
	cfg, files := batch(t, 6)
	code, stdout, stderr := runMain(t, append([]string{"ingest", "--config", cfg, "--channel", "K1:TEST"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(files) {
		t.Errorf("%d lines for %d files:\n%s", len(lines), len(files), stdout)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, files[i]+" -> ") {
			t.Errorf("line %d is %q", i, l)
		}
	}
	for _, bar := range []string{"\r", "\x1b", "files", "ETA", "MB/s"} {
		if strings.Contains(stdout, bar) || strings.Contains(stderr, bar) {
			t.Errorf("output holds %q of a progress bar:\n%q", bar, stdout)
		}
	}
}

// TestIngestProgressOnTerminal runs ingest with its output on a
// pseudo-terminal: the bar shows files, MB/s and the time, and every
// file's line is there too.
func TestIngestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	master, slave := openPTY(t)
	cfg, files := batch(t, 6)
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once the slave is closed
		got <- string(b)
	}()
	m := NewMain(slave, io.Discard)
	code := m.Run(context.Background(), append([]string{"ingest", "--config", cfg, "--channel", "K1:TEST"}, files...))
	slave.Close()
	out := <-got
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"\r", "6/6 files", "MB/s", "in 0:"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	for _, f := range files {
		if !strings.Contains(out, f+" -> ") {
			t.Errorf("terminal output lacks the line of %s", f)
		}
	}
}

// openPTY opens a pseudo-terminal pair, skipping the test where the
// system has none.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	// Raw output: no newline translation in what the master reads.
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err == nil {
		tio.Oflag &^= unix.OPOST
		unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio)
	}
	return master, slave
}
