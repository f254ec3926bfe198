// Package durable makes changes to files and directories survive a crash:
// directory entries synced, files replaced whole.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// SyncDir makes a change to a directory's entries (create, rename,
// remove) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// WriteFile replaces name with data: a temporary file in the same
// directory is written, synced and renamed over name, and the directory is
// synced, so a crash leaves the old or the new content, never a mix. The
// temporary file is named "."+base+".tmp" and random digits (see
// WriteFileAt), for the caller to tidy after a crash.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	dir, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer dir.Close()
	return WriteFileAt(dir, filepath.Base(name), data, perm)
}
