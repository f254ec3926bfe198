package h5

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// A process started while files are being written does not inherit
// libhdf5's descriptors of them. If it did, the lock libhdf5 takes on each
// file would outlive the write, and opening the file afterwards would
// fail with "Resource temporarily unavailable" for as long as that process
// runs.
func TestChildrenDoNotInheritFiles(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	dir := t.TempDir()
	doc := &Doc{Datasets: []Dataset{{Path: "/x", Data: make([]float64, 4096), Dims: []uint{4096}}}}
	stop := make(chan struct{})
	written := make(chan []string)
	go func() {
		var paths []string
		defer func() { written <- paths }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			path := filepath.Join(dir, fmt.Sprintf("a%d.h5", i))
			if err := Write(path, doc, Compression{}); err != nil {
				t.Errorf("write %s: %v", path, err)
				return
			}
			paths = append(paths, path)
		}
	}()
	for range 20 {
		c := exec.Command(sleep, "10")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			c.Process.Kill()
			c.Wait()
		}()
	}
	close(stop)
	paths := <-written
	for _, path := range paths {
		if _, err := Read(path); err != nil {
			t.Fatalf("%s, written while processes were started: %v", filepath.Base(path), err)
		}
	}
}
