//go:build unix

package watcher

import (
	"io/fs"
	"syscall"
)

// inode returns the inode number of the file fi describes, so that a file
// replaced by another of the same size and mtime still counts as new.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// device returns the device of the file system a file is on.
func device(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}
