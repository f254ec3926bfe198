package durable

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrLink is wrapped by the errors for a symbolic link, or anything that
// is not a directory, met where OpenDir needs a directory.
var ErrLink = errors.New("symbolic link or not a directory")

// OpenDir opens the directory root/rel, walking rel one name at a time
// without following symbolic links, so that a link planted below root
// cannot lead a write outside it. root itself is taken as configured.
// With perm non-zero, missing directories (root included) are made with
// that mode. The caller closes the directory.
func OpenDir(root, rel string, perm os.FileMode) (*os.File, error) {
	rel = filepath.Clean(rel)
	if !filepath.IsLocal(rel) && rel != "." {
		return nil, fmt.Errorf("%s: not below %s", rel, root)
	}
	if perm != 0 {
		if err := os.MkdirAll(root, perm); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	at := root
	if rel != "." {
		for _, name := range strings.Split(rel, string(filepath.Separator)) {
			at = filepath.Join(at, name)
			next, err := openDirAt(fd, name, perm)
			unix.Close(fd)
			if err != nil {
				return nil, pathErr(at, err)
			}
			fd = next
		}
	}
	return os.NewFile(uintptr(fd), at), nil
}

func openDirAt(dir int, name string, perm os.FileMode) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dir, name, flags, 0)
	if err == unix.ENOENT && perm != 0 {
		if err := unix.Mkdirat(dir, name, uint32(perm.Perm())); err != nil && err != unix.EEXIST {
			return -1, err
		}
		fd, err = unix.Openat(dir, name, flags, 0)
	}
	return fd, err
}

func pathErr(path string, err error) error {
	if err == unix.ELOOP || err == unix.ENOTDIR {
		return fmt.Errorf("%s: %w", path, ErrLink)
	}
	return &fs.PathError{Op: "open", Path: path, Err: err}
}

// Lstatat reports what the name in dir is, without following a link.
func Lstatat(dir *os.File, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return st, &fs.PathError{Op: "lstat", Path: filepath.Join(dir.Name(), name), Err: err}
	}
	return st, nil
}

// MoveNoReplace moves the entry name in dir from to the entry toName in
// dir to, and fails with an error wrapping fs.ErrExist rather than replace
// anything there. Where the file system cannot rename without replacing,
// it links and then unlinks; across file systems it copies the file to a
// temporary name beside its destination, syncs it, links it into place
// and only then removes the original. Both directories are synced before
// it returns.
func MoveNoReplace(from *os.File, name string, to *os.File, toName string) error {
	ff, tf := int(from.Fd()), int(to.Fd())
	err := unix.Renameat2(ff, name, tf, toName, unix.RENAME_NOREPLACE)
	switch err {
	case nil:
	case unix.EINVAL, unix.ENOSYS:
		if err = unix.Linkat(ff, name, tf, toName, 0); err == nil {
			err = unix.Unlinkat(ff, name, 0)
		}
	case unix.EXDEV:
		err = copyNoReplace(from, name, to, toName)
	}
	if err != nil {
		if err == unix.EEXIST {
			err = fs.ErrExist
		}
		return &fs.PathError{Op: "move", Path: filepath.Join(from.Name(), name) + " to " + filepath.Join(to.Name(), toName), Err: err}
	}
	if err := to.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", to.Name(), err)
	}
	if err := from.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", from.Name(), err)
	}
	return nil
}

// TempPrefix starts the names of the copies MoveNoReplace makes across
// file systems, so that what a crash leaves of one can be recognised.
const TempPrefix = ".gwwatchd-move-"

func copyNoReplace(from *os.File, name string, to *os.File, toName string) error {
	in, err := openFileAt(from, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	var b [8]byte
	rand.Read(b[:])
	tmp := TempPrefix + hex.EncodeToString(b[:]) + ".tmp"
	out, err := openFileAt(to, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Linkat(int(to.Fd()), tmp, int(to.Fd()), toName, 0)
	}
	unix.Unlinkat(int(to.Fd()), tmp, 0)
	if err != nil {
		return err
	}
	if err := to.Sync(); err != nil {
		return err
	}
	return unix.Unlinkat(int(from.Fd()), name, 0)
}

// openFileAt opens name in dir without following a link.
func openFileAt(dir *os.File, name string, flags int, perm uint32) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir.Name(), name)), nil
}

// OpenFileAt opens the file name in dir with the flags of os.OpenFile,
// never following a symbolic link.
func OpenFileAt(dir *os.File, name string, flags int, perm os.FileMode) (*os.File, error) {
	f, err := openFileAt(dir, name, flags, uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(dir.Name(), name), Err: err}
	}
	return f, nil
}

// RemoveAt removes the file name in dir and syncs dir.
func RemoveAt(dir *os.File, name string) error {
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: filepath.Join(dir.Name(), name), Err: err}
	}
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir.Name(), err)
	}
	return nil
}

// WriteFileAt is WriteFile for the entry name in dir, which it reaches
// without following a link. The temporary file takes at most the first
// 200 bytes of name.
func WriteFileAt(dir *os.File, name string, data []byte, perm os.FileMode) error {
	var b [8]byte
	rand.Read(b[:])
	tmp := "." + name[:min(len(name), 200)] + ".tmp" + hex.EncodeToString(b[:]) // within NAME_MAX
	f, err := OpenFileAt(dir, tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // as given, whatever the umask
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(int(dir.Fd()), tmp, int(dir.Fd()), name)
	}
	if err != nil {
		unix.Unlinkat(int(dir.Fd()), tmp, 0)
		return fmt.Errorf("write %s: %w", filepath.Join(dir.Name(), name), err)
	}
	return dir.Sync()
}
