//go:build unix

package ingest

import (
	"errors"
	"os"
	"syscall"
)

// lockedByWriter reports whether another process holds an exclusive
// flock on the file, as libhdf5 does while a writer has an HDF5 file
// open.
func lockedByWriter(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, nil // a file system without flock: nothing to tell
	}
	return false, syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
