//go:build !unix

package watcher

import "io/fs"

// inode is 0 where the platform has no inode numbers: versions are then
// told apart by size and mtime alone.
func inode(fs.FileInfo) uint64 { return 0 }

func device(fs.FileInfo) uint64 { return 0 }
