package h5

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCorrupt reads files that are not HDF5 or are corrupt: errors,
// and nothing printed.
func TestReadCorrupt(t *testing.T) {
	if os.Getenv("GW_H5_CHILD") == "read" {
		dir := os.Getenv("GW_H5_DIR")
		good := filepath.Join(dir, "good.h5")
		doc := &Doc{Datasets: []Dataset{{Path: "/a", Data: []float64{1, 2, 3}, Attrs: []Attr{{"x0", 1.0}}}}}
		if err := Write(good, doc, Compression{}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		for i := 64; i < len(b); i += 13 {
			b[i] ^= 0xff
		}
		bad := filepath.Join(dir, "bad.h5")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(bad); err == nil {
			t.Fatal("read a corrupt file without error")
		} else if strings.Contains(err.Error(), "code -1") {
			t.Errorf("got %q, want libhdf5's message", err)
		}
		trunc := filepath.Join(dir, "trunc.h5")
		if err := os.WriteFile(trunc, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(trunc); err == nil {
			t.Fatal("read a truncated file without error")
		}
		return
	}
	if stderr := child(t, "read"); stderr != "" {
		t.Errorf("libhdf5 printed:\n%s", stderr)
	}
}

// child runs the calling test in a new process and returns its stderr.
func child(t *testing.T, mode string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "GW_H5_CHILD="+mode, "GW_H5_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "--- PASS") {
		t.Fatalf("child did not pass:\n%s", stdout.String())
	}
	return stderr.String()
}
