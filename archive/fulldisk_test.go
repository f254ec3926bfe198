//go:build !race

// The race detector's runtime crashes as a process exits after a write
// failed on its file size limit, so this test runs without it.

package archive

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/fsizelimit"
)

// TestImageFullDisk writes an archive made in memory past the file size
// limit, in a child process that ignores SIGXFSZ so that the write fails
// with EFBIG as on a full disk: the error names the temp file and says
// what the system said, and no file is left in the directory.
func TestImageFullDisk(t *testing.T) {
	if dir := os.Getenv("GW_ARCHIVE_FULLDISK_DIR"); dir != "" {
		doc := testDoc("abc")
		doc.Datasets = append(doc.Datasets, Dataset{Path: "/raw/y", Data: make([]float64, 16<<10)})
		if docBytes(doc) > imageMax {
			t.Fatalf("%d bytes of values are not made in memory", docBytes(doc))
		}
		restore, err := fsizelimit.Set(64 << 10)
		if err != nil {
			t.Fatal(err)
		}
		_, err = WriteFile(dir, "a/x.h5", doc, Compression{})
		if rerr := restore(); rerr != nil {
			t.Fatal(rerr)
		}
		if !errors.Is(err, syscall.EFBIG) || !strings.Contains(err.Error(), "write "+filepath.Join(dir, "a", TempPrefix)) {
			t.Fatalf("got %v, want a write of a temp file in %s failing with EFBIG", err, filepath.Join(dir, "a"))
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "a")); len(left) != 0 {
			t.Fatalf("left in the directory: %v", left)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "GW_ARCHIVE_FULLDISK_DIR="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
}
