//go:build !unix

package ingest

import (
	"fmt"
	"io"
	"os"
)

// openRegular opens path for reading if it is a regular file. Without
// O_NOFOLLOW the check is of the name, just before the open.
func openRegular(path, errPath string) (*os.File, FileID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, FileID{}, fmt.Errorf("ingest: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, FileID{}, inputErr(errPath, nil, fmt.Sprintf("%s is not a regular file", path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, FileID{}, fmt.Errorf("ingest: %w", err)
	}
	after, err := f.Stat()
	if err != nil || !os.SameFile(fi, after) {
		f.Close()
		return nil, FileID{}, fmt.Errorf("ingest: %s: %w", path, ErrChanged)
	}
	return f, FileID{Size: after.Size()}, nil
}

func idOf(fi os.FileInfo) (FileID, bool) { return FileID{Size: fi.Size()}, true }

func fdPath(*os.File) string { return "" }

// lockedByWriter cannot tell here.
func lockedByWriter(*os.File) (bool, error) { return false, nil }

// mapFile reads the first size bytes of f: there is no mmap here.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, fmt.Errorf("ingest: %s: %w", f.Name(), ErrChanged)
	}
	return data, func() {}, nil
}
