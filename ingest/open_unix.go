//go:build unix

package ingest

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openRegular opens path for reading without following a symbolic link
// in its last component and without blocking on a FIFO, and checks, on the
// descriptor, that it is a regular file: a name can be swapped for
// something else between a watcher's look and the open, but a descriptor
// cannot. errPath names the data file in an InputError.
func openRegular(path, errPath string) (*os.File, FileID, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	for errors.Is(err, syscall.EINTR) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, FileID{}, inputErr(errPath, nil, fmt.Sprintf("%s is a symbolic link, which is not followed", path))
	}
	if err != nil {
		return nil, FileID{}, fmt.Errorf("ingest: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, FileID{}, fmt.Errorf("ingest: %w", &os.PathError{Op: "fstat", Path: path, Err: err})
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, FileID{}, inputErr(errPath, nil, fmt.Sprintf("%s is not a regular file: it is %s", path, fileKind(uint32(st.Mode))))
	}
	// Reads of a regular file never block; clear the flag all the same.
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, FileID{}, fmt.Errorf("ingest: %w", err)
	}
	id := FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size}
	return os.NewFile(uintptr(fd), path), id, nil
}

// fileKind names the type of file in a stat mode.
func fileKind(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFCHR:
		return "a character device"
	case syscall.S_IFBLK:
		return "a block device"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFLNK:
		return "a symbolic link"
	}
	return "of an unknown type"
}

// idOf identifies the file a FileInfo from Stat or Lstat describes.
func idOf(fi os.FileInfo) (FileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, false
	}
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size}, true
}

// fdPath is a name by which libhdf5 opens exactly the file f is open on,
// whatever its name now leads to, or "" where there is none.
func fdPath(f *os.File) string {
	p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	a, err1 := os.Stat(p)
	b, err2 := f.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		return ""
	}
	return p
}

// lockedByWriter reports whether another process holds an exclusive
// flock on the open file, as libhdf5 does while a writer has an HDF5 file
// open.
func lockedByWriter(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, nil // a file system without flock: nothing to tell
	}
	return false, syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// mapFile maps the first size bytes of f read-only, so that a parser
// reading only some of them costs only the pages it touches. unmap
// releases the mapping.
func mapFile(f *os.File, size int64) (data []byte, unmap func(), err error) {
	if size == 0 {
		return nil, func() {}, nil
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: mmap %s: %w", f.Name(), err)
	}
	return data, func() { syscall.Munmap(data) }, nil
}
