//go:build !race

// The race detector's runtime crashes as a process exits after a write
// failed on its file size limit, so this test runs without it.

package h5

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/fsizelimit"
)

// TestWriteFullDisk writes an archive larger than the file size limit,
// in a child process that ignores SIGXFSZ so that writes past the limit
// fail with EFBIG as on a full disk: the error says what the system said,
// and libhdf5 prints nothing.
func TestWriteFullDisk(t *testing.T) {
	if os.Getenv("GW_H5_CHILD") == "write" {
		restore, err := fsizelimit.Set(64 << 10)
		if err != nil {
			t.Fatal(err)
		}
		doc := &Doc{Datasets: []Dataset{{Path: "/raw/x", Data: make([]float64, 1<<20)}}}
		err = Write(filepath.Join(os.Getenv("GW_H5_DIR"), "a.h5"), doc, Compression{})
		// The race detector writes as the process exits.
		if rerr := restore(); rerr != nil {
			t.Fatal(rerr)
		}
		var he *Error
		if !errors.As(err, &he) || !errors.Is(err, syscall.EFBIG) || err.Error() != "write archive: File too large" {
			t.Fatalf("got %v (%#v), want write archive: File too large wrapping EFBIG", err, he)
		}
		return
	}
	stderr := child(t, "write")
	if stderr != "" {
		t.Errorf("libhdf5 printed:\n%s", stderr)
	}
}
